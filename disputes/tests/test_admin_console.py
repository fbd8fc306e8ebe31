"""The staff console's dispute action calls the same model method as the API."""

import pytest
from django.contrib.admin import helpers
from django.test import Client
from django.urls import reverse

from disputes.models import Dispute
from disputes.tests.helpers import paid_booking, request_reservations
from payments import services as money
from payments.models import Payout
from strathwell.audit.models import AuditLog

pytestmark = pytest.mark.django_db

URL = reverse("admin:disputes_dispute_changelist")


@pytest.fixture
def staff_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def post_action(client, dispute, **extra):
    return client.post(
        URL,
        {
            "action": "change_dispute_status",
            helpers.ACTION_CHECKBOX_NAME: [str(dispute.pk)],
            **extra,
        },
    )


def test_confirmation_page_then_status_change_settles_money(staff_client, admin_user):
    booking = paid_booking()
    held = request_reservations(booking)
    dispute = money.open_dispute(booking=booking, opened_by=booking.organizer, reason="late")

    page = post_action(staff_client, dispute)
    assert page.status_code == 200 and booking.title in page.content.decode()
    assert Dispute.objects.get().status == "open"

    # Without a note nothing happens; with one, review and then the decision.
    post_action(staff_client, dispute, post="yes", new_status="under_review")
    assert Dispute.objects.get().status == "open"
    post_action(staff_client, dispute, post="yes", new_status="under_review", reason="checking")
    response = post_action(
        staff_client, dispute, post="yes", new_status="resolved", reason="DJ showed up"
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == "resolved" and dispute.resolution_note == "DJ showed up"
    assert {p.status for p in Payout.objects.filter(pk__in=[p.pk for p in held])} == {"eligible"}
    log = AuditLog.objects.get(action="dispute.resolve")
    assert log.actor_id == admin_user.pk and log.reason == "DJ showed up"


def test_illegal_change_is_an_error_message_not_a_500(staff_client):
    booking = paid_booking()
    dispute = money.open_dispute(booking=booking, opened_by=booking.organizer, reason="late")
    response = post_action(
        staff_client, dispute, post="yes", new_status="refunded", reason="skip review"
    )
    assert response.status_code == 302
    assert Dispute.objects.get().status == "open"
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("cannot go from open to refunded" in m for m in messages)
