from django.dispatch import Signal

from strathwell.audit.signals import connect_audited

# kwargs: actor, action, target, before, after, reason
subscription_changed = Signal()
user_bootstrapped = Signal()
password_changed = Signal()

connect_audited(subscription_changed)
connect_audited(user_bootstrapped)
connect_audited(password_changed)
