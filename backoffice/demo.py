"""The demo world: a realistic, idempotent marketplace for local runs and demos.

Built through the real model methods and services (onboarding, approvals, booking
transitions, `payments.services` flows, payout methods), never by writing
statuses, so the ledger, payouts and audit trail are exactly what production would hold.

Idempotent: every object is keyed by a fixed email, business name, slug or booking title; a
second run finds them all and creates nothing. Runs in one transaction: all or nothing.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts import billing
from accounts.models import Subscription, User
from bookings.models import Booking
from payments import services as money
from payments.models import Payment, Payout
from templates_app.models import Template
from templates_app.services import create_template
from vendors import availability
from vendors.models import Vendor, VendorDateUnit
from vendors.services import onboard_vendor, update_own_vendor

DEMO_PASSWORD = "Demo-pass-2026!"
# A Stripe test-mode PaymentMethod (Visa 4242…) that Stripe's test mode and localstripe both
# accept: the demo organizers' Stripe Billing subscriptions are paid with it.
DEMO_PAYMENT_METHOD = "pm_card_visa"
DEMO_DOMAIN = "strathwell.demo"
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"


def _email(local: str) -> str:
    return f"{local}@{DEMO_DOMAIN}"


ORGANIZERS = [
    # (local part, full name, subscription: None | "monthly" | "annual" | "canceled")
    ("olivia", "Olivia Hart", "annual"),
    ("marcus", "Marcus Bell", "monthly"),
    ("nora", "Nora Quinn", None),
    ("felix", "Felix Grant", "canceled"),
]

VENDORS = [
    # (local part, owner, business name, type, city, verification, profile)
    (
        "glasshouse",
        "Ana Ruiz",
        "The Glasshouse Loft",
        "venue",
        "Austin",
        "approved",
        {
            "address": "1200 E 6th Street, Austin, TX 78702",
            "capacity": 220,
            "base_price_cents": 650_000,
            "amenities": ["stage", "parking", "rooftop", "catering kitchen"],
        },
    ),
    (
        "riverside",
        "Sam Okafor",
        "Riverside Hall",
        "venue",
        "Austin",
        "approved",
        {
            "address": "400 W Cesar Chavez Street, Austin, TX 78701",
            "capacity": 400,
            "base_price_cents": 900_000,
            "amenities": ["river view", "dance floor", "AV system"],
        },
    ),
    (
        "saffron",
        "Priya Nair",
        "Saffron Table Catering",
        "service",
        "Austin",
        "approved",
        {"category": "catering", "service_area": "Austin metro", "base_price_cents": 250_000},
    ),
    (
        "brightlights",
        "Leo Park",
        "Bright Lights DJ",
        "service",
        "Austin",
        "approved",
        {"category": "music", "service_area": "Central Texas", "base_price_cents": 120_000},
    ),
    (
        "petal",
        "Maya Chen",
        "Petal & Stem Florals",
        "service",
        "Round Rock",
        "approved",
        {"category": "florist", "service_area": "Austin metro", "base_price_cents": 80_000},
    ),
    (
        "cedar",
        "Rosa Delgado",
        "Cedar Court Garden",
        "venue",
        "Austin",
        "approved",
        {
            "address": "88 Cedar Lane, Austin, TX 78704",
            "capacity": 90,
            "base_price_cents": 420_000,
            "amenities": ["garden", "string lights", "bar"],
        },
    ),
    (
        "harborview",
        "Eli Brooks",
        "Harbor View Terrace",
        "venue",
        "Galveston",
        "pending",
        {
            "address": "2100 Seawall Blvd, Galveston, TX 77550",
            "capacity": 150,
            "base_price_cents": 480_000,
            "amenities": ["ocean view", "terrace"],
        },
    ),
    (
        "snapshot",
        "Ivy Moreno",
        "Snapshot Studio",
        "service",
        "San Marcos",
        "pending",
        {"category": "photography", "service_area": "Hill Country", "base_price_cents": 180_000},
    ),
    (
        "cakecraft",
        "Omar Haddad",
        "Cake Craft Bakery",
        "service",
        "Austin",
        "needs_changes",
        {"category": "bakery", "service_area": "Austin metro", "base_price_cents": 60_000},
    ),
]

TEMPLATES = [
    {
        "slug": "demo-garden-wedding",
        "title": "Garden Wedding",
        "event_type": "wedding",
        "summary": "An outdoor ceremony and reception for up to 150 guests.",
        "description": "Venue, catering, florals and music for a relaxed garden wedding.",
        "guest_count_min": 60,
        "guest_count_max": 150,
        "is_published": True,
        "items": [
            {"name": "Venue hire", "category": "venue", "estimated_cost_cents": 650_000},
            {"name": "Dinner for 120", "category": "catering", "estimated_cost_cents": 780_000},
            {"name": "Florals", "category": "florist", "estimated_cost_cents": 150_000},
            {"name": "DJ, 5 hours", "category": "music", "estimated_cost_cents": 120_000},
        ],
    },
    {
        "slug": "demo-product-launch",
        "title": "Product Launch Night",
        "event_type": "corporate",
        "summary": "A launch party with stage, AV and canapés.",
        "description": "Everything a company needs to show a product to 200 people.",
        "guest_count_min": 80,
        "guest_count_max": 250,
        "is_published": True,
        "items": [
            {"name": "Venue with stage", "category": "venue", "estimated_cost_cents": 900_000},
            {"name": "Canapés and drinks", "category": "catering", "estimated_cost_cents": 600_000},
            {"name": "DJ and AV", "category": "music", "estimated_cost_cents": 200_000},
        ],
    },
    {
        "slug": "demo-milestone-birthday",
        "title": "Milestone Birthday",
        "event_type": "birthday",
        "summary": "A dinner party with music for 40 to 100 guests.",
        "description": "",
        "guest_count_min": 40,
        "guest_count_max": 100,
        "is_published": True,
        "items": [
            {"name": "Private room", "category": "venue", "estimated_cost_cents": 300_000},
            {"name": "Dinner", "category": "catering", "estimated_cost_cents": 350_000},
        ],
    },
]

# Events per date beyond the default of one (venues are always one).
DAILY_CAPACITIES = {"saffron": 3}
# The venue that is full on one demo date (its "Wine tasting evening", approved by every
# vendor and awaiting payment, holds it): creating or
# submitting a booking of it on that date answers 409 vendor_unavailable. It also blocked a
# date of its own.
FULL_VENUE = "cedar"
FULL_VENUE_BOOKING = "Wine tasting evening"
BLOCKED_DATE_DAYS_AHEAD = 100
BLOCKED_DATE_NOTE = "Private family event"

# Bookings, one per status (plus a second paid one with an open dispute, and a second ready
# one that fills the full venue's date). The lines are (vendor local part, proposed price);
# the first line is the venue.
BOOKINGS = [
    ("Garden party planning", "olivia", "demo-garden-wedding", 120, 90, "draft",
     [("glasshouse", 650_000), ("petal", 150_000)]),
    ("Product launch night", "marcus", "demo-product-launch", 180, 75, "awaiting",
     [("riverside", 900_000), ("saffron", 600_000), ("brightlights", 200_000)]),
    ("Anniversary dinner", "olivia", "demo-milestone-birthday", 60, 60, "ready",
     [("glasshouse", 400_000), ("saffron", 300_000)]),
    ("Spring fundraiser gala", "marcus", None, 200, 45, "paid",
     [("riverside", 850_000), ("saffron", 500_000), ("petal", 120_000)]),
    ("Team offsite", "olivia", None, 80, 30, "in_progress",
     [("glasshouse", 500_000), ("brightlights", 110_000)]),
    ("Summer wedding", "olivia", "demo-garden-wedding", 140, 20, "completed",
     [("glasshouse", 650_000), ("saffron", 780_000), ("brightlights", 120_000)]),
    ("Charity auction", "marcus", None, 100, 120, "canceled",
     [("riverside", 700_000), ("petal", 90_000)]),
    ("Holiday party", "marcus", "demo-product-launch", 150, 50, "disputed",
     [("riverside", 800_000), ("brightlights", 150_000)]),
    (FULL_VENUE_BOOKING, "marcus", None, 70, 40, "ready",
     [(FULL_VENUE, 420_000), ("petal", 60_000)]),
    ("Retirement lunch", "olivia", None, 40, 25, "expired",
     [("glasshouse", 300_000), ("petal", 80_000)]),
]  # fmt: skip


@dataclass
class SeedResult:
    created: Counter = field(default_factory=Counter)
    logins: list[dict] = field(default_factory=list)

    @property
    def created_anything(self) -> bool:
        return sum(self.created.values()) > 0


def seed_demo() -> SeedResult:
    """Create whatever of the demo world is missing (idempotent): the world in one
    transaction, then (with Stripe Billing) the organizers' subscriptions in Stripe."""
    result = seed_world()
    subscribe_demo_organizers(result)
    return result


