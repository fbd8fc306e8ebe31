"""The excerpt: the display text with every detected detail masked, then cut to length."""

from __future__ import annotations

from trust.screening.common import EMAIL, PAYMENT_ACCOUNT, PHONE, URL

MAX_EXCERPT_CHARS = 500

MASKS = {
    EMAIL: "[email removed]",
    PHONE: "[phone removed]",
    URL: "[link removed]",
    PAYMENT_ACCOUNT: "[payment details removed]",
}

# Characters that belong to the same written token as a detail ("jane.doe-7", "+44").
_JOINERS = "._-+@%$#/"
_MAX_GROW = 64


def grow(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a masked span to the whole written token, so a detail detected in part (a handle
    read up to a look-alike character, a number whose last group was a letter) never leaves a
    readable tail."""
    limit = max(0, start - _MAX_GROW)
    while start > limit and _joined(text, start - 1, -1):
        start -= 1
    limit = min(len(text), end + _MAX_GROW)
    while end < limit and _joined(text, end, +1):
        end += 1
    return start, end


def _joined(text: str, i: int, step: int) -> bool:
    char = text[i]
    if char.isalnum():
        return True
    if char in _JOINERS:
        # A joiner only when a token character follows it: "site.com." keeps its full stop.
        j = i + step
        return 0 <= j < len(text) and text[j].isalnum()
    return False


def excerpt(text: str, spans: list[tuple[int, int, str]]) -> str:
    """Mask every span (display coordinates, any order, may overlap), then trim: a detail is
    masked before the cut, so it cannot leak half-masked, and a mask token is never split."""
    pieces: list[str] = []
    tokens: list[tuple[int, int]] = []  # (start, end) of mask tokens within the output
    length = 0
    cursor = 0
    for start, end, signal in sorted(spans):
        if end <= cursor:
            continue
        if start >= cursor:
            pieces.append(text[cursor:start])
            length += start - cursor
            token = MASKS[signal]
            pieces.append(token)
            tokens.append((length, length + len(token)))
            length += len(token)
        # A partial overlap extends the previous mask instead of opening a new one.
        cursor = end
    pieces.append(text[cursor:])
    masked = "".join(pieces)

    if len(masked) <= MAX_EXCERPT_CHARS:
        return masked
    cut = MAX_EXCERPT_CHARS - 1  # room for the ellipsis
    for token_start, token_end in tokens:
        if token_start < cut < token_end:
            cut = token_start  # never leave half a mask token
            break
    return masked[:cut].rstrip() + "…"
