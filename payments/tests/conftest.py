import pytest

from strathwell.testing.servers import LOCALSTRIPE_API_KEY


@pytest.fixture
def stripe_local(settings, localstripe_server):
    """Point the app's Stripe client at the session's localstripe (a real HTTP peer)."""
    settings.STRIPE_API_BASE = localstripe_server.url
    settings.STRIPE_SECRET_KEY = LOCALSTRIPE_API_KEY
    return localstripe_server


def intents_for_booking(client, booking_id) -> list:
    """The PaymentIntents localstripe holds for a booking (by our metadata)."""
    intents = client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
    return [pi for pi in intents if pi.metadata.to_dict().get("booking_id") == str(booking_id)]
