"""From what the user typed to the text the detectors search, without losing track of where
each searched character came from.

Two texts are kept:

* the *display* text: NFKC-normalised, zero-width and bidi-control characters removed,
  surrounding whitespace trimmed. The excerpt is cut from it (with masks), so moderators read
  what was written;
* the *folded* text the detectors search: ASCII only (homoglyphs, accents and other scripts
  folded by ``anyascii``: Cyrillic "а", Greek "ο", full-width "＠", middle dots), letters spaced
  out collapsed ("j a n e" → "jane"), look-alike letters inside digit runs read as digits
  ("O134" → "0134"), and dictated numbers in en/es/fr/de/it/pt read as digits ("cuatro uno
  cinco ..." → "415...").

The look-alike table is Unicode's confusables list (``confusable-homoglyphs``), so "раураl"
written with Cyrillic letters reads "paypal"; what has no Latin look-alike is transliterated.

Every folded character remembers the display range it came from (``starts``/``ends``), so a
finding in the folded text masks exactly the characters that produced it, however they were
disguised.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise

from anyascii import anyascii
from confusable_homoglyphs import confusables

from trust.screening import vocabulary as v
from trust.screening.phrases import PhraseIndex

# Invisible characters people insert to break up addresses: zero-width, soft hyphen, word
# joiners, bidi controls, variation selectors, the Mongolian vowel separator, tag characters.
_INVISIBLE_RE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]"
)

# Characters used as a dot in disguised addresses that anyascii would read otherwise.
_DOT_LIKE = frozenset("·•∙⋅・‧⸱。｡︒﹒．܁܂。⁘⁙")


def display_text(text: str | None) -> str:
    return _INVISIBLE_RE.sub("", unicodedata.normalize("NFKC", text or "")).strip()


@dataclass
class Folded:
    """The folded text and, per character, the display range it came from."""

    text: str
    starts: list[int]
    ends: list[int]

    def display_span(self, start: int, end: int) -> tuple[int, int]:
        return self.starts[start], self.ends[max(start, end - 1)]

    @cached_property
    def phrases(self) -> PhraseIndex:
        """Where the vocabulary's phrases occur in the folded text (one pass, shared)."""
        return PhraseIndex(self.text)


def fold(display: str) -> Folded:
    folded = _fold_characters(display)
    folded = _collapse_spaced_letters(folded)
    folded = _join_split_providers(folded)
    folded = _read_look_alike_digits(folded)
    return _read_dictated_numbers(folded)


# --------------------------------------------------------------------------------------------
# Characters
# --------------------------------------------------------------------------------------------


_FOLD_CACHE: dict[str, str] = {}


def _fold_char(char: str) -> str:
    out = _fold_char_uncached(char)
    if len(_FOLD_CACHE) < 50_000:
        _FOLD_CACHE[char] = out
    return out


def _fold_char_uncached(char: str) -> str:
    if char in _DOT_LIKE:
        return "."
    if char.isspace():
        return " "
    category = unicodedata.category(char)
    if category == "Sc":
        return char  # currency symbols stay: "€1.250.000" is money, not a phone number
    if category.startswith("M") or category == "Cf":
        return ""
    if category.startswith("L") or category == "Nd":
        # What the letter looks like first (Cyrillic "у" is a "y" to the eye, though it is
        # transliterated "u"), then what it reads as.
        look_alike = _latin_look_alike(char)
        if look_alike:
            return look_alike
    out = anyascii(char)
    if category == "Lo" and len(out) > 1:
        return out + " "  # one syllable per CJK character: "微信" → "Wei Xin "
    return out


def _latin_look_alike(char: str) -> str:
    found = confusables.is_confusable(char, preferred_aliases=["latin"], greedy=True) or []
    for entry in found:
        for glyph in entry["homoglyphs"]:
            if len(glyph["c"]) == 1 and glyph["c"].isascii() and glyph["c"].isalnum():
                return glyph["c"]
    return ""


