from django.dispatch import Signal

from strathwell.audit.signals import connect_audited

# kwargs: actor, action, target, before, after, reason
vendor_verification_changed = Signal()
vendor_onboarded = Signal()

connect_audited(vendor_verification_changed)
connect_audited(vendor_onboarded)
