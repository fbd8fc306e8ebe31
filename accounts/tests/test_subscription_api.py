"""Organizer subscriptions through the API, and the gate they open (template detail)."""

import pytest

from accounts.models import Subscription
from accounts.tests.factories import AdminFactory, OrganizerFactory, VendorUserFactory
from strathwell.audit.models import AuditLog
from templates_app.tests.factories import TemplateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def template():
    return TemplateFactory()


def detail(client, template):
    return client.get(f"/api/v1/templates/{template.id}")


def test_new_organizer_has_no_subscription(make_client):
    response = make_client(OrganizerFactory()).get("/api/v1/subscription")
    assert response.status_code == 200
    assert response.json() == {
        "status": "none",
        "plan": None,
        "provider": None,
        "started_at": None,
        "canceled_at": None,
        "current_period_end": None,
        "cancel_at": None,
        "has_access": False,
    }


def test_gate_before_start_after_start_and_after_cancel(make_client, template):
    organizer = OrganizerFactory()
    client = make_client(organizer)

    before = detail(client, template)
    assert before.status_code == 403
    assert before.json()["error"]["code"] == "subscription_required"

    started = client.post("/api/v1/subscription/start", {"plan": "annual"})
    assert started.status_code == 200, started.json()
    assert started.json()["status"] == "active"
    assert started.json()["plan"] == "annual"
    assert started.json()["started_at"] and started.json()["canceled_at"] is None
    assert detail(client, template).status_code == 200
    assert client.get("/api/v1/auth/me").json()["subscription"]["status"] == "active"

    canceled = client.post("/api/v1/subscription/cancel")
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    assert canceled.json()["canceled_at"]
    # Gated access ends at once: the same access token no longer opens the gate.
    after = detail(client, template)
    assert after.status_code == 403
    assert after.json()["error"]["code"] == "subscription_required"

    organizer.refresh_from_db()
    assert organizer.subscription.status == Subscription.Status.CANCELED


def test_restart_after_cancel_reopens_the_gate(make_client, template):
    organizer = OrganizerFactory(subscribed=True)
    client = make_client(organizer)
    assert client.post("/api/v1/subscription/cancel").status_code == 200
    restarted = client.post("/api/v1/subscription/start", {"plan": "monthly"})
    assert restarted.status_code == 200
    assert restarted.json()["status"] == "active"
    assert restarted.json()["canceled_at"] is None
    assert detail(client, template).status_code == 200


def test_cancel_without_active_subscription_is_invalid_transition(make_client):
    organizer = OrganizerFactory()
    response = make_client(organizer).post("/api/v1/subscription/cancel")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"
    organizer.refresh_from_db()
    assert organizer.current_subscription.status == Subscription.Status.NONE
    assert not AuditLog.objects.filter(action="subscription.cancel").exists()


def test_start_requires_a_known_plan(make_client):
    client = make_client(OrganizerFactory())
    for body in ({}, {"plan": "lifetime"}):
        response = client.post("/api/v1/subscription/start", body)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "validation_error"
        assert "plan" in response.json()["error"]["details"]
    assert client.get("/api/v1/subscription").json()["status"] == "none"


def test_start_twice_on_same_plan_is_a_no_op(make_client):
    organizer = OrganizerFactory()
    client = make_client(organizer)
    first = client.post("/api/v1/subscription/start", {"plan": "monthly"}).json()
    second = client.post("/api/v1/subscription/start", {"plan": "monthly"}).json()
    assert first == second
    assert AuditLog.objects.filter(action="subscription.start").count() == 1


def test_start_and_cancel_are_audited(make_client):
    organizer = OrganizerFactory()
    client = make_client(organizer)
    client.post("/api/v1/subscription/start", {"plan": "monthly"})
    client.post("/api/v1/subscription/cancel")
    start = AuditLog.objects.get(action="subscription.start")
    cancel = AuditLog.objects.get(action="subscription.cancel")
    for row in (start, cancel):
        assert row.actor_id == organizer.id
        # The audit target is the organizer's subscription row, keyed by the organizer's id.
        assert row.target_type == "accounts.subscription" and row.target_id == str(organizer.id)
    assert (start.before["status"], start.before["plan"]) == ("none", "")
    assert (start.after["status"], start.after["plan"]) == ("active", "monthly")
    assert start.after["provider"] == "manual"
    assert cancel.before["status"] == "active"
    assert cancel.after["status"] == "canceled"


def test_vendors_cannot_subscribe(make_client):
    client = make_client(VendorUserFactory())
    for method, path in [
        ("get", "/api/v1/subscription"),
        ("post", "/api/v1/subscription/start"),
        ("post", "/api/v1/subscription/cancel"),
    ]:
        response = getattr(client, method)(path, {"plan": "monthly"})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"


def test_subscription_endpoints_need_authentication(api_client):
    response = api_client.get("/api/v1/subscription")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_admin_passes_the_gate_without_subscription(make_client, template):
    admin = AdminFactory()
    assert admin.current_subscription.status == Subscription.Status.NONE
    assert detail(make_client(admin), template).status_code == 200


def test_vendor_is_refused_by_role_not_subscription(make_client, template):
    response = detail(make_client(VendorUserFactory()), template)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_anonymous_template_detail_is_401(api_client, template):
    response = detail(api_client, template)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_manual_provider_is_refused_in_prod(make_client, settings, template):
    settings.APP_ENV = "prod"  # boot refuses SUBSCRIPTION_PROVIDER=manual there too
    organizer = OrganizerFactory()
    client = make_client(organizer)

    response = client.post("/api/v1/subscription/start", {"plan": "monthly"})

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "payment_provider_error"
    assert client.get("/api/v1/subscription").json()["status"] == "none"
    assert detail(client, template).status_code == 403
    assert not AuditLog.objects.filter(action="subscription.start").exists()


def test_manual_provider_ignores_a_payment_method(make_client):
    client = make_client(OrganizerFactory())
    response = client.post(
        "/api/v1/subscription/start", {"plan": "annual", "payment_method": "pm_card_visa"}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["provider"], body["client_secret"]) == ("active", "manual", None)


@pytest.mark.parametrize("subscribed", [True, False])
def test_the_gate_costs_one_query(make_client, template, django_assert_num_queries, subscribed):
    """The gate reads the subscription row by primary key: one query beside the user's, with
    or without a subscription (template detail: user, subscription, template, items)."""
    client = make_client(OrganizerFactory(subscribed=subscribed))
    with django_assert_num_queries(2):
        assert client.get("/api/v1/subscription").status_code == 200
    with django_assert_num_queries(2):
        assert client.get("/api/v1/auth/me").status_code == 200
    with django_assert_num_queries(4 if subscribed else 2):
        assert detail(client, template).status_code == (200 if subscribed else 403)
