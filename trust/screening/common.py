"""Pieces the detectors share: the finding type, the signal names, separators and domains."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import tldextract

from trust.screening import vocabulary as v

EMAIL = "email"
PHONE = "phone"
URL = "url"
PAYMENT_ACCOUNT = "payment_account"
OFF_PLATFORM_PAYMENT = "off_platform_payment"
OFF_PLATFORM_CONTACT = "off_platform_contact"

# Findings with these signals are contact or payment details: masked, and the text blocked.
DETAIL_SIGNALS = frozenset({EMAIL, PHONE, URL, PAYMENT_ACCOUNT})


@dataclass(frozen=True)
class Finding:
    """A span of the folded text and why it was flagged (``reason`` never quotes the text)."""

    start: int
    end: int
    signal: str
    reason: str


# --------------------------------------------------------------------------------------------
# Separators of addresses and domains, in the folded text
# --------------------------------------------------------------------------------------------

AT_WORD = v.words_pattern(v.AT_WORDS, boundary=False)
DOT_WORD = v.words_pattern(v.DOT_WORDS, boundary=False)
_OPEN, _CLOSE = r"[(\[{<]", r"[)\]}>]"

# A dot as written between labels: tight ".", defanged "[.]" / "(dot)", spelled " dot " /
# " punto ", spaced " . ". Every repetition is bounded.
DOT_DEFANGED = rf"[ \t]{{0,3}}{_OPEN}[ \t]{{0,3}}(?:\.|{DOT_WORD})[ \t]{{0,3}}{_CLOSE}[ \t]{{0,3}}"
DOT_SPELLED = rf"[ \t]{{1,3}}{DOT_WORD}[ \t]{{1,3}}|[-_]{DOT_WORD}[-_]"
DOT_SPACED = r"[ \t]{1,3}\.[ \t]{0,3}|\.[ \t]{1,3}"
DOT_ANY = rf"(?:{DOT_DEFANGED}|{DOT_SPELLED}|{DOT_SPACED}|\.)"

# Atomic (Python 3.11+): a label is read once, never re-tried shorter, which keeps the domain
# patterns linear; a trailing hyphen is refused by the look-behind.
LABEL = r"(?>[a-z0-9][a-z0-9-]{0,62})(?<!-)"

_DOT_SPLIT_RE = re.compile(DOT_ANY, re.I)
_LABEL_RE = re.compile(LABEL, re.I)


def split_domain(text: str) -> tuple[list[tuple[int, int]], list[str]]:
    """Label spans of a domain as written, and the kind of each separator between them."""
    labels: list[tuple[int, int]] = []
    kinds: list[str] = []
    pos = 0
    while True:
        m = _LABEL_RE.match(text, pos)
        if not m:
            break
        labels.append(m.span())
        sep = _DOT_SPLIT_RE.match(text, m.end())
        if not sep:
            break
        kinds.append(dot_kind(sep.group()))
        pos = sep.end()
    return labels, kinds[: max(0, len(labels) - 1)]


def dot_kind(sep: str) -> str:
    if sep == ".":
        return "tight"
    if any(c in "([{<" for c in sep):
        return "defanged"
    if any(c.isalpha() for c in sep):
        return "spelled"
    return "spaced"


# --------------------------------------------------------------------------------------------
# Domains
# --------------------------------------------------------------------------------------------

# The public-suffix snapshot bundled with tldextract: no network, no cache written anywhere.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
_PLATFORM = frozenset(d.lower() for d in v.PLATFORM_DOMAINS)
_CONTACT_HOSTS = frozenset(h.lower() for h in v.CONTACT_LINK_HOSTS)


@lru_cache(maxsize=4096)
def registered(host: str) -> tuple[str, str]:
    """(registrable label, public suffix) of ``host``, or ("", "") when it has no real suffix."""
    host = host.lower().strip(".")
    if not host or len(host) > 253:
        return "", ""
    result = _EXTRACT(host)
    if not result.suffix or not result.domain:
        return "", ""
    return result.domain, result.suffix


def is_platform_host(host: str) -> bool:
    host = host.lower().strip().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in _PLATFORM)


def is_contact_host(host: str) -> bool:
    host = host.lower().strip().rstrip(".")
    return host in _CONTACT_HOSTS or any(host.endswith("." + d) for d in _CONTACT_HOSTS)


def warm_up() -> None:
    """Load the suffix list now rather than on the first screened message."""
    registered("example.com")


# --------------------------------------------------------------------------------------------
# Context
# --------------------------------------------------------------------------------------------


def last_match_end(regex: re.Pattern[str], text: str) -> int:
    """End of the last match of ``regex`` in a short window (-1 if none)."""
    end = -1
    for m in regex.finditer(text):
        end = m.end()
    return end
