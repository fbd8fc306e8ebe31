"""The staff console: the organizer page shows the subscription and its access; staff grant a
complimentary subscription or end one now through confirm actions (audited)."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from accounts import billing
from accounts.models import Subscription
from accounts.tests.factories import AdminFactory, OrganizerFactory, VendorUserFactory
from accounts.tests.stripe_helpers import card
from strathwell.audit.models import AuditLog
from templates_app.tests.factories import TemplateFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/user/"


@pytest.fixture
def staff():
    return AdminFactory(email="ops@strathwell.test")


@pytest.fixture
def staff_client(staff):
    client = Client()
    client.force_login(staff)
    return client


def act(client, action, users, **data):
    """Tick the users, choose the action, confirm (`post=yes`) with the form's data."""
    return client.post(
        CHANGELIST,
        {
            "action": action,
            "_selected_action": [str(u.pk) for u in users],
            "post": "yes",
            **data,
        },
        follow=True,
    )


def messages_of(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def gate(make_client):
    """The status of a gated call (template detail) for a user."""

    def status_for(user) -> int:
        return make_client(user).get(f"/api/v1/templates/{TemplateFactory().pk}").status_code

    return status_for


def test_organizer_page_shows_the_subscription_and_its_access(staff_client):
    organizer = OrganizerFactory(subscribed=True)

    page = staff_client.get(reverse("admin:accounts_user_change", args=[organizer.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Subscription" in html and "Manual (no payment; runs without Stripe)" in html
    assert "Yes: active" in html
    listing = staff_client.get(CHANGELIST).content.decode()
    assert "Active" in listing


def test_grant_asks_for_a_plan_and_a_reason_first(staff_client):
    organizer = OrganizerFactory()

    page = staff_client.post(
        CHANGELIST,
        {"action": "grant_complimentary_subscription", "_selected_action": [str(organizer.pk)]},
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="plan"' in html and 'name="reason"' in html
    assert not Subscription.objects.filter(pk=organizer.pk).exists()
    refused = act(staff_client, "grant_complimentary_subscription", [organizer], plan="annual")
    assert refused.context["form"].errors["reason"] == ["This field is required."]
    assert not Subscription.objects.filter(pk=organizer.pk).exists()


def test_grant_opens_the_gates_and_is_audited(staff, staff_client, gate):
    organizer = OrganizerFactory()
    assert gate(organizer) == 403

    response = act(
        staff_client,
        "grant_complimentary_subscription",
        [organizer],
        plan="annual",
        reason="Launch partner",
    )

    assert [level for level, _ in messages_of(response)] == ["success"]
    sub = Subscription.objects.get(pk=organizer.pk)
    assert (sub.status, sub.plan, sub.provider) == ("active", "annual", "complimentary")
    row = AuditLog.objects.get(action="subscription.grant_complimentary")
    assert (row.actor, row.reason, row.target_id) == (staff, "Launch partner", str(organizer.pk))
    assert (row.before["status"], row.after["status"]) == ("none", "active")
    assert gate(organizer) == 200

    again = act(
        staff_client, "grant_complimentary_subscription", [organizer], plan="annual", reason="x"
    )
    [(level, text)] = messages_of(again)
    assert level == "warning" and "nothing changed" in text
    assert AuditLog.objects.filter(action="subscription.grant_complimentary").count() == 1


def test_grant_is_refused_for_vendors_and_for_organizers_paying_through_stripe(
    staff_client, stripe_billing_settings, localstripe_client
):
    vendor = VendorUserFactory()
    payer = OrganizerFactory()
    billing.start_subscription(payer, plan="monthly", payment_method=card(localstripe_client))

    response = act(
        staff_client,
        "grant_complimentary_subscription",
        [vendor, payer],
        plan="annual",
        reason="Try",
    )

    errors = [text for level, text in messages_of(response) if level == "error"]
    assert len(errors) == 2
    assert any("Only organizers have subscriptions" in text for text in errors)
    assert any("pays through Stripe" in text for text in errors)
    assert Subscription.objects.get(pk=payer.pk).provider == "stripe"
    assert not Subscription.objects.filter(pk=vendor.pk).exists()
    assert not AuditLog.objects.filter(action="subscription.grant_complimentary").exists()


def test_cancel_now_ends_a_stripe_subscription_in_stripe(
    staff, staff_client, gate, stripe_billing_settings, localstripe_client
):
    payer = OrganizerFactory()
    billing.start_subscription(payer, plan="monthly", payment_method=card(localstripe_client))

    response = act(staff_client, "cancel_subscription_now", [payer], reason="Chargeback fraud")

    assert [level for level, _ in messages_of(response)] == ["success"]
    sub = Subscription.objects.get(pk=payer.pk)
    assert (sub.status, sub.cancel_at) == ("canceled", None)
    stripe_sub = localstripe_client.v1.subscriptions.retrieve(sub.stripe_subscription_id)
    assert stripe_sub.status == "canceled"
    row = AuditLog.objects.get(action="subscription.cancel", target_id=str(payer.pk))
    assert (row.actor, row.reason) == (staff, "Chargeback fraud")
    assert gate(payer) == 403


def test_cancel_now_of_nothing_is_an_error_message(staff_client):
    organizer = OrganizerFactory()

    response = act(staff_client, "cancel_subscription_now", [organizer], reason="x")

    [(level, text)] = messages_of(response)
    assert level == "error" and "no active subscription" in text
    assert not AuditLog.objects.filter(action="subscription.cancel").exists()


def test_subscription_list_shows_who_has_access(staff_client):
    OrganizerFactory(subscribed=True)
    canceled = OrganizerFactory(subscribed=True)
    billing.cancel_subscription(canceled)

    page = staff_client.get("/admin/accounts/subscription/?status=canceled")

    assert page.status_code == 200
    assert [str(s.pk) for s in page.context["cl"].result_list] == [str(canceled.pk)]
    assert "No: canceled" in page.content.decode()