def seed_world() -> SeedResult:
    """Everything but Stripe, in one transaction (all or nothing). Without Stripe Billing the
    demo organizers' subscriptions are made here by the manual provider."""
    result = SeedResult()
    with transaction.atomic():
        admin = _admin(result)
        organizers = {
            local: _organizer(local, name, sub, result) for local, name, sub in ORGANIZERS
        }
        vendors = {row[0]: _vendor(row, admin, result) for row in VENDORS}
        templates = {data["slug"]: _template(data, admin, result) for data in TEMPLATES}
        for row in BOOKINGS:
            _booking(row, organizers, vendors, templates, admin, result)
        _blocked_date(vendors[FULL_VENUE], result)
    result.logins = demo_logins()
    return result


def demo_logins() -> list[dict]:
    logins = [{"email": ADMIN_EMAIL, "role": "admin", "note": "staff console and admin API"}]
    for local, _, subscription in ORGANIZERS:
        note = f"organizer, subscription: {subscription or 'none'}"
        logins.append({"email": _email(local), "role": "organizer", "note": note})
    full_on = full_venue_date()
    for local, _, business, vendor_type, _, status, _ in VENDORS:
        note = f"{vendor_type} vendor '{business}' ({status})"
        if local in DAILY_CAPACITIES:
            note += f", {DAILY_CAPACITIES[local]} events per date"
        if local == FULL_VENUE and full_on is not None:
            note += f", fully booked on {full_on.isoformat()} (booking it then: 409)"
        logins.append({"email": _email(local), "role": "vendor", "note": note})
    return logins


