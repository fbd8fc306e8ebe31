"""Row lock of an organizer's subscription.

The subscription row is locked on its own: by the subscription flows of `accounts.billing`
(start, cancel, grant, the Stripe state they write back) and, inside a webhook's processing,
after the webhook event row (`payments.locks` step 1). It is never locked together with a
booking's rows, so it has no place between them in the lock order. No Stripe call is made while
it is held: a start claims the row (`Subscription.start_token`) and talks to Stripe unlocked.
"""

from __future__ import annotations

from accounts.models import Subscription


def lock_subscription(user_id) -> Subscription:
    """Lock and re-read the organizer's subscription row, creating it (status `none`) first if
    the organizer never had one. Run inside the caller's transaction."""
    Subscription.objects.get_or_create(user_id=user_id)
    return Subscription.objects.select_for_update().get(pk=user_id)
