"""The lean read paths answer the same bytes as DRF's serializers and renderer did (issue #15).

Every read endpoint whose representation changed is requested twice for a fixture world, by
each kind of caller: once as the API runs (`LeanSerializerMixin`'s compiled plans, the read
querysets that load only the columns shown, the orjson renderer), once through DRF's own path
(`lean.switch.stock`: `Serializer.to_representation` field by field, and DRF's
`JSONRenderer`). The bodies must be equal byte for byte — and non-trivial: each body is
checked to hold what the world put there, so an empty page cannot pass for equality."""

import datetime
import json

import pytest
from django.core.cache import cache
from rest_framework.renderers import JSONRenderer

from accounts.tests.factories import AdminFactory, OrganizerFactory
from bookings.models import Booking, BookingVendor
from bookings.tests.factories import booking_with_vendors
from conftest import client_for
from notifications.models import Notification
from payments.models import Payout
from payments.tests.factories import succeeded_payment
from strathwell.api import lean
from strathwell.api.renderers import ORJSONRenderer
from templates_app.models import TemplateItem
from templates_app.tests.factories import TemplateFactory
from vendors.tests.factories import ServiceVendorFactory, VenueFactory

pytestmark = pytest.mark.django_db

# Text that JSON writers disagree on if anything does: non-ASCII, escapes, U+2028/2029.
TRICKY = 'Fête «été» — 東京 \u2028line\u2029para "quoted" \\ back\tslash \U0001f389'


@pytest.fixture
def world():
    organizer = OrganizerFactory(subscribed=True)
    template = TemplateFactory(description=TRICKY, summary=TRICKY)
    for i, name in enumerate(["Hall", "Catering £", "Band"]):
        TemplateItem.objects.create(
            template=template, name=name, category="misc", estimated_cost_cents=10_000 * (i + 1),
            position=i,
        )  # fmt: skip
    TemplateFactory()  # a second, itemless one: estimated_total_cents 0
    venue, caterer = VenueFactory(business_name=TRICKY), ServiceVendorFactory()
    draft = booking_with_vendors(
        organizer=organizer, vendors=[venue, caterer], template=template, notes=TRICKY,
        prices=(420_000, 99_999),
    )  # fmt: skip
    awaiting = booking_with_vendors(
        organizer=organizer, vendors=[venue, caterer], status=Booking.Status.AWAITING,
        prices=(300_000, 77_777), event_date=datetime.date.today() + datetime.timedelta(days=200),
    )  # fmt: skip
    first, second = awaiting.vendors.order_by("position")
    BookingVendor.objects.filter(pk=first.pk).update(
        status=BookingVendor.Status.COUNTERED, counter_price_cents=310_000, note=TRICKY
    )
    BookingVendor.objects.filter(pk=second.pk).update(status=BookingVendor.Status.DECLINED)
    paid = succeeded_payment(organizer=organizer, prices=(500_000, 150_000, 80_000)).booking
    paid_venue = paid.vendors.get(role="venue").vendor
    assert Payout.objects.filter(vendor=paid_venue).exists()
    assert Notification.objects.filter(recipient=organizer).exists()
    return {
        "organizer": organizer,
        "vendor_user": venue.user,
        "paid_vendor_user": paid_venue.user,
        "admin": AdminFactory(),
        "template": template,
        "venue": venue,
        "bookings": [draft, awaiting, paid],
        "payout": Payout.objects.filter(vendor=paid_venue).first(),
    }


def both_ways(client, path: str, monkeypatch) -> tuple[bytes, bytes]:
    cache.clear()  # the public template pages are cached: compute both
    lean_response = client.get(path)
    assert lean_response.status_code == 200, (path, lean_response.content[:300])
    cache.clear()
    with monkeypatch.context() as m:
        m.setattr(lean.switch, "stock", True)
        m.setattr(ORJSONRenderer, "render", JSONRenderer.render)
        stock_response = client.get(path)
    assert stock_response.status_code == 200
    return lean_response.content, stock_response.content


