"""Handles on messaging, social and payment apps ("WhatsApp: jane_88", "@janes.events on
Insta", "Venmo @jane-doe", "$janedoe on Cash App", "Discord jane#1234"), reported as ``url``
like any other contact channel, and invitations to move the conversation to such an app
("add me on Telegram"), reported as ``off_platform_contact``.

Work is anchored on each app name and bounded to a short window around it, so the pass is
linear however many names a message repeats.
"""

from __future__ import annotations

import re

from trust.screening import vocabulary as v
from trust.screening.common import OFF_PLATFORM_CONTACT, URL, Finding
from trust.screening.normalise import Folded

_LABEL_RE = re.compile(
    r"(?:'s|s)?[ \t]{0,3}(?:(?:me|us)\b[ \t]{0,3})?"
    r"(?:" + v.words_pattern(v.HANDLE_LABELS) + r")?[ \t]{0,3}"
    r"(?:is|es|est|ist|e|:|-|=|->|=>|at|on|en|sur|auf|su|no|em|@(?=[ \t]))?[ \t]{0,3}:?[ \t]{0,3}",
    re.I,
)
_EXPLICIT_LABEL_RE = re.compile(v.words_pattern(v.HANDLE_LABELS) + r"|:", re.I)

# "@jane", "$janedoe", "jane#1234", "live:jane.doe", "wxid_abc", or a bare token.
_TOKEN_RE = re.compile(
    r"(?P<token>live:[a-z0-9_.\-]{1,40}"
    r"|(?P<sigil>[@$])?[a-z0-9_](?:[a-z0-9_.\-]{0,40}[a-z0-9_])?(?:#\d{4})?)",
    re.I,
)
_SIGIL_TOKEN_RE = re.compile(
    r"(?<![\w@$.])(?:@|\$(?!(?:usd|cad|aud|nzd|hkd|sgd|mxn)\b))"
    r"[a-z0-9_](?:[a-z0-9_.\-]{0,40}[a-z0-9_])?",
    re.I,
)
# "janes_events on Insta": matched on the reversed text just before the app's name.
_CONNECTORS_REVERSED = "|".join(
    w[::-1] for w in ("on", "at", "via", "in", "en", "sur", "auf", "bei", "su", "no", "na", "em",
                      "por", "par", "per")
)  # fmt: skip
_BEFORE_APP_REVERSED_RE = re.compile(
    rf"[ \t]{{1,3}}(?:ym[ \t]{{1,3}})?(?:{_CONNECTORS_REVERSED})[ \t]{{1,3}}"
    r"(?P<token>[a-z0-9_](?:[a-z0-9_.\-]{0,40}[a-z0-9_])?[@$]?)(?![\w@$.])",
    re.I,
)
# What may stand between an invitation and the app: "add me on my WhatsApp", "move to
# Telegram", "escríbeme por Signal"; "text me if the signal is bad" is not one.
_INVITE_GAP_RE = re.compile(
    r"[ \t]{0,3}(?:(?:me|us|moi|mich|mi)[ \t]{1,3})?"
    r"(?:(?:on|via|over|in|at|to|through|using|en|por|sur|auf|su|no|na|pelo|pela|per|par|"
    r"em|sobre|a)[ \t]{1,3})?(?:(?:my|mi|mon|ma|mein|meine|meu|o|the|el|le|il)[ \t]{1,3})?",
    re.I,
)
_SENTENCE_END_RE = re.compile(r"[.!?\n]")
# The rest of the clause after an app's name (bounded), and the tokens in it.
_CLAUSE_RE = re.compile(r"(?:[^.!?;\n]|\.(?=\S)){0,50}")
_WORD_TOKEN_RE = re.compile(r"(?<![\w@$.])[a-z0-9_][a-z0-9_.\-]{2,40}(?:#\d{4})?(?![\w@])", re.I)
_STRONG_SHAPE_RE = re.compile(r"[a-z]{2,}\.[a-z0-9]{2,}|[a-z]{2,}\d{2,}|\d{2,}[a-z]{3,}")

_AFTER = 60
_BEFORE = 40


