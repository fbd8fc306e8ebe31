"""Trust screening: detect attempts to move contact or payment off Strathwell.

Pure Python, no Django models and no database; safe to call from anywhere (serializers,
message views, dispute intake, admin tooling).

``screen_text(text)`` returns a :class:`ScreeningResult` and guarantees that:

* ``action`` is ``"block"`` whenever a contact or payment *detail* is found (an email address,
  a phone number, a link or a handle on a messaging/social/payment app, an IBAN, account,
  card or wallet number), ``"warn"`` when the only findings are off-platform payment talk
  (payment apps and rails, cash in hand, "skip the fee", "pay me directly") or an invitation to
  move to another app ("add me on WhatsApp"), and ``"allow"`` otherwise (including empty or
  whitespace-only text, whose excerpt is ``""``);
* ``signals`` is a sorted list of unique names drawn from ``email``, ``phone``, ``url``,
  ``payment_account``, ``off_platform_payment`` and ``off_platform_contact``;
* ``reasons`` says, in fixed words that never quote the text, why each signal was raised;
* ``excerpt`` never contains a detected detail: every detected span, widened to the whole
  written token, is replaced by a mask token *before* the text is cut to
  ``MAX_EXCERPT_CHARS``, so a detail cannot leak half-masked at the cut, and a mask token is
  never split by the cut either. Payment and invitation words stay readable so moderators can
  see what was said.

How (see each module): ``normalise`` folds disguises back (NFKC, homoglyphs via ``anyascii``,
invisible characters, spaced letters, look-alike digits, dictated numbers in six languages)
while remembering where each character came from; ``emails``, ``links``, ``handles``,
``phones`` (``phonenumbers``) and ``payments`` (``schwifty``, ``python-stdnum``) find spans in
the folded text; ``vocabulary`` holds every word list staff may extend. Every pattern is
bounded and every detector is anchored on short windows, so screening is linear in the length
of the text (``benchmarks/bench_screening.py``: a 20 KB message in a few milliseconds).
"""

from __future__ import annotations

from dataclasses import dataclass

from trust.screening import emails, handles, links, payments, phones
from trust.screening.common import (
    DETAIL_SIGNALS,
    EMAIL,
    OFF_PLATFORM_CONTACT,
    OFF_PLATFORM_PAYMENT,
    PAYMENT_ACCOUNT,
    PHONE,
    URL,
    Finding,
    warm_up,
)
from trust.screening.masking import MASKS, MAX_EXCERPT_CHARS, excerpt, grow
from trust.screening.normalise import display_text, fold

__all__ = [
    "EMAIL",
    "MASKS",
    "MAX_EXCERPT_CHARS",
    "OFF_PLATFORM_CONTACT",
    "OFF_PLATFORM_PAYMENT",
    "PAYMENT_ACCOUNT",
    "PHONE",
    "URL",
    "ScreeningResult",
    "screen_text",
]

ALLOW = "allow"
WARN = "warn"
BLOCK = "block"

# Payment details are payment talk too: an IBAN in a message is an offer to be paid outside.
_IMPLIES = {PAYMENT_ACCOUNT: OFF_PLATFORM_PAYMENT}


@dataclass(frozen=True)
class ScreeningResult:
    action: str  # "allow" | "warn" | "block"
    signals: list[str]  # sorted, unique
    excerpt: str  # masked, at most MAX_EXCERPT_CHARS characters
    reasons: tuple[str, ...] = ()  # why, in fixed words (never quotes the text)


def screen_text(text: str | None) -> ScreeningResult:
    """Screen free text for off-platform contact details and payment talk."""
    display = display_text(text)
    if not display:
        return ScreeningResult(action=ALLOW, signals=[], excerpt="")
    folded = fold(display)

    details = _outermost(
        [
            *emails.find(folded),
            *links.find(folded),
            *handles.find(folded),
            *phones.find(folded),
            *payments.find_details(folded),
        ]
    )
    talk = payments.find_talk(folded)

    masked: list[tuple[int, int, str]] = []
    signals: set[str] = set()
    reasons: set[str] = set()
    for finding in [*details, *talk]:
        signals.add(finding.signal)
        if finding.signal in _IMPLIES:
            signals.add(_IMPLIES[finding.signal])
        reasons.add(finding.reason)
        if finding.signal in DETAIL_SIGNALS:
            start, end = folded.display_span(finding.start, finding.end)
            masked.append((*grow(display, start, end), finding.signal))

    return ScreeningResult(
        action=_score(signals),
        signals=sorted(signals),
        excerpt=excerpt(display, masked),
        reasons=tuple(sorted(reasons)),
    )


def _score(signals: set[str]) -> str:
    if signals & DETAIL_SIGNALS:
        return BLOCK
    if signals:
        return WARN
    return ALLOW


def _outermost(findings: list[Finding]) -> list[Finding]:
    """Drop detail spans contained in another (the domain inside an address, digits inside
    a link); invitations and talk are kept apart. Partial overlaps stay: their masks merge."""
    kept: list[Finding] = []
    furthest = -1
    # On equal spans a payment detail wins over a phone reading of the same digits.
    ordered = sorted(
        (f for f in findings if f.signal in DETAIL_SIGNALS),
        key=lambda f: (f.start, -f.end, f.signal != PAYMENT_ACCOUNT),
    )
    for finding in ordered:
        if finding.end <= furthest:
            continue
        kept.append(finding)
        furthest = finding.end
    kept.extend(f for f in findings if f.signal not in DETAIL_SIGNALS)
    return kept


warm_up()
