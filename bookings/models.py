"""Bookings: an organizer's request for one venue plus service vendors, and its state machines.

Every status change is a model method with one shape — lock, re-read, guard, write, signal:

- rows are locked through `bookings.locks` in the project's one lock order (webhook event →
  booking → lines → vendor units → payment → payouts → dispute): the booking first, then the
  line, then the capacity unit it holds;
- the guard (`strathwell.transitions.Transitions`) runs on the re-read, locked row; an illegal
  transition raises `InvalidTransition` before anything is written, so it changes nothing;
- saves name their fields; one domain signal per transition is sent inside the transaction, so
  the audit row commits or rolls back with the change.

An approved line holds one unit of its vendor's capacity on the event date
(`vendors.availability`), taken in the approval's own transaction after the booking and line
locks — none left is 409 `vendor_unavailable` and the approval rolls back. The hold becomes
`booked` when the booking is paid and is released when its line is declined or removed or its
booking is canceled before payment; a paid booking keeps its units until its money is refunded.

These methods move no money: cancelling or completing a booking, and changing the lines of a
payable one, go through `payments.services`, which calls them inside its own transaction and
holds, voids or releases the money there. Trust screening of free text happens in the caller
(the API) before a method is called.

Because every line change holds the booking lock, "is every line approved?" is decided on a
consistent view: the approval that leaves no line un-approved (with a venue present) moves the
booking to `ready_for_payment` in its own transaction, exactly once.
"""

import datetime
import uuid

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from bookings import locks
from bookings.signals import booking_transitioned, booking_vendor_transitioned
from strathwell.exceptions import (
    BalanceDue,
    DomainPermissionDenied,
    DomainValidationError,
    InvalidTransition,
    VendorNotApproved,
)
from strathwell.money import percent_of
from strathwell.system import SYSTEM, is_system
from strathwell.transitions import Transitions
from vendors import availability

__all__ = ["MAX_PRICE_CENTS", "Booking", "BookingVendor", "percent_of"]

MAX_PRICE_CENTS = 100_000_000_000  # one billion in major units: far above any real booking


def _is_valid_price(cents) -> bool:
    """A price in whole cents: an int in (0, MAX_PRICE_CENTS]."""
    return isinstance(cents, int) and 0 < cents <= MAX_PRICE_CENTS


def _venue_capacity(vendor) -> int | None:
    """The venue's guest capacity, or None when the vendor has no venue profile."""
    try:
        return vendor.venue_profile.capacity
    except models.ObjectDoesNotExist:
        return None


def _raise_if_invalid(errors: dict[str, list[str]]) -> None:
    """Raise DomainValidationError (400, field details) if any field collected a message."""
    errors = {field: messages for field, messages in errors.items() if messages}
    if errors:
        field, messages = next(iter(errors.items()))
        raise DomainValidationError(f"{field}: {messages[0]}", details=errors)


# Vendors on one booking, at most: bounds the work of every booking-wide transition.
MAX_BOOKING_VENDORS = 20


def _is_admin(actor) -> bool:
    return bool(actor is not None and getattr(actor, "is_admin", False))


