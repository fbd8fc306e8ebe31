"""Trust screening of user-written text: the one place booking notes, counter notes and
profiles go through before they are stored."""

from disputes.models import ModerationEvent
from disputes.screening import ScreeningResult, screen_text
from strathwell.exceptions import DomainValidationError


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
