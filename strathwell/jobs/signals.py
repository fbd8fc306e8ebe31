"""The outbox's domain signal. Deliveries are bookkeeping (one per email: their record is the
outbox row itself), so only a person's move — staff retrying a message from the console — is
written to the audit trail."""

from django.dispatch import Signal, receiver

from strathwell.audit.receivers import record_audit_log

# kwargs: actor, action, target, before, after, reason
outbox_message_transitioned = Signal()


@receiver(outbox_message_transitioned, dispatch_uid="audit:outbox_message_transitioned")
def audit_staff_moves(sender, *, actor=None, **kwargs):
    if getattr(actor, "is_authenticated", False):
        record_audit_log(sender, actor=actor, **kwargs)
