#!/usr/bin/env python
"""Seed the load benchmark's fixed data set, and the in-process measurements of `make bench`.

Run by `benchmarks/load.py` with the app's environment (settings `strathwell.settings`, the
benchmark's own database). Subcommands:

- `seed`: an organizer with 60 bookings of 4 vendors, 40 published templates; prints JSON with
  the organizer's access token.
- `events N ROUND`: N distinct signed `payment_intent.succeeded` events (for unknown
  PaymentIntents: the ingest path only), one `body<TAB>signature` per line, for wrk's Lua.
- `inprocess`: queries per request of each path (Django's test client), the API bookings page
  against the same page built by hand (`values()` + a JSON dump, same queries), and the
  worker's processing of a 3-vendor success (events/s) against `GET /health` in process.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "strathwell.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

BOOKINGS = 60
TEMPLATES = 40
PRICES = (500_000, 150_000, 80_000, 40_000)
PATHS = {
    "health": "/api/v1/health",
    "templates": "/api/v1/templates",
    "bookings": "/api/v1/bookings",
}


def seed() -> None:
    from accounts.tests.factories import OrganizerFactory
    from accounts.tokens import issue_tokens
    from bookings.models import BookingVendor
    from bookings.tests.factories import booking_with_vendors
    from templates_app.tests.factories import TemplateFactory

    organizer = OrganizerFactory(subscribed=True, email="bench.organizer@example.com")
    for _ in range(BOOKINGS):
        booking_with_vendors(
            organizer=organizer, prices=PRICES, line_status=BookingVendor.Status.APPROVED
        )
    for _ in range(TEMPLATES):
        TemplateFactory()
    analyze()
    print(json.dumps({"access": issue_tokens(organizer)["access"]}))


def analyze() -> None:
    """Fresh planner statistics, as autovacuum keeps them in a running database: right after
    a bulk seed PostgreSQL would scan whole tables where it uses the indexes in production."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def events(n: int, round_no: int) -> None:
    from payments.tests.factories import sign

    now = int(time.time())
    for i in range(n):
        body = json.dumps(
            {
                "id": f"evt_bench_{round_no}_{i}_{uuid.uuid4().hex[:8]}",
                "object": "event",
                "api_version": "2024-06-20",
                "created": now,
                "livemode": False,
                "type": "payment_intent.succeeded",
                "data": {
                    "object": {
                        "id": f"pi_bench_{uuid.uuid4().hex[:16]}",
                        "object": "payment_intent",
                        "amount": 100_000,
                        "amount_received": 100_000,
                        "currency": "usd",
                        "status": "succeeded",
                        "metadata": {},
                    }
                },
            },
            separators=(",", ":"),
        )
        print(f"{body}\t{sign(body.encode(), timestamp=now)}")


def _rate(fn, n: int) -> tuple[float, float]:
    """(per second, p50 ms) of n sequential calls."""
    samples = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - t0)
    return n / sum(samples), statistics.median(samples) * 1000


def hand_built_bookings_page(user) -> bytes:
    """The bookings page with the API's 3 queries, built by hand: the caller's user row (as
    the token's authentication loads it), the page with its count (`COUNT(*) OVER ()`, as the
    API's paginator), the lines with their vendors' names; `values()` and a JSON dump."""
    from django.db.models import Count, Window

    from accounts.models import User
    from bookings.models import Booking, BookingVendor

    user = User.objects.get(pk=user.pk)
    rows = list(
        Booking.objects.filter(organizer=user)
        .order_by("-created_at", "-id")
        .annotate(total=Window(Count("*")))
        .values()[:20]
    )
    count = rows[0].pop("total") if rows else 0
    for row in rows[1:]:
        del row["total"]
    lines = BookingVendor.objects.filter(booking_id__in=[r["id"] for r in rows]).values(
        "id", "booking_id", "vendor_id", "vendor__business_name", "role", "status",
        "proposed_price_cents", "agreed_price_cents", "position",
    )  # fmt: skip
    by_booking: dict = {}
    for line in lines:
        by_booking.setdefault(line["booking_id"], []).append(line)
    results = [dict(r, vendors=by_booking.get(r["id"], [])) for r in rows]
    return json.dumps({"count": count, "results": results}, default=str).encode()


def _restart_factory_sequences(start: int) -> None:
    import factory

    pending = list(factory.django.DjangoModelFactory.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        cls.reset_sequence(start, force=True)


def inprocess() -> None:
    from accounts.models import User
    from conftest import client_for
    from payments import webhooks
    from payments.tests.factories import PaymentFactory, event_body, intent_object
    from payments.tests.test_webhook_speed import held_booking
    from strathwell.jobs import outbox

    _restart_factory_sequences(100_000)  # seed's own rows took the first numbers
    organizer = User.objects.get(email="bench.organizer@example.com")
    api = client_for(organizer)
    out: dict = {"queries": {}}
    anon = Client()
    for name, path in PATHS.items():
        caller = api if name == "bookings" else anon  # as `load.py` requests them
        with CaptureQueriesContext(connection) as q:
            assert caller.get(path).status_code == 200
        out["queries"][name] = len(q)

    # The bookings page: API vs hand-built (same queries), medians of 3 interleaved rounds.
    api_rates, hand_rates = [], []
    for _ in range(3):
        api_rates.append(_rate(lambda i: api.get("/api/v1/bookings"), 100)[0])
        hand_rates.append(_rate(lambda i: hand_built_bookings_page(organizer), 100)[0])
    api_rate, hand_rate = statistics.median(api_rates), statistics.median(hand_rates)
    out["bookings_api_per_s"] = api_rate
    out["bookings_hand_per_s"] = hand_rate
    out["bookings_api_vs_hand"] = api_rate / hand_rate

    # The worker's side of a webhook: process_event of a 3-vendor deposit whose lines hold
    # units, against GET /health in this same process.
    outbox._dispatch = lambda ids: None  # the emails are the worker's next task, not this one
    n = 40
    recorded = []
    for _ in range(n):
        payment = PaymentFactory(booking=held_booking(3))
        body = json.loads(event_body("payment_intent.succeeded", intent_object(payment)))
        recorded.append(webhooks.record_event(body)[0].pk)
    analyze()
    with CaptureQueriesContext(connection) as q:
        webhooks.process_event(recorded[0])
    out["queries"]["webhook_processing"] = len(q)
    process_rate, process_p50 = _rate(lambda i: webhooks.process_event(recorded[i + 1]), n - 1)
    health_rate, _ = _rate(lambda i: anon.get("/api/v1/health"), 200)
    out["worker_events_per_s"] = process_rate
    out["worker_p50_ms"] = process_p50
    out["health_inprocess_per_s"] = health_rate
    out["worker_vs_health"] = process_rate / health_rate
    print(json.dumps(out))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "seed":
        seed()
    elif command == "events":
        events(int(sys.argv[2]), int(sys.argv[3]))
    elif command == "inprocess":
        inprocess()
    else:
        raise SystemExit(f"unknown command {command}")
