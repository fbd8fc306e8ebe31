"""The console reads like a product on a seeded demo world: money with its currency, names
instead of ids, actions on each object's page, History from the audit log."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from backoffice.demo import seed_world
from bookings.models import Booking
from payments.models import LedgerEntry, Payment, Payout
from strathwell.audit.models import AuditLog
from strathwell.console.tests import builders

pytestmark = pytest.mark.django_db

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


class _Text(HTMLParser):
    """The text a reader sees: no tags, attributes, scripts or hidden inputs."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "title"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "title"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(response) -> str:
    parser = _Text()
    parser.feed(response.content.decode())
    return " ".join(" ".join(parser.parts).split())


@pytest.fixture
def world(settings):
    settings.ENABLE_DEMO_OPS = True
    seed_world()
    return None


def _change(model, obj):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])


def _changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def assert_readable(response):
    assert response.status_code == 200
    text = visible_text(response)
    assert "_cents" not in text and " cents" not in text.lower(), text[:2000]
    match = UUID.search(text)
    assert not match, text[max(0, match.start() - 150) : match.end() + 50]
    return text


@pytest.mark.parametrize("model", [Payout, Booking, Payment, LedgerEntry])
def test_pages_of_a_seeded_world_show_money_and_names_not_cents_or_ids(world, staff_client, model):
    obj = model.objects.order_by("created_at").last()
    assert obj is not None, f"the demo world has no {model.__name__}"
    assert_readable(staff_client.get(_changelist(model)))
    text = assert_readable(staff_client.get(_change(model, obj)))
    assert " USD" in text


def test_payout_page_names_vendor_and_booking(world, staff_client):
    payout = Payout.objects.select_related("vendor", "booking").first()
    text = visible_text(staff_client.get(_change(Payout, payout)))
    assert (
        f"{payout.get_kind_display()} · {payout.vendor.business_name} · {payout.booking.title}"
        in text
    )


def test_booking_page_shows_its_lines_payments_payouts_refunds_and_disputes(world, staff_client):
    booking = Booking.objects.filter(payments__isnull=False, payouts__isnull=False).first()
    response = staff_client.get(_change(Booking, booking))
    names = {
        formset.opts.model._meta.model_name for formset in response.context["inline_admin_formsets"]
    }
    assert {"bookingvendor", "payment", "refund", "payout", "dispute"} <= names
    text = visible_text(response)
    for payment in booking.payments.all():
        assert payment.get_kind_display() in text
    assert booking.vendors.first().vendor.business_name in text


def test_id_search_still_finds_the_object_without_an_id_column(world, staff_client):
    payout = Payout.objects.first()
    response = staff_client.get(_changelist(Payout), {"q": str(payout.pk)})
    assert [p.pk for p in response.context["cl"].result_list] == [payout.pk]
    assert "id" not in response.context["cl"].list_display


def test_payouts_filter_by_vendor(world, staff_client):
    payout = Payout.objects.first()
    response = staff_client.get(_changelist(Payout), {"vendor__id__exact": str(payout.vendor_id)})
    listed = list(response.context["cl"].result_list)
    assert listed and all(p.vendor_id == payout.vendor_id for p in listed)
    assert Payout.objects.exclude(vendor_id=payout.vendor_id).exists()


# --- actions from the object's page ----------------------------------------------------------


def object_action_url(model, obj, name):
    label = f"{model._meta.app_label}_{model._meta.model_name}"
    return reverse(f"admin:{label}_object_action", args=[obj.pk, name])


def test_object_page_offers_its_confirm_actions(staff_client):
    payout = builders.eligible_payout()
    page = staff_client.get(_change(Payout, payout)).content.decode()
    for name in ("approve_payouts", "hold_payouts", "release_payouts", "reverse_payouts"):
        assert object_action_url(Payout, payout, name) in page