def _fold_characters(display: str) -> Folded:
    n = len(display)
    if display.isascii():
        return Folded(display, list(range(n)), list(range(1, n + 1)))
    cache = _FOLD_CACHE
    outs = [cache.get(c) or _fold_char(c) if c >= "\x80" else c for c in display]
    if all(len(out) == 1 for out in outs):  # the common case: one letter for one letter
        return Folded("".join(outs), list(range(n)), list(range(1, n + 1)))
    starts = [i for i, out in enumerate(outs) for _ in out]
    return Folded("".join(outs), starts, [i + 1 for i in starts])


def _rewrite(folded: Folded, edits: list[tuple[int, int, str]]) -> Folded:
    """Replace folded ranges (sorted, non-overlapping); each new character maps to the whole
    display range of what it replaced."""
    if not edits:
        return folded
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    cursor = 0
    for start, end, new in edits:
        parts.append(folded.text[cursor:start])
        starts.extend(folded.starts[cursor:start])
        ends.extend(folded.ends[cursor:start])
        parts.append(new)
        starts.extend([folded.starts[start]] * len(new))
        ends.extend([folded.ends[end - 1]] * len(new))
        cursor = end
    parts.append(folded.text[cursor:])
    starts.extend(folded.starts[cursor:])
    ends.extend(folded.ends[cursor:])
    return Folded("".join(parts), starts, ends)


# --------------------------------------------------------------------------------------------
# Letters spaced out: "j a n e @ g m a i l . c o m", "4 1 5 5 5 5 0 1 3 4"
# --------------------------------------------------------------------------------------------

# Five or more one-character tokens separated by one or two spaces. Bounded: a longer run is
# simply taken in pieces.
_SPACED_TOKEN = r"(?:[A-Za-z0-9@.+_\-]|[(\[{<](?:at|dot|@|\.)[)\]}>])"
_SPACED_RE = re.compile(
    rf"(?<!\S){_SPACED_TOKEN}(?:[ \t]{{1,3}}{_SPACED_TOKEN}){{4,120}}(?!\S)", re.I
)
_WORD_GAP_RE = re.compile(r"[ \t]{2,3}")
_GAP_RE = re.compile(r"[ \t]")


def _collapse_spaced_letters(folded: Folded) -> Folded:
    edits = []
    for m in _SPACED_RE.finditer(folded.text):
        run = m.group()
        if not any(c.isalnum() for c in run):
            continue
        # A wider gap separates words: "j a n e  a t  g m a i l" → "jane at gmail".
        if _WORD_GAP_RE.search(run) and _GAP_RE.search(_WORD_GAP_RE.sub("", run)):
            pieces = _WORD_GAP_RE.split(run)
            edits.extend(_piecewise(m.start(), run, pieces))
        else:
            edits.extend(_squeeze(m.start(), run))
    return _rewrite(folded, edits)


def _squeeze(offset: int, run: str) -> list[tuple[int, int, str]]:
    """Delete the single spaces inside ``run`` (an edit per space keeps the map exact)."""
    return [(offset + i, offset + i + 1, "") for i, c in enumerate(run) if c in " \t"]


def _piecewise(offset: int, run: str, pieces: list[str]) -> list[tuple[int, int, str]]:
    edits = []
    cursor = 0
    for piece in pieces:
        start = run.index(piece, cursor)
        edits.extend(_squeeze(offset + start, piece))
        cursor = start + len(piece)
        gap_end = cursor
        while gap_end < len(run) and run[gap_end] in " \t":
            gap_end += 1
        if gap_end - cursor > 1:  # keep one space between words
            edits.append((offset + cursor + 1, offset + gap_end, ""))
        cursor = gap_end
    return edits


# Mail providers written in two words: "proton mail", "g mail", "hot mail", "i cloud".
_SPLIT_PROVIDER_RE = re.compile(
    r"(?<![a-z])(?:proton|g|hot|ya|i)(?P<gap>[ \t]{1,2})(?:mail|hoo|cloud)(?![a-z])", re.I
)


def _join_split_providers(folded: Folded) -> Folded:
    return _rewrite(
        folded,
        [(m.start("gap"), m.end("gap"), "") for m in _SPLIT_PROVIDER_RE.finditer(folded.text)],
    )


# --------------------------------------------------------------------------------------------
# Look-alike letters inside digit runs: "415 555 O134", "4l5-555-0I34"
# --------------------------------------------------------------------------------------------

