"""Give the bookings that existed before availability their capacity units, so their dates are
not open to a second booking: every approved line of a paid booking (paid, in progress,
completed, or canceled after payment: no refund releases units yet) gets a `booked` unit, then
every approved line of an unpaid live booking a `held` one — paid first, then by approval
time. Every vendor has capacity 1 here; a line whose vendor date is already taken (a double
booking made before this guard existed) gets none and is logged for staff."""

import logging

from django.db import migrations
from django.db.models import Q

logger = logging.getLogger("strathwell.migrations")

PAID = ["paid", "in_progress", "completed"]
UNPAID = ["awaiting_vendor_approval", "ready_for_payment"]


def backfill(apps, schema_editor):
    BookingVendor = apps.get_model("bookings", "BookingVendor")
    Vendor = apps.get_model("vendors", "Vendor")
    VendorDateUnit = apps.get_model("vendors", "VendorDateUnit")

    approved = BookingVendor.objects.filter(
        status="approved", capacity_unit__isnull=True
    ).select_related("booking")
    paid = approved.filter(
        Q(booking__status__in=PAID) | Q(booking__status="canceled", booking__paid_at__isnull=False)
    ).order_by("booking__paid_at", "responded_at", "created_at", "id")
    held = approved.filter(booking__status__in=UNPAID).order_by("responded_at", "created_at", "id")

    capacity = dict(Vendor.objects.values_list("id", "daily_capacity"))
    used = {}
    for vendor_id, date, slot in VendorDateUnit.objects.values_list("vendor_id", "date", "slot"):
        used.setdefault((vendor_id, date), set()).add(slot)
    units = []
    for status, lines in (("booked", paid), ("held", held)):
        for line in lines.iterator():
            key = (line.vendor_id, line.booking.event_date)
            taken = used.setdefault(key, set())
            slot = next((s for s in range(capacity[line.vendor_id]) if s not in taken), None)
            if slot is None:
                logger.warning(
                    "vendor %s is already full on %s: line %s of booking %s gets no unit "
                    "(a double booking made before availability existed)",
                    line.vendor_id,
                    line.booking.event_date,
                    line.pk,
                    line.booking_id,
                )
                continue
            taken.add(slot)
            units.append(
                VendorDateUnit(
                    vendor_id=line.vendor_id,
                    date=line.booking.event_date,
                    slot=slot,
                    status=status,
                    booking_vendor_id=line.pk,
                )
            )
    VendorDateUnit.objects.bulk_create(units, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("vendors", "0003_availability"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
