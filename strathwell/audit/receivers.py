from django.dispatch import receiver

from strathwell.audit.signals import admin_action


@receiver(admin_action, dispatch_uid="audit:admin_action")
def record_audit_log(
    sender, *, action, target, actor=None, before=None, after=None, reason="", **kwargs
):
    """Write the AuditLog row for a domain signal, in the sender's transaction."""
    from strathwell.audit.services import write_audit_log

    write_audit_log(
        actor=actor, action=action, target=target, before=before, after=after, reason=reason
    )
