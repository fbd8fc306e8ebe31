from django.dispatch import receiver

from strathwell.audit.signals import admin_action


@receiver(admin_action, dispatch_uid="audit:admin_action")
def record_audit_log(
    sender,
    *,
    action,
    target=None,
    actor=None,
    before=None,
    after=None,
    reason="",
    batch=None,
    **kwargs,
):
    """Write the AuditLog row for a domain signal, in the sender's transaction. A batch send
    (`Transitions.transition_batch`: `batch` = [(target, before, after), …], no `target`)
    writes one row per item in one INSERT."""
    from strathwell.audit.services import write_audit_log, write_audit_logs

    if batch is not None:
        write_audit_logs(actor=actor, action=action, items=batch, reason=reason)
        return
    write_audit_log(
        actor=actor, action=action, target=target, before=before, after=after, reason=reason
    )
