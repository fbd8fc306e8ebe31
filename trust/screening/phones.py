"""Phone numbers, after the normalisation has turned disguises back into digits.

A bounded pattern finds runs of digit groups (spaces, dots, dashes, slashes, parentheses and
line breaks between them). Each run is then read the way a person would: what is written
around it (a "call me" cue, a "PO" or "gate code" label, a currency, a unit), what shape it has
(a date, a time range, an amount with thousands separators, a numeric range, someone counting),
and finally whether libphonenumber (``phonenumbers``, the check behind its matcher's ``VALID``
leniency) accepts it as a real number in one of the regions we serve. The library's own matcher
is not run over the whole text: its candidate scan costs ~30 ms on 20 KB, and our runs give it
the same candidates, already freed of the disguises it does not know.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from trust.screening import vocabulary as v
from trust.screening.common import PHONE, Finding
from trust.screening.normalise import Folded, is_counting

# Regions tried for numbers written nationally. A leading trunk "0" is European/Australian
# style; without it, North American, Spanish, Italian mobile, Portuguese, Mexican, Brazilian.
TRUNK_REGIONS = ("GB", "FR", "DE", "IT", "ES", "NL", "IE", "BE", "AT", "CH", "AU")
PLAIN_REGIONS = ("US", "ES", "IT", "PT", "MX", "BR")
# Library checks allowed per message; past that, runs are judged on shape and context only,
# so a message stuffed with numbers still screens in linear time.
LIBRARY_BUDGET = 64

_SEP = (
    r"(?:[ \t]{0,3}(?:[.\-/\\|]|\r?\n)(?:[ \t]{0,3}(?:[|/]|\r?\n)){0,2}[ \t]{0,3}"
    r"|[ \t]{1,3}|(?=\())"
)
_GROUP = r"(?:\([ \t]{0,2}\d{1,5}[ \t]{0,2}\)|\d{1,15})"
_RUN_RE = re.compile(
    rf"""
    (?:(?<![A-Za-z0-9$€£¥₹#/:.,@_+\-])|(?<=[A-Za-z][:.])|(?<=[A-Za-z]\.:))
    (?:\+[ \t]{{0,2}})?
    {_GROUP}(?:{_SEP}{_GROUP}){{0,9}}
    (?![A-Za-z0-9%]|[.,:]\d)
    """,
    re.X,
)
_DIGITS_RE = re.compile(r"\d+")

_CUE_AFTER_RE = re.compile(
    r"^[ \t]{0,3}[(\[\-,]?[ \t]{0,3}"
    + v.words_pattern(
        ("whatsapp", "wa", "cell", "mobile", "movil", "portable", "handy", "cellulare",
         "telemovel", "phone", "tel", "signal", "telegram", "viber", "bizum", "text me",
         "call me", "is my number", "is my cell", "es mi numero", "c'est mon numero")
    ),
    re.I,
)  # fmt: skip
# What may stand between a reference label and its number: "PO no. 4500...", "code: 4821".
_LABEL_GAP_RE = re.compile(
    r"[ \t]{0,3}(?:(?:no|nr|num|number|numero|nummer|n|is|es|est|ist|e|was|code|id)\.?"
    r"[ \t]{0,3}|[#:=\-][ \t]{0,3}|\.[ \t]{0,3}){0,4}",
    re.I,
)
_SENTENCE_END_RE = re.compile(r"[.!?\n]\s")
_COUNTRY_PREFIX_RE = re.compile(r"(?<![A-Za-z])[A-Z]{2}[ \t]?$")
_SYMBOLS = re.escape(v.CURRENCY_SYMBOLS)
_CURRENCY = v.words_pattern(v.CURRENCY_WORDS, boundary=False)
_MONEY_BEFORE_RE = re.compile(rf"(?:[{_SYMBOLS}]|(?<![a-z]){_CURRENCY}\.?)[ \t]{{0,2}}$", re.I)
_LAST_WORD_RE = re.compile(r"[a-z$]{1,12}\.?[ \t]{0,2}$", re.I)
_MONEY_AFTER_RE = re.compile(rf"^[ \t]{{0,2}}(?:[{_SYMBOLS}]|{_CURRENCY}(?![a-z]))", re.I)
_QUANTITY_AFTER_RE = re.compile(
    r"^[ \t]{0,2}-?[ \t]{0,2}(?:%|x\b|" + v.words_pattern(v.QUANTITY_WORDS) + ")", re.I
)
_MONTH_BEFORE_RE = re.compile(
    r"(?<![a-z])(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|ene|abr|ago|dic|janv|"
    r"fev|avr|mai|juin|juil|aout|dez|okt|mrz|marz|gen|mag|giu|lug|ott|set|out)[a-z]{0,7}\.?"
    r"[ \t]{0,2}(?:de[ \t]{1,2})?$",
    re.I,
)
_AMOUNT_RE = re.compile(r"^\d{1,3}(?P<sep>[.,' ])\d{3}(?:(?P=sep)\d{3}){0,4}$")
_NANP_SHAPES = frozenset({(3, 3, 4), (1, 3, 3, 4)})


class _Budget:
    def __init__(self) -> None:
        self.left = LIBRARY_BUDGET


def find(folded: Folded) -> list[Finding]:
    text = folded.text
    budget = _Budget()
    findings = []
    # The verdict on a run depends only on the text around it: a message repeating the same
    # line is judged once per distinct line.
    seen: dict[tuple[str, int], tuple[int, int, str] | None] = {}
    for m in _RUN_RE.finditer(text):
        lo = max(0, m.start() - 80)
        key = (text[lo : m.end() + 40], m.start() - lo)
        if key not in seen:
            finding = _phone_in_run(folded, m.start(), m.end(), budget)
            seen[key] = finding and (finding.start - lo, finding.end - lo, finding.reason)
        if seen[key] is not None:
            start, end, reason = seen[key]
            findings.append(Finding(lo + start, lo + end, PHONE, reason))
    return findings


def _phone_in_run(folded: Folded, start: int, end: int, budget: _Budget) -> Finding | None:
    text = folded.text
    groups = list(_DIGITS_RE.finditer(text, start, end))
    digits = "".join(g.group() for g in groups)
    if len(digits) < 7:
        return None
    run = text[start:end]
    values = [g.group() for g in groups]
    if not run.startswith("+") and (_is_dates(values, run) or _is_times(values) or _is_range(run)):
        return None  # the cheap shape checks first: most digit runs in planning talk are these
    before = text[max(0, start - 40) : start]
    after = text[end : end + 40]
    context = _context(folded, start, before, after)
    if context == "label":
        return None  # "PO 4500123456", "gate code 4821 3391", "tracking 9405 ..."

    reason = _judge(text[start:end], groups, context, before, after, budget)
    if reason:
        return Finding(start, end, PHONE, reason)
    # The run may have swallowed a neighbouring number ("for 2026 415 555 0134"): look for a
    # number inside it, longest first, in a layout nobody uses for anything else.
    sizes = [len(value) for value in values]
    window_sizes = range(len(groups) - 1, 1, -1) if context == "cue" else (4, 3)
    for size in window_sizes:
        for i in range(len(groups) - size + 1):
            if context != "cue" and tuple(sizes[i : i + size]) not in _NANP_SHAPES:
                continue
            window = groups[i : i + size]
            sub_start, sub_end = window[0].start(), window[-1].end()
            if sub_start > start and text[sub_start - 1] == "(":
                sub_start -= 1
            if sub_end < end and text[sub_end] == ")":
                sub_end += 1
            reason = _judge(text[sub_start:sub_end], window, context, before, after, budget)
            if reason:
                return Finding(sub_start, sub_end, PHONE, reason)
    return None


def _context(folded: Folded, start: int, before: str, after: str) -> str:
    """The nearest telling words: "cue" (call me, WhatsApp), "label" (PO, invoice, code),
    "money" or "quantity", or "" when nothing around says what the number is."""
    text, index = folded.text, folded.phrases
    cue_end = -1
    cue = index.last_ending_in("phone_cue", start - 40, start)
    # A cue counts for the run it introduces, not across a sentence.
    if cue and not _SENTENCE_END_RE.search(text, cue[1], start):
        cue_end = cue[1]
    for category in ("reference_label", "account_label"):
        label = index.last_ending_in(category, start - 40, start)
        # A label right before the number wins: a cue inside it ("routing number", "PO
        # number") is part of the label, and a cue before it is further away.
        if label and _LABEL_GAP_RE.fullmatch(text, label[1], start):
            return "label"
    if _COUNTRY_PREFIX_RE.search(before[-4:]) and cue_end < 0:
        return "label"  # "FR 12 345 678 901", "GB 123 4567 89": a tax or bank id
    if _money_before(before) or _MONEY_AFTER_RE.match(after):
        return "money"
    if _QUANTITY_AFTER_RE.match(after):
        return "quantity"
    if cue_end >= 0 or _CUE_AFTER_RE.match(after):
        return "cue"
    return ""


def _money_before(before: str) -> bool:
    tail = before.rstrip(" \t")
    if not tail:
        return False
    if tail[-1] in v.CURRENCY_SYMBOLS:
        return True
    # Only the last word can be a currency: test it alone, not the whole window.
    last = _LAST_WORD_RE.search(tail[-14:])
    return last is not None and _MONEY_BEFORE_RE.search(last.group()) is not None


def _judge(run: str, groups, context: str, before: str, after: str, budget: _Budget) -> str:
    """Why this run is a phone number, or "" when it is not one."""
    values = [g.group() for g in groups]
    sizes = tuple(len(x) for x in values)
    digits = "".join(values)
    international = run.startswith("+") or (digits.startswith("00") and not run.startswith("("))

    if international:
        national = digits[2:] if not run.startswith("+") else digits
        if not 8 <= len(national) <= 15:
            return ""
        if _valid("+" + national, None, budget) or context == "cue":
            return "phone: international number"
        return ""
    if context in ("money", "quantity") or not 7 <= len(digits) <= 15:
        return ""
    # "1.250.000" is an amount; "612.345.678" is as likely a Spanish mobile: the library says.
    if _is_amount(run) and context != "cue" and sizes != (3, 3, 3):
        return ""
    if _is_dates(values, run) or _is_times(values) or _is_range(run):
        return ""
    if (sizes[0] <= 2 or 4 in sizes) and _MONTH_BEFORE_RE.search(before[-16:]):
        return ""  # "Dec 24 2026 ..."
    if is_counting(digits) or len(set(digits)) == 1:
        return ""  # "1 2 3 4 5 6 7", "0000000": numbering or a placeholder
    if context == "cue":
        return "phone: number next to a contact word"
    if len(digits) < 8 and sizes not in _NANP_SHAPES:
        return ""  # seven bare digits are too often an amount or a count
    regions = TRUNK_REGIONS if digits.startswith("0") else PLAIN_REGIONS
    if digits.startswith("1") and len(digits) == 11:
        regions = ("US",)
    if any(_valid(digits, region, budget) for region in regions):
        return "phone: valid national number"
    return ""


def _valid(number: str, region: str | None, budget: _Budget) -> bool:
    if budget.left <= 0:
        # Out of library checks: a plausible length in a plausible layout is enough.
        return 9 <= len(number.lstrip("+")) <= 13
    budget.left -= 1
    return _valid_cached(number, region)


@lru_cache(maxsize=8192)
def _valid_cached(number: str, region: str | None) -> bool:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed)


# --------------------------------------------------------------------------------------------
# Numbers of event planning that are not phone numbers
# --------------------------------------------------------------------------------------------


def _is_year(value: str) -> bool:
    return len(value) == 4 and 1900 <= int(value) <= 2099


def _is_dates(values: list[str], run: str) -> bool:
    """ "24.12.2026", "2026-12-24", "12/24/2026", "24.12.2026-26.12.2026", "20261224"."""
    if len(values) == 1:
        value = values[0]
        return (
            len(value) == 8
            and _is_year(value[:4])
            and 1 <= int(value[4:6]) <= 12
            and 1 <= int(value[6:]) <= 31
        )
    if all(_is_year(x) for x in values):
        return True  # "2025 2026"
    i = 0
    seen_year = False
    while i < len(values):
        chunk = values[i : i + 3]
        if len(chunk) == 3 and (
            (_is_year(chunk[0]) and _day_month(chunk[1], chunk[2]))
            or (
                _day_month(chunk[0], chunk[1])
                and (_is_year(chunk[2]) or (len(chunk[2]) == 2 and len(values) == 3))
            )
        ):
            i, seen_year = i + 3, True  # "2026-12-24", "24.12.2026", "24.12.26"
        elif len(chunk) >= 2 and _day_month(chunk[0], chunk[1]) and ("." in run or "/" in run):
            i += 2  # "24.-26.12.2026" / "24.12 - 26.12"
        else:
            return False
    return seen_year


def _day_month(a: str, b: str) -> bool:
    if len(a) > 2 or len(b) > 2:
        return False
    x, y = int(a), int(b)
    return (1 <= x <= 31 and 1 <= y <= 12) or (1 <= x <= 12 and 1 <= y <= 31)


def _is_times(values: list[str]) -> bool:
    """ "18.30-22.30", "9.00 - 17.00": pairs of hours and minutes."""
    if len(values) < 4 or len(values) % 2:
        return False
    return all(
        len(h) <= 2 and int(h) <= 24 and len(m) == 2 and int(m) <= 59
        for h, m in zip(values[::2], values[1::2], strict=True)
    )


def _is_amount(run: str) -> bool:
    """ "1.250.000", "12,500,000", "1'250'000" (spaces only count next to a currency)."""
    m = _AMOUNT_RE.match(run)
    return m is not None and m.group("sep") in ".,'"


_RANGE_SPLIT_RE = re.compile(r"[ \t]{0,3}[-/][ \t]{0,3}|[ \t]{2,3}")


def _is_range(run: str) -> bool:
    """ "4500-6000", "15.000 - 20.000", "1 200 - 1 500": two amounts, the second larger."""
    parts = _RANGE_SPLIT_RE.split(run)
    if len(parts) != 2:
        return False
    numbers = []
    for part in parts:
        compact = re.sub(r"[.,' \t]", "", part)
        if not compact.isdigit() or compact.startswith("0"):
            return False
        if not (_AMOUNT_RE.match(part) or len(compact) <= 6):
            return False
        numbers.append(int(compact))
    return numbers[0] < numbers[1]
