from django.dispatch import Signal

from strathwell.audit.signals import connect_audited

# kwargs: actor, action, target, before, after, reason
upload_completed = Signal()
upload_purged = Signal()

connect_audited(upload_completed)
connect_audited(upload_purged)
