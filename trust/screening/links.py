"""Links: URLs with a scheme or "www", and bare domains ("janesevents.studio",
"janesevents[.]com", "janesevents dot com"), checked against the public-suffix list bundled
with ``tldextract`` (no network)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from trust.screening import vocabulary as v
from trust.screening.common import (
    DOT_DEFANGED,
    DOT_SPACED,
    DOT_SPELLED,
    LABEL,
    URL,
    Finding,
    is_contact_host,
    is_platform_host,
    registered,
    split_domain,
)
from trust.screening.normalise import Folded

_SPOKEN = frozenset(v.SPOKEN_TLDS)
_SPOKEN_TLD = v.words_pattern(v.SPOKEN_TLDS)
_SHORT_WORD_TLDS = v.SHORT_WORD_TLDS
_WORD_TLDS = v.WORD_TLDS

_SCHEME_URL_RE = re.compile(
    r"(?<![a-z0-9])(?:h[tx]{2}ps?|ftp)[ \t]{0,2}(?::|\[:\])[ \t]{0,2}//[^\s<>\"'`]{1,2000}", re.I
)
_WWW_URL_RE = re.compile(
    rf"(?<![a-z0-9.])www\d{{0,3}}(?:{DOT_DEFANGED}|\.)[^\s<>\"'`]{{1,2000}}", re.I
)
# A spelled or spaced dot counts only before a TLD that people say out loud ("janesevents dot
# com"); "polka dot me", "el punto es" and "point de vue" stay prose.
_BARE_DOT = rf"(?:{DOT_DEFANGED}|(?:{DOT_SPELLED}|{DOT_SPACED})(?={_SPOKEN_TLD})|\.)"
_BARE_DOMAIN_RE = re.compile(
    rf"(?<![a-z0-9@._-])(?P<host>{LABEL}(?:{_BARE_DOT}{LABEL}){{1,5}})"
    rf"(?P<path>[/?#][^\s<>\"'`]{{0,300}})?",
    re.I,
)
_SENTENCE_END_RE = re.compile(r"[.!?\n]\s")
_TLD_SHAPE_RE = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}", re.I)
_TRAILING_PUNCTUATION = ".,;:!?)]}'\"*"


def find(folded: Folded) -> list[Finding]:
    text = folded.text
    findings = []
    for regex in (_SCHEME_URL_RE, _WWW_URL_RE):
        for m in regex.finditer(text):
            end = _strip_trailing(text, m.start(), m.end())
            candidate = re.sub(r"[\[\]() \t]", "", text[m.start() : end])
            candidate = re.sub(r"(?i)^hxxp", "http", candidate)
            if "://" not in candidate:
                candidate = "http://" + candidate
            if not is_platform_host(_hostname(candidate)):
                findings.append(Finding(m.start(), end, URL, "link"))
    # The verdict depends on the candidate and the 40 characters before it (cue words):
    # repeated lines are read once.
    seen: dict[tuple[str, str], tuple[int, int, str] | None] = {}
    for m in _BARE_DOMAIN_RE.finditer(text):
        key = (m.group(), text[max(0, m.start() - 60) : m.start()])
        if key not in seen:
            found = _bare_domain(folded, m)
            seen[key] = found and (found.start - m.start(), found.end - m.start(), found.reason)
        if seen[key] is not None:
            start, end, reason = seen[key]
            findings.append(Finding(m.start() + start, m.start() + end, URL, reason))
    return findings


def _bare_domain(folded: Folded, m: re.Match[str]) -> Finding | None:
    text = folded.text
    written = m.group("host")
    labels, kinds = split_domain(written)
    names = [written[s:e] for s, e in labels]
    base = m.start("host")
    # A candidate may start early ("the venue.Check janesevents.com"): try later starts too,
    # longest host first from each start.
    for first in range(len(names) - 1):
        for last in range(len(names) - 1, first, -1):
            if not _TLD_SHAPE_RE.fullmatch(names[last]):
                continue  # "24.12.2026", "18.30": a TLD is letters (or punycode)
            host_names = names[first : last + 1]
            seps = kinds[first:last]
            has_path = last == len(names) - 1 and bool(m.group("path"))
            start = base + labels[first][0]
            end = base + labels[last][1]
            if has_path:
                end = _strip_trailing(text, m.start(), m.end())
            reason = _accept(folded, start, host_names, seps, has_path)
            if reason is not None:
                return Finding(start, end, URL, reason)
            if is_platform_host(".".join(host_names)):
                return None
    return None


def _accept(folded: Folded, start, host_names, seps, has_path) -> str | None:
    host = ".".join(host_names).lower()
    label, suffix = registered(host)
    if not suffix or is_platform_host(host):
        return None
    if is_contact_host(host):
        return "link: contact or payment page"
    if any(k == "defanged" for k in seps):
        return "link: defanged domain"
    if any(k in ("spelled", "spaced") for k in seps):
        return "link: spelled-out domain" if suffix in _SPOKEN else None

    tld_written = host_names[-1]
    # "fun.Party" / "it.Me" is a missing space after a full stop; "Co.KG" is a company form.
    if tld_written[:1].isupper() and not "".join(host_names).isupper():
        return None
    if len(host_names) == 2 and len(host_names[0]) == 1:
        return None  # "a.m", "e.g"-style abbreviations
    evidence = (
        has_path
        or len(host_names) > 2 + suffix.count(".")
        or any(c.isdigit() or c == "-" for c in label)
        or _cued(folded, start)
    )
    if suffix in _SHORT_WORD_TLDS:
        # "late.so" is a missing space; "janesevents.me" is too long a word to be one.
        return "link: bare domain" if evidence or len(label) >= 10 else None
    if suffix in _WORD_TLDS and len(label) < 6:
        return "link: bare domain" if evidence else None
    return "link: bare domain"


def _cued(folded: Folded, start: int) -> bool:
    """A link word shortly before, in the same sentence: "visit", "our site", "google"."""
    cue = folded.phrases.last_ending_in("link_cue", start - 40, start)
    return cue is not None and not _SENTENCE_END_RE.search(folded.text, cue[1], start)


def _strip_trailing(text: str, start: int, end: int) -> int:
    # Sentence punctuation after a link belongs to the sentence: "see site.com/menu."
    while end > start and text[end - 1] in _TRAILING_PUNCTUATION:
        end -= 1
    return end


def _hostname(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""
