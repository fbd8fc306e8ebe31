"""Email addresses, plain and disguised.

Every "@"-like separator ("@", "(at)", " at ", " arroba ", " chiocciola ", ...) is examined on
its own: the local part is read backwards from it and the domain forwards, each with a bounded
pattern. A separator that turns out not to be an address ("meet at noon") therefore never hides
a real one later in the sentence, and the work per separator is bounded, so the whole pass is
linear in the text's length.
"""

from __future__ import annotations

import re

from trust.screening import vocabulary as v
from trust.screening.common import (
    AT_WORD,
    DOT_ANY,
    EMAIL,
    LABEL,
    Finding,
    is_platform_host,
    registered,
    split_domain,
)
from trust.screening.normalise import Folded

_PROVIDERS = frozenset(v.MAIL_PROVIDERS)
_UNAMBIGUOUS = frozenset(v.UNAMBIGUOUS_MAIL_PROVIDERS)
_FOREIGN_AT = frozenset(w for w in v.AT_WORDS if w != "at")
_SPOKEN = frozenset(v.SPOKEN_TLDS)

_AT_RE = re.compile(
    rf"""
      (?P<sym>[ \t]{{0,3}}@[ \t]{{0,3}})
    | (?P<bracket>[ \t]{{0,3}}[(\[{{<][ \t]{{0,3}}(?:@|{AT_WORD})[ \t]{{0,3}}[)\]}}>][ \t]{{0,3}})
    | (?P<word>(?:[ \t]{{1,3}}|[-_])(?P<atword>{AT_WORD})(?:[ \t]{{1,3}}|[-_]))
    """,
    re.I | re.X,
)

# The domain after the separator: up to six labels; a provider may be followed by a bare TLD
# after a space ("gmail com").
_DOMAIN_RE = re.compile(
    rf"{LABEL}(?:{DOT_ANY}{LABEL}){{0,5}}(?P<bare_tld>[ \t]{{1,2}}(?:com|net|org)(?![a-z0-9]))?",
    re.I,
)

# The local part, matched on the reversed text just before the separator: words joined by
# tight dots, "_", "-", "+", or spelled/defanged dots ("jane dot doe").
_REVERSED_DOT_WORD = "|".join(re.escape(w[::-1]) for w in v.DOT_WORDS)
_REVERSED_LOCAL_RE = re.compile(
    rf"""
    [a-z0-9_%+'-]{{0,63}}[a-z0-9]
    (?:
        (?:\.
          |[ \t]{{1,3}}(?:{_REVERSED_DOT_WORD})[ \t]{{1,3}}
          |[ \t]{{0,3}}[)\]}}>][ \t]{{0,3}}(?:\.|{_REVERSED_DOT_WORD})
           [ \t]{{0,3}}[(\[{{<][ \t]{{0,3}}
        )
        [a-z0-9_%+'-]{{0,63}}[a-z0-9]
    ){{0,4}}
    """,
    re.I | re.X,
)
_LOCAL_WINDOW = 160
_FIRST_LABEL_RE = re.compile(LABEL, re.I)
_DOT_RE = re.compile(r"(?<![a-z])dot(?![a-z])", re.I)


def find(folded: Folded) -> list[Finding]:
    text = folded.text
    findings = []
    # The verdict depends only on the text around the separator: repeated lines read once.
    seen: dict[tuple[str, int, str], tuple[int, int, str] | None] = {}
    for at in _AT_RE.finditer(text):
        lo = max(0, at.start() - _LOCAL_WINDOW - 1)
        key = (text[lo : at.end() + 520], at.start() - lo, at.group())
        if key not in seen:
            found = _address_around(text, at)
            seen[key] = found and (found.start - lo, found.end - lo, found.reason)
        if seen[key] is not None:
            start, end, reason = seen[key]
            findings.append(Finding(lo + start, lo + end, EMAIL, reason))
    return findings


def _address_around(text: str, at: re.Match[str]) -> Finding | None:
    # The domain first: it is the cheap, selective half ("at noon", "at the venue" end here).
    domain = _DOMAIN_RE.match(text, at.end())
    if not domain:
        return None
    first_label = _FIRST_LABEL_RE.match(domain.group())
    if (
        at.group("word") is not None
        and first_label.group().lower() not in _PROVIDERS
        and len(first_label.group()) == len(domain.group())
    ):
        return None  # a plain "at" followed by one word that is not a mail provider
    window = text[max(0, at.start() - _LOCAL_WINDOW) : at.start()]
    local = _REVERSED_LOCAL_RE.match(window[::-1])
    if not local:
        return None
    local_text = local.group()[::-1]
    local_start = at.start() - len(local_text)
    if local_start > 0 and (text[local_start - 1].isalnum() or text[local_start - 1] in "@"):
        return None  # the local part runs on into a longer word or another address
    accepted = _accept(text, at, local_text, domain)
    if accepted is None:
        return None
    end, reason = accepted
    return Finding(local_start, end, EMAIL, reason)


def _accept(text: str, at: re.Match[str], local: str, domain: re.Match[str]):
    """(end of the address, reason) when the separator joins a real-looking address."""
    written = domain.group()
    labels, kinds = split_domain(written)
    if not labels:
        return None
    names = [written[s:e].lower() for s, e in labels]
    provider = names[0] in _PROVIDERS
    local_plain = local.isalpha()
    local_disguised = local != local.replace(" ", "") or any(c in local for c in "([{<")

    # Longest well-formed domain first: "gmail.com.Thanks" → "gmail.com".
    for count in range(len(names), 0, -1):
        host_names = names[:count]
        seps = kinds[: count - 1]
        label_end = domain.start() + labels[count - 1][1]
        if count == len(names) and domain.group("bare_tld"):
            label_end = domain.end()
        host = ".".join(host_names)
        has_suffix = count > 1 and registered(host) != ("", "")
        if has_suffix and is_platform_host(host):
            return None
        disguised_dot = any(k != "tight" for k in seps)
        if count == 1 and host_names[0] not in _PROVIDERS:
            continue
        if not has_suffix and not provider:
            continue

        if at.group("sym") is not None:
            raw = at.group("sym")
            if raw[0] in " \t" and raw[-1] not in " \t" and not provider:
                return None  # "follow @janes.events": a mention, left to the handle detector
            return label_end, "email address" if not disguised_dot else "email: disguised dot"
        if at.group("bracket") is not None:
            return label_end, "email: bracketed separator"
        word = at.group("atword").lower()
        if word in _FOREIGN_AT:
            return label_end, "email: spelled-out separator"
        # The plain word "at" is everywhere in prose, so it takes more evidence: a well-known
        # provider ("jane at gmail"), an obviously disguised dot ("jane at site dot com"), or
        # a username-like local part ("jane.doe at company.org").
        if host_names[0] in _UNAMBIGUOUS:
            return label_end, "email: spelled-out separator"
        suffix = registered(host)[1] if has_suffix else ""
        last = seps[-1] if seps else "tight"
        if has_suffix and last == "defanged":
            return label_end, "email: spelled-out separator"
        # "dot" is only ever a dot; "punto es" / "point de" are also everyday phrases.
        english_dot = _DOT_RE.search(written) is not None
        if (
            has_suffix
            and last in ("spelled", "spaced")
            and (suffix in _SPOKEN or english_dot or not local_plain or local_disguised)
        ):
            return label_end, "email: spelled-out separator"
        if has_suffix and not disguised_dot and (not local_plain or local_disguised):
            return label_end, "email: spelled-out separator"
    return None
