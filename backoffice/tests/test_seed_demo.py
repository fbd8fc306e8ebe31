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
from vendors.models import Vendor

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
    assert {u.subscription_status for u in organizers} == {"active", "none", "canceled"}
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
