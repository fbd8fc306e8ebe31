#!/usr/bin/env python
"""Where a request's time goes: pyinstrument over N requests of one path, in process, on the
benchmark's data set (the database `make bench` seeded; run `make bench` once first).

    make profile P=/api/v1/bookings          # as the benchmark's organizer
    make profile P=/api/v1/templates ANON=1  # without a login

Prints pyinstrument's call tree (frames under 2 % hidden). The figures of record are
`make bench`'s; this is for finding the next thing to cut.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from load import app_env, bench_database_url  # noqa: E402

os.environ.update(app_env(bench_database_url()))

import django  # noqa: E402

django.setup()


def main() -> None:
    from django.test import Client
    from pyinstrument import Profiler

    from accounts.models import User
    from conftest import client_for

    path = sys.argv[1] if len(sys.argv) > 1 else "/api/v1/bookings"
    count = int(os.environ.get("N", "200"))
    if os.environ.get("ANON"):
        client = Client()
    else:
        client = client_for(User.objects.get(email="bench.organizer@example.com"))
    for _ in range(20):  # warm: URL resolver, compiled serializer plans, connections
        assert client.get(path).status_code == 200
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(count):
        client.get(path)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False, time="percent_of_total"))


if __name__ == "__main__":
    main()