def requests_of(world):
    draft, awaiting, paid = world["bookings"]
    template, venue, payout = world["template"], world["venue"], world["payout"]
    return [
        # (caller, path, what the body must hold)
        (None, "/api/v1/templates", str(template.pk)),
        (None, "/api/v1/vendors", str(venue.pk)),
        (None, f"/api/v1/vendors/{venue.pk}", '"venue_profile":{'),
        ("organizer", "/api/v1/bookings", '"counter_price_cents":310000'),
        ("organizer", f"/api/v1/bookings/{draft.pk}", '"notes":"Fête'),
        ("organizer", f"/api/v1/bookings/{paid.pk}", '"amount_paid_cents":'),
        ("organizer", "/api/v1/templates", '"summary":"Fête'),
        ("organizer", f"/api/v1/templates/{template.pk}", '"name":"Catering £"'),
        ("organizer", "/api/v1/notifications", '"kind":'),
        ("vendor_user", "/api/v1/bookings", '"my_line":{'),
        ("vendor_user", f"/api/v1/bookings/{awaiting.pk}", '"status":"countered"'),
        ("vendor_user", "/api/v1/vendors/me", '"admin_notes":'),
        ("paid_vendor_user", "/api/v1/vendor/payouts", str(payout.pk)),
        ("paid_vendor_user", "/api/v1/notifications", '"booking_id":'),
        ("admin", "/api/v1/bookings", str(paid.pk)),
        ("admin", "/api/v1/admin/bookings", str(awaiting.pk)),
        ("admin", "/api/v1/admin/templates", '"is_published":'),
        ("admin", f"/api/v1/admin/templates/{template.pk}", '"created_at":'),
        ("admin", "/api/v1/admin/vendors", '"user_email":'),
        ("admin", "/api/v1/admin/payouts", str(payout.pk)),
        ("admin", f"/api/v1/admin/payouts/{payout.pk}", '"eligible_at":'),
    ]


def test_every_changed_read_endpoint_answers_the_same_bytes(world, monkeypatch, api_client):
    clients = {None: api_client}
    checked = 0
    for who, path, expected in requests_of(world):
        if who not in clients:
            clients[who] = client_for(world[who])
        fast, stock = both_ways(clients[who], path, monkeypatch)
        assert expected in fast.decode(), (path, expected)
        assert fast == stock, path
        checked += 1
    assert checked == len(requests_of(world))


def test_the_tricky_text_survives_and_u2028_is_escaped(world, api_client, monkeypatch):
    body, _ = both_ways(
        client_for(world["organizer"]), f"/api/v1/bookings/{world['bookings'][0].pk}", monkeypatch
    )
    assert b"\\u2028line\\u2029para" in body
    assert json.loads(body)["notes"] == TRICKY


def test_the_stock_switch_really_changes_the_path(world, monkeypatch):
    """The comparison above is not vacuous: with the switch on, DRF's field-by-field path runs
    (a field's `to_representation` is called), and with it off the compiled plan does not."""
    from rest_framework import fields

    calls = []
    original = fields.UUIDField.to_representation

    def spy(self, value):
        calls.append(value)
        return original(self, value)

    monkeypatch.setattr(fields.UUIDField, "to_representation", spy)
    client = client_for(world["organizer"])
    client.get("/api/v1/bookings")
    assert calls == []
    monkeypatch.setattr(lean.switch, "stock", True)
    client.get("/api/v1/bookings")
    assert len(calls) > 10


def test_edge_reads_match_drf_null_links_and_missing_annotations(monkeypatch):
    """A dotted source through a null foreign key (DRF omits a read-only field), an annotation
    absent from the instance, a nullable column: the lean plan gives DRF's output."""
    from rest_framework import serializers

    from bookings.models import Booking as BookingModel

    class Probe(lean.LeanSerializerMixin, serializers.ModelSerializer):
        template_slug = serializers.CharField(source="template.slug", read_only=True)
        organizer_email = serializers.CharField(source="organizer.email", read_only=True)
        guests_total = serializers.IntegerField(read_only=True)  # an annotation, if any

        class Meta:
            model = BookingModel
            fields = ["id", "template_id", "template_slug", "organizer_email", "guests_total"]

    with_template = booking_with_vendors(template=TemplateFactory())
    without = booking_with_vendors()
    for booking in (with_template, without):
        fresh = BookingModel.objects.get(pk=booking.pk)
        fast = Probe(fresh).data
        monkeypatch.setattr(lean.switch, "stock", True)
        stock = Probe(BookingModel.objects.get(pk=booking.pk)).data
        monkeypatch.setattr(lean.switch, "stock", False)
        assert fast == stock
    assert "template_slug" not in fast  # the null link: omitted, as DRF does