def full_venue_date() -> datetime.date | None:
    """The date on which the demo's full venue is booked (None before seeding)."""
    booking = Booking.objects.filter(
        title=FULL_VENUE_BOOKING, vendors__vendor__user__email__iexact=_email(FULL_VENUE)
    ).first()
    return booking.event_date if booking is not None else None


# --- builders ---------------------------------------------------------------------------------


def _user(email: str, full_name: str, role: str, result: SeedResult, **extra):
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(
            email, DEMO_PASSWORD, full_name=full_name, role=role, **extra
        )
        result.created["users"] += 1
    return user


def _admin(result: SeedResult):
    return _user(
        ADMIN_EMAIL,
        "Avery Admin",
        User.Role.ADMIN,
        result,
        is_staff=True,
        is_superuser=True,
    )


def _plan_of(subscription: str) -> str:
    return "monthly" if subscription in ("monthly", "canceled") else subscription


def _organizer(local: str, name: str, subscription: str | None, result: SeedResult):
    existed = User.objects.filter(email__iexact=_email(local)).exists()
    user = _user(_email(local), name, User.Role.ORGANIZER, result)
    if not existed and subscription and not billing.uses_stripe():
        billing.start_subscription(user, plan=_plan_of(subscription), actor=user)
        if subscription == "canceled":
            billing.cancel_subscription(user, actor=user)
    return user


def subscribe_demo_organizers(result: SeedResult) -> None:
    """With Stripe Billing: the demo organizers' subscriptions as real Stripe subscriptions
    paid with the test card (the canceled one canceled in Stripe). Runs after the world's
    transaction, so no Stripe call is made inside it. Idempotent: an organizer whose
    subscription is no longer `none` is left as it is."""
    if not billing.uses_stripe():
        return
    for local, _, subscription in ORGANIZERS:
        user = User.objects.filter(email__iexact=_email(local)).first()
        if not subscription or user is None:
            continue
        if user.current_subscription.status != Subscription.Status.NONE:
            continue
        billing.start_subscription(
            user, plan=_plan_of(subscription), payment_method=DEMO_PAYMENT_METHOD, actor=user
        )
        if subscription == "canceled":
            billing.cancel_subscription(
                user, actor=user, immediately=True, reason="Demo: a canceled subscription."
            )
        result.created["stripe subscriptions"] += 1


def _vendor(row, admin, result: SeedResult):
    local, owner, business, vendor_type, city, status, profile = row
    user = _user(_email(local), owner, User.Role.VENDOR, result)
    vendor = Vendor.objects.filter(user=user).first()
    if vendor is not None:
        return vendor
    vendor = onboard_vendor(
        user=user,
        data={
            "vendor_type": vendor_type,
            "business_name": business,
            "description": f"{business}: trusted by Austin event planners since 2015.",
            "city": city,
            Vendor.PROFILE_FIELDS[vendor_type]: dict(profile),
        },
    )
    result.created["vendors"] += 1
    if local in DAILY_CAPACITIES:
        vendor = update_own_vendor(
            vendor=vendor, actor=user, data={"daily_capacity": DAILY_CAPACITIES[local]}
        )
    if status == "approved":
        vendor = vendor.approve(actor=admin, notes="Documents verified.")
    elif status == "needs_changes":
        vendor = vendor.request_changes(
            actor=admin, notes="Please add your food handler permit and a menu with prices."
        )
    return vendor


