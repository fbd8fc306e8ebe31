"""Trust screening of user-written text: the one place booking notes, counter notes, dispute
texts and profiles go through before they are stored, and the only writer of the moderation log.

Owns `record_screening` (screen and always log), `screen_user_text` (the gate that refuses a
`block`) and `screen_booking_text` (the same gate for a booking's free text)."""

from strathwell.exceptions import DomainValidationError
from trust.models import ModerationEvent
from trust.screening import ScreeningResult, screen_text


def record_screening(
    *, user, text: str, context_type: str, context_id: str = ""
) -> tuple[ScreeningResult, ModerationEvent]:
    """Screen text and always log the result (masked excerpt only)."""
    result = screen_text(text)
    return result, _log(result, user=user, context_type=context_type, context_id=context_id)


def screen_user_text(*, user, text: str, field: str, context_type: str, context_id: str = ""):
    """Gate for free text a user wants stored: `block` → DomainValidationError naming `field`
    (400 validation_error); `warn` → accepted and logged; `allow` → nothing logged."""
    if not text or not text.strip():
        return None
    result = screen_text(text)
    if result.action == ModerationEvent.Action.ALLOW:
        return result
    _log(result, user=user, context_type=context_type, context_id=context_id)
    if result.action == ModerationEvent.Action.BLOCK:
        raise DomainValidationError(
            f"{field}: contact details and off-platform arrangements are not allowed here.",
            details={
                field: [
                    "Remove contact details (emails, phone numbers, links); keep communication "
                    "and payment on Strathwell."
                ],
            },
        )
    return result


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


def _log(result: ScreeningResult, *, user, context_type: str, context_id) -> ModerationEvent:
    """The ModerationEvent of one screening: its verdict and the masked excerpt only."""
    return ModerationEvent.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None,
        context_type=context_type,
        context_id=str(context_id or ""),
        action=result.action,
        signals=list(result.signals),
        excerpt=result.excerpt,
    )
