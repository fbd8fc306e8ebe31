"""Every word list of ``vocabulary``, found in one pass over the folded text.

The text is split into alphanumeric tokens once; each token is looked up in a dict of the
phrases that start with it, so finding all the lists costs one dictionary lookup per word
instead of one regex pass per list. A phrase matches its tokens in order with at most a few
spaces or punctuation characters between them ("e-transfer", "e transfer", "Wi-Fi",
"cashier's check"), never across a sentence end.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from itertools import accumulate

from trust.screening import vocabulary as v

_TOKEN_RE = re.compile(r"[A-Za-z0-9]+")
_SPLIT_RE = re.compile(r"([^a-z0-9]+)")
_GAP_RE = re.compile(r"[ \t'’\-./&]{1,3}")

CATEGORIES: dict[str, tuple[str, ...]] = {
    "messaging_app": v.MESSAGING_APPS,
    "payment_app": v.PAYMENT_APPS,
    "rail": v.PAYMENT_RAILS,
    "cash": v.CASH_PHRASES,
    "intent": v.INTENT_PHRASES,
    "contextual_pay": v.CONTEXTUAL_PAYMENT_WORDS,
    "pay_word": v.PAY_WORDS,
    "on_platform": v.ON_PLATFORM_PHRASES,
    "negation": v.NEGATIONS,
    "invite": v.CONTACT_INVITES,
    "handle_cue": v.HANDLE_CUES,
    "phone_cue": v.PHONE_CUES,
    "reference_label": v.REFERENCE_LABELS,
    "account_label": v.ACCOUNT_LABELS,
    "wallet_label": v.WALLET_LABELS,
    "link_cue": v.LINK_CUES,
}


def _follows(parts: list[str], k: int, words: tuple[str, ...]) -> bool:
    for i in range(1, len(words)):
        if parts[k + 2 * i] != words[i] or not _GAP_RE.fullmatch(parts[k + 2 * i - 1]):
            return False
    return True


def _tokens(phrase: str) -> tuple[str, ...]:
    return tuple(t.lower() for t in _TOKEN_RE.findall(phrase))


def _build() -> dict[str, list[tuple[tuple[str, ...], frozenset[str]]]]:
    categories: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for name, phrases in CATEGORIES.items():
        for phrase in phrases:
            words = _tokens(phrase)
            if words:
                categories[words].add(name)
    by_first: dict[str, list[tuple[tuple[str, ...], frozenset[str]]]] = defaultdict(list)
    for words, names in categories.items():
        by_first[words[0]].append((words, frozenset(names)))
    return dict(by_first)


_BY_FIRST = _build()


class PhraseIndex:
    """Where each list's phrases occur: ``hits[category]`` is a sorted list of (start, end)."""

    def __init__(self, text: str) -> None:
        self.text = text
        # Tokens and the separators between them, alternating, with C-level splitting and
        # offsets; Python only looks at the tokens that start a phrase.
        parts = _SPLIT_RE.split(text.lower())
        offsets = [0, *accumulate(map(len, parts))]
        hits: dict[str, list[tuple[int, int]]] = defaultdict(list)
        count = len(parts)
        by_first = _BY_FIRST
        for k in range(0, count, 2):
            candidates = by_first.get(parts[k])
            if not candidates:
                continue
            for words, names in candidates:
                last = k + 2 * (len(words) - 1)
                if last >= count or not _follows(parts, k, words):
                    continue
                span = (offsets[k], offsets[last + 1])
                for name in names:
                    hits[name].append(span)
        self.hits = hits
        self._starts = {name: [s for s, _ in spans] for name, spans in hits.items()}

    def spans(self, category: str) -> list[tuple[int, int]]:
        return self.hits.get(category, [])

    def last_ending_in(self, category: str, lo: int, hi: int) -> tuple[int, int] | None:
        """The hit of ``category`` lying within [lo, hi] that ends latest."""
        starts = self._starts.get(category)
        if not starts:
            return None
        spans = self.hits[category]
        best = None
        j = bisect_right(starts, hi) - 1
        for _ in range(8):  # overlapping phrases ("call", "call me"): a few candidates at most
            if j < 0 or starts[j] < lo:
                break
            start, end = spans[j]
            if end <= hi and (best is None or end > best[1]):
                best = (start, end)
            j -= 1
        return best

    def any_within(self, category: str, lo: int, hi: int) -> bool:
        """True when a hit of ``category`` starts within [lo, hi)."""
        starts = self._starts.get(category)
        if not starts:
            return False
        i = bisect_left(starts, lo)
        return i < len(starts) and starts[i] < hi

    def first_starting_in(self, category: str, lo: int, hi: int) -> tuple[int, int] | None:
        starts = self._starts.get(category)
        if not starts:
            return None
        i = bisect_left(starts, lo)
        if i < len(starts) and starts[i] < hi:
            return self.hits[category][i]
        return None
