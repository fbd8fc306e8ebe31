"""Domain signals of the payments app. The audit receiver records every send (see
`strathwell.audit.signals.connect_audited`); sent with `send()` inside the change's transaction,
so a failed audit write rolls the change back.

kwargs of each: actor, action, target, before, after, reason.
"""

from django.dispatch import Signal

from strathwell.audit.signals import connect_audited

payment_transitioned = Signal()
payout_transitioned = Signal()

connect_audited(payment_transitioned)
connect_audited(payout_transitioned)
refund_transitioned = Signal()

connect_audited(refund_transitioned)
