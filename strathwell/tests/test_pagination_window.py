"""`WindowCountPaginator` (strathwell/api/pagination.py) answers what Django's paginator
answered — count, pages, links, and the 404 of a page that does not exist — with one query a
page instead of two."""

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import OrganizerFactory
from bookings.models import Booking
from bookings.tests.factories import booking_with_vendors
from conftest import client_for
from strathwell.api.pagination import StandardPagination, WindowCountPaginator

pytestmark = pytest.mark.django_db

QUERIES = [
    "",
    "?page_size=2",
    "?page=2&page_size=2",
    "?page=3&page_size=2",  # the last page, partial
    "?page=4&page_size=2",  # past the end
    "?page=0",
    "?page=-1",
    "?page=abc",
    "?page=1.0",
    "?page=4991940670400371884032",  # beyond any OFFSET the database takes
    "?status=completed",  # no results: page 1 is an empty page
    "?status=completed&page=2",
    "?status=draft&page=1&page_size=1",
]


@pytest.fixture
def organizer_client():
    organizer = OrganizerFactory(subscribed=True)
    for _ in range(5):
        booking_with_vendors(organizer=organizer, status=Booking.Status.DRAFT)
    return client_for(organizer)


@pytest.mark.parametrize("query", QUERIES)
def test_the_same_answer_as_djangos_paginator(query, organizer_client, monkeypatch):
    path = f"/api/v1/bookings{query}"
    with CaptureQueriesContext(connection) as window_queries:
        windowed = organizer_client.get(path)
    monkeypatch.setattr(StandardPagination, "django_paginator_class", Paginator)
    with CaptureQueriesContext(connection) as django_queries:
        plain = organizer_client.get(path)
    assert (windowed.status_code, windowed.content) == (plain.status_code, plain.content)
    if windowed.status_code == 200 and windowed.json()["results"]:
        assert len(window_queries) == len(django_queries) - 1  # no SELECT COUNT(*)
        assert "COUNT(*) OVER ()" in " ".join(q["sql"] for q in window_queries)


def test_what_the_window_cannot_count_goes_through_djangos_path():
    for queryset in (
        Booking.objects.order_by("id").distinct(),
        Booking.objects.order_by("id").values_list("id", flat=True),
    ):
        booking_with_vendors()
        paginator = WindowCountPaginator(queryset, 10)
        with CaptureQueriesContext(connection) as queries:
            page = paginator.page(1)
        assert paginator.count == len(page) == queryset.count()
        assert not any("OVER ()" in q["sql"] for q in queries)
        assert any("COUNT(*)" in q["sql"] for q in queries)
