#!/usr/bin/env python
"""Throughput of the hot paths, measured in-process through the real HTTP stack (Django's test
client → middleware → DRF → PostgreSQL). Numbers go in notes, not in assertions.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/strathwell_bench \
        .venv/bin/python benchmarks/bench_core.py [--bookings 200] [--events 200]

It creates (and drops) its own test database `test_<dbname>`. Measured:
- GET /api/v1/bookings?page_size=50 as an organizer with N bookings of 4 vendors (req/s, queries)
- POST /api/v1/webhooks/stripe payment_intent.succeeded: signature check, event row, allocation,
  ledger and payouts for a 4-vendor booking (events/s)
- the same events redelivered (duplicates answered without effect, events/s)
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "strathwell.settings.test")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402


def timed(label: str, fn, n: int) -> None:
    samples = []
    start = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    p50 = statistics.median(samples) * 1000
    p95 = sorted(samples)[int(len(samples) * 0.95) - 1] * 1000
    print(f"{label:<58} {n / total:8.1f}/s   p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=200)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from rest_framework.test import APIClient

        from accounts.tests.factories import OrganizerFactory
        from bookings.models import BookingVendor
        from bookings.tests.factories import booking_with_vendors
        from conftest import client_for
        from payments.models import LedgerEntry
        from payments.tests.factories import (
            PaymentFactory,
            event_body,
            intent_object,
            post_event,
            ready_booking,
        )

        organizer = OrganizerFactory(subscribed=True)
        for _ in range(args.bookings):
            booking_with_vendors(
                organizer=organizer,
                prices=(500_000, 150_000, 80_000, 40_000),
                line_status=BookingVendor.Status.APPROVED,
            )
        client = client_for(organizer)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/bookings?page_size=50").status_code == 200
        timed(
            f"GET /bookings?page_size=50 ({args.bookings} bookings, {len(queries)} queries)",
            lambda i: client.get("/api/v1/bookings?page_size=50"),
            args.requests,
        )

        payments = [
            PaymentFactory(booking=ready_booking(prices=(500_000, 150_000, 80_000, 40_000)))
            for _ in range(args.events)
        ]
        bodies = [event_body("payment_intent.succeeded", intent_object(p)) for p in payments]
        webhook_client = APIClient()

        def deliver(i):
            response = post_event(webhook_client, bodies[i])
            assert response.status_code == 200, response.content

        timed("POST /webhooks/stripe succeeded (allocate 4 vendors)", deliver, args.events)
        timed("POST /webhooks/stripe redelivery (duplicate, no effect)", deliver, args.events)
        held = LedgerEntry.objects.filter(entry_type="held_funds").count()
        print(f"held_funds entries: {held} (expected {args.events})")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
