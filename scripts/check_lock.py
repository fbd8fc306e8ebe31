#!/usr/bin/env python
"""The hash-pinned lock files are generated from the human-edited requirements*.txt by
`make lock` (scripts/lock.sh), which records a digest of their inputs on the first line.

`check_lock.py` (run by `make install`, hence by CI) fails when an input changed after its lock
was generated, naming the fix; `check_lock.py --digest FILE...` prints the digest."""

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = {
    "requirements.lock": ["requirements.txt"],
    "requirements-dev.lock": ["requirements.txt", "requirements-dev.txt"],
}
HEADER = "# inputs-sha256: "


def digest(names: list[str]) -> str:
    h = hashlib.sha256()
    for name in names:
        lines = (ROOT / name).read_text().splitlines()
        # Comments and blank lines do not change what gets installed.
        pins = [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
        h.update(f"{name}\n".encode() + "\n".join(pins).encode() + b"\n")
    return h.hexdigest()


def main(argv: list[str]) -> int:
    if argv[:1] == ["--digest"]:
        print(digest(argv[1:]))
        return 0
    stale = []
    for lock, inputs in LOCKS.items():
        path = ROOT / lock
        first = path.read_text().splitlines()[0] if path.exists() else ""
        if first != HEADER + digest(inputs):
            stale.append(lock)
    if stale:
        print(
            f"{', '.join(stale)} not generated from the current {', '.join(LOCKS[stale[-1]])}:"
            " run `make lock` and commit the lock files.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