# A run of digit-like groups: digits and the letters that pass for them, separated as phone
# numbers are. Bounded: at most nine groups of fifteen.
_LOOK_ALIKE_RUN_RE = re.compile(
    r"(?<![A-Za-z0-9])[0-9OoIl]{1,15}(?:[ .\-/]{1,3}[0-9OoIl]{1,15}){0,8}(?![A-Za-z0-9])"
)
_LOOK_ALIKES = str.maketrans("OoIl", "0011")


def _read_look_alike_digits(folded: Folded) -> Folded:
    """ "415 555 O134", "4l5-555-0I34", "O6 OO 12 34 56": letters for digits inside a run
    that has real digits and is long enough to be a number ("I 2" and "lol" stay)."""
    edits = []
    for m in _LOOK_ALIKE_RUN_RE.finditer(folded.text):
        run = m.group()
        digits = sum(c.isdigit() for c in run)
        letters = sum(c in "OoIl" for c in run)
        if not letters or not digits or digits + letters < 7:
            continue
        edits.extend(
            (m.start() + i, m.start() + i + 1, c.translate(_LOOK_ALIKES))
            for i, c in enumerate(run)
            if c in "OoIl"
        )
    return _rewrite(folded, edits)


# --------------------------------------------------------------------------------------------
# Dictated numbers: "four one five, five five five ...", "seis uno dos ...", "double five"
# --------------------------------------------------------------------------------------------

_WORD_DIGIT = {word: digit for digit, words in v.NUMBER_WORDS.items() for word in words.split()}
_NUMBER_WORD = v.words_pattern(_WORD_DIGIT, boundary=False)
_REPEAT_WORD = v.words_pattern(v.REPEAT_WORDS, boundary=False)
_PLUS_WORD = v.words_pattern(v.PLUS_WORDS, boundary=False)
_TOKEN = rf"(?:{_REPEAT_WORD}\s{{1,3}})?(?:{_NUMBER_WORD}|\d{{1,4}})(?![a-z0-9])"
_DICTATION_RE = re.compile(
    rf"(?<![a-z0-9])(?:{_PLUS_WORD}\s{{1,3}})?{_TOKEN}(?:[\s,.;:/\-]{{1,4}}{_TOKEN}){{2,30}}",
    re.I,
)
_TOKEN_RE = re.compile(rf"(?:(?P<repeat>{_REPEAT_WORD})\s{{1,3}})?(?P<unit>[a-z]+|\d+)", re.I)


_WORD_SPLIT_RE = re.compile(r"[^a-z0-9]+")
_DICTATION_WORDS = frozenset(_WORD_DIGIT) | frozenset(v.REPEAT_WORDS)


def _read_dictated_numbers(folded: Folded) -> Folded:
    words = _WORD_SPLIT_RE.split(folded.text.lower())
    if sum(1 for word in words if word in _DICTATION_WORDS) < 3:
        return folded  # the common case, found with one C-level split
    edits = []
    for m in _DICTATION_RE.finditer(folded.text):
        digits, words = _dictated_digits(m.group())
        if words >= 3 and 7 <= len(digits.lstrip("+")) <= 15 and not is_counting(digits):
            edits.append((m.start(), m.end(), digits))
    return _rewrite(folded, edits)


def _dictated_digits(run: str) -> tuple[str, int]:
    digits = []
    words = 0
    lowered = run.lower()
    plus = re.match(_PLUS_WORD, lowered)
    if plus and plus.end() < len(lowered) and lowered[plus.end()].isspace():
        digits.append("+")
        lowered = lowered[plus.end() :]
    for m in _TOKEN_RE.finditer(lowered):
        unit = m.group("unit")
        if unit.isdigit():
            value = unit
        elif unit in _WORD_DIGIT:
            value = _WORD_DIGIT[unit]
            words += 1
        else:
            continue
        repeat = v.REPEAT_WORDS.get(m.group("repeat") or "", 1)
        digits.append(value * repeat)
    return "".join(digits), words


def is_counting(digits: str) -> bool:
    """True for "1234567" / "7654321": someone counting or numbering, not dictating."""
    digits = digits.lstrip("+")
    if len(digits) < 3:
        return False
    steps = {int(b) - int(a) for a, b in pairwise(digits)}
    return steps in ({1}, {-1})
