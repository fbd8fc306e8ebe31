"""Disputes: a participant's complaint about a paid booking, decided by staff.

`Dispute` methods are pure transitions (lock, re-read, guard, write, signal). While a dispute
is open the booking's payouts are frozen; holding, releasing and reversing them is money, so
opening and deciding a dispute go through `payments.services.open_dispute` /
`change_dispute_status`, which lock booking → payouts → dispute (the project's lock order) and
call these methods inside their transaction. Free text is screened by the caller (the API).
"""

import uuid

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from bookings.locks import lock_booking
from bookings.models import BookingVendor
from disputes.signals import dispute_transitioned
from strathwell.exceptions import (
    AlreadyExists,
    DomainPermissionDenied,
    DomainValidationError,
    InvalidTransition,
)
from strathwell.transitions import Transitions


class DisputeQuerySet(models.QuerySet):
    def for_participant(self, user):
        """Disputes on bookings the user takes part in: as their organizer, or as the user of
        a vendor with a line on them (whoever opened the dispute)."""
        vendor_bookings = BookingVendor.objects.filter(vendor__user_id=user.pk).values("booking_id")
        return self.filter(Q(booking__organizer_id=user.pk) | Q(booking_id__in=vendor_bookings))


class Dispute(Transitions, models.Model):
    """A participant's complaint about a booking. While open it freezes the booking's payouts."""

    class Status(models.TextChoices):
        OPEN = "open"
        UNDER_REVIEW = "under_review"
        RESOLVED = "resolved"
        REFUNDED = "refunded"
        ADJUSTED = "adjusted"

    OPEN_STATUSES = (Status.OPEN, Status.UNDER_REVIEW)
    FINAL_STATUSES = (Status.RESOLVED, Status.REFUNDED, Status.ADJUSTED)
    # The contract's chain: staff take a dispute under review before deciding it.
    TRANSITIONS = {
        Status.OPEN: {Status.UNDER_REVIEW},
        Status.UNDER_REVIEW: {Status.RESOLVED, Status.REFUNDED, Status.ADJUSTED},
        Status.RESOLVED: set(),
        Status.REFUNDED: set(),
        Status.ADJUSTED: set(),
    }
    TRANSITION_ERROR = "A dispute cannot go from {old} to {new}."
    TRANSITION_ERROR_DETAILS = {"status": "{old}", "requested": "{new}"}
    transition_signal = dispute_transitioned
    ACTIONS = {
        Status.UNDER_REVIEW: "dispute.start_review",
        Status.RESOLVED: "dispute.resolve",
        Status.REFUNDED: "dispute.refund",
        Status.ADJUSTED: "dispute.adjust",
    }
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, related_name="disputes"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="disputes_opened"
    )
    reason = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    resolution_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = DisputeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            # One open dispute per booking at a time.
            models.UniqueConstraint(
                fields=["booking"],
                condition=models.Q(status__in=["open", "under_review"]),
                name="disputes_one_open_per_booking",
            ),
        ]

    def __str__(self):
        return f"Dispute on {self.booking.title} ({self.get_status_display()})"

    @classmethod
    def open_for_booking(cls, booking_id) -> bool:
        return cls.objects.filter(booking_id=booking_id, status__in=cls.OPEN_STATUSES).exists()

    @staticmethod
    def is_participant(user, booking) -> bool:
        """The booking's organizer, or the user of a vendor with a line on it."""
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        if user.pk == booking.organizer_id:
            return True
        return BookingVendor.objects.filter(booking_id=booking.pk, vendor__user_id=user.pk).exists()

    # --- opening: lock, guard, write, signal ---------------------------------------------------

    @classmethod
    def open(cls, *, booking, opened_by, reason: str, description: str = "") -> "Dispute":
        """A participant opens a dispute on a paid (or later, not canceled) booking: the
        dispute is created `open` (through `payments.services.open_dispute`, which also holds
        the booking's eligible payouts in the same transaction).

        One open dispute per booking (409 `already_exists`, also enforced by a partial unique
        index); a booking in another status → 409 `invalid_transition`; a non-participant →
        403 (the API answers 404 before getting here)."""
        reason = (reason or "").strip()
        description = (description or "").strip()
        if not reason:
            raise DomainValidationError(
                "reason: say what the dispute is about.",
                details={"reason": ["This field may not be blank."]},
            )
        with transaction.atomic():
            locked_booking = lock_booking(booking.pk)
            if not cls.is_participant(opened_by, locked_booking):
                raise DomainPermissionDenied(
                    "Only the booking's organizer or one of its vendors can open a dispute."
                )
            # Money exists only once a booking is paid; a canceled booking's payouts are
            # already held for staff to settle, so there is nothing for a dispute to freeze.
            if not locked_booking.is_paid_or_later:
                raise InvalidTransition(
                    f"A dispute can be opened once the booking is paid; it is "
                    f"{locked_booking.status}.",
                    details={"booking_id": str(locked_booking.pk), "status": locked_booking.status},
                )
            if cls.open_for_booking(locked_booking.pk):
                raise AlreadyExists("This booking already has an open dispute.")
            try:
                with transaction.atomic():
                    dispute = cls.objects.create(
                        booking=locked_booking,
                        opened_by=opened_by,
                        reason=reason,
                        description=description,
                    )
            except IntegrityError as exc:  # the partial unique index, as a backstop
                raise AlreadyExists("This booking already has an open dispute.") from exc
            dispute.send_transition(
                actor=opened_by, action="dispute.open", before=None, reason=reason
            )
        return dispute

    # --- staff transitions ----------------------------------------------------------------------

    def change_status(self, *, actor, status: str, note: str = "") -> "Dispute":
        """Move the dispute along `open → under_review → resolved | refunded | adjusted`
        (staff only; a final status needs a resolution note). Audited with before/after and
        the note as reason. Locks the dispute (last in the lock order: the caller,
        `payments.services.change_dispute_status`, has locked the booking and its unpaid
        payouts, and settles them after this write, in the same transaction).

        Repeating `under_review` is a no-op; a decided dispute is final (deciding it again,
        even with the same status, → InvalidTransition: the first decision's note and money
        settlement stand). Anything illegal changes nothing."""
        if actor is None or not getattr(actor, "is_admin", False):
            raise DomainPermissionDenied("Only staff can change a dispute's status.")
        if status not in self.Status.values:
            raise DomainValidationError(
                f"status: {status!r} is not a dispute status.",
                details={"status": [f"Must be one of {', '.join(self.Status.values)}."]},
            )
        note = (note or "").strip()
        final = status in self.FINAL_STATUSES
        if final and not note:
            raise DomainValidationError(
                "resolution_note: say how the dispute was decided.",
                details={"resolution_note": ["A resolution note is required."]},
            )
        with transaction.atomic():
            locked = self.lock_row()
            if locked.status == status and not final:
                return locked  # a double click on "under review"
            changes = {}
            if note:
                changes["resolution_note"] = note
            if final:
                changes["resolved_at"] = timezone.now()
            locked.transition(
                status, actor=actor, action=self.ACTIONS[status], reason=note, **changes
            )
        self._refresh_from(locked)
        return locked

    def _refresh_from(self, other: "Dispute") -> None:
        for field in ("status", "resolution_note", "resolved_at", "updated_at"):
            setattr(self, field, getattr(other, field))