def test_approve_from_the_object_page_confirms_then_acts_and_audits(staff, staff_client):
    payout = builders.eligible_payout()
    url = object_action_url(Payout, payout, "approve_payouts")
    confirm = staff_client.get(url)
    assert confirm.status_code == 200 and b"confirm-action-form" in confirm.content
    payout.refresh_from_db()
    assert payout.status == "eligible"  # the confirmation page changes nothing
    no_reason = staff_client.post(url, {"post": "yes", "reason": ""})
    assert no_reason.status_code == 200
    payout.refresh_from_db()
    assert payout.status == "eligible"
    done = staff_client.post(url, {"post": "yes", "reason": "Venue confirmed."})
    assert done.status_code == 302 and done["Location"] == _change(Payout, payout)
    payout.refresh_from_db()
    assert payout.status == "paid"
    row = AuditLog.objects.get(target_id=str(payout.pk), action__startswith="payout.", actor=staff)
    assert row.reason == "Venue confirmed."


@pytest.mark.parametrize(
    ("model", "name", "make"),
    [
        (Payout, "hold_payouts", builders.eligible_payout),
        (Payout, "reverse_payouts", builders.eligible_payout),
        (Booking, "force_complete_bookings", lambda: builders.eligible_payout().booking),
    ],
)
def test_each_action_page_renders_for_its_object(staff_client, model, name, make):
    obj = make()
    response = staff_client.get(object_action_url(model, obj, name))
    assert response.status_code == 200 and b"confirm-action-form" in response.content


def test_object_action_needs_the_operation_permission(django_user_model):
    payout = builders.eligible_payout()
    viewer = django_user_model.objects.create_user(
        "viewer@strathwell.test", "pw-Viewer-123", is_staff=True
    )
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_payout", content_type__app_label="payments")
    )
    client = Client()
    client.force_login(viewer)
    page = client.get(_change(Payout, payout))
    assert page.status_code == 200
    url = object_action_url(Payout, payout, "approve_payouts")
    assert url not in page.content.decode()  # not offered
    response = client.post(url, {"post": "yes", "reason": "x"})
    assert response.status_code == 403  # nor run when posted
    payout.refresh_from_db()
    assert payout.status == "eligible"
    assert not AuditLog.objects.filter(actor=viewer).exists()


def test_unknown_object_action_is_refused(staff_client):
    payout = builders.eligible_payout()
    assert staff_client.get(object_action_url(Payout, payout, "no_such_action")).status_code == 403


# --- History ----------------------------------------------------------------------------------


def test_history_lists_the_audit_rows_with_reason_and_changed_fields(staff, staff_client):
    payout = builders.eligible_payout()
    url = object_action_url(Payout, payout, "hold_payouts")
    staff_client.post(url, {"post": "yes", "reason": "Organizer reported a problem."})
    payout.refresh_from_db()
    assert payout.status == "held"
    history = staff_client.get(reverse("admin:payments_payout_history", args=[payout.pk]))
    rows = history.context["audit_rows"]
    held = [row for row in rows if row["reason"] == "Organizer reported a problem."]
    assert held and held[0]["actor"] == staff.email
    changes = {change["field"]: change for change in held[0]["changes"]}
    assert changes["status"]["after"] == "held"
    text = visible_text(history)
    assert "Organizer reported a problem." in text and staff.email in text
    assert "doesn’t have a change history" not in text


def test_audit_list_shows_target_label_and_reason_and_filters_by_actor(staff, staff_client):
    payout = builders.eligible_payout()
    url = object_action_url(Payout, payout, "hold_payouts")
    staff_client.post(url, {"post": "yes", "reason": "Checking the venue's invoice."})
    changelist = reverse("admin:audit_auditlog_changelist")
    text = visible_text(staff_client.get(changelist, {"actor__id__exact": str(staff.pk)}))
    payout.refresh_from_db()
    assert f"payout: {payout}" in text
    assert "Checking the venue's invoice." in text
    listed = staff_client.get(changelist, {"actor__id__exact": str(staff.pk)}).context["cl"]
    assert listed.result_list and all(row.actor_id == staff.pk for row in listed.result_list)
    row = AuditLog.objects.get(actor=staff, reason="Checking the venue's invoice.")
    detail = visible_text(staff_client.get(reverse("admin:audit_auditlog_change", args=[row.pk])))
    assert "status" in detail and "→ held" in detail
