"""`manage.py seed_demo` and POST /ops/seed-demo: a realistic, idempotent demo world."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command

from accounts.models import User
from backoffice import demo
from bookings.models import Booking
from disputes.models import Dispute
from payments.models import LedgerEntry, Payment, Payout
from strathwell.audit.models import AuditLog
from templates_app.models import Template
from vendors import availability
from vendors.models import Vendor, VendorDateUnit

pytestmark = pytest.mark.django_db

URL = "/api/v1/ops/seed-demo"


def counts():
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label
        in {"accounts", "vendors", "templates_app", "bookings", "payments", "disputes", "audit"}
        and model._meta.model_name != "refreshtoken"
    }


@pytest.fixture(autouse=True)
def _demo_ops(settings):
    """The command refuses without the flag (see test_seed_demo_command_refuses_...)."""
    settings.ENABLE_DEMO_OPS = True


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_twice_gives_the_same_counts():
    first_output = seed()
    first = counts()
    second_output = seed()
    assert counts() == first
    assert "created" in first_output and "nothing created" in second_output
    for output in (first_output, second_output):
        assert demo.ADMIN_EMAIL in output and demo.DEMO_PASSWORD in output


def test_the_demo_world_is_complete_and_consistent():
    seed()
    admin = User.objects.get(email=demo.ADMIN_EMAIL)
    assert admin.is_admin and admin.check_password(demo.DEMO_PASSWORD)
    organizers = User.objects.filter(role="organizer", email__endswith="@strathwell.demo")
    statuses = {u.current_subscription.status for u in organizers}
    assert statuses == {"active", "none", "canceled"}
    vendors = Vendor.objects.all()
    assert {(v.vendor_type, v.verification_status) for v in vendors} >= {
        ("venue", "approved"),
        ("service", "approved"),
        ("venue", "pending"),
        ("service", "pending"),
    }
    assert all(v.profile is not None for v in vendors)
    published = Template.objects.filter(is_published=True)
    assert published.count() >= 2 and all(t.items.exists() for t in published)
    assert set(Booking.objects.values_list("status", flat=True)) == set(Booking.Status.values)
    assert Payment.objects.filter(
        status="succeeded", stripe_payment_intent_id__startswith="pi_demo_"
    ).exists()
    payout_statuses = set(Payout.objects.values_list("status", flat=True))
    assert {"locked", "eligible", "paid", "held"} <= payout_statuses
    assert LedgerEntry.objects.filter(entry_type="payout").count() == 1
    dispute = Dispute.objects.get()
    assert dispute.status == "open"
    assert Payout.objects.filter(held_by_dispute=dispute, status="held").exists()
    # Built through the real methods: the audit trail tells the story.
    for action in ("vendor.approve", "booking.submit", "payout.approve", "dispute.open"):
        assert AuditLog.objects.filter(action=action).exists(), action
    call_command("check_ledger", stdout=io.StringIO())


def test_the_demo_has_a_venue_full_on_one_date_to_try_the_409_by_hand(api_client):
    output = seed()
    venue = Vendor.objects.get(user__email=f"{demo.FULL_VENUE}@{demo.DEMO_DOMAIN}")
    full_on = demo.full_venue_date()
    assert venue.is_approved and availability.full_vendor_ids([venue.pk], full_on)
    assert list(
        VendorDateUnit.objects.filter(vendor=venue, date=full_on).values_list("status", flat=True)
    ) == ["held"]
    assert VendorDateUnit.objects.filter(vendor=venue, status="blocked").count() == 1
    assert f"fully booked on {full_on.isoformat()}" in output
    assert Vendor.objects.get(business_name="Saffron Table Catering").daily_capacity == 3
    # Every approved line of a live booking holds its unit (the demo went through the flows).
    live = Booking.objects.exclude(status__in=["draft", "canceled", "expired"])
    approved_lines = sum(b.vendors.filter(status="approved").count() for b in live)
    assert VendorDateUnit.objects.exclude(status="blocked").count() == approved_lines

    login = api_client.post(
        "/api/v1/auth/login", {"email": "marcus@strathwell.demo", "password": demo.DEMO_PASSWORD}
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")
    response = api_client.post(
        "/api/v1/bookings",
        {
            "title": "Try the full venue",
            "event_date": full_on.isoformat(),
            "guest_count": 40,
            "vendors": [{"vendor_id": str(venue.pk), "proposed_price_cents": 300_000}],
        },
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "vendor_unavailable"
    assert response.json()["error"]["details"]["vendor_ids"] == [str(venue.pk)]


def test_demo_users_can_log_in(api_client):
    seed()
    response = api_client.post(
        "/api/v1/auth/login",
        {"email": "olivia@strathwell.demo", "password": demo.DEMO_PASSWORD},
    )
    assert response.status_code == 200


def test_api_is_404_unless_demo_ops_are_enabled(admin_client_api, settings):
    settings.ENABLE_DEMO_OPS = False
    response = admin_client_api.post(URL)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not Booking.objects.exists()


def test_api_seeds_once_then_answers_200(admin_client_api, admin_user, settings):
    settings.ENABLE_DEMO_OPS = True
    first = admin_client_api.post(URL)
    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["created"]["bookings"] == len(demo.BOOKINGS)
    assert body["password"] == demo.DEMO_PASSWORD
    assert {login["email"] for login in body["logins"]} >= {demo.ADMIN_EMAIL}
    snapshot = counts()
    second = admin_client_api.post(URL)
    assert second.status_code == 200 and second.json()["created"] == {}
    after = counts()
    # Only the audit row of the second (empty) seeding is new.
    assert after.pop("audit.AuditLog") == snapshot.pop("audit.AuditLog") + 1
    assert after == snapshot
    log = AuditLog.objects.filter(action="ops.seed_demo").order_by("created_at").first()
    assert log.actor_id == admin_user.pk
    call_command("check_ledger", stdout=io.StringIO())


def test_api_is_admin_only_and_blocked_in_read_only_mode(
    organizer_client, admin_client_api, settings
):
    settings.ENABLE_DEMO_OPS = True
    assert organizer_client.post(URL).status_code == 403
    settings.READ_ONLY_MODE = True
    response = admin_client_api.post(URL)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "read_only_mode"
    assert not Booking.objects.exists()


@pytest.mark.e2e
def test_with_stripe_billing_the_subscribed_organizers_are_stripe_backed(
    stripe_billing_settings, localstripe_client
):
    seed()

    subs = {
        u.email.split("@")[0]: u.current_subscription
        for u in User.objects.filter(role="organizer", email__endswith="@strathwell.demo")
    }
    for local, plan in (("olivia", "annual"), ("marcus", "monthly")):
        sub = subs[local]
        assert (sub.status, sub.plan, sub.provider) == ("active", plan, "stripe")
        in_stripe = localstripe_client.v1.subscriptions.retrieve(sub.stripe_subscription_id)
        assert in_stripe.status == "active" and in_stripe.customer == sub.stripe_customer_id
    felix = subs["felix"]
    assert (felix.status, felix.provider) == ("canceled", "stripe")
    assert localstripe_client.v1.subscriptions.retrieve(felix.stripe_subscription_id).status == (
        "canceled"
    )
    assert subs["nora"].status == "none"

    # Idempotent: a second run makes nothing more, in the database or in Stripe.
    before = counts()
    assert "nothing created" in seed()
    assert counts() == before
    for local in ("olivia", "marcus", "felix"):
        listed = localstripe_client.v1.subscriptions.list(
            params={"customer": subs[local].stripe_customer_id, "status": "all"}
        )
        assert len(listed.data) == 1


@pytest.mark.parametrize(
    ("demo_ops", "app_env"), [(False, "local"), (False, "staging"), (True, "prod")]
)
def test_seed_demo_command_refuses_without_the_flag_or_in_prod(settings, demo_ops, app_env):
    """It creates a superuser whose password is published in the README."""
    from django.core.management.base import CommandError

    settings.ENABLE_DEMO_OPS = demo_ops
    settings.APP_ENV = app_env
    with pytest.raises(CommandError, match="published password"):
        seed()
    assert not User.objects.exists()


def test_seed_demo_command_refuses_in_read_only_mode(settings):
    from django.core.management.base import CommandError

    settings.READ_ONLY_MODE = True
    with pytest.raises(CommandError, match="READ_ONLY_MODE"):
        seed()
    assert not User.objects.exists()
