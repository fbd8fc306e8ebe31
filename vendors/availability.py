"""Availability: how much of each vendor's capacity is used on each date.

A vendor takes `daily_capacity` events per date (venues: one). Every unit in use is one
`VendorDateUnit` row — `blocked` by the vendor, `held` by an approved line of an unpaid booking,
`booked` by a paid one — occupying a numbered slot of its (vendor, date). The database enforces
the limit (unique slot; on PostgreSQL a trigger refuses a slot ≥ `daily_capacity`), so no
interleaving of requests can put a vendor over capacity: two approvals racing for the last slot
both insert it, one waits for the other's commit and gets the unique violation, and answers
409 `vendor_unavailable`.

The booking side calls this module from its transitions, inside their transaction and after
the booking and line locks (`vendors.locks` documents the order):

- `take_unit`: a line approved (vendor `approve`, organizer `accept-counter`);
- `book_for_booking`: the booking paid (held → booked);
- `release_line`: a line declined or removed; `release_for_booking`: a booking canceled before
  payment, or expired, or — by the refund flow — a paid booking whose money went back. Until
  then a paid booking's units stay booked, canceled or not;
- `check_available`: creating or submitting a booking (and adding a vendor, moving a draft's
  date) with a vendor that is already full → 409.

The vendor's own calendar: `block_date` / `unblock_date`, `set_daily_capacity`, and the
read side: `calendar`, `unavailable_dates`, `exclude_full_on` (the directory's `available_on`).
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from strathwell.exceptions import DomainValidationError, VendorUnavailable
from vendors import locks
from vendors.models import MAX_DAILY_CAPACITY, Vendor, VendorDateUnit
from vendors.signals import vendor_availability_changed

Status = VendorDateUnit.Status

# The constraints that say "this slot is not free": another unit has it, or it is beyond the
# vendor's capacity (the trigger of migration 0003).
SLOT_TAKEN = "vendors_unit_one_per_slot"
SLOT_BEYOND_CAPACITY = "vendors_unit_slot_within_capacity"
MAX_RANGE_DAYS = 366


def _is_slot_conflict(exc: IntegrityError) -> bool:
    name = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    if name is None:  # SQLite names no constraint; its only one an insert can hit is the slot
        return connection.vendor != "postgresql"
    return name in (SLOT_TAKEN, SLOT_BEYOND_CAPACITY)


def _capacity(vendor_id) -> int:
    return Vendor.objects.filter(pk=vendor_id).values_list("daily_capacity", flat=True).get()


def _unavailable(vendor_ids, date: datetime.date, message: str, **details) -> VendorUnavailable:
    return VendorUnavailable(
        message,
        details={
            "vendor_ids": sorted(str(v) for v in vendor_ids),
            "date": date.isoformat(),
            **details,
        },
    )


def _insert_unit(**fields) -> VendorDateUnit | None:
    """Insert one unit in its own savepoint; None when its slot is taken or beyond capacity
    (waiting first, if another transaction is inserting the same slot, for its outcome)."""
    try:
        with transaction.atomic():
            return VendorDateUnit.objects.create(**fields)
    except IntegrityError as exc:
        if _is_slot_conflict(exc):
            return None
        raise


def _free_slots(vendor_id, date: datetime.date, capacity: int) -> list[int]:
    """The slots below capacity that no committed unit occupies now (a hint: the insert
    decides)."""
    used = set(
        VendorDateUnit.objects.filter(vendor_id=vendor_id, date=date).values_list("slot", flat=True)
    )
    return [slot for slot in range(capacity) if slot not in used]


# --- the booking side ----------------------------------------------------------------------------


def take_unit(line, *, date: datetime.date, actor=None) -> VendorDateUnit:
    """An approved line takes one unit of its vendor's capacity on `date`, as `held`.

    Call inside the approval's transaction, with the booking and the line locked. Idempotent
    for the line (a line holds at most one unit). Raises VendorUnavailable (409) when no unit
    is left — blocked, held or booked — and the caller's transaction then rolls back the
    approval too."""
    existing = VendorDateUnit.objects.filter(booking_vendor_id=line.pk).first()
    if existing is not None:
        return existing
    for slot in _free_slots(line.vendor_id, date, _capacity(line.vendor_id)):
        unit = _insert_unit(
            vendor_id=line.vendor_id,
            date=date,
            slot=slot,
            status=Status.HELD,
            booking_vendor_id=line.pk,
        )
        if unit is not None:
            unit.send_transition(actor=actor, action="vendor_unit.hold", before=None)
            return unit
    raise _unavailable(
        [line.vendor_id],
        date,
        f"The vendor is fully booked on {date.isoformat()}: nothing was changed.",
    )


def book_for_booking(
    booking_id, *, actor=None, reason: str = "", units=None
) -> list[VendorDateUnit]:
    """The booking was paid: each unit its lines hold becomes `booked` (call inside the
    payment's transaction, booking locked; `units`: the booking's units if the caller already
    locked them). Units already booked are left as they are."""
    if units is None:
        units = locks.lock_booking_units(booking_id)
    booked = [u for u in units if u.status == Status.HELD]
    # One UPDATE and one audit INSERT for all of them, whatever the number of vendors.
    VendorDateUnit.transition_batch(
        booked, Status.BOOKED, actor=actor, action="vendor_unit.book", reason=reason, verb="book"
    )
    return booked


def _release(units, *, actor, reason: str) -> int:
    for unit in units:
        unit.send_transition(
            actor=actor,
            action="vendor_unit.release",
            before=unit.audit_state(),
            after=None,
            reason=reason,
        )
    if units:
        VendorDateUnit.objects.filter(pk__in=[unit.pk for unit in units]).delete()
    return len(units)


def release_line(line_id, *, actor=None, reason: str = "") -> int:
    """Free the unit a line holds or booked (its line declined, removed or expired). Returns
    how many units were released (0 or 1). Call with the line's booking locked."""
    unit = locks.lock_line_unit(line_id)
    return _release([unit] if unit is not None else [], actor=actor, reason=reason)


