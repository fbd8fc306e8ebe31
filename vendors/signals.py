from django.dispatch import Signal

from strathwell.audit.signals import connect_audited

# kwargs: actor, action, target, before, after, reason
vendor_verification_changed = Signal()  # approve / request_changes / resubmit
vendor_profile_changed = Signal()  # onboarding and the vendor's own edits
# A capacity unit taken, booked or released, or a date blocked or unblocked (vendors.availability)
vendor_availability_changed = Signal()

connect_audited(vendor_verification_changed)
connect_audited(vendor_profile_changed)
connect_audited(vendor_availability_changed)