class Booking(Transitions, models.Model):
    """An organizer's request for one venue plus any number of service vendors."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        AWAITING = "awaiting_vendor_approval"
        READY = "ready_for_payment"
        PAID = "paid"
        IN_PROGRESS = "in_progress"
        COMPLETED = "completed"
        CANCELED = "canceled"
        EXPIRED = "expired"

    # Every edge of the booking's state graph. Each action below also names the states it may
    # start from (a subset of these edges), e.g. organizers cancel only before payment.
    # `expired` is the `expire_unpaid_bookings` job's: a payable booking left unpaid for
    # PAYMENT_WINDOW_HOURS; like `canceled` it is final.
    TRANSITIONS = {
        Status.DRAFT: {Status.AWAITING, Status.CANCELED},
        Status.AWAITING: {Status.READY, Status.CANCELED},
        Status.READY: {Status.AWAITING, Status.PAID, Status.CANCELED, Status.EXPIRED},
        Status.PAID: {Status.IN_PROGRESS, Status.COMPLETED, Status.CANCELED},
        Status.IN_PROGRESS: {Status.COMPLETED, Status.CANCELED},
        Status.COMPLETED: set(),
        Status.CANCELED: set(),
        Status.EXPIRED: set(),
    }
    TRANSITION_ERROR = "Cannot {verb} a booking that is {old}."
    TRANSITION_ERROR_DETAILS = {"status": "{old}", "action": "{verb}"}
    transition_signal = booking_transitioned
    # Lines can be added and removed until the booking is paid.
    LINES_EDITABLE = frozenset({Status.DRAFT, Status.AWAITING, Status.READY})
    # The organizer cancels before the event starts; a paid booking's money is refunded by
    # the cancellation policy (`payments.services.cancel_booking`).
    ORGANIZER_CANCELABLE = frozenset({Status.DRAFT, Status.AWAITING, Status.READY, Status.PAID})
    ADMIN_CANCELABLE = frozenset(
        {Status.DRAFT, Status.AWAITING, Status.READY, Status.PAID, Status.IN_PROGRESS}
    )
    FORCE_COMPLETABLE = frozenset({Status.PAID, Status.IN_PROGRESS})
    # Paid and not canceled: the deposit is in (`is_paid_or_later`). mark_paid on such a
    # booking is a no-op (webhooks are redelivered).
    ALREADY_PAID = frozenset({Status.PAID, Status.IN_PROGRESS, Status.COMPLETED})
    EDITABLE_FIELDS = ("title", "event_date", "guest_count", "notes")
    # Never sent to its vendors: a draft, or a draft canceled before it was submitted. Vendors
    # are not shown it (the bookings list, disputes), not even that it exists.
    UNSENT_TO_VENDORS = models.Q(status=Status.DRAFT) | models.Q(
        status=Status.CANCELED, submitted_at__isnull=True
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings"
    )
    template = models.ForeignKey(
        "templates_app.Template",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bookings",
    )
    title = models.CharField(max_length=200)
    event_date = models.DateField()
    guest_count = models.PositiveIntegerField()
    notes = models.TextField(blank=True)
    status = models.CharField(
        max_length=30, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    currency = models.CharField(max_length=3, default=settings.DEFAULT_CURRENCY)
    cancel_reason = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # When it last became ready_for_payment: the payment window runs from here.
    ready_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    # Kept by `payments.services` (booking locked) as money moves: Σ succeeded payments −
    # Σ succeeded refunds, and Σ succeeded refunds. `check_ledger` verifies both.
    amount_paid_cents = models.BigIntegerField(default=0)
    amount_refunded_cents = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(guest_count__gt=0), name="bookings_guest_count_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=[
                        "draft",
                        "awaiting_vendor_approval",
                        "ready_for_payment",
                        "paid",
                        "in_progress",
                        "completed",
                        "canceled",
                        "expired",
                    ]
                ),
                name="bookings_booking_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.status})"

    def audit_state(self) -> dict:
        """A booking's audit rows record its status."""
        return {"status": self.status}

    @property
    def balance_due(self) -> bool:
        """Whether the organizer still owes money on the booking (`balance_cents > 0`):
        `start_events` starts only bookings that owe nothing."""
        return self.balance_cents > 0

    @property
    def is_paid_or_later(self) -> bool:
        """Paid, in progress or completed: its money exists (payouts may be requested,
        disputes opened)."""
        return self.status in self.ALREADY_PAID

    # --- derived money ---------------------------------------------------------------------
    # Computed from `self.vendors.all()`, so a `prefetch_related("vendors")` makes them free.

    @property
    def total_cents(self) -> int:
        """Sum of the lines' effective prices: agreed where agreed, else proposed (a counter
        counts only once the organizer accepts it); declined lines do not count."""
        return sum(line.effective_price_cents for line in self.vendors.all())

    @property
    def deposit_cents(self) -> int:
        """`round_half_up(total_cents × BOOKING_DEPOSIT_PERCENT / 100)`."""
        return percent_of(self.total_cents, settings.BOOKING_DEPOSIT_PERCENT)

    @property
    def received_cents(self) -> int:
        """Σ succeeded payments (refunds not subtracted)."""
        return self.amount_paid_cents + self.amount_refunded_cents

    @property
    def balance_cents(self) -> int:
        """What the organizer still has to pay: `total_cents` − Σ succeeded payments, never
        negative; 0 once canceled. A refund is money the platform gave back, so it does not
        make the organizer owe it again."""
        if self.status == self.Status.CANCELED:
            return 0
        return max(0, self.total_cents - self.received_cents)

    @property
    def balance_due_on(self) -> datetime.date:
        """`event_date − BALANCE_DUE_DAYS`."""
        return self.event_date - datetime.timedelta(days=settings.BALANCE_DUE_DAYS)

    def record_money(self, *, received: int = 0, refunded: int = 0) -> None:
        """Payments' bookkeeping on a LOCKED booking (`payments.services`, in the transaction
        that moves the money): a payment received or a refund made."""
        self.amount_paid_cents += received - refunded
        self.amount_refunded_cents += refunded
        self.save(update_fields=["amount_paid_cents", "amount_refunded_cents", "updated_at"])

    # --- creation ----------------------------------------------------------------------------

    @classmethod
    def create_request(
        cls,
        *,
        organizer,
        title: str,
        event_date: datetime.date,
        guest_count: int,
        lines,
        notes: str = "",
        template=None,
        pk=None,
    ) -> "Booking":
        """Create a `draft` booking with its lines (`lines`: [(vendor, proposed_price_cents)]).

        Validates the whole request first (every vendor approved → else 403
        `vendor_not_approved`; exactly one venue, no vendor twice, prices > 0, event date in the
        future, guest count within the venue's capacity, published template → else 400 with
        field details; no vendor full on the date → else 409 `vendor_unavailable`) and then
        writes booking and lines in one transaction: all or nothing. A draft holds no capacity."""
        lines = list(lines)
        unapproved = [str(v.pk) for v, _ in lines if not v.is_approved]
        if unapproved:
            raise VendorNotApproved(
                "Only approved vendors can be added to a booking.",
                details={"vendors": [f"Vendor {vid} is not approved." for vid in unapproved]},
            )
        errors: dict[str, list[str]] = {}
        vendor_errors = errors.setdefault("vendors", [])
        if not lines:
            vendor_errors.append("A booking needs at least its venue.")
        seen = set()
        for vendor, price in lines:
            if vendor.pk in seen:
                vendor_errors.append(f"Vendor {vendor.pk} is listed more than once.")
            seen.add(vendor.pk)
            if not _is_valid_price(price):
                vendor_errors.append(
                    f"The proposed price for vendor {vendor.pk} must be a positive whole number "
                    "of cents."
                )
        venues = [v for v, _ in lines if v.vendor_type == v.VendorType.VENUE]
        if lines and len(venues) != 1:
            vendor_errors.append(
                f"A booking needs exactly one venue vendor; this request has {len(venues)}."
            )
        cls._check_event_date(event_date, errors)
        if not isinstance(guest_count, int) or guest_count < 1:
            errors.setdefault("guest_count", []).append("At least one guest is required.")
        elif len(venues) == 1:
            cls._check_capacity(venues[0], guest_count, errors, field="guest_count")
        if template is not None and not template.is_published:
            errors.setdefault("template_id", []).append("This template is not available.")
        if not (title or "").strip():
            errors.setdefault("title", []).append("A title is required.")
        _raise_if_invalid(errors)
        # A vendor already full on that date could never approve: say so now (409).
        availability.check_available([vendor.pk for vendor, _ in lines], event_date)

        with transaction.atomic():
            booking = cls.objects.create(
                **({"id": pk} if pk else {}),
                organizer=organizer,
                template=template,
                title=title.strip(),
                event_date=event_date,
                guest_count=guest_count,
                notes=notes or "",
            )
            BookingVendor.objects.bulk_create(
                [
                    BookingVendor(
                        booking=booking,
                        vendor=vendor,
                        role=vendor.vendor_type,
                        proposed_price_cents=price,
                        position=position,
                    )
                    for position, (vendor, price) in enumerate(lines)
                ]
            )
            booking.send_transition(actor=organizer, action="booking.create", before=None)
        return booking

    # --- helpers of the transitions ----------------------------------------------------------

    @staticmethod
    def _check_event_date(event_date, errors: dict) -> None:
        if event_date is not None and event_date <= timezone.localdate():
            errors.setdefault("event_date", []).append("The event date must be in the future.")

    @staticmethod
    def _check_capacity(venue, guest_count, errors: dict, *, field: str) -> None:
        capacity = _venue_capacity(venue)
        if capacity is not None and guest_count is not None and guest_count > capacity:
            errors.setdefault(field, []).append(
                f"The venue holds at most {capacity} guests; the booking has {guest_count}."
            )

    def _lines(self):
        """The booking's lines, freshly read and locked (call with the booking locked)."""
        return locks.lock_lines(self.pk)

    def _require_organizer(self, actor) -> None:
        """Organizer actions: the booking's organizer (or staff, through admin tooling)."""
        if actor is None or not (actor.pk == self.organizer_id or _is_admin(actor)):
            raise DomainPermissionDenied("Only the booking's organizer can do this.")

    @staticmethod
    def _require_admin(actor, reason: str) -> None:
        if not _is_admin(actor):
            raise DomainPermissionDenied("Only staff can do this.")
        if not (reason or "").strip():
            raise DomainValidationError(
                "A reason is required.", details={"reason": ["A reason is required."]}
            )

    def _require_lines_editable(self, action: str) -> None:
        if self.status not in self.LINES_EDITABLE:
            verb = "added to" if action == "add_vendor" else "removed from"
            raise InvalidTransition(
                f"Vendors cannot be {verb} a booking that is {self.status}.",
                details={"status": self.status, "action": action},
            )

    @staticmethod
    def _payable(lines) -> bool:
        """Every line approved, with exactly one venue among them."""
        return (
            bool(lines)
            and sum(1 for line in lines if line.role == BookingVendor.Role.VENUE) == 1
            and all(line.status == BookingVendor.Status.APPROVED for line in lines)
        )

    def _settle(self, *, actor, reason: str = "") -> None:
        """After a line change (booking locked): awaiting → ready when the lines became payable,
        ready → awaiting when they stopped being so. At most one transition. (A payable
        booking's pending deposit is voided by `payments.services`, which wraps the line
        changes that can reach a `ready_for_payment` booking.)"""
        if self.status not in (self.Status.AWAITING, self.Status.READY):
            return
        payable = self._payable(self._lines())
        if self.status == self.Status.AWAITING and payable:
            self.transition(
                self.Status.READY,
                actor=actor,
                action="booking.ready_for_payment",
                reason=reason,
                verb="make payable",
                ready_at=timezone.now(),
            )
        elif self.status == self.Status.READY and not payable:
            self.transition(
                self.Status.AWAITING,
                actor=actor,
                action="booking.reopen",
                reason=reason,
                verb="reopen",
            )

    def check_editable(self) -> None:
        """Details (title, date, guests, notes) change only while the booking is a draft: else
        InvalidTransition. The API checks it before screening the notes; `update_details`
        again under the lock."""
        if self.status != self.Status.DRAFT:
            raise InvalidTransition(
                f"Only a draft booking can be edited; this one is {self.status}.",
                details={"status": self.status, "action": "update"},
            )

    # --- organizer transitions ---------------------------------------------------------------

    def update_details(self, *, actor, **changes) -> "Booking":
        """Edit title, event date, guest count or notes of a `draft` booking (else 409).
        Validates the event date (future, no vendor of the booking full on it → else 409
        `vendor_unavailable`) and the guest count (within the venue's capacity)."""
        unknown = set(changes) - set(self.EDITABLE_FIELDS)
        if unknown:
            raise DomainValidationError(
                "These fields cannot be changed.",
                details={f: ["This field cannot be changed."] for f in sorted(unknown)},
            )
        with transaction.atomic():
            locked = locks.lock_booking(self.pk)
            locked._require_organizer(actor)
            locked.check_editable()
            errors: dict[str, list[str]] = {}
            if "event_date" in changes:
                self._check_event_date(changes["event_date"], errors)
            if "title" in changes and not (changes["title"] or "").strip():
                errors.setdefault("title", []).append("A title is required.")
            if "guest_count" in changes:
                venue = next(
                    (line for line in locked._lines() if line.role == BookingVendor.Role.VENUE),
                    None,
                )
                if venue is not None:
                    self._check_capacity(
                        venue.vendor, changes["guest_count"], errors, field="guest_count"
                    )
            _raise_if_invalid(errors)
            new_date = changes.get("event_date", locked.event_date)
            if new_date != locked.event_date:
                availability.check_available([line.vendor_id for line in locked._lines()], new_date)
                # Drafts hold nothing; should one ever hold, the hold was for the old date.
                availability.release_for_booking(
                    locked.pk, actor=actor, reason="The event date changed."
                )
            for field, value in changes.items():
                setattr(locked, field, value.strip() if field == "title" else value)
            if changes:
                locked.save(update_fields=[*changes, "updated_at"])
        return locked

    def submit(self, *, actor) -> "Booking":
        """`draft → awaiting_vendor_approval`: the request goes out to its vendors. Requires
        exactly one venue, every vendor still approved, a future event date, a guest count
        within the venue's capacity and no vendor full on the date (409 `vendor_unavailable`)."""
        with transaction.atomic():
            locked = locks.lock_booking(self.pk)
            locked._require_organizer(actor)
            locked.check_transition(
                self.Status.AWAITING, allowed_from={self.Status.DRAFT}, verb="submit"
            )
            lines = locked._lines()
            venues = [line for line in lines if line.role == BookingVendor.Role.VENUE]
            if len(venues) != 1:
                raise InvalidTransition(
                    "A booking needs exactly one venue before it can be submitted.",
                    details={"status": locked.status, "action": "submit"},
                )
            unapproved = [str(line.vendor_id) for line in lines if not line.vendor.is_approved]
            if unapproved:
                raise VendorNotApproved(
                    "Some vendors on this booking are no longer approved; replace them first.",
                    details={"vendors": [f"Vendor {vid} is not approved." for vid in unapproved]},
                )
            errors: dict[str, list[str]] = {}
            self._check_event_date(locked.event_date, errors)
            self._check_capacity(venues[0].vendor, locked.guest_count, errors, field="guest_count")
            _raise_if_invalid(errors)
            availability.check_available([line.vendor_id for line in lines], locked.event_date)
            locked.transition(
                self.Status.AWAITING,
                actor=actor,
                action="booking.submit",
                verb="submit",
                submitted_at=timezone.now(),
            )
            # Lines are all pending after a draft, but never leave a payable booking waiting.
            locked._settle(actor=actor)
        return locked

    def add_vendor(self, *, actor, vendor, proposed_price_cents: int) -> "BookingVendor":
        """Add a vendor line (pending) before payment. A `ready_for_payment` booking goes back
        to `awaiting_vendor_approval` in the same transaction. Returns the new line. (Through
        `payments.services.add_vendor`, which voids a pending deposit priced on the old lines.)"""
        errors: dict[str, list[str]] = {}
        if not _is_valid_price(proposed_price_cents):
            errors["proposed_price_cents"] = ["The price must be a positive whole number of cents."]
        with transaction.atomic():
            locked = locks.lock_booking(self.pk)
            locked._require_organizer(actor)
            locked._require_lines_editable("add_vendor")
            if not vendor.is_approved:
                raise VendorNotApproved(
                    "Only approved vendors can be added to a booking.",
                    details={"vendor_id": ["This vendor is not approved."]},
                )
            lines = locked._lines()
            if len(lines) >= MAX_BOOKING_VENDORS:
                errors.setdefault("vendor_id", []).append(
                    f"A booking has at most {MAX_BOOKING_VENDORS} vendors."
                )
            if any(line.vendor_id == vendor.pk for line in lines):
                errors.setdefault("vendor_id", []).append("This vendor is already on the booking.")
            if vendor.vendor_type == vendor.VendorType.VENUE:
                if any(line.role == BookingVendor.Role.VENUE for line in lines):
                    errors.setdefault("vendor_id", []).append(
                        "The booking already has a venue; remove it before adding another."
                    )
                self._check_capacity(vendor, locked.guest_count, errors, field="vendor_id")
            _raise_if_invalid(errors)
            availability.check_available([vendor.pk], locked.event_date)
            line = BookingVendor.objects.create(
                booking=locked,
                vendor=vendor,
                role=vendor.vendor_type,
                proposed_price_cents=proposed_price_cents,
                position=max((line.position for line in lines), default=-1) + 1,
            )
            line.send_transition(actor=actor, action="booking_vendor.add", before=None)
            locked._settle(actor=actor, reason="A vendor was added.")
        line.booking = locked
        return line

    def remove_vendor(self, *, actor, line) -> "Booking":
        """Remove a line before payment (e.g. to replace a vendor who declined). Removing the
        last un-approved line of a booking with a venue makes it `ready_for_payment`. (Through
        `payments.services.remove_vendor`, like `add_vendor`.)"""
        with transaction.atomic():
            locked = locks.lock_booking(self.pk)
            locked._require_organizer(actor)
            locked._require_lines_editable("remove_vendor")
            locked_line = locks.lock_line(locked.pk, line.pk)
            availability.release_line(locked_line.pk, actor=actor, reason="The line was removed.")
            locked_line.send_transition(
                actor=actor,
                action="booking_vendor.remove",
                before=locked_line.audit_state(),
                after=None,
            )
            locked_line.delete()
            locked._settle(actor=actor, reason="A vendor was removed.")
        return locked

    def accept_counter(self, *, actor, line) -> "Booking":
        """The organizer accepts a line's counter-offer: `countered → approved` with
        agreed = counter price, taking a unit of the vendor's capacity on the event date (none
        left → 409 `vendor_unavailable`, nothing changes). May make the booking
        `ready_for_payment`."""
        with transaction.atomic():
            locked = locks.lock_booking(self.pk)
            locked._require_organizer(actor)
            if locked.status != self.Status.AWAITING:
                raise InvalidTransition(
                    f"Counter-offers can only be accepted while the booking awaits vendors; "
                    f"it is {locked.status}.",
                    details={"status": locked.status, "action": "accept_counter"},
                )
            locked_line = locks.lock_line(locked.pk, line.pk)
            locked_line.transition(
                BookingVendor.Status.APPROVED,
                actor=actor,
                action="booking_vendor.accept_counter",
                allowed_from={BookingVendor.Status.COUNTERED},
                verb="accept the counter-offer of",
                agreed_price_cents=locked_line.counter_price_cents,
                responded_at=timezone.now(),
            )
            availability.take_unit(locked_line, date=locked.event_date, actor=actor)
            locked._settle(actor=actor)
        return locked

    def cancel(self, *, actor, reason: str = "") -> "Booking":
        """Organizer cancel before the event starts (`draft`, `awaiting_vendor_approval`,
        `ready_for_payment`, `paid` → `canceled`). Call it through
        `payments.services.cancel_booking`, which voids the booking's pending payments and
        refunds a paid booking by the cancellation policy."""
        with transaction.atomic():
            locked = locks.lock_booking(self.pk)
            locked._require_organizer(actor)
            locked._to_canceled(
                actor=actor,
                action="booking.cancel",
                reason=reason,
                allowed_from=self.ORGANIZER_CANCELABLE,
            )
        return locked

    def start(self, *, actor, reason: str = "") -> "Booking":
        """`paid → in_progress` (the event is under way): by the organizer, or by the system on
        the event date (`start_event`); 409 `balance_due` while anything of the total is
        unpaid."""
        with transaction.atomic():
            locked = locks.lock_booking(self.pk)
            if not is_system(actor):
                locked._require_organizer(actor)
            if locked.status == self.Status.PAID and locked.balance_cents > 0:
                raise BalanceDue(
                    f"The balance of {locked.balance_cents} {locked.currency} must be paid "
                    "before the event starts.",
                    details={
                        "booking_id": str(locked.pk),
                        "balance_cents": locked.balance_cents,
                        "balance_due_on": locked.balance_due_on.isoformat(),
                    },
                )
            locked.transition(
                self.Status.IN_PROGRESS,
                actor=actor,
                action="booking.start",
                reason=reason,
                allowed_from={self.Status.PAID},
                verb="start",
            )
        return locked

    def complete(self, *, actor, reason: str = "") -> "Booking":
        """`in_progress → completed`, by the organizer or by the system (`complete_events`).
        Call it through `payments.services.complete_booking`, which makes the completion
        payouts eligible in the same transaction."""
        with transaction.atomic():
            locked = locks.lock_booking(self.pk)
            if not is_system(actor):
                locked._require_organizer(actor)
            locked._to_completed(
                actor=actor,
                action="booking.complete",
                allowed_from={self.Status.IN_PROGRESS},
                verb="complete",
                reason=reason,
            )
        return locked

    # --- timed transitions (the periodic jobs, actor `system`) --------------------------------
    #
    # Each job selects candidates with the `*_q` filter below, then calls the method, which
    # locks the booking and re-checks the same rule on the locked row: a booking that changed
    # in between (paid, canceled, already moved by another run of the job) is left alone.

    @classmethod
    def payment_overdue_q(cls, now: datetime.datetime) -> models.Q:
        """Ready for payment for PAYMENT_WINDOW_HOURS or more."""
        return models.Q(status=cls.Status.READY, ready_at__lte=now - cls.payment_window())

    @staticmethod
    def payment_window() -> datetime.timedelta:
        return datetime.timedelta(hours=settings.PAYMENT_WINDOW_HOURS)

    def payment_overdue(self, now: datetime.datetime) -> bool:
        return (
            self.status == self.Status.READY
            and self.ready_at is not None
            and self.ready_at <= now - self.payment_window()
        )

    @classmethod
    def start_due_q(cls, today: datetime.date) -> models.Q:
        """Paid in full (Σ succeeded payments ≥ the lines' agreed total), and its event date
        has come: a booking still owing its balance is not due (and not a backlog)."""
        total = (
            BookingVendor.objects.filter(booking=models.OuterRef("pk"))
            .exclude(status=BookingVendor.Status.DECLINED)
            .values("booking")
            .annotate(total=models.Sum("agreed_price_cents"))
            .values("total")
        )
        return models.Q(
            status=cls.Status.PAID,
            event_date__lte=today,
            amount_paid_cents__gte=models.Subquery(total) - models.F("amount_refunded_cents"),
        )

    def start_due(self, today: datetime.date) -> bool:
        return self.status == self.Status.PAID and self.event_date <= today and not self.balance_due

    @classmethod
    def completion_due_q(cls, today: datetime.date) -> models.Q:
        """In progress, COMPLETION_GRACE_DAYS after its event date (disputes: see
        `payments.services.complete_event`)."""
        return models.Q(
            status=cls.Status.IN_PROGRESS,
            event_date__lte=today - datetime.timedelta(days=settings.COMPLETION_GRACE_DAYS),
        )

    def completion_due(self, today: datetime.date) -> bool:
        grace = datetime.timedelta(days=settings.COMPLETION_GRACE_DAYS)
        return self.status == self.Status.IN_PROGRESS and self.event_date + grace <= today

    def start_event(self, *, today: datetime.date) -> "Booking | None":
        """`start_events`: a fully paid `paid` booking on (or after) its event date →
        `in_progress`, actor `system`. Locks the booking and re-checks; None when it is no
        longer due (started, canceled, or money still owed)."""
        with transaction.atomic():
            locked = locks.lock_booking(self.pk)
            if not locked.start_due(today):
                return None
            return locked.start(
                actor=SYSTEM, reason=f"start_events: the event date {locked.event_date} came"
            )

    def expire(self, *, actor, reason: str) -> "Booking":
        """`ready_for_payment → expired` (final), for the `expire_unpaid_bookings` job through
        `payments.services.expire_booking`, which voids the pending payment and releases the
        vendors' holds in the same transaction."""
        with transaction.atomic():
            locked = locks.lock_booking(self.pk)
            locked.transition(
                self.Status.EXPIRED,
                actor=actor,
                action="booking.expire",
                reason=reason,
                allowed_from={self.Status.READY},
                verb="expire",
                expired_at=timezone.now(),
            )
        return locked

    # --- staff and payment transitions ------------------------------------------------------

    def admin_cancel(self, *, actor, reason: str) -> "Booking":
        """Staff cancel from any non-final state, with a required reason (through
        `payments.services.cancel_booking`, which holds the payouts of a paid booking)."""
        self._require_admin(actor, reason)
        with transaction.atomic():
            locked = locks.lock_booking(self.pk)
            locked._to_canceled(
                actor=actor,
                action="booking.admin_cancel",
                reason=reason,
                allowed_from=self.ADMIN_CANCELABLE,
            )
        return locked

    def force_complete(self, *, actor, reason: str) -> "Booking":
        """Staff completion of a `paid` or `in_progress` booking, with a required reason
        (through `payments.services.complete_booking`)."""
        self._require_admin(actor, reason)
        with transaction.atomic():
            locked = locks.lock_booking(self.pk)
            locked._to_completed(
                actor=actor,
                action="booking.force_complete",
                allowed_from=self.FORCE_COMPLETABLE,
                verb="force-complete",
                reason=reason,
            )
        return locked

    def mark_paid(
        self,
        *,
        actor=None,
        payment=None,
        received_cents: int = 0,
        locked: bool = False,
        units=None,
    ) -> "Booking":
        """`ready_for_payment → paid`, called by payments inside its own transaction (which
        already holds this row's lock), recording the deposit received (`received_cents`, as
        `record_money`) in the same write; the units its lines hold become `booked`.
        Idempotent: on a booking already paid (or past it) it is a no-op that returns the
        booking, since webhooks are redelivered. `locked=True`: this instance was locked and
        re-read by the caller in this transaction, which this call is part of (not read again,
        no savepoint of its own); `units`: its capacity units, already locked by the caller."""
        with transaction.atomic(savepoint=not locked):
            locked = self if locked else locks.lock_booking(self.pk)
            if locked.status in self.ALREADY_PAID:
                return locked
            locked.transition(
                self.Status.PAID,
                actor=actor,
                action="booking.mark_paid",
                reason=f"Payment {payment.pk} succeeded." if payment is not None else "",
                allowed_from={self.Status.READY},
                verb="mark as paid",
                paid_at=timezone.now(),
                amount_paid_cents=locked.amount_paid_cents + received_cents,
            )
            availability.book_for_booking(
                locked.pk, actor=actor, reason="The booking was paid.", units=units
            )
        return locked

    def _to_canceled(self, *, actor, action: str, reason: str, allowed_from) -> None:
        """→ canceled. An unpaid booking's holds are released at once; a paid booking keeps its
        booked units until its money is refunded (the refund flow releases them)."""
        was_paid = self.is_paid_or_later
        self.transition(
            self.Status.CANCELED,
            actor=actor,
            action=action,
            reason=reason,
            allowed_from=allowed_from,
            verb="cancel",
            canceled_at=timezone.now(),
            cancel_reason=reason or "",
        )
        if not was_paid:
            availability.release_for_booking(
                self.pk, actor=actor, reason=f"The booking was canceled. {reason}".strip()
            )

    def _to_completed(self, *, actor, action: str, allowed_from, verb: str, reason: str = ""):
        self.transition(
            self.Status.COMPLETED,
            actor=actor,
            action=action,
            reason=reason,
            allowed_from=allowed_from,
            verb=verb,
            completed_at=timezone.now(),
        )


