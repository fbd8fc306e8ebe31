"""Domain signals the audit trail listens to.

Model methods send their app's own domain signal (connected with `connect_audited`), admin
mutations send `admin_action`; each carries `actor`, `action`, `target`, `before`, `after` and
`reason`, and the one receiver in `receivers.py` writes the AuditLog row inside the sender's
transaction. Signals are sent with `send()` (never `send_robust()`), so a failed audit write
rolls the change back.
"""

from django.dispatch import Signal

# An admin mutation: kwargs actor, action, target, before, after, reason.
admin_action = Signal()


def connect_audited(signal: Signal) -> None:
    """Make the audit receiver record every send of an app's own domain signal."""
    from strathwell.audit.receivers import record_audit_log

    signal.connect(record_audit_log, dispatch_uid=f"audit:{id(signal)}")
