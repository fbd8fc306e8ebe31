"""Plain admin edits are audited with before/after; READ_ONLY_MODE refuses every save, delete
and action with a visible message; read-only admins offer no add, change or delete."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.tests.factories import OrganizerFactory
from payments.models import LedgerEntry, WebhookEvent
from strathwell.audit.models import AuditLog
from strathwell.console.tests import builders
from templates_app.models import Template, TemplateItem
from templates_app.tests.factories import TemplateFactory
from vendors.models import Vendor
from vendors.tests.factories import VendorFactory

pytestmark = pytest.mark.django_db


def messages_of(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def template_form(template, **changes):
    """The change form's POST for a template with its two items (management form included)."""
    items = list(template.items.order_by("position", "id"))
    data = {
        "title": template.title,
        "slug": template.slug,
        "event_type": template.event_type,
        "summary": template.summary,
        "description": template.description,
        "guest_count_min": template.guest_count_min,
        "guest_count_max": template.guest_count_max,
        "currency": template.currency,
        "is_published": "on" if template.is_published else "",
        "items-TOTAL_FORMS": len(items),
        "items-INITIAL_FORMS": len(items),
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 1000,
    }
    for i, item in enumerate(items):
        data.update(
            {
                f"items-{i}-id": item.pk,
                f"items-{i}-template": template.pk,
                f"items-{i}-position": item.position,
                f"items-{i}-name": item.name,
                f"items-{i}-category": item.category,
                f"items-{i}-estimated_cost_cents": item.estimated_cost_cents,
            }
        )
    data.update(changes)
    return data


def change_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


# --- audited plain edits -------------------------------------------------------------------------


def test_template_edit_is_audited_with_before_and_after(staff, staff_client):
    template = TemplateFactory(title="Summer wedding")

    response = staff_client.post(
        change_url(template),
        template_form(template, title="Autumn wedding", **{"items-1-estimated_cost_cents": 99}),
    )

    assert response.status_code == 302
    row = AuditLog.objects.get(action="admin.template.change")
    assert row.actor == staff and row.target_id == str(template.pk)
    assert row.before["title"] == "Summer wedding" and row.after["title"] == "Autumn wedding"
    assert [i["estimated_cost_cents"] for i in row.before["items"]] == [300_000, 120_000]
    assert [i["estimated_cost_cents"] for i in row.after["items"]] == [300_000, 99]


def test_template_add_is_audited_with_no_before(staff, staff_client):
    response = staff_client.post(
        reverse("admin:templates_app_template_add"),
        {
            "title": "Gala",
            "slug": "gala",
            "event_type": "gala",
            "summary": "",
            "description": "",
            "guest_count_min": 10,
            "guest_count_max": 200,
            "currency": "usd",
            "is_published": "on",
            "items-TOTAL_FORMS": 1,
            "items-INITIAL_FORMS": 0,
            "items-MIN_NUM_FORMS": 0,
            "items-MAX_NUM_FORMS": 1000,
            "items-0-position": 0,
            "items-0-name": "Hall",
            "items-0-category": "venue",
            "items-0-estimated_cost_cents": 250_000,
        },
    )

    assert response.status_code == 302
    template = Template.objects.get(slug="gala")
    row = AuditLog.objects.get(action="admin.template.add")
    assert row.actor == staff and row.before is None and row.target_id == str(template.pk)
    assert row.after["items"][0]["name"] == "Hall"