def _template(data: dict, admin, result: SeedResult):
    template = Template.objects.filter(slug=data["slug"]).first()
    if template is None:
        template = create_template(actor=admin, data=dict(data))
        result.created["templates"] += 1
    return template


def _booking(row, organizers, vendors, templates, admin, result: SeedResult):
    title, organizer_key, template_slug, guests, days_ahead, target, lines = row
    organizer = organizers[organizer_key]
    if Booking.objects.filter(organizer=organizer, title=title).exists():
        return
    booking = Booking.create_request(
        organizer=organizer,
        title=title,
        event_date=timezone.localdate() + datetime.timedelta(days=days_ahead),
        guest_count=guests,
        lines=[(vendors[key], price) for key, price in lines],
        notes="Demo booking: see the admin overview for its money.",
        template=templates.get(template_slug),
    )
    result.created["bookings"] += 1
    if target == "draft":
        return
    booking = booking.submit(actor=organizer)
    answers = list(booking.vendors.select_related("vendor__user").order_by("position"))
    if target == "awaiting":
        # The venue said yes, the caterer countered, the DJ has not answered yet.
        answers[0].approve(actor=answers[0].vendor.user)
        answers[1].counter(
            actor=answers[1].vendor.user,
            price_cents=answers[1].proposed_price_cents + 50_000,
            note="Price includes a second bartender.",
        )
        return
    if target == "canceled":
        money.cancel_booking(
            booking, actor=organizer, reason="The charity moved the auction online."
        )
        return
    for line in answers:
        line.approve(actor=line.vendor.user)
    if target == "ready":
        return
    if target == "expired":
        # Nobody paid: the `expire_unpaid_bookings` job's flow, run as if the payment window
        # had passed.
        window = Booking.payment_window() + datetime.timedelta(minutes=1)
        money.expire_booking(booking, now=timezone.now() + window)
        return
    booking = _pay(booking, result)
    if target == "paid":
        _request_reservations(booking, vendors_to_request=1)
        return
    if target == "disputed":
        _request_reservations(booking, vendors_to_request=2)
        _open_dispute(booking, organizer, result)
        return
    booking = _pay(booking, result, kind=Payment.Kind.BALANCE)
    booking = booking.start(actor=organizer)
    if target == "in_progress":
        _request_reservations(booking, vendors_to_request=1)
        return
    # completed: every reservation requested, the venue's paid out, then completion payouts
    # become eligible with the booking's completion.
    requested = _request_reservations(booking, vendors_to_request=len(answers))
    requested[0].approve(actor=admin, reason="Demo: venue reservation released.")
    money.complete_booking(booking, actor=organizer)


def _pay(booking, result: SeedResult, kind=Payment.Kind.DEPOSIT):
    """A deposit (or balance) PaymentIntent that succeeded (fake id; no network), recorded
    through the real success service: payment succeeded, booking paid, ledger and payouts."""
    booking = Booking.objects.get(pk=booking.pk)
    deposit = kind == Payment.Kind.DEPOSIT
    payment = Payment.objects.create(
        booking=booking,
        organizer=booking.organizer,
        kind=kind,
        amount_cents=booking.deposit_cents if deposit else booking.balance_cents,
        currency=booking.currency,
        stripe_payment_intent_id=f"pi_demo_{'' if deposit else 'bal_'}{booking.pk.hex[:20]}",
    )
    money.record_payment_success(payment)
    result.created["payments"] += 1
    return Booking.objects.get(pk=booking.pk)


def _request_reservations(booking, *, vendors_to_request: int):
    payouts = Payout.objects.filter(booking=booking, kind=Payout.Kind.RESERVATION)
    payouts = payouts.select_related("vendor__user", "booking_vendor").order_by(
        "booking_vendor__position"
    )
    return [p.request(actor=p.vendor.user) for p in list(payouts)[:vendors_to_request]]


def _open_dispute(booking, organizer, result: SeedResult):
    money.open_dispute(
        booking=booking,
        opened_by=organizer,
        reason="DJ cancelled two days before the event",
        description="Bright Lights DJ told us they are double-booked; we want part of the "
        "deposit back or a replacement DJ of the same standard.",
    )
    result.created["disputes"] += 1


def _blocked_date(vendor, result: SeedResult):
    """The full venue also blocked a date of its own (once: keyed by the note)."""
    if VendorDateUnit.objects.filter(vendor=vendor, note=BLOCKED_DATE_NOTE).exists():
        return
    date = timezone.localdate() + datetime.timedelta(days=BLOCKED_DATE_DAYS_AHEAD)
    availability.block_date(vendor, date, note=BLOCKED_DATE_NOTE, actor=vendor.user)
    result.created["blocked dates"] += 1