class BookingVendor(Transitions, models.Model):
    """One vendor's line on a booking: its role, price negotiation and approval status."""

    class Role(models.TextChoices):
        VENUE = "venue"
        SERVICE = "service"

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        DECLINED = "declined"
        COUNTERED = "countered"
        EXPIRED = "expired"

    # A vendor may counter again while countered, or decline instead; only the organizer
    # turns a counter into an approval (accept_counter). Approved, declined and expired are
    # final for the line (the organizer removes it and adds a replacement). `expired` is the
    # `expire_vendor_requests` job's: nobody settled the line within VENDOR_RESPONSE_HOURS.
    TRANSITIONS = {
        Status.PENDING: {Status.APPROVED, Status.DECLINED, Status.COUNTERED, Status.EXPIRED},
        Status.COUNTERED: {Status.APPROVED, Status.DECLINED, Status.COUNTERED, Status.EXPIRED},
        Status.APPROVED: set(),
        Status.DECLINED: set(),
        Status.EXPIRED: set(),
    }
    AWAITING_ANSWER = frozenset({Status.PENDING, Status.COUNTERED})
    TRANSITION_ERROR = "Cannot {verb} a line that is {old}."
    TRANSITION_ERROR_DETAILS = {"line_status": "{old}"}
    transition_signal = booking_vendor_transitioned

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="vendors")
    vendor = models.ForeignKey(
        "vendors.Vendor", on_delete=models.PROTECT, related_name="booking_lines"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Creation order within the booking: allocation ties go to the earlier line.
    position = models.PositiveIntegerField(default=0)
    proposed_price_cents = models.PositiveBigIntegerField()
    counter_price_cents = models.PositiveBigIntegerField(null=True, blank=True)
    agreed_price_cents = models.PositiveBigIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["booking", "position", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "vendor"], name="bookings_vendor_once_per_booking"
            ),
            models.UniqueConstraint(
                fields=["booking"],
                condition=models.Q(role="venue"),
                name="bookings_one_venue_per_booking",
            ),
            models.CheckConstraint(
                condition=models.Q(proposed_price_cents__gt=0),
                name="bookings_proposed_price_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(counter_price_cents__isnull=True)
                | models.Q(counter_price_cents__gt=0),
                name="bookings_counter_price_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(agreed_price_cents__isnull=True)
                | models.Q(agreed_price_cents__gt=0),
                name="bookings_agreed_price_positive",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="approved") | models.Q(agreed_price_cents__isnull=False),
                name="bookings_approved_has_agreed_price",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="countered")
                | models.Q(counter_price_cents__isnull=False),
                name="bookings_countered_has_counter_price",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=["venue", "service"]),
                name="bookings_line_role_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=["pending", "approved", "declined", "countered", "expired"]
                ),
                name="bookings_line_status_valid",
            ),
        ]

    def __str__(self):
        # What staff read in the console: names, not ids.
        return f"{self.vendor} · {self.booking.title} ({self.get_status_display()})"

    @property
    def effective_price_cents(self) -> int:
        """What this line adds to the booking total: agreed price once agreed, else the
        proposed one; 0 for a declined or expired line."""
        if self.status in (self.Status.DECLINED, self.Status.EXPIRED):
            return 0
        if self.agreed_price_cents is not None:
            return self.agreed_price_cents
        return self.proposed_price_cents

    # --- vendor transitions ------------------------------------------------------------------

    def approve(self, *, actor) -> "BookingVendor":
        """That vendor approves its line: `pending → approved`, agreed = proposed, taking one
        unit of its capacity on the event date (none left → 409 `vendor_unavailable`, nothing
        changes). The approval that leaves no line un-approved makes the booking
        `ready_for_payment` (same transaction). Locks Booking → BookingVendor → its unit."""
        with transaction.atomic():
            booking, line = self._lock_for_vendor(actor)
            line.transition(
                self.Status.APPROVED,
                actor=actor,
                action="booking_vendor.approve",
                allowed_from={self.Status.PENDING},
                verb="approve",
                agreed_price_cents=line.proposed_price_cents,
                responded_at=timezone.now(),
            )
            availability.take_unit(line, date=booking.event_date, actor=actor)
            booking._settle(actor=actor)
        return line

    def decline(self, *, actor, reason: str = "") -> "BookingVendor":
        """That vendor declines (from `pending` or its own counter). The booking keeps
        awaiting: the organizer replaces the vendor (remove + add)."""
        with transaction.atomic():
            _booking, line = self._lock_for_vendor(actor)
            line.transition(
                self.Status.DECLINED,
                actor=actor,
                action="booking_vendor.decline",
                reason=reason,
                allowed_from={self.Status.PENDING, self.Status.COUNTERED},
                verb="decline",
                note=reason or "",
                responded_at=timezone.now(),
            )
            # A declined line holds nothing (it never held: only approved lines do).
            availability.release_line(line.pk, actor=actor, reason="The line was declined.")
        return line

    def counter(self, *, actor, price_cents: int, note: str = "") -> "BookingVendor":
        """That vendor proposes another price (`pending|countered → countered`); the
        organizer may accept it. Countering again replaces the previous counter."""
        if not _is_valid_price(price_cents):
            raise DomainValidationError(
                "The counter price is not valid.",
                details={"price_cents": ["The price must be a positive whole number of cents."]},
            )
        with transaction.atomic():
            _booking, line = self._lock_for_vendor(actor)
            line.transition(
                self.Status.COUNTERED,
                actor=actor,
                action="booking_vendor.counter",
                allowed_from={self.Status.PENDING, self.Status.COUNTERED},
                verb="counter",
                counter_price_cents=price_cents,
                note=note or "",
                responded_at=timezone.now(),
            )
        return line

    # --- the `expire_vendor_requests` job (actor `system`) --------------------------------------

    @staticmethod
    def response_window() -> datetime.timedelta:
        return datetime.timedelta(hours=settings.VENDOR_RESPONSE_HOURS)

    @classmethod
    def response_overdue_q(cls, now: datetime.datetime) -> models.Q:
        """Still pending or countered VENDOR_RESPONSE_HOURS after the booking's submission and
        after the line's own addition, on a booking that awaits its vendors."""
        cutoff = now - cls.response_window()
        return models.Q(
            status__in=list(cls.AWAITING_ANSWER),
            booking__status=Booking.Status.AWAITING,
            booking__submitted_at__lte=cutoff,
            created_at__lte=cutoff,
        )

    def response_due_at(self, booking: Booking) -> datetime.datetime | None:
        """When the line expires if nobody settles it (None before the booking is submitted)."""
        if booking.submitted_at is None:
            return None
        return max(booking.submitted_at, self.created_at) + self.response_window()

    def expire(self, *, now: datetime.datetime) -> "BookingVendor | None":
        """`pending|countered → expired`, actor `system`. Locks booking → line and re-checks
        the rule of `response_overdue_q` on them; None when the line is no longer due (answered,
        accepted, removed, the booking moved on, or expired by another run)."""
        with transaction.atomic():
            booking = locks.lock_booking(self.booking_id)
            if booking.status != Booking.Status.AWAITING:
                return None
            try:
                line = locks.lock_line(booking.pk, self.pk)
            except InvalidTransition:  # removed by the organizer meanwhile
                return None
            due_at = line.response_due_at(booking)
            if line.status not in self.AWAITING_ANSWER or due_at is None or due_at > now:
                return None
            line.transition(
                self.Status.EXPIRED,
                actor=SYSTEM,
                action="booking_vendor.expire",
                reason=(
                    f"expire_vendor_requests: no answer within {settings.VENDOR_RESPONSE_HOURS} "
                    "hours"
                ),
                allowed_from=self.AWAITING_ANSWER,
                verb="expire",
            )
            line.booking = booking
        return line

    # --- helpers -------------------------------------------------------------------------------

    def _lock_for_vendor(self, actor):
        """Lock the booking, then this line; check the actor is this line's (approved) vendor
        and the booking awaits vendor answers."""
        booking = locks.lock_booking(self.booking_id)
        line = locks.lock_line(booking.pk, self.pk)
        line.check_answerer(actor)
        if booking.status != Booking.Status.AWAITING:
            raise InvalidTransition(
                f"Vendors can only answer a booking that awaits their approval; it is "
                f"{booking.status}.",
                details={"status": booking.status, "line_status": line.status},
            )
        line.booking = booking
        return booking, line

    def check_answerer(self, actor) -> None:
        """Only this line's vendor answers it (else 403), and only while that vendor is
        approved (else 403 vendor_not_approved). The API checks it before screening the text;
        the answer methods again under the lock."""
        if actor is None or self.vendor.user_id != actor.pk:
            raise DomainPermissionDenied("Only this line's vendor can answer it.")
        if not self.vendor.is_approved:
            raise VendorNotApproved()

    def audit_state(self) -> dict:
        """A line's audit rows record its status, vendor and prices."""
        return {
            "status": self.status,
            "vendor_id": str(self.vendor_id),
            "proposed_price_cents": self.proposed_price_cents,
            "counter_price_cents": self.counter_price_cents,
            "agreed_price_cents": self.agreed_price_cents,
        }