def test_template_delete_is_audited(staff, staff_client):
    template = TemplateFactory()

    response = staff_client.post(
        reverse("admin:templates_app_template_delete", args=[template.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Template.objects.filter(pk=template.pk).exists()
    row = AuditLog.objects.get(action="admin.template.delete")
    assert row.actor == staff and row.after is None and row.before["title"] == template.title


def test_bulk_delete_audits_every_row(staff, staff_client):
    templates = TemplateFactory.create_batch(2)

    staff_client.post(
        reverse("admin:templates_app_template_changelist"),
        {"action": "delete_selected", "_selected_action": [t.pk for t in templates], "post": "yes"},
    )

    assert Template.objects.count() == 0
    assert AuditLog.objects.filter(action="admin.template.delete").count() == 2


def test_vendor_text_edit_is_audited_and_status_is_read_only(staff, staff_client):
    vendor = VendorFactory(verification_status=Vendor.VerificationStatus.PENDING)
    profile = vendor.venue_profile

    response = staff_client.post(
        change_url(vendor),
        {
            "business_name": "The Grand Hall",
            "description": vendor.description,
            "city": vendor.city,
            "verification_status": "approved",  # read-only: ignored
            "venue_profile-TOTAL_FORMS": 1,
            "venue_profile-INITIAL_FORMS": 1,
            "venue_profile-MIN_NUM_FORMS": 1,
            "venue_profile-MAX_NUM_FORMS": 1,
            "venue_profile-0-vendor": vendor.pk,
            "venue_profile-0-address": "1 New Street",
            "venue_profile-0-capacity": profile.capacity,
            "venue_profile-0-amenities": '["stage"]',
            "venue_profile-0-base_price_cents": 1,  # read-only: ignored
        },
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    vendor.refresh_from_db()
    profile.refresh_from_db()
    assert vendor.business_name == "The Grand Hall"
    assert vendor.verification_status == Vendor.VerificationStatus.PENDING
    assert profile.address == "1 New Street" and profile.base_price_cents == 500_000
    row = AuditLog.objects.get(action="admin.vendor.change")
    assert row.actor == staff
    assert row.before["business_name"] != "The Grand Hall"
    assert row.after["business_name"] == "The Grand Hall"
    assert row.after["profile"]["address"] == "1 New Street"


def test_user_password_change_is_audited_without_the_hash(staff, staff_client):
    user = OrganizerFactory()

    response = staff_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "N3w-Secret-pass!", "password2": "N3w-Secret-pass!"},
    )

    assert response.status_code == 302
    row = AuditLog.objects.get(action="admin.user.set_password")
    assert row.actor == staff and row.target_id == str(user.pk)
    assert "N3w" not in str(row.after) and "md5" not in str(row.after)


# --- read-only mode -------------------------------------------------------------------------------


def test_read_only_mode_refuses_a_plain_edit_with_a_message(staff_client, read_only):
    template = TemplateFactory(title="Summer wedding")

    response = staff_client.post(
        change_url(template), template_form(template, title="Autumn wedding"), follow=True
    )

    template.refresh_from_db()
    assert template.title == "Summer wedding"
    assert not AuditLog.objects.filter(action__startswith="admin.").exists()
    assert any(
        level == "error" and "Read-only mode" in text for level, text in messages_of(response)
    )
    assert "read-only-banner" in response.content.decode()


def test_read_only_mode_refuses_adds_and_deletes(staff_client, read_only):
    template = TemplateFactory()

    add = staff_client.post(reverse("admin:templates_app_template_add"), {}, follow=True)
    delete = staff_client.post(
        reverse("admin:templates_app_template_delete", args=[template.pk]),
        {"post": "yes"},
        follow=True,
    )
    bulk = staff_client.post(
        reverse("admin:templates_app_template_changelist"),
        {"action": "delete_selected", "_selected_action": [template.pk], "post": "yes"},
        follow=True,
    )

    assert Template.objects.filter(pk=template.pk).exists()
    assert TemplateItem.objects.filter(template=template).count() == 2
    for response in (add, delete, bulk):
        assert response.status_code == 200
        assert any("Read-only mode" in text for _, text in messages_of(response))


def test_read_only_mode_refuses_password_changes(staff_client, read_only):
    user = OrganizerFactory()
    old_hash = user.password

    response = staff_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "N3w-Secret-pass!", "password2": "N3w-Secret-pass!"},
        follow=True,
    )

    user.refresh_from_db()
    assert user.password == old_hash
    assert any("Read-only mode" in text for _, text in messages_of(response))


def test_pages_still_render_in_read_only_mode(staff_client, read_only):
    template = TemplateFactory()

    assert staff_client.get(change_url(template)).status_code == 200
    assert staff_client.get(reverse("admin:index")).status_code == 200


# --- read-only admins ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model",
    [LedgerEntry, AuditLog, WebhookEvent, "trust.ModerationEvent", "payments.Allocation"],
)
def test_append_only_admins_have_no_add_change_or_delete(staff, rf, model):
    from django.apps import apps
    from django.contrib import admin

    model = apps.get_model(model) if isinstance(model, str) else model
    model_admin = admin.site._registry[model]
    request = rf.get("/")
    request.user = staff
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)


def test_payout_change_page_is_read_only(staff, staff_client):
    payout = builders.eligible_payout()

    response = staff_client.get(change_url(payout))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="status"' not in html and 'name="amount_cents"' not in html
    assert 'name="_save"' not in html
    assert staff_client.post(change_url(payout), {"status": "paid"}).status_code == 403
