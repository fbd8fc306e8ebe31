"""The admin index is the staff landing page: overview figures and the queues to work on."""

import pytest
from django.urls import reverse

from backoffice.services import overview
from payments.models import WebhookEvent
from strathwell.console.site import overview_sections
from strathwell.console.tests import builders
from vendors.models import Vendor
from vendors.tests.factories import VendorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def backlog(staff):
    VendorFactory.create_batch(2, verification_status=Vendor.VerificationStatus.PENDING)
    VendorFactory()  # approved: not in the queue
    builders.eligible_payout()
    builders.paid_out_payout(staff)
    builders.open_dispute()
    builders.resolved_dispute(staff)
    builders.failed_success_event()
    builders.processed_event()
    builders.outbox_message(status="failed")
    builders.outbox_message(status="delivered")


def queues_by_title(response):
    return {q["title"]: q for q in response.context["staff_queues"]}


def test_index_links_each_queue_with_its_count(staff_client, backlog):
    response = staff_client.get(reverse("admin:index"))

    assert response.status_code == 200
    queues = queues_by_title(response)
    assert {title: q["count"] for title, q in queues.items()} == {
        "Vendors pending verification": 2,
        "Eligible payouts": 1,
        "Open disputes": 1,
        "Failed webhook events": 1,
        "Failed notifications and other effects": 1,
    }
    assert queues["Vendors pending verification"]["url"] == (
        "/admin/vendors/vendor/?verification_status__exact=pending"
    )
    html = response.content.decode()
    for queue in queues.values():
        assert f'href="{queue["url"]}"' in html


def test_each_queue_link_lists_exactly_its_rows(staff_client, backlog):
    queues = queues_by_title(staff_client.get(reverse("admin:index")))

    for queue in queues.values():
        page = staff_client.get(queue["url"])
        assert page.status_code == 200, queue["url"]
        # Django's admin redirects to ?e=1 for a lookup it refuses: this is the real list.
        assert "e=1" not in page.wsgi_request.get_full_path()
        assert page.context["cl"].result_count == queue["count"], queue["title"]


def test_index_shows_the_overview_figures(staff_client, backlog):
    response = staff_client.get(reverse("admin:index"))

    sections = {s["title"]: dict(s["rows"]) for s in response.context["overview_sections"]}
    figures = overview()
    assert sections["Vendors"]["Pending"] == "2"
    assert sections["Payouts"]["Paid"] == str(figures["payouts"]["paid"])
    paid_out = figures["money"]["paid_out_cents"]
    assert paid_out > 0
    currency = figures["money"]["currency"].upper()
    assert sections["Money"]["Paid out"] == f"{paid_out // 100:,}.{paid_out % 100:02d} {currency}"
    html = response.content.decode()
    assert "staff-overview" in html and "Paid out" in html


def test_overview_sections_skip_a_repeated_currency_group():
    data = {
        "vendors": {"pending": 1},
        "money": {"currency": "usd", "held_cents": 150},
        "money_by_currency": [
            {"currency": "usd", "held_cents": 150},
            {"currency": "eur", "held_cents": -5},
        ],
    }

    sections = overview_sections(data)

    assert [s["title"] for s in sections] == ["Vendors", "Money", "Money by currency · EUR"]
    assert dict(sections[1]["rows"])["Held"].startswith("1.50 ")  # with its currency
    assert dict(sections[2]["rows"])["Held"] == "-0.05 EUR"


def test_failed_event_queue_matches_the_outcome(staff_client):
    builders.failed_success_event()
    url = queues_by_title(staff_client.get(reverse("admin:index")))["Failed webhook events"]["url"]
    assert url.endswith(f"?outcome__exact={WebhookEvent.Outcome.FAILED}")


def test_without_a_dashboard_setting_the_index_has_no_queues_or_figures(staff_client, settings):
    settings.STAFF_CONSOLE_DASHBOARD = ""

    response = staff_client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert response.context["staff_queues"] == []
    assert response.context["overview_sections"] == []
    html = response.content.decode()
    assert "No queues available to you." in html
    assert "The overview figures are not available." in html


def test_view_site_points_to_the_api_docs_and_apps_read_as_words(staff_client):
    page = staff_client.get("/admin/").content.decode()
    assert 'href="/api/docs/"' in page
    assert "Templates" in page and "TEMPLATES_APP" not in page and "Templates_App" not in page
