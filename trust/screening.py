"""Trust screening: detect attempts to move contact or payment off Strathwell.

Pure Python, no Django models and no database; safe to call from anywhere (serializers,
message views, dispute intake, admin tooling).

``screen_text(text)`` returns a :class:`ScreeningResult` and guarantees that:

* ``action`` is ``"block"`` whenever a contact detail (email address, phone number, link,
  social handle, or a payment handle next to a payment app: "Venmo @jane-doe") is found,
  ``"warn"`` when the only finding is off-platform payment talk, and ``"allow"`` otherwise
  (including empty or whitespace-only text, whose excerpt is ``""``).
* ``signals`` is a sorted list of unique names drawn from ``email``, ``phone``, ``url`` and
  ``off_platform_payment``.
* ``excerpt`` never contains a detected contact detail: every detected email/phone/link span is
  replaced by a mask token *before* the text is cut to ``MAX_EXCERPT_CHARS``, so a detail
  cannot leak half-masked at the cut, and a mask token is never split by the cut either.
  Payment words are deliberately left readable so moderators can see what was said.

Detection is heuristic and biased towards precision on ordinary event-planning prose
(prices, dates, times, guest counts, street addresses and zip codes are not phone numbers;
"e.g." and "a.m." are not links).  Text is NFKC-normalised and stripped of zero-width
characters first, so full-width digits or invisible separators do not defeat the patterns;
the excerpt is built from that normalised text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from itertools import pairwise
from urllib.parse import urlsplit

__all__ = ["MAX_EXCERPT_CHARS", "ScreeningResult", "screen_text"]

MAX_EXCERPT_CHARS = 500

ALLOW = "allow"
WARN = "warn"
BLOCK = "block"

EMAIL = "email"
PHONE = "phone"
URL = "url"
OFF_PLATFORM_PAYMENT = "off_platform_payment"

CONTACT_SIGNALS = frozenset({EMAIL, PHONE, URL})

MASKS = {
    EMAIL: "[email removed]",
    PHONE: "[phone removed]",
    URL: "[link removed]",
}

# Links to our own site and our own support addresses are not an off-platform attempt.
PLATFORM_DOMAINS = frozenset({"strathwell.com"})


@dataclass(frozen=True)
class ScreeningResult:
    action: str  # "allow" | "warn" | "block"
    signals: list[str]  # sorted, unique
    excerpt: str  # masked, at most MAX_EXCERPT_CHARS characters


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    signal: str


# --------------------------------------------------------------------------------------------
# Shared vocabulary
# --------------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


def _alternation(words: list[str]) -> str:
    # Longest first, so "com" is tried before its prefix "co".
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


# TLDs we accept for bare domains ("example.com") and obfuscated addresses.  An allowlist
# rather than "any letters" so abbreviations and sloppy prose ("e.g.", "a.m.", "Mr.Smith",
# "St.Louis", "menu.pdf") never look like links.  Two-letter words that double as ccTLDs
# ("it", "in", "at", "to", "be", "no", "is", "so") are left out on purpose: "done it.to" style
# typos are far more common in chat than real .it/.in links typed without www or a scheme.
_COMMON_TLDS = _words(
    "com net org edu gov io co biz info me app dev ai xyz site online shop store tech studio "
    "design agency events party wedding catering photography photos gallery media live club "
    "life world space page link art music email us uk de fr ca au nz ie es nl ch se dk eu jp "
    "mx br tv fm ly gg gl ee"
)
# Strong TLDs are the only ones we trust when the dot itself is spelled out or spaced
# ("site dot com", "site . com"); "polka dot me" should not count as a link.
_STRONG_TLDS = _words("com net org io biz info app dev events")


_TLD = _alternation(_COMMON_TLDS)
_STRONG_TLD = _alternation(_STRONG_TLDS)

# Mail providers that may appear without a TLD ("jane@gmail", "jane(at)gmail").
_MAIL_PROVIDERS = frozenset(
    _words(
        "gmail googlemail yahoo ymail hotmail outlook live msn icloud aol proton protonmail "
        "gmx yandex zoho fastmail comcast qq"
    )
)
# With a plain-word "at" the provider must be unambiguous: "the view at outlook point" and
# "we are at live music night" are prose, "jane at gmail" is not.
_UNAMBIGUOUS_PROVIDERS = _MAIL_PROVIDERS - {"outlook", "live", "proton"}

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"

# Spelled-out separators: "(at)", "[at]", "{at}", "<at>", " at ", and the same for "dot".
_AT = r"(?P<at>\s*@\s*|\s*[(\[{<]\s*at\s*[)\]}>]\s*|\s+at\s+)"
_DOT_SPELLED = r"(?:\s*[(\[{<]\s*dot\s*[)\]}>]\s*|\s+dot\s+)"
_DOT_ANY = rf"(?:{_DOT_SPELLED}|\s?\.\s?)"
# Repetitions are bounded so a long run of "a . a . a" cannot make matching quadratic.
_DOT_SPELLED_RE = re.compile(_DOT_SPELLED, re.I)
_DOT_ANY_RE = re.compile(_DOT_ANY, re.I)
# Splits "gmail dot com" / "gmail.com" / "gmail(dot)com" into its first label.
_FIRST_LABEL_RE = re.compile(r"[^\s.(\[{<]+")
_LOCAL = rf"[a-z0-9][a-z0-9._%+-]{{0,63}}(?:{_DOT_SPELLED}[a-z0-9][a-z0-9._%+-]{{0,63}}){{0,3}}"

# --------------------------------------------------------------------------------------------
# Email
# --------------------------------------------------------------------------------------------

# Plain, well-formed addresses with any alphabetic TLD (name@company.whatever).
_EMAIL_RE = re.compile(r"(?<![\w.%+-])[\w.%+-]+@(?:[\w-]+\.)+[a-z]{2,24}(?![\w-])", re.I)

# Obfuscated or sloppy addresses.  The domain is either label(s) + allowlisted TLD, or a
# single label (a provider such as "gmail", checked in code) when the TLD is omitted.
_OBFUSCATED_EMAIL_RE = re.compile(
    rf"""
    (?<![\w.%+-])
    (?P<local>{_LOCAL})
    {_AT}
    (?P<domain>
        (?:{_LABEL}{_DOT_ANY}){{1,6}}(?:{_TLD})
      | {_LABEL}
    )
    (?![\w-])
    """,
    re.I | re.X,
)

# --------------------------------------------------------------------------------------------
# Links
# --------------------------------------------------------------------------------------------

_SCHEME_URL_RE = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'`]+", re.I)
_WWW_URL_RE = re.compile(r"\bwww\d{0,3}\.[^\s<>\"'`]+", re.I)

# label(s).tld with an optional path: "example.com", "my-site.co.uk", "instagram.com/jane".
_BARE_DOMAIN_RE = re.compile(
    rf"""
    (?<![@\w.-])
    (?P<host>(?:{_LABEL}\.)+(?P<tld>{_TLD}))
    (?![\w-])
    (?P<path>[/?#][^\s<>"'`]*)?
    """,
    re.I | re.X,
)

# "janesevents dot com", "janesevents(dot)com", "janesevents . com".
_SPELLED_DOMAIN_RE = re.compile(
    rf"""
    (?<![\w.-])
    {_LABEL}(?:(?:{_DOT_SPELLED}|\s+\.\s*|\s*\.\s+){_LABEL}){{0,5}}?
    (?P<dot>{_DOT_SPELLED}|\s+\.\s*|\s*\.\s+)
    (?P<tld>{_STRONG_TLD})
    (?![\w-])
    """,
    re.I | re.X,
)
_SPELLED_OR_SPACED_DOT_RE = re.compile(rf"{_DOT_SPELLED}|\s*\.\s*", re.I)

# Social handles announced as such: "IG: @janes.events", "find us on TikTok @jane".  A bare
# "@jane" is left alone (mentions are normal in chat); a handle next to a network name is a
# contact channel, reported as a link.
_SOCIAL_NETWORK = (
    r"(?:insta(?:gram)?|ig|tik\s?tok|twitter|snap(?:chat)?|telegram|threads|fb|facebook)"
)
# Handle characters are taken greedily (hyphens too: "@jane-doe") and trailing "." / "-" trimmed
# in code, so no tail of a long or hyphenated handle is left readable next to the mask.
_HANDLE = r"(?<![\w.@])@[a-z0-9_][a-z0-9_.-]*"
_SOCIAL_HANDLE_RE = re.compile(
    rf"\b{_SOCIAL_NETWORK}\b[^@\n]{{0,25}}?(?P<handle>{_HANDLE})"
    rf"|(?P<handle_first>{_HANDLE})\s+(?:on|at|via)\s+{_SOCIAL_NETWORK}\b",
    re.I,
)
# "my IG is janes_events", "snap: jane.doe92": a handle without "@" only counts when it
# looks like one (contains "_", "." or a digit), so "my insta is private" stays prose.
_BARE_HANDLE_RE = re.compile(
    rf"\b{_SOCIAL_NETWORK}\b(?:\s+(?:handle|name|account))?\s*(?:is|:|-)\s*"
    r"(?P<handle>[a-z0-9_][a-z0-9_.-]*)(?![\w@])",
    re.I,
)

# Payment handles: "Venmo @jane-doe", "$janedoe on Cash App", "my venmo is jane-doe-7".  How to
# pay someone off the platform is a contact detail: masked and reported as a link, like a
# social handle.  An "@handle" or "$cashtag" counts when a payment app is named close by.
_PAYMENT_APP = r"(?:venmo\w*|zelle\w*|cash\s?app|cash\s?tag|pay\s?pal)"
_PAYMENT_APP_RE = re.compile(rf"\b{_PAYMENT_APP}\b", re.I)
_PAYMENT_HANDLE_RE = re.compile(
    rf"{_HANDLE}|(?<![\w$])\$(?!(?:usd|cad|aud|nzd|hkd|sgd)\b)[a-z][a-z0-9_.-]*", re.I
)
_BARE_PAYMENT_HANDLE_RE = re.compile(
    rf"\b{_PAYMENT_APP}\b(?:\s+(?:handle|name|username|user|account|id|tag))?\s*(?:is|:|-)\s*"
    r"(?P<handle>[a-z0-9_][a-z0-9_.-]*)(?![\w@])",
    re.I,
)
# How far (characters) a handle may sit after / before the payment app's name.
_PAYMENT_HANDLE_AFTER = 60
_PAYMENT_HANDLE_BEFORE = 40

_TRAILING_PUNCTUATION = ".,;:!?)]}'\"*"
_HANDLE_TRAILING = ".-"

# --------------------------------------------------------------------------------------------
# Phone
# --------------------------------------------------------------------------------------------

# A run of digit groups joined by spaces, dots, dashes or parentheses, optionally with a
# leading "+".  Commas, slashes and colons are not joiners, so "$4,500", "12/24/2026" and
# "7:30" never form a run; the look-arounds stop runs starting or ending inside a word, a
# decimal ("1,200.50"), an id ("#1234") or a path.  Whether a run is a phone number is
# decided in code (_looks_like_phone) because it depends on group sizes and context.
_PHONE_RUN_RE = re.compile(
    r"""
    (?<![\w$€£¥#/:.,@+-])
    (?:\+\s?)?
    \(?\d+\)?
    (?:
        (?:[ \t.\-]{1,3}|(?<=\))|(?=\())
        \(?\d+\)?
    )*
    (?![\w%/:@]|[.,]\d)
    """,
    re.X,
)
_DIGITS_RE = re.compile(r"\d+")

# Phone numbers read out as words, possibly mixed with digits: "four one five, five five
# five, zero one three four", "four-one-five 555 0134".
_NUMBER_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
_SPELLED_PHONE_RE = re.compile(
    rf"\b(?:{_NUMBER_WORD}|\d{{1,4}})(?:[\s.,-]+(?:{_NUMBER_WORD}|\d{{1,4}})\b){{2,}}", re.I
)
_NUMBER_WORD_RE = re.compile(rf"\b{_NUMBER_WORD}\b", re.I)
_WORD_DIGITS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_NUMBER_TOKEN_RE = re.compile(r"[a-z]+|\d+", re.I)

# Words shortly before a run that make it a phone number even in an unusual layout
# ("text me 41 55 55 01 34", "call 555-0134").
_CONTACT_CUE_RE = re.compile(
    r"\b(?:call|calls|calling|text|txt|phone|ph|tel|cell|mobile|mob|number|whats\s?app|wa|"
    r"signal|sms|reach|ring|dial|contact|digits|hmu)\b",
    re.I,
)
# Context that makes a run something other than a phone number.
_MONEY_BEFORE_RE = re.compile(r"(?:[$€£¥₹]|\b(?:usd|eur|gbp|cad|aud|inr|rs)\.?)\s*$", re.I)
_ID_BEFORE_RE = re.compile(
    r"\b(?:order|booking|invoice|receipt|ref|reference|confirmation|conf|ticket|"
    r"tracking|id|sku)\s*(?:no\.?|number|num|code|id)?\s*[:#]?\s*(?:is\s*)?$",
    re.I,
)
_MONTH_BEFORE_RE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s*$", re.I
)
_QUANTITY_AFTER_RE = re.compile(
    r"\s*-?\s*(?:[km]\b|dollars?|bucks|usd|eur|euros?|gbp|pounds?|guests?|people|persons?|ppl|"
    r"pax|attendees|heads|seats?|chairs?|tables?|rooms?|sq\.?\s*ft|sqft|square|ft\b|feet|"
    r"meters?|miles?|km\b|%|percent)",
    re.I,
)
# North American layouts that are unambiguous even without a cue word.
_NANP_SHAPES = frozenset({(3, 3, 4), (1, 3, 3, 4), (3, 7)})

# --------------------------------------------------------------------------------------------
# Off-platform payment talk (reported, never masked)
# --------------------------------------------------------------------------------------------

_ON_PLATFORM = (
    r"(?:through|via|on|in|with|using)\s+(?:strathwell|the\s+(?:app|platform|website|site))"
)
_PAYMENT_PATTERNS = [
    r"\bvenmo\w*",
    r"\bzelle\w*",
    r"\bcash\s?app\b",
    # $cashtags; "$4,500" starts with a digit and currency codes are excluded.
    r"(?<![\w$])\$(?!(?:usd|cad|aud|nzd|hkd|sgd)\b)[a-z][a-z0-9_]{1,19}\b",
    r"\bpay\s?pal\b",
    r"\bwire\s+transfers?\b",
    r"\bwir(?:e|ing)\s+(?:(?:me|us|you|them)\s+)?(?:the\s+)?"
    r"(?:money|funds|payment|deposit|balance|cash)\b",
    r"\b(?:bank|direct|e-?)\s?transfers?\b",
    r"\binterac\b",
    r"\bwestern\s+union\b",
    r"\bmoney\s?gram\b",
    r"\bmoney\s+orders?\b",
    # "pay me directly" / "pay the vendor directly", but not "pay directly through Strathwell".
    r"\bpa(?:y|id|ying)\s+(?:(?:me|us|you|him|her|them|the\s+\w+)\s+)?directly\b"
    rf"(?!\s+{_ON_PLATFORM})",
    r"\b(?:outside|off)\s+(?:of\s+)?(?:the\s+)?(?:platform|app|website|strathwell)\b",
    r"\boff-?\s?platform\b",
    r"\bcash\s+only\b",
    r"\bpa(?:y|id|ying)\s+(?:(?:me|us|you)\s+)?(?:in|with)\s+cash\b",
    r"\b(?:pay|paid|payment)\s+(?:by|with|via)\s+(?:check|cheque)\b",
    r"\b(?:mail|send)\s+(?:me\s+|us\s+)?(?:a\s+)?(?:check|cheque)\b",
    r"\b(?:pay|paid|payment|send|accept|take)\b[^.\n]{0,20}\b(?:bitcoin|btc|crypto|usdt)\b",
    # The classic lure: cut the platform out to save its fee.
    r"\b(?:avoid|skip|dodge|bypass|get\s+around|save\s+on|save)\s+"
    r"(?:(?:the|their|your|our|strathwell'?s?|platform|service|booking|app)\s+)*"
    r"(?:fees?|commission)\b",
]
_PAYMENT_RE = re.compile("|".join(f"(?:{p})" for p in _PAYMENT_PATTERNS), re.I)

# Invisible characters people insert to break up addresses ("jane\u200b@gmail.com").
_ZERO_WIDTH_RE = re.compile("[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff]")

# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def screen_text(text: str) -> ScreeningResult:
    """Screen free text for off-platform contact details and payment talk."""
    text = _normalise(text or "").strip()
    if not text:
        return ScreeningResult(action=ALLOW, signals=[], excerpt="")

    spans = _resolve_overlaps(
        [
            *_email_spans(text),
            *_url_spans(text),
            *_phone_spans(text),
        ]
    )
    signals = {span.signal for span in spans}
    if _PAYMENT_RE.search(text):
        signals.add(OFF_PLATFORM_PAYMENT)

    if signals & CONTACT_SIGNALS:
        action = BLOCK
    elif signals:
        action = WARN
    else:
        action = ALLOW
    return ScreeningResult(action=action, signals=sorted(signals), excerpt=_excerpt(text, spans))


# --------------------------------------------------------------------------------------------
# Detectors: each returns candidate spans; overlaps are resolved afterwards.
# --------------------------------------------------------------------------------------------


def _normalise(text: str) -> str:
    return _ZERO_WIDTH_RE.sub("", unicodedata.normalize("NFKC", text))


def _email_spans(text: str) -> list[_Span]:
    spans = [
        _Span(m.start(), m.end(), EMAIL)
        for m in _EMAIL_RE.finditer(text)
        if not _is_platform_host(m.group().rpartition("@")[2])
    ]
    for m in _OBFUSCATED_EMAIL_RE.finditer(text):
        if _accept_obfuscated_email(m):
            spans.append(_Span(m.start(), m.end(), EMAIL))
    return spans


def _accept_obfuscated_email(m: re.Match[str]) -> bool:
    at = m.group("at").strip().lower()
    domain = m.group("domain")
    first_label = _FIRST_LABEL_RE.match(domain).group().lower()
    has_tld = first_label != domain.lower()
    if has_tld and _is_platform_host(_DOT_ANY_RE.sub(".", domain)):
        return False
    if at == "at":
        # A plain word "at" is everywhere in prose, so demand more evidence: a well-known
        # provider ("jane at gmail") or a spelled-out dot ("jane at site dot com").  "look at
        # example.com" is left to the link detector.
        spelled_dot = _DOT_SPELLED_RE.search(domain) is not None
        return first_label in _UNAMBIGUOUS_PROVIDERS or (has_tld and spelled_dot)
    raw_at = m.group("at")
    if at == "@" and raw_at[0].isspace() and not raw_at[-1].isspace():
        # "follow @janes.events" is a mention/handle, not "jane @ gmail.com".
        return first_label in _MAIL_PROVIDERS
    if has_tld or at != "@":
        # "@" with a TLD, or a bracketed "(at)" which nobody writes by accident.
        return True
    # "name@gmail" without a TLD; "dinner@the rooftop" is not an address.
    return first_label in _MAIL_PROVIDERS


def _url_spans(text: str) -> list[_Span]:
    spans = []
    for regex in (_SCHEME_URL_RE, _WWW_URL_RE):
        for m in regex.finditer(text):
            start, end = m.start(), _strip_trailing_punctuation(text, m.start(), m.end())
            candidate = text[start:end]
            if "://" not in candidate:
                candidate = "http://" + candidate
            if not _is_platform_host(_hostname(candidate)):
                spans.append(_Span(start, end, URL))

    for m in _BARE_DOMAIN_RE.finditer(text):
        tld = m.group("tld")
        # "fun.Party" / "there.Me" is a missing space after a full stop, not a link.
        if tld[0].isupper() and not tld.isupper():
            continue
        if _is_platform_host(m.group("host")):
            continue
        spans.append(_Span(m.start(), _strip_trailing_punctuation(text, m.start(), m.end()), URL))

    for m in _SPELLED_DOMAIN_RE.finditer(text):
        # A spaced real dot ("venue. Net proceeds") needs a lowercase TLD to count.
        if "dot" not in m.group("dot").lower() and not m.group("tld").islower():
            continue
        if _is_platform_host(_SPELLED_OR_SPACED_DOT_RE.sub(".", m.group())):
            continue
        spans.append(_Span(m.start(), m.end(), URL))

    for m in _SOCIAL_HANDLE_RE.finditer(text):
        group = "handle" if m.group("handle") else "handle_first"
        spans.append(_handle_span(text, m.start(group), m.end(group)))
    for regex in (_BARE_HANDLE_RE, _BARE_PAYMENT_HANDLE_RE):
        for m in regex.finditer(text):
            span = _handle_span(text, m.start("handle"), m.end("handle"))
            handle = text[span.start : span.end]
            # Looks like a handle, not a word ("my insta is private") or a number ("PayPal - 3%").
            looks_like_one = any(c in "_.-" or c.isdigit() for c in handle)
            if looks_like_one and len(handle) >= 3 and any(c.isalpha() for c in handle):
                spans.append(span)
    spans.extend(_payment_handle_spans(text))
    return spans


def _handle_span(text: str, start: int, end: int) -> _Span:
    while end > start + 1 and text[end - 1] in _HANDLE_TRAILING:
        end -= 1
    return _Span(start, end, URL)


def _payment_handle_spans(text: str) -> list[_Span]:
    """Every @handle / $cashtag near the name of a payment app ("Venmo @jane-doe")."""
    apps = [m.span() for m in _PAYMENT_APP_RE.finditer(text)]
    if not apps:
        return []
    spans = []
    for m in _PAYMENT_HANDLE_RE.finditer(text):
        span = _handle_span(text, m.start(), m.end())
        if any(
            app_end <= span.start <= app_end + _PAYMENT_HANDLE_AFTER
            or app_start - _PAYMENT_HANDLE_BEFORE <= span.end <= app_start
            for app_start, app_end in apps
        ):
            spans.append(span)
    return spans


def _phone_spans(text: str) -> list[_Span]:
    spans = []
    for m in _PHONE_RUN_RE.finditer(text):
        span = _phone_in_run(text, m.start(), m.end())
        if span is not None:
            spans.append(span)
    for m in _SPELLED_PHONE_RE.finditer(text):
        chunk = m.group()
        tokens = _NUMBER_TOKEN_RE.findall(chunk)
        words = len(_NUMBER_WORD_RE.findall(chunk))
        digits = _spelled_digits(chunk)
        # At least a few words (pure digit runs are handled above), and either a long
        # dictation or a cue word: "three, two, one, 2027!" is a countdown, not a number.
        cue = _CONTACT_CUE_RE.search(text[max(0, m.start() - 40) : m.start()]) is not None
        long_enough = len(tokens) >= 7 or cue
        if words >= 3 and 7 <= len(digits) <= 15 and long_enough and not _is_counting(digits):
            spans.append(_Span(m.start(), m.end(), PHONE))
    return spans


def _phone_in_run(text: str, start: int, end: int) -> _Span | None:
    if _looks_like_phone(text, start, end):
        return _Span(start, end, PHONE)
    # The run may have swallowed a neighbouring number ("2026 415 555 0134"); look for an
    # unambiguous North American number inside it, longest first.
    groups = list(_DIGITS_RE.finditer(text, start, end))
    for size in (4, 3):
        for i in range(len(groups) - size + 1):
            window = groups[i : i + size]
            shape = tuple(len(g.group()) for g in window)
            if shape not in _NANP_SHAPES:
                continue
            sub_start, sub_end = window[0].start(), window[-1].end()
            if sub_start > start and text[sub_start - 1] == "(":
                sub_start -= 1
            if sub_end < end and text[sub_end] == ")":
                sub_end += 1
            if _looks_like_phone(text, sub_start, sub_end):
                return _Span(sub_start, sub_end, PHONE)
    return None


def _looks_like_phone(text: str, start: int, end: int) -> bool:
    run = text[start:end]
    groups = _DIGITS_RE.findall(run)
    sizes = tuple(len(g) for g in groups)
    digits = "".join(groups)
    before = text[max(0, start - 40) : start]
    after = text[end : end + 30]

    # An explicit international prefix is as strong as it gets.
    if run.startswith("+"):
        return 8 <= len(digits) <= 15
    if digits.startswith("00") and not run.startswith("("):
        return 10 <= len(digits) <= 17

    if not 7 <= len(digits) <= 15:
        return False
    if _MONEY_BEFORE_RE.search(before) or _QUANTITY_AFTER_RE.match(after):
        return False  # "$1250000", "800-1200 guests", "2500 sq ft"
    if _ID_BEFORE_RE.search(before) or _MONTH_BEFORE_RE.search(before):
        return False  # "booking 12345678", "Dec 24 2026 ..."
    if _is_date_or_years(groups):
        return False

    if _CONTACT_CUE_RE.search(before):
        return True  # "text me at 555-0134", "call 41 55 55 01 34"
    if sizes in _NANP_SHAPES:
        return True
    if len(groups) == 1:
        # Seven bare digits are too often an amount; eight or more are a number.
        return len(digits) >= 8
    if all(size == 1 for size in sizes):
        # "4 1 5 5 5 5 0 1 3 4", but not "tables 1 2 3 4 5 6 7".
        return len(sizes) >= 7 and not _is_counting(digits)
    if digits.startswith("0") and all(size >= 2 for size in sizes) and 9 <= len(digits) <= 12:
        return True  # trunk prefix: "020 7946 0958", "06 12 34 56 78"
    # Other multi-group layouts ("20-7946-0958") only with real punctuation between groups;
    # space-only runs are how unrelated numbers end up next to each other in prose.
    separators = _DIGITS_RE.split(run)[1:-1]
    punctuated = all(sep.strip(" \t") for sep in separators)
    return punctuated and len(groups) >= 3 and all(2 <= size <= 5 for size in sizes)


def _spelled_digits(chunk: str) -> str:
    tokens = _NUMBER_TOKEN_RE.findall(chunk)
    return "".join(_WORD_DIGITS.get(token.lower(), token) for token in tokens)


def _is_counting(digits: str) -> bool:
    """True for "1234567" / "7654321": someone counting, not dictating a number."""
    steps = {int(b) - int(a) for a, b in pairwise(digits)}
    return steps in ({1}, {-1})


def _is_date_or_years(groups: list[str]) -> bool:
    sizes = tuple(len(g) for g in groups)
    if len(groups) == 1 and len(groups[0]) == 8:
        # 20261224
        year, month, day = int(groups[0][:4]), int(groups[0][4:6]), int(groups[0][6:])
        return 1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31
    if len(groups) == 3:
        if sizes[0] == 4 and sizes[1] <= 2 and sizes[2] <= 2:
            return True  # 2026-12-24
        if sizes[0] <= 2 and sizes[1] <= 2 and sizes[2] in (2, 4):
            return True  # 12-24-2026, 24.12.2026
    # "2024-2025-2026", "2025 2026"
    return all(len(g) == 4 and 1900 <= int(g) <= 2099 for g in groups)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _strip_trailing_punctuation(text: str, start: int, end: int) -> int:
    # Sentence punctuation after a link belongs to the sentence: "see site.com/menu."
    while end > start and text[end - 1] in _TRAILING_PUNCTUATION:
        end -= 1
    return end


def _hostname(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _is_platform_host(host: str) -> bool:
    host = host.strip().lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in PLATFORM_DOMAINS)


def _resolve_overlaps(spans: list[_Span]) -> list[_Span]:
    """Drop spans contained in another span; keep partial overlaps (they are merged later).

    A domain inside an address ("jane @ site.com") or digits inside a link are part of the
    bigger finding and must not add a second signal.
    """
    kept: list[_Span] = []
    furthest = -1
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if span.end <= furthest:
            continue
        kept.append(span)
        furthest = span.end
    return kept


def _excerpt(text: str, spans: list[_Span]) -> str:
    """Mask every span, then trim; overlapping spans collapse into one mask token."""
    pieces: list[str] = []
    tokens: list[tuple[int, int]] = []  # (start, end) of mask tokens within the output
    length = 0
    cursor = 0
    for span in spans:  # sorted by start
        if span.end <= cursor:
            continue
        if span.start >= cursor:
            pieces.append(text[cursor : span.start])
            length += span.start - cursor
            token = MASKS[span.signal]
            pieces.append(token)
            tokens.append((length, length + len(token)))
            length += len(token)
        # A partial overlap extends the previous mask instead of opening a new one.
        cursor = span.end
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