def find(folded: Folded) -> list[Finding]:
    text, index = folded.text, folded.phrases
    findings: list[Finding] = []
    apps = [(span, "messaging") for span in index.spans("messaging_app")]
    apps += [(span, "payment") for span in index.spans("payment_app")]
    # What is read after/before an app's name depends only on the next/previous 100/40
    # characters: a message repeating the same line reads it once.
    seen: dict[tuple, list[tuple[int, int, str]]] = {}
    for (start, end), kind in apps:
        for key, anchor, read in (
            (("after", kind, text[end : end + 100]), end, _handle_after),
            (("before", kind, text[max(0, start - _BEFORE) : start]), start, _handle_before),
        ):
            if key not in seen:
                seen[key] = [
                    (f.start - anchor, f.end - anchor, f.reason) for f in read(text, anchor, kind)
                ]
            findings.extend(Finding(anchor + a, anchor + b, URL, r) for a, b, r in seen[key])
        if kind == "messaging" and _is_invitation(text, index, start):
            findings.append(Finding(start, end, OFF_PLATFORM_CONTACT, "invite to another app"))
    # Any "@handle" / "$cashtag" close to an app's name, or after "DM me", "follow us".
    for m in _SIGIL_TOKEN_RE.finditer(text):
        sigil, lo, hi = m.group()[0], m.start() - _AFTER, m.end() + _BEFORE
        if sigil == "$" and m.group()[1:2].isdigit():
            continue
        if index.any_within("payment_app", lo, hi):
            findings.append(_finding(text, m.start(), m.end(), "handle on a payment app"))
        elif sigil == "@" and index.any_within("messaging_app", lo, hi):
            findings.append(_finding(text, m.start(), m.end(), "handle on a messaging app"))
        elif sigil == "@":
            cue = index.last_ending_in("handle_cue", m.start() - 30, m.start())
            if cue and not _SENTENCE_END_RE.search(text, cue[1], m.start()):
                findings.append(_finding(text, m.start(), m.end(), "handle: follow me"))
    return findings


def _handle_after(text: str, app_end: int, kind: str) -> list[Finding]:
    """ "WhatsApp: jane_88", "my venmo is jane-doe-7", "Telegram @janedoe"; or further on in
    the same clause, a token nobody writes except as a handle ("on discord as dj.nova_")."""
    reason = f"handle on a {kind} app"
    label = _LABEL_RE.match(text, app_end)
    token = _TOKEN_RE.match(text, label.end())
    if token and _looks_like_handle(token.group("token"), text[app_end : label.end()]):
        return [_finding(text, token.start(), token.end(), reason)]
    clause = _CLAUSE_RE.match(text, app_end)
    for m in _WORD_TOKEN_RE.finditer(text, app_end, clause.end()):
        if _strong_handle(m.group()):
            return [_finding(text, m.start(), m.end(), reason)]
    return []


def _strong_handle(token: str) -> bool:
    """A token that is a username whatever precedes it: "lina_events88", "dj.nova", "kev99"."""
    bare = token.lower().strip("._-")
    if len(bare) < 4 or sum(c.isalpha() for c in bare) < 3 or bare in v.NOT_HANDLES:
        return False
    if re.search(r"#\d{4}$", bare):
        return True  # Discord's name#1234
    return "_" in bare or _STRONG_SHAPE_RE.search(bare) is not None


def _handle_before(text: str, app_start: int, kind: str) -> list[Finding]:
    """ "janes_events on Insta", "jane.doe-7 en Bizum"."""
    lo = max(0, app_start - _BEFORE)
    before = _BEFORE_APP_REVERSED_RE.match(text[lo:app_start][::-1])
    if before:
        token = before.group("token")[::-1]
        start = app_start - before.end("token")
        if _looks_like_handle(token, ""):
            return [_finding(text, start, start + len(token), f"handle on a {kind} app")]
    return []


def _looks_like_handle(token: str, label: str) -> bool:
    if token[0] in "@$" and len(token) > 1:
        return True
    if token.lower().startswith("live:") or re.search(r"#\d{4}$", token):
        return True
    bare = token.lower()
    if bare in v.NOT_HANDLES or len(bare) < 3 or bare.isdigit():
        return False
    if not any(c.isalpha() for c in bare):
        return False
    if any(c in "_.-" or c.isdigit() for c in bare):
        return True
    # A plain word counts only when announced as a handle: "Insta username: janesevents".
    return _EXPLICIT_LABEL_RE.search(label) is not None and len(bare) >= 4


def _is_invitation(text: str, index, app_start: int) -> bool:
    invite = index.last_ending_in("invite", app_start - 40, app_start)
    return invite is not None and _INVITE_GAP_RE.fullmatch(text, invite[1], app_start) is not None


def _finding(text: str, start: int, end: int, reason: str) -> Finding:
    while end > start + 1 and text[end - 1] in ".-":
        end -= 1
    return Finding(start, end, URL, reason)