def release_for_booking(booking_id, *, actor=None, reason: str = "") -> int:
    """Free every unit a booking's lines hold or booked: the booking was canceled before
    payment or expired, or (the refund flow) its money went back. Returns how many were
    released. Call with the booking locked."""
    return _release(locks.lock_booking_units(booking_id), actor=actor, reason=reason)


def full_vendor_ids(vendor_ids, date: datetime.date) -> list[str]:
    """Which of these vendors have no unit left on `date` (one query)."""
    full = (
        VendorDateUnit.objects.filter(vendor_id__in=list(vendor_ids), date=date)
        .values("vendor_id", "vendor__daily_capacity")
        .annotate(used=Count("id"))
        .filter(used__gte=F("vendor__daily_capacity"))
        .values_list("vendor_id", flat=True)
    )
    return sorted(str(vendor_id) for vendor_id in full)


def check_available(vendor_ids, date: datetime.date) -> None:
    """Raise VendorUnavailable (409, `details.vendor_ids`) if any of these vendors is full on
    `date` — a booking naming it could never be approved."""
    full = full_vendor_ids(vendor_ids, date)
    if full:
        raise _unavailable(
            full,
            date,
            f"{len(full)} of the vendors {'is' if len(full) == 1 else 'are'} fully booked on "
            f"{date.isoformat()}; choose another date or vendor.",
        )


# --- the vendor's own calendar -------------------------------------------------------------------


def _check_not_past(date: datetime.date) -> None:
    if date < timezone.localdate():
        raise DomainValidationError(
            "date: a past date cannot be blocked.",
            details={"date": ["A past date cannot be blocked."]},
        )


