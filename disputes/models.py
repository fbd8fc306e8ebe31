import uuid

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from strathwell.audit.services import snapshot
from strathwell.exceptions import (
    AlreadyExists,
    DomainPermissionDenied,
    DomainValidationError,
    InvalidTransition,
)


class DisputeQuerySet(models.QuerySet):
    def for_participant(self, user):
        """Disputes on bookings the user takes part in: as their organizer, or as the user of
        a vendor with a line on them (whoever opened the dispute)."""
        from bookings.models import BookingVendor

        vendor_bookings = BookingVendor.objects.filter(vendor__user_id=user.pk).values("booking_id")
        return self.filter(Q(booking__organizer_id=user.pk) | Q(booking_id__in=vendor_bookings))


class Dispute(models.Model):
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
        return f"Dispute on {self.booking_id} ({self.status})"

    @classmethod
    def open_for_booking(cls, booking_id) -> bool:
        return cls.objects.filter(booking_id=booking_id, status__in=cls.OPEN_STATUSES).exists()

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @staticmethod
    def is_participant(user, booking) -> bool:
        """The booking's organizer, or the user of a vendor with a line on it."""
        from bookings.models import BookingVendor

        if user is None or not getattr(user, "is_authenticated", False):
            return False
        if user.pk == booking.organizer_id:
            return True
        return BookingVendor.objects.filter(booking_id=booking.pk, vendor__user_id=user.pk).exists()

    # --- opening: screen, lock, guard, write, hold, signal -----------------------------------

    @classmethod
    def open(cls, *, booking, opened_by, reason: str, description: str = "") -> "Dispute":
        """A participant opens a dispute on a paid (or later, not canceled) booking.

        Reason and description go through trust screening first (a block → 400 naming the
        field, logged masked). Then, in ONE transaction locking Booking → its eligible Payouts
        (→ the new Dispute): the dispute is created `open` and every `eligible` payout of the
        booking is held with `hold_reason` naming the dispute and `held_by_dispute` set.
        One open dispute per booking (409 `already_exists`, also enforced by a partial unique
        index); a booking in another status → 409 `invalid_transition`; a non-participant →
        403 (the API answers 404 before getting here)."""
        from bookings.models import Booking
        from payments.models import Payout
        from trust.services import screen_user_text

        reason = (reason or "").strip()
        description = (description or "").strip()
        if not reason:
            raise DomainValidationError(
                "reason: say what the dispute is about.",
                details={"reason": ["This field may not be blank."]},
            )
        for field, text in (("reason", reason), ("description", description)):
            screen_user_text(
                user=opened_by,
                text=text,
                field=field,
                context_type="message",
                context_id=str(booking.pk),
            )

        with transaction.atomic():
            locked_booking = Booking.objects.select_for_update().get(pk=booking.pk)
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
            payouts = list(
                Payout.objects.select_for_update()
                .filter(booking_id=locked_booking.pk, status=Payout.Status.ELIGIBLE)
                .order_by("id")
            )
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
            dispute._send(actor=opened_by, action="dispute.open", before=None, reason=reason)
            hold_reason = f"dispute {dispute.pk}: {reason}"
            for payout in payouts:
                payout.hold(actor=opened_by, reason=hold_reason, dispute=dispute)
        return dispute

    # --- staff transitions ----------------------------------------------------------------------

    def start_review(self, *, actor, note: str = "") -> "Dispute":
        """Staff take the dispute: open → under_review. Payouts stay frozen."""
        return self.change_status(actor=actor, status=self.Status.UNDER_REVIEW, note=note)

    def resolve(self, *, actor, status: str, resolution_note: str) -> "Dispute":
        """Staff decide the dispute: under_review → resolved | refunded | adjusted."""
        if status not in self.FINAL_STATUSES:
            raise DomainValidationError(
                f"status: {status!r} does not decide a dispute.",
                details={"status": [f"Must be one of {', '.join(self.FINAL_STATUSES)}."]},
            )
        return self.change_status(actor=actor, status=status, note=resolution_note)

    def change_status(self, *, actor, status: str, note: str = "") -> "Dispute":
        """Move the dispute along `open → under_review → resolved | refunded | adjusted`
        (staff only; a final status needs a resolution note). Audited with before/after and
        the note as reason.

        Locks Booking → the booking's unpaid Payouts → Dispute, then writes the new status
        FIRST (so the payout guards no longer see an open dispute) and settles the money in
        the same transaction:

        - `resolved`: the payouts this dispute held are released (back to `eligible`, or to
          `locked` if they were never due), and completion payouts of a completed booking that
          the dispute kept locked become `eligible`;
        - `refunded`: the payouts this dispute held and every still-`locked` payout of the
          booking are reversed (the deposit goes back to the organizer, nothing of it is due);
        - `adjusted`: the held payouts stay `held` for staff to settle one by one.

        Repeating `under_review` is a no-op; a decided dispute is final (deciding it again,
        even with the same status, → InvalidTransition: the first decision's note and money
        settlement stand). Anything illegal changes nothing."""
        from bookings.models import Booking
        from payments.models import Payout

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
            Booking.objects.select_for_update().filter(pk=self.booking_id).values_list("pk").first()
            if final:
                list(
                    Payout.objects.select_for_update()
                    .filter(
                        booking_id=self.booking_id,
                        status__in=[Payout.Status.HELD, Payout.Status.LOCKED],
                    )
                    .order_by("id")
                    .values_list("pk")
                )
            locked = Dispute.objects.select_for_update().get(pk=self.pk)
            if locked.status == status and not final:
                return locked  # a double click on "under review"
            if status not in self.TRANSITIONS[locked.status]:
                raise InvalidTransition(
                    f"A dispute cannot go from {locked.status} to {status}.",
                    details={"status": locked.status, "requested": status},
                )
            before = snapshot(locked)
            locked.status = status
            fields = ["status", "updated_at"]
            if note:
                locked.resolution_note = note
                fields.append("resolution_note")
            if final:
                locked.resolved_at = timezone.now()
                fields.append("resolved_at")
            locked.save(update_fields=fields)
            locked._send(actor=actor, action=self.ACTIONS[status], before=before, reason=note)
            if final:
                locked._settle_payouts(actor=actor, note=note)
        self._refresh_from(locked)
        return locked

    def _settle_payouts(self, *, actor, note: str) -> None:
        """Apply the decision to the booking's money (inside change_status's transaction,
        with the booking and its unpaid payouts locked and this dispute already decided)."""
        from payments.models import Payout

        reason = f"dispute {self.pk} {self.status}: {note}"
        held = list(
            Payout.objects.filter(held_by_dispute_id=self.pk, status=Payout.Status.HELD).order_by(
                "id"
            )
        )
        if self.status == self.Status.RESOLVED:
            for payout in held:
                payout.release(actor=actor, reason=reason)
            for payout in self._completions_kept_locked():
                payout.make_eligible(actor=actor)
        elif self.status == self.Status.REFUNDED:
            locked_payouts = Payout.objects.filter(
                booking_id=self.booking_id, status=Payout.Status.LOCKED
            ).order_by("id")
            for payout in [*held, *locked_payouts]:
                payout.reverse(actor=actor, reason=reason)
        else:  # ADJUSTED: the held payouts stay held; staff release or reverse each one.
            # Nothing else would ever move the kept-locked completion payouts, so they join
            # the held ones in the staff queue.
            for payout in self._completions_kept_locked():
                payout.hold(actor=actor, reason=reason, dispute=self)

    def _completions_kept_locked(self):
        """The completion payouts of a completed booking, which stayed `locked` while this
        dispute was open (none when the booking is not completed)."""
        from payments.models import Payout

        if self.booking.status != "completed":
            return []
        return Payout.objects.filter(
            booking_id=self.booking_id, kind=Payout.Kind.COMPLETION, status=Payout.Status.LOCKED
        ).order_by("id")

    def _send(self, *, actor, action: str, before, reason: str = "") -> None:
        from disputes.signals import dispute_transitioned

        dispute_transitioned.send(
            sender=Dispute,
            actor=actor,
            action=action,
            target=self,
            before=before,
            after=snapshot(self),
            reason=reason or "",
        )

    def _refresh_from(self, other: "Dispute") -> None:
        for field in ("status", "resolution_note", "resolved_at", "updated_at"):
            setattr(self, field, getattr(other, field))
