"""Payment outside the platform.

Two kinds of finding:

* payment *details* (``payment_account``, masked, a block): IBANs (checked by ``schwifty``),
  bank account, sort code and routing numbers after a label (``python-stdnum`` for the
  checksums it knows), card numbers (Luhn), crypto wallet addresses (checksummed where the
  format has one);
* payment *talk* (``off_platform_payment``, readable, a warning): payment apps and rails,
  cash in hand, and phrases about cutting the platform out ("skip the fee", "pay me
  directly", "fuera de la app"), unless the same clause says it happens on Strathwell.
"""

from __future__ import annotations

import hashlib
import re

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import luhn
from stdnum.us import rtn

from trust.screening import vocabulary as v
from trust.screening.common import OFF_PLATFORM_PAYMENT, PAYMENT_ACCOUNT, Finding
from trust.screening.normalise import Folded

# --------------------------------------------------------------------------------------------
# Details
# --------------------------------------------------------------------------------------------

_IBAN_RE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}[ \t]{0,2}\d{2}(?:[ \t\-]{0,2}[A-Za-z0-9]){8,32}(?![A-Za-z0-9])"
)
_ACCOUNT_CONNECTOR_RE = re.compile(
    r"(?:[ \t]{0,3}(?:no|nr|n|number|numero|nummer|is|es|est|ist|e)\.?)?[ \t]{0,3}[:#=\-]?"
    r"[ \t]{0,3}",
    re.I,
)
_ACCOUNT_NUMBER_RE = re.compile(
    r"(?:[A-Za-z]{2}[ \t]{0,2}\d{2}[ \t]{0,2})?\d(?:[ \t\-/]{0,2}[A-Za-z0-9]){5,33}(?![A-Za-z0-9])"
)
_JOINER_RE = re.compile(
    r"[ \t]{0,3}[,;/&+]?[ \t]{0,3}(?:and|y|et|und|e)?[ \t]{0,3}"
    + "(?:"
    + v.words_pattern(v.ACCOUNT_LABELS)
    + r")?(?:[ \t]{0,3}(?:no|number|nr)\.?)?[ \t]{0,3}[:#=\-]?[ \t]{0,3}",
    re.I,
)
_BIC_RE = re.compile(r"[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?(?![A-Za-z0-9])")
_CARD_RE = re.compile(r"(?<![\d\-])\d{4}(?:[ \t\-]?\d{4}){2}[ \t\-]?\d{1,7}(?![\d\-])")

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_CRYPTO_RE = re.compile(
    r"""(?<![A-Za-z0-9])(?:
        (?P<eth>0x[0-9a-fA-F]{40})
      | (?P<bech32>(?:bc1|ltc1|tb1)[ac-hj-np-z02-9]{25,87})
      | (?P<base58>[13LMT][1-9A-HJ-NP-Za-km-z]{25,34})
      | (?P<ens>[a-z0-9\-]{3,40}\.eth)
      | (?P<lightning>lnbc[0-9a-z]{40,500})
    )(?![A-Za-z0-9])""",
    re.X,
)
_LONG_BASE58_RE = re.compile(r"(?<![A-Za-z0-9])[1-9A-HJ-NP-Za-km-z]{32,44}(?![A-Za-z0-9])")


def find_details(folded: Folded) -> list[Finding]:
    text = folded.text
    findings = []
    for m in _IBAN_RE.finditer(text):
        end = _valid_iban_end(text, m.start(), m.end())
        if end:
            findings.append(Finding(m.start(), end, PAYMENT_ACCOUNT, "payment: IBAN"))
    for start, end in folded.phrases.spans("account_label"):
        connector = _ACCOUNT_CONNECTOR_RE.match(text, end)
        findings.extend(_labelled_account(text, text[start:end].lower(), connector.end()))
    for m in _CARD_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn.is_valid(digits) and len(set(digits)) > 1:
            findings.append(Finding(m.start(), m.end(), PAYMENT_ACCOUNT, "payment: card number"))
    for m in _CRYPTO_RE.finditer(text):
        if m.group("base58") and not _base58check(m.group()):
            continue
        findings.append(Finding(m.start(), m.end(), PAYMENT_ACCOUNT, "payment: crypto wallet"))
    for m in _LONG_BASE58_RE.finditer(text):
        token = m.group()
        mixed = any(c.isdigit() for c in token) and any(c.isupper() for c in token)
        if mixed and folded.phrases.last_ending_in("wallet_label", m.start() - 40, m.start()):
            findings.append(Finding(m.start(), m.end(), PAYMENT_ACCOUNT, "payment: wallet"))
    return findings


