#!/usr/bin/env python
"""Time of the trust screening on 20 KB messages (numbers, not assertions).

    .venv/bin/python benchmarks/bench_screening.py [--runs 20] [--size 20000]

Pure Python, no database. Each message is screened ``--runs`` times; the table gives the
best and the median CPU time (``time.process_time``, so other processes on a busy machine do
not count against it) and the wall-clock median. The target (issue #18) is 20 ms for a 20 KB
message; the adversarial rows (a message that is nothing but handles, numbers, "at"s,
addresses or dictated digits) show that the time stays linear in the length whatever the
content: the old regex screener took ~400 ms on the repeated payment handles.
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trust.screening import screen_text

PLANNING = (
    "Hi! We'd love to book the garden for 120 guests on 24.12.2026 from 18.30-22.30. Budget is "
    "€12.500, deposit paid through Strathwell. Can you email the menu via the app? Call the "
    "venue's front desk re parking, PO 4500123456, gate code 4821. Merci, à bientôt ! "
)


def messages(size: int) -> dict[str, str]:
    rng = random.Random(18)

    def fill(unit: str) -> str:
        return (unit * (size // len(unit) + 1))[:size]

    return {
        "planning talk (mixed languages, numbers)": fill(PLANNING),
        "repeated payment handles": fill("Venmo @jane-doe $janedoe on Cash App "),
        "repeated phone numbers": fill("call 415-555-0134 or +44 20 7946 0958 "),
        "repeated disguised emails": fill("jane dot doe at gmail dot com, write me at x "),
        "repeated 'at'": fill("meet at the venue at noon at "),
        "random digit groups": " ".join(str(rng.randrange(100_000)) for _ in range(size))[:size],
        "letters spaced out": fill("j a n e "),
        "dictated digits": fill("one two three four five six seven eight nine "),
        "Cyrillic and CJK": fill("Привет, жду вас в субботу. 微信号 jane 。 "),
        "domains and defanged domains": fill("see janes.events or late.so and foo[.]com "),
        "one long word": "a" * size,
        "random printable": "".join(
            rng.choice("abcdefghij @.0123456789-()+\n") for _ in range(size)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--size", type=int, default=20_000)
    args = parser.parse_args()

    screen_text("warm up: jane@gmail.com +1 415 555 0134")
    title = f"message ({args.size} chars)"
    print(f"{title:<44} {'cpu best':>9} {'cpu p50':>9} {'wall p50':>9}")
    worst = 0.0
    for name, text in messages(args.size).items():
        cpu, wall = [], []
        for _ in range(args.runs):
            c0, w0 = time.process_time(), time.perf_counter()
            screen_text(text)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
        p50 = statistics.median(cpu)
        worst = max(worst, p50)
        print(
            f"{name:<44} {min(cpu) * 1000:7.1f}ms {p50 * 1000:7.1f}ms "
            f"{statistics.median(wall) * 1000:7.1f}ms"
        )
    print(f"worst CPU median: {worst * 1000:.1f} ms (target 20 ms)")


if __name__ == "__main__":
    main()
