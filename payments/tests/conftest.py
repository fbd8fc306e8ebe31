# `stripe_local` (the app's Stripe client pointed at localstripe) is in the root conftest.


def intents_for_booking(client, booking_id) -> list:
    """The PaymentIntents localstripe holds for a booking (by our metadata)."""
    intents = client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
    return [pi for pi in intents if pi.metadata.to_dict().get("booking_id") == str(booking_id)]