def block_date(vendor: Vendor, date: datetime.date, *, note: str = "", actor=None):
    """The vendor blocks a whole date (every unit of its capacity). Returns (entry, created):
    blocking an already blocked date only updates its note. 409 VendorUnavailable when a
    booking holds or booked a unit of that date (nothing is blocked); 400 for a past date."""
    _check_not_past(date)
    note = (note or "").strip()
    with transaction.atomic():
        units = locks.lock_date_units(vendor.pk, date)
        taken = [u for u in units if u.status != Status.BLOCKED]
        if taken:
            raise _unavailable(
                [vendor.pk],
                date,
                f"{date.isoformat()} is {taken[0].status} by a booking and cannot be blocked.",
                status=taken[0].status,
            )
        if units:  # already blocked: the note is all that can change
            before = _block_state(date, units[0].note)
            if units[0].note != note:
                VendorDateUnit.objects.filter(pk__in=[u.pk for u in units]).update(
                    note=note, updated_at=timezone.now()
                )
                _send_block(vendor, actor, "vendor.update_blocked_date", before, date, note)
            return _block_state(date, note), False
        for slot in range(_capacity(vendor.pk)):
            unit = _insert_unit(
                vendor_id=vendor.pk, date=date, slot=slot, status=Status.BLOCKED, note=note
            )
            if unit is None:  # an approval took this slot meanwhile
                raise _unavailable([vendor.pk], date, f"{date.isoformat()} is held by a booking.")
        _send_block(vendor, actor, "vendor.block_date", None, date, note)
    return _block_state(date, note), True


def unblock_date(vendor: Vendor, date: datetime.date, *, actor=None) -> bool:
    """The vendor reopens a date it blocked. False when the date was not blocked."""
    with transaction.atomic():
        units = [u for u in locks.lock_date_units(vendor.pk, date) if u.status == Status.BLOCKED]
        if not units:
            return False
        VendorDateUnit.objects.filter(pk__in=[u.pk for u in units]).delete()
        _send_block(vendor, actor, "vendor.unblock_date", _block_state(date, units[0].note), None)
    return True


def _block_state(date: datetime.date, note: str) -> dict:
    return {"date": date, "status": Status.BLOCKED.value, "note": note}


def _send_block(vendor, actor, action, before, date=None, note=""):
    vendor_availability_changed.send(
        sender=VendorDateUnit,
        actor=actor,
        action=action,
        target=vendor,
        before=before,
        after=_block_state(date, note) if date is not None else None,
        reason="",
    )


def set_daily_capacity(vendor: Vendor, capacity: int, *, actor=None) -> None:
    """Change a (locked, `FOR UPDATE`) vendor's daily capacity and keep its dates consistent,
    in the caller's transaction:

    - lowering it below what a coming date already uses (held or booked) is refused (400);
    - units are renumbered into the slots below the new capacity (past dates keep what does
      not fit: they are history), and blocked dates stay fully blocked (their block covers
      exactly the new capacity).

    While the vendor row is locked no unit can be taken (the trigger reads it `FOR SHARE`)."""
    if vendor.vendor_type == Vendor.VendorType.VENUE and capacity != 1:
        raise DomainValidationError(
            "daily_capacity: a venue hosts one event per date.",
            details={"daily_capacity": ["A venue hosts one event per date; it is always 1."]},
        )
    if not 1 <= capacity <= MAX_DAILY_CAPACITY:
        raise DomainValidationError(
            f"daily_capacity: must be between 1 and {MAX_DAILY_CAPACITY}.",
            details={"daily_capacity": [f"Must be between 1 and {MAX_DAILY_CAPACITY}."]},
        )
    old = vendor.daily_capacity
    if capacity == old:
        return
    today = timezone.localdate()
    units = vendor.date_units.all()
    if capacity < old:
        over = list(
            units.filter(date__gte=today)
            .exclude(status=Status.BLOCKED)
            .values("date")
            .annotate(used=Count("id"))
            .filter(used__gt=capacity)
            .order_by("date")
            .values_list("date", "used")[:5]
        )
        if over:
            listed = ", ".join(f"{d.isoformat()} ({n})" for d, n in over)
            raise DomainValidationError(
                f"daily_capacity: bookings already use more than {capacity} on {listed}.",
                details={
                    "daily_capacity": [
                        f"Bookings already use more than {capacity} on {listed}; the capacity "
                        "cannot go below what a coming date holds."
                    ]
                },
            )
    # The capacity first, so that the trigger accepts the slots written below it.
    vendor.daily_capacity = capacity
    vendor.save(update_fields=["daily_capacity", "updated_at"])
    blocked_dates = set(
        units.filter(date__gte=today, status=Status.BLOCKED).values_list("date", flat=True)
    )
    if capacity < old:
        units.filter(status=Status.BLOCKED, slot__gte=capacity).delete()
        _renumber(vendor, capacity)
    else:
        notes = dict(units.filter(date__in=blocked_dates, slot=0).values_list("date", "note"))
        VendorDateUnit.objects.bulk_create(
            VendorDateUnit(
                vendor=vendor, date=date, slot=slot, status=Status.BLOCKED, note=notes.get(date, "")
            )
            for date in sorted(blocked_dates)
            for slot in range(old, capacity)
        )


