"""Templates: the public list, the gated detail and staff authoring (audited)."""

import uuid

import pytest

from accounts.tests.factories import OrganizerFactory, VendorUserFactory
from bookings.tests.factories import BookingFactory
from strathwell.audit.models import AuditLog
from templates_app.models import Template, TemplateItem
from templates_app.tests.factories import TemplateFactory

pytestmark = pytest.mark.django_db

SUMMARY_FIELDS = {
    "id",
    "slug",
    "title",
    "event_type",
    "summary",
    "guest_count_min",
    "guest_count_max",
    "estimated_total_cents",
    "currency",
}


def new_template_body(**overrides):
    return {
        "slug": "garden-wedding",
        "title": "Garden wedding",
        "event_type": "wedding",
        "summary": "An outdoor ceremony and dinner.",
        "description": "Everything for a garden wedding.",
        "guest_count_min": 40,
        "guest_count_max": 120,
        "is_published": True,
        "items": [
            {"name": "Garden hire", "category": "venue", "estimated_cost_cents": 400_000},
            {"name": "Dinner", "category": "catering", "estimated_cost_cents": 250_050},
        ],
        **overrides,
    }


# --- public list ----------------------------------------------------------------------------


def test_public_list_shows_published_summaries_only(api_client):
    published = TemplateFactory(title="A published")
    TemplateFactory(title="B draft", is_published=False)
    response = api_client.get("/api/v1/templates")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    (row,) = body["results"]
    assert set(row) == SUMMARY_FIELDS
    assert row["id"] == str(published.id)
    assert row["estimated_total_cents"] == 420_000
    assert isinstance(row["estimated_total_cents"], int)
    assert row["currency"] == "usd"


def test_template_without_items_totals_zero(api_client):
    TemplateFactory(items=[])
    (row,) = api_client.get("/api/v1/templates").json()["results"]
    assert row["estimated_total_cents"] == 0


def test_public_list_filters_by_event_type_and_guests(api_client):
    wedding = TemplateFactory(event_type="wedding", guest_count_min=50, guest_count_max=150)
    gala = TemplateFactory(event_type="gala", guest_count_min=200, guest_count_max=500)
    ids = lambda r: {row["id"] for row in r.json()["results"]}  # noqa: E731
    assert ids(api_client.get("/api/v1/templates", {"event_type": "wedding"})) == {str(wedding.id)}
    assert ids(api_client.get("/api/v1/templates", {"event_type": "GALA"})) == {str(gala.id)}
    assert ids(api_client.get("/api/v1/templates", {"guests": 300})) == {str(gala.id)}
    assert ids(api_client.get("/api/v1/templates", {"event_type": "party"})) == set()


@pytest.mark.parametrize("rows", [5, 50])
def test_public_list_query_count_does_not_grow(api_client, django_assert_num_queries, rows):
    for i in range(rows):
        TemplateFactory(items=[("Item", "misc", 100 * i), ("Other", "misc", 1)])
    # the page with its count (a window) and estimated totals (a subquery)
    with django_assert_num_queries(1):
        response = api_client.get("/api/v1/templates", {"page_size": 100})
    assert len(response.json()["results"]) == rows
    totals = sorted(row["estimated_total_cents"] for row in response.json()["results"])
    assert totals == sorted(100 * i + 1 for i in range(rows))


# --- gated detail ---------------------------------------------------------------------------


def test_subscribed_organizer_reads_detail_with_items(organizer_client):
    template = TemplateFactory()
    response = organizer_client.get(f"/api/v1/templates/{template.id}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == SUMMARY_FIELDS | {"description", "items"}
    assert body["description"] == template.description
    assert body["items"] == [
        {"name": "Venue hire", "category": "venue", "estimated_cost_cents": 300_000},
        {"name": "Catering", "category": "catering", "estimated_cost_cents": 120_000},
    ]
    assert body["estimated_total_cents"] == 420_000


def test_detail_is_gated(make_client, api_client):
    template = TemplateFactory()
    url = f"/api/v1/templates/{template.id}"
    unsubscribed = make_client(OrganizerFactory()).get(url)
    assert unsubscribed.status_code == 403
    assert unsubscribed.json()["error"]["code"] == "subscription_required"
    vendor = make_client(VendorUserFactory()).get(url)
    assert vendor.status_code == 403
    assert vendor.json()["error"]["code"] == "permission_denied"
    assert api_client.get(url).status_code == 401


def test_unpublished_or_unknown_template_is_404_except_for_admins(
    organizer_client, admin_client_api
):
    draft = TemplateFactory(is_published=False)
    response = organizer_client.get(f"/api/v1/templates/{draft.id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert organizer_client.get(f"/api/v1/templates/{uuid.uuid4()}").status_code == 404
    assert admin_client_api.get(f"/api/v1/templates/{draft.id}").status_code == 200


# --- admin authoring ------------------------------------------------------------------------


def test_admin_creates_template_with_items_audited(admin_client_api, admin_user):
    response = admin_client_api.post("/api/v1/admin/templates", new_template_body())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["slug"] == "garden-wedding"
    assert body["estimated_total_cents"] == 650_050
    assert [i["name"] for i in body["items"]] == ["Garden hire", "Dinner"]
    assert body["is_published"] is True

    template = Template.objects.get(pk=body["id"])
    assert template.items.count() == 2
    log = AuditLog.objects.get(action="template.create")
    assert log.actor_id == admin_user.id
    assert log.target_type == "templates_app.template" and log.target_id == str(template.id)
    assert log.before is None
    assert log.after["title"] == "Garden wedding"
    assert [i["name"] for i in log.after["items"]] == ["Garden hire", "Dinner"]
    assert log.after["estimated_total_cents"] == 650_050


def test_admin_create_derives_a_unique_slug(admin_client_api):
    TemplateFactory(slug="garden-wedding")
    body = new_template_body()
    del body["slug"]
    response = admin_client_api.post("/api/v1/admin/templates", body)
    assert response.status_code == 201
    assert response.json()["slug"] == "garden-wedding-2"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"slug": "taken"}, "slug"),
        ({"guest_count_min": 200, "guest_count_max": 100}, "guest_count_max"),
        ({"guest_count_min": 0}, "guest_count_min"),
        ({"title": ""}, "title"),
        ({"currency": "US Dollars"}, "currency"),
        (
            {"items": [{"name": "x", "category": "y", "estimated_cost_cents": -1}]},
            "items",
        ),
        ({"items": [{"name": "x", "category": "y", "estimated_cost_cents": 1.5}]}, "items"),
    ],
)
def test_admin_create_validation(admin_client_api, overrides, field):
    TemplateFactory(slug="taken")
    response = admin_client_api.post("/api/v1/admin/templates", new_template_body(**overrides))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["details"]
    assert Template.objects.count() == 1
    assert not AuditLog.objects.filter(action="template.create").exists()


