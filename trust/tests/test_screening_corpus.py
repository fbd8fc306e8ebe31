"""The screening measured on its hand-written corpus and on generated disguises (pure
function, no database).

Targets (issue #18): at least 95% of disguised contact details blocked, at least 90% of
off-platform payment talk flagged, at most 2% of ordinary planning messages flagged; and no
excerpt ever shows a raw detail. The recall/false-positive table is printed on every run.
"""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trust.screening import screen_text
from trust.tests.disguises import CONTACT_DISGUISES

CORPUS = Path(__file__).parent / "corpus"
CONTACT_CATEGORIES = {"email", "phone", "handle", "domain"}
DETAIL_SIGNALS = {"email", "phone", "url", "payment_account"}
CONTACT_TARGET = 0.95
PAYMENT_TARGET = 0.90
FALSE_POSITIVE_LIMIT = 0.02
GENERATED_PER_DISGUISE = 200


def load(path: Path) -> list[tuple[str, list[str]]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, _, raw = line.partition(" || ")
        details = [r.strip() for r in raw.split(" | ") if r.strip()]
        rows.append((text.replace("\\n", "\n"), details))
    return rows


def corpus(prefix: str) -> dict[str, list[tuple[str, list[str]]]]:
    return {
        path.stem.removeprefix(prefix): load(path) for path in sorted(CORPUS.glob(f"{prefix}*.txt"))
    }


FLAG = corpus("flag_")
ALLOW = corpus("allow_")


def caught(category: str, text: str) -> bool:
    result = screen_text(text)
    if category in CONTACT_CATEGORIES:
        return result.action == "block" and bool(DETAIL_SIGNALS & set(result.signals))
    return "off_platform_payment" in result.signals


def leaks(text: str, raw: list[str]) -> list[str]:
    excerpt = screen_text(text).excerpt.lower()
    return [detail for detail in raw if detail.lower() in excerpt]


def test_corpus_is_big_and_balanced():
    flagged = sum(len(rows) for rows in FLAG.values())
    allowed = sum(len(rows) for rows in ALLOW.values())
    assert flagged + allowed >= 600
    assert flagged >= 300 and allowed >= 300
    assert set(FLAG) == {"email", "phone", "handle", "domain", "payment"}
    assert all(len(rows) >= 40 for rows in FLAG.values())


def test_recall_and_false_positives_meet_the_targets(capsys):
    lines = [f"{'category':<34}{'n':>5}{'flagged':>9}{'rate':>9}   target"]
    failures = []

    def report(name, n, hits, target, at_least):
        rate = hits / n
        sign = ">=" if at_least else "<="
        lines.append(f"{name:<34}{n:>5}{hits:>9}{rate:>9.1%}   {sign} {target:.0%}")
        if (rate < target) if at_least else (rate > target):
            failures.append(f"{name}: {rate:.1%} (target {sign} {target:.0%})")

    contact_n = contact_hits = 0
    for category, rows in FLAG.items():
        hits = sum(caught(category, text) for text, _ in rows)
        target = CONTACT_TARGET if category in CONTACT_CATEGORIES else PAYMENT_TARGET
        report(f"corpus must-flag: {category}", len(rows), hits, target, at_least=True)
        if category in CONTACT_CATEGORIES:
            contact_n, contact_hits = contact_n + len(rows), contact_hits + hits
    report("corpus must-flag: all contacts", contact_n, contact_hits, CONTACT_TARGET, True)

    allow_n = allow_hits = 0
    for category, rows in ALLOW.items():
        hits = sum(screen_text(text).action != "allow" for text, _ in rows)
        lines.append(f"{'corpus must-allow: ' + category:<34}{len(rows):>5}{hits:>9}")
        allow_n, allow_hits = allow_n + len(rows), allow_hits + hits
    report("corpus must-allow: all (FP rate)", allow_n, allow_hits, FALSE_POSITIVE_LIMIT, False)

    generated_n = generated_hits = 0
    for name, generate in CONTACT_DISGUISES.items():
        rng = random.Random(name)  # the same sample on every run
        texts = [generate(rng)[0] for _ in range(GENERATED_PER_DISGUISE)]
        hits = sum(screen_text(text).action == "block" for text in texts)
        report(f"generated: {name}", len(texts), hits, CONTACT_TARGET, at_least=True)
        generated_n, generated_hits = generated_n + len(texts), generated_hits + hits
    report("generated: all disguises", generated_n, generated_hits, CONTACT_TARGET, True)

    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert not failures, failures


@pytest.mark.parametrize("category", sorted(FLAG))
def test_no_excerpt_shows_a_detected_raw_detail(category):
    # A miss counts against recall above; whatever is caught is masked completely.
    leaked = [
        (text, found)
        for text, raw in FLAG[category]
        if caught(category, text) and (found := leaks(text, raw))
    ]
    assert leaked == []


@pytest.mark.parametrize("category", sorted(ALLOW))
def test_allowed_messages_come_back_unchanged(category):
    # Allowed text is stored as written (NFKC-normalised): nothing masked, nothing cut.
    for text, _ in ALLOW[category]:
        result = screen_text(text)
        if result.action == "allow":
            expected = unicodedata.normalize("NFKC", text).strip()
            assert result.signals == [] and result.excerpt == expected


@pytest.mark.parametrize("name", sorted(CONTACT_DISGUISES))
@settings(max_examples=40, deadline=None)
@given(rng=st.randoms(use_true_random=False))
def test_every_generated_disguise_is_blocked_and_masked(name, rng):
    text, raw = CONTACT_DISGUISES[name](rng)
    result = screen_text(text)
    assert result.action == "block", (text, result)
    assert leaks(text, raw) == [], (text, result.excerpt)