def _renumber(vendor: Vendor, capacity: int) -> None:
    """Move units at or above `capacity` into free slots below it, date by date."""
    dates = set(
        vendor.date_units.filter(slot__gte=capacity).values_list("date", flat=True).distinct()
    )
    if not dates:
        return
    by_date = defaultdict(list)
    for unit in locks.lock_vendor_dates_units(vendor.pk, dates):
        by_date[unit.date].append(unit)
    for units in by_date.values():
        used = {u.slot for u in units}
        free = iter(s for s in range(capacity) if s not in used)
        for unit in (u for u in units if u.slot >= capacity):
            slot = next(free, None)
            if slot is None:  # a past date used more than the new capacity: history
                break
            unit.slot = slot
            unit.save(update_fields=["slot", "updated_at"])


# --- reading --------------------------------------------------------------------------------------


def calendar(vendor: Vendor, start: datetime.date, end: datetime.date) -> list[dict]:
    """Every non-open date of the vendor in [start, end], for the vendor itself: one entry per
    blocked date (with its note) and one per booking holding or having booked a unit (with the
    booking's id). A date partly used by a vendor with capacity > 1 is listed (it is not
    open), but stays bookable until full. Date order."""
    rows = (
        VendorDateUnit.objects.filter(vendor=vendor, date__range=(start, end))
        .order_by("date", "slot")
        .values("date", "status", "note", "booking_vendor_id", "booking_vendor__booking_id")
    )
    entries, blocked = [], set()
    for row in rows:
        if row["status"] == Status.BLOCKED:
            if row["date"] in blocked:
                continue
            blocked.add(row["date"])
        entries.append(
            {
                "date": row["date"],
                "status": row["status"],
                "booking_id": row["booking_vendor__booking_id"],
                "booking_vendor_id": row["booking_vendor_id"],
                "note": row["note"],
            }
        )
    return entries


def unavailable_dates(
    vendor: Vendor, start: datetime.date, end: datetime.date
) -> list[datetime.date]:
    """The dates in [start, end] on which the vendor has no unit left (full), in order."""
    return list(
        VendorDateUnit.objects.filter(vendor=vendor, date__range=(start, end))
        .values("date")
        .annotate(used=Count("id"))
        .filter(used__gte=vendor.daily_capacity)
        .order_by("date")
        .values_list("date", flat=True)
    )


def exclude_full_on(queryset: QuerySet, date: datetime.date) -> QuerySet:
    """A vendor queryset without the vendors that are full on `date` (a correlated count in
    the same query: the page's query count does not grow with its size)."""
    used = (
        VendorDateUnit.objects.filter(vendor=OuterRef("pk"), date=date)
        .order_by()
        .values("vendor")
        .annotate(used=Count("id"))
        .values("used")
    )
    return queryset.alias(units_used=Coalesce(Subquery(used), Value(0))).filter(
        Q(units_used__lt=F("daily_capacity"))
    )