def test_admin_patch_replaces_items_and_audits_before_after(admin_client_api, admin_user):
    template = TemplateFactory(title="Old title")
    response = admin_client_api.patch(
        f"/api/v1/admin/templates/{template.id}",
        {
            "title": "New title",
            "items": [{"name": "Band", "category": "music", "estimated_cost_cents": 90_000}],
        },
    )
    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "New title"
    assert response.json()["estimated_total_cents"] == 90_000
    assert list(template.items.values_list("name", flat=True)) == ["Band"]

    log = AuditLog.objects.get(action="template.update")
    assert log.actor_id == admin_user.id and log.target_id == str(template.id)
    assert log.before["title"] == "Old title" and log.after["title"] == "New title"
    assert [i["name"] for i in log.before["items"]] == ["Venue hire", "Catering"]
    assert [i["name"] for i in log.after["items"]] == ["Band"]
    assert log.before["estimated_total_cents"] == 420_000
    assert log.after["estimated_total_cents"] == 90_000


def test_admin_patch_without_items_keeps_them(admin_client_api):
    template = TemplateFactory()
    response = admin_client_api.patch(
        f"/api/v1/admin/templates/{template.id}", {"is_published": False}
    )
    assert response.status_code == 200
    assert response.json()["is_published"] is False
    assert template.items.count() == 2
    log = AuditLog.objects.get(action="template.update")
    assert log.before["is_published"] is True and log.after["is_published"] is False
    assert log.before["items"] == log.after["items"]


def test_admin_patch_checks_guest_range_against_stored_values(admin_client_api):
    template = TemplateFactory(guest_count_min=50, guest_count_max=150)
    response = admin_client_api.patch(
        f"/api/v1/admin/templates/{template.id}", {"guest_count_min": 200}
    )
    assert response.status_code == 400
    assert "guest_count_max" in response.json()["error"]["details"]
    template.refresh_from_db()
    assert template.guest_count_min == 50


def test_admin_delete_is_audited_and_keeps_bookings(admin_client_api):
    template = TemplateFactory()
    booking = BookingFactory(template=template)
    response = admin_client_api.delete(f"/api/v1/admin/templates/{template.id}")
    assert response.status_code == 204
    assert not Template.objects.filter(pk=template.pk).exists()
    assert not TemplateItem.objects.filter(template_id=template.pk).exists()
    booking.refresh_from_db()
    assert booking.template_id is None
    log = AuditLog.objects.get(action="template.delete")
    assert log.target_id == str(template.id)
    assert log.before["slug"] == template.slug and len(log.before["items"]) == 2
    assert log.after is None


def test_admin_lists_unpublished_too(admin_client_api):
    TemplateFactory(is_published=False)
    TemplateFactory()
    assert admin_client_api.get("/api/v1/admin/templates").json()["count"] == 2
    published = admin_client_api.get("/api/v1/admin/templates", {"is_published": "true"})
    assert published.json()["count"] == 1


@pytest.mark.parametrize("rows", [5, 50])
def test_admin_list_query_count_does_not_grow(admin_client_api, django_assert_num_queries, rows):
    for _ in range(rows):
        TemplateFactory()
    # user + the page with its count + items prefetch
    with django_assert_num_queries(3):
        response = admin_client_api.get("/api/v1/admin/templates", {"page_size": 100})
    assert len(response.json()["results"]) == rows


def test_non_admins_cannot_author(organizer_client, make_client):
    template = TemplateFactory()
    vendor_client = make_client(VendorUserFactory())
    for client in (organizer_client, vendor_client):
        assert client.get("/api/v1/admin/templates").status_code == 403
        assert client.post("/api/v1/admin/templates", new_template_body()).status_code == 403
        response = client.patch(f"/api/v1/admin/templates/{template.id}", {"title": "x"})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
        assert client.delete(f"/api/v1/admin/templates/{template.id}").status_code == 403
    assert Template.objects.count() == 1
    assert not AuditLog.objects.filter(action__startswith="template.").exists()


def test_put_is_not_offered(admin_client_api):
    template = TemplateFactory()
    response = admin_client_api.put(f"/api/v1/admin/templates/{template.id}", new_template_body())
    assert response.status_code == 405
