"""Flows of the bookings app that reach into other apps."""

from disputes.services import screen_user_text


def screen_booking_text(*, user, text: str, field: str, context_type: str, context_id="") -> None:
    """The one place a booking's free text (organizer `notes`, a vendor's counter `note` or
    decline `reason`) passes the trust screening before it is stored.

    Call it BEFORE opening the transaction of the change: a `block` raises
    DomainValidationError (400 `validation_error` naming `field`), and the ModerationEvent row
    the screening logs must survive that refusal, so it must not be rolled back with it."""
    screen_user_text(
        user=user,
        text=text or "",
        field=field,
        context_type=context_type,
        context_id=str(context_id or ""),
    )
