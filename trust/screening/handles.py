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

_MESSAGING_RE = re.compile(v.words_pattern(v.MESSAGING_APPS), re.I)
_PAYMENT_APP_RE = re.compile(v.words_pattern(v.PAYMENT_APPS), re.I)
_LABEL_RE = re.compile(
    r"(?:'s|s)?[ \t]{0,3}(?:" + v.words_pattern(v.HANDLE_LABELS) + r")?[ \t]{0,3}"
    r"(?:is|es|est|ist|e|:|-|=|->|=>|at|on|en|sur|auf|su|no|em|@(?=[ \t]))?[ \t]{0,3}:?[ \t]{0,3}",
    re.I,
)
_EXPLICIT_LABEL_RE = re.compile(v.words_pattern(v.HANDLE_LABELS) + r"|:", re.I)

# "@jane", "$janedoe", "jane#1234", "live:jane.doe", "wxid_abc", or a bare token.
_TOKEN_RE = re.compile(
    r"(?P<token>(?P<sigil>[@$])?[a-z0-9_](?:[a-z0-9_.\-]{0,40}[a-z0-9_])?(?:#\d{4})?"
    r"|live:[a-z0-9_.\-]{1,40})",
    re.I,
)
_SIGIL_TOKEN_RE = re.compile(
    r"(?<![\w@$.])(?:@|\$(?!(?:usd|cad|aud|nzd|hkd|sgd|mxn)\b))"
    r"[a-z0-9_](?:[a-z0-9_.\-]{0,40}[a-z0-9_])?",
    re.I,
)
_BEFORE_APP_RE = re.compile(
    r"(?P<token>(?<![\w@$.])(?:[@$][a-z0-9_](?:[a-z0-9_.\-]{0,40}[a-z0-9_])?"
    r"|[a-z0-9_](?:[a-z0-9_.\-]{0,40}[a-z0-9_])?))"
    r"[ \t]{1,3}(?:on|at|via|in|en|sur|auf|bei|su|no|na|em|por|par|per)[ \t]{1,3}"
    r"(?:my[ \t]{1,3})?$",
    re.I,
)
# An invitation sits right before the app's name: "add me on WhatsApp", "let's move to
# Telegram", "escríbeme por Signal"; "text me if the signal is bad" is not one.
_INVITE_RE = re.compile(
    v.words_pattern(v.CONTACT_INVITES) + r"[ \t]{0,3}(?:(?:me|us|moi|mich|mi)[ \t]{1,3})?"
    r"(?:(?:on|via|over|in|at|to|through|using|en|por|sur|auf|su|no|na|pelo|pela|per|par|"
    r"em|sobre|a)[ \t]{1,3})?(?:(?:my|mi|mon|ma|mein|meine|meu|o|the|el|le|il)[ \t]{1,3})?$",
    re.I,
)
# Follow-style cues before a bare "@handle" with no app named: "DM me @janes_events".
_HANDLE_CUE_RE = re.compile(
    v.words_pattern(
        (
            "dm", "dm me", "pm me", "follow", "follow me", "follow us", "add me", "find me",
            "find us", "message me", "ping me", "hit me up", "search for", "look me up",
            "escribeme", "sigueme", "agregame", "ajoute-moi", "suis-moi", "ecris-moi",
            "folge mir", "schreib mir", "seguimi", "scrivimi", "me segue", "me adiciona",
        )
    )
    + r"[^.!?\n]{0,15}$",
    re.I,
)  # fmt: skip

_AFTER = 60
_BEFORE = 40


def find(folded: Folded) -> list[Finding]:
    text = folded.text
    findings: list[Finding] = []
    apps = [(m, "messaging") for m in _MESSAGING_RE.finditer(text)]
    apps += [(m, "payment") for m in _PAYMENT_APP_RE.finditer(text)]
    for app, kind in apps:
        findings.extend(_handles_near(text, app, kind))
        if kind == "messaging" and _is_invitation(text, app):
            findings.append(Finding(app.start(), app.end(), OFF_PLATFORM_CONTACT, "invite"))
    for m in _SIGIL_TOKEN_RE.finditer(text):
        if m.group()[0] == "@" and _HANDLE_CUE_RE.search(text[max(0, m.start() - 30) : m.start()]):
            findings.append(_finding(text, m.start(), m.end(), "handle: follow me"))
    return findings


def _handles_near(text: str, app: re.Match[str], kind: str) -> list[Finding]:
    reason = f"handle on a {kind} app"
    found = []
    # "WhatsApp: jane_88", "my venmo is jane-doe-7", "Telegram @janedoe".
    label = _LABEL_RE.match(text, app.end())
    token = _TOKEN_RE.match(text, label.end())
    if token and _looks_like_handle(token.group("token"), text[app.end() : label.end()]):
        found.append(_finding(text, token.start(), token.end(), reason))
    # Any "@handle" / "$cashtag" close to the app's name.
    lo, hi = max(0, app.start() - _BEFORE), min(len(text), app.end() + _AFTER)
    for m in _SIGIL_TOKEN_RE.finditer(text, lo, hi):
        if m.group()[0] == "$" and (kind != "payment" or m.group()[1:2].isdigit()):
            continue
        found.append(_finding(text, m.start(), m.end(), reason))
    # "janes_events on Insta", "jane.doe-7 en Bizum".
    before = _BEFORE_APP_RE.search(text[lo : app.start()])
    if before and _looks_like_handle(before.group("token"), ""):
        found.append(_finding(text, lo + before.start("token"), lo + before.end("token"), reason))
    return found


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


def _is_invitation(text: str, app: re.Match[str]) -> bool:
    return _INVITE_RE.search(text[max(0, app.start() - 40) : app.start()]) is not None


def _finding(text: str, start: int, end: int, reason: str) -> Finding:
    while end > start + 1 and text[end - 1] in ".-":
        end -= 1
    return Finding(start, end, URL, reason)
