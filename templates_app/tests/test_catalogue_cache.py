"""The public catalogue's page cache (templates_app/catalogue.py): a repeated page costs no
query, and every way staff change templates shows on the very next read."""

import pytest
from django.db import transaction

from accounts.tests.factories import AdminFactory
from conftest import client_for
from templates_app.models import Template, TemplateItem
from templates_app.tests.factories import TemplateFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the version changes on commit


def titles(client, query="") -> list[str]:
    response = client.get(f"/api/v1/templates{query}")
    assert response.status_code == 200
    return [row["title"] for row in response.json()["results"]]


def test_a_repeated_page_costs_no_query(api_client, django_assert_num_queries):
    TemplateFactory(title="Garden party")
    with django_assert_num_queries(1):  # the page with its count
        first = api_client.get("/api/v1/templates").content
    with django_assert_num_queries(0):
        again = api_client.get("/api/v1/templates").content
    assert again == first and b"Garden party" in again


def test_filters_pages_and_hosts_are_cached_apart(api_client):
    TemplateFactory(title="Wedding A", event_type="wedding")
    TemplateFactory(title="Gala B", event_type="gala")
    assert titles(api_client, "?event_type=wedding") == ["Wedding A"]
    assert titles(api_client, "?event_type=gala") == ["Gala B"]
    assert len(titles(api_client, "?page_size=1")) == 1
    other_host = api_client.get("/api/v1/templates?page_size=1", HTTP_HOST="localhost")
    assert other_host.json()["next"].startswith("http://localhost/")


def test_staff_changes_show_on_the_next_read(api_client):
    admin = client_for(AdminFactory())
    template = TemplateFactory(title="Old title")
    assert titles(api_client) == ["Old title"]

    response = admin.patch(
        f"/api/v1/admin/templates/{template.pk}",
        {"title": "New title", "items": [{"name": "Hall", "category": "venue",
                                          "estimated_cost_cents": 123}]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 200
    page = api_client.get("/api/v1/templates").json()["results"]
    assert [(r["title"], r["estimated_total_cents"]) for r in page] == [("New title", 123)]

    # The admin site and shell edit the models directly: signals bump the version too.
    TemplateItem.objects.create(template=template, name="Band", category="music",
                                estimated_cost_cents=7)  # fmt: skip
    assert api_client.get("/api/v1/templates").json()["results"][0]["estimated_total_cents"] == 130
    template.is_published = False
    template.save()
    assert titles(api_client) == []
    TemplateFactory(title="Fresh")
    assert titles(api_client) == ["Fresh"]
    Template.objects.get(title="Fresh").delete()
    assert titles(api_client) == []


def test_a_rolled_back_change_keeps_the_page_and_a_committed_one_replaces_it(api_client):
    TemplateFactory(title="Kept")
    assert titles(api_client) == ["Kept"]
    with pytest.raises(RuntimeError), transaction.atomic():
        TemplateFactory(title="Never")
        raise RuntimeError("rolled back")
    assert titles(api_client) == ["Kept"]
    with transaction.atomic():
        TemplateFactory(title="Committed")
        # Inside the transaction the version has not moved: a reader would still be served
        # the old page (and one computed now is stored under the old version, never read).
        assert "Committed" not in titles(api_client)
    assert sorted(titles(api_client)) == ["Committed", "Kept"]