def _valid_iban_end(text: str, start: int, end: int) -> int:
    """End of the valid IBAN starting at ``start`` (its country fixes the length), or 0."""
    compact_positions = [i for i in range(start, end) if text[i].isalnum()]
    compact = "".join(text[i] for i in compact_positions).upper()
    for length in range(min(len(compact), 34), 14, -1):
        try:
            IBAN(compact[:length])
        except SchwiftyException:
            continue
        return compact_positions[length - 1] + 1
    return 0


def _labelled_account(text: str, word: str, pos: int) -> list[Finding]:
    """The number after "IBAN:", "sort code", "routing number", "Kontonummer", "BIC" ...: a
    payment detail even when its checksum is wrong (the intent is the same)."""
    found = []
    for _ in range(3):  # "sort code 12-34-56, account 12345678"
        m = _ACCOUNT_NUMBER_RE.match(text, pos)
        bic = _BIC_RE.match(text, pos) if ("bic" in word or "swift" in word) else None
        if bic:
            found.append(Finding(bic.start(), bic.end(), PAYMENT_ACCOUNT, "payment: BIC"))
            pos = bic.end()
        elif m and sum(c.isdigit() for c in m.group()) >= 6:
            digits = re.sub(r"\D", "", m.group())
            reason = "payment: routing number" if rtn.is_valid(digits) else "payment: account"
            found.append(Finding(m.start(), m.end(), PAYMENT_ACCOUNT, reason))
            pos = m.end()
        else:
            break
        joiner = _JOINER_RE.match(text, pos)
        pos = joiner.end() if joiner else pos
    return found


def _base58check(address: str) -> bool:
    number = 0
    for char in address:
        number = number * 58 + _BASE58.index(char)
    raw = number.to_bytes(25, "big") if number.bit_length() <= 200 else b""
    if len(raw) != 25:
        return False
    checksum = hashlib.sha256(hashlib.sha256(raw[:-4]).digest()).digest()[:4]
    return raw[-4:] == checksum


# --------------------------------------------------------------------------------------------
# Talk
# --------------------------------------------------------------------------------------------

_SENTENCE_END_RE = re.compile(r"[.!?;\n]")
_TALK = (
    ("payment_app", "payment app", False),
    ("rail", "payment rail", False),
    ("cash", "cash in hand", False),
    ("intent", "intent: cut the platform out", False),
    ("contextual_pay", "payment app or crypto", True),
)


def find_talk(folded: Folded) -> list[Finding]:
    text, index = folded.text, folded.phrases
    findings = []
    for category, reason, needs_pay_word in _TALK:
        for start, end in index.spans(category):
            if _on_platform(text, index, end):
                continue  # "pay directly through Strathwell", "bank transfer in the app"
            if needs_pay_word and not (
                index.any_within("pay_word", start - 30, start)
                or index.any_within("pay_word", end, end + 30)
            ):
                continue  # "bitcoin" or "Lydia" without a payment verb is not payment talk
            findings.append(Finding(start, end, OFF_PLATFORM_PAYMENT, reason))
    return findings


def _on_platform(text: str, index, end: int) -> bool:
    """The same clause goes on to say it happens on Strathwell, without "not" before it."""
    hit = index.first_starting_in("on_platform", end, end + 35)
    if hit is None:
        return False
    gap = text[end : hit[0]]
    return not _SENTENCE_END_RE.search(gap) and not index.any_within("negation", end, hit[0])
