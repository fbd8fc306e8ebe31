import uuid

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from disputes.models import Dispute
from payments import ledger, locks
from payments.signals import payment_transitioned, payout_transitioned, refund_transitioned
from strathwell.audit.models import AppendOnlyQuerySet
from strathwell.audit.services import snapshot
from strathwell.exceptions import DomainValidationError, InvalidTransition
from strathwell.money import format_cents
from strathwell.transitions import Transitions

# The fields an audit row shows for a payment / payout transition (client_secret never).
PAYMENT_AUDIT_FIELDS = [
    "status",
    "amount_cents",
    "currency",
    "stripe_payment_intent_id",
    "failure_message",
    "succeeded_at",
    "payouts_created_at",
]


class Payment(Transitions, models.Model):
    """A deposit or balance collected through a Stripe PaymentIntent. Success is learned only
    from a signed webhook."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit"
        BALANCE = "balance"

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELED = "canceled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, related_name="payments"
    )
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.DEPOSIT)
    amount_cents = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3, default=settings.DEFAULT_CURRENCY)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    stripe_payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    client_secret = models.CharField(max_length=255, blank=True)
    failure_message = models.TextField(blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    payouts_created_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="payments_amount_positive"
            ),
            # At most one successful deposit (and one balance) per booking.
            models.UniqueConstraint(
                fields=["booking", "kind"],
                condition=models.Q(status="succeeded"),
                name="payments_one_succeeded_per_booking_kind",
            ),
        ]

    # A failed PaymentIntent can still be paid with another card (Stripe puts it back to
    # requires_payment_method), so failed → succeeded is a legal, forward move.
    TRANSITIONS = {
        Status.PENDING: {Status.SUCCEEDED, Status.FAILED, Status.CANCELED},
        Status.FAILED: {Status.SUCCEEDED, Status.CANCELED},
        Status.SUCCEEDED: set(),
        Status.CANCELED: set(),
    }
    TRANSITION_ERROR = "A {old} payment cannot become {new}."
    TRANSITION_ERROR_DETAILS = {"status": "{old}", "payment_id": "{pk}"}
    transition_signal = payment_transitioned

    def __str__(self):
        return (
            f"{self.get_kind_display()} payment · {format_cents(self.amount_cents, self.currency)}"
            f" · {self.booking.title} ({self.get_status_display()})"
        )

    def audit_state(self) -> dict:
        """A payment's audit rows: its status and money fields (never the client secret)."""
        return snapshot(self, PAYMENT_AUDIT_FIELDS)

    def attach_intent(self, *, intent_id: str, client_secret: str) -> "Payment":
        """Record the Stripe PaymentIntent of a payment (creation's last step).

        Locks the payment. Idempotent for the same intent; a different one → InvalidTransition."""
        with transaction.atomic():
            locked = self.lock_row()
            if locked.stripe_payment_intent_id == intent_id:
                return locked
            if locked.stripe_payment_intent_id:
                raise InvalidTransition(
                    "This payment already has a PaymentIntent.",
                    details={"payment_id": str(locked.pk)},
                )
            locked.stripe_payment_intent_id = intent_id
            locked.client_secret = client_secret
            locked.save(update_fields=["stripe_payment_intent_id", "client_secret", "updated_at"])
        return locked

    def mark_succeeded(
        self, *, actor=None, reason="", locked: bool = False, payouts_created_at=None
    ) -> "Payment":
        """pending|failed → succeeded. Only `services.record_payment_success` calls this, in the
        transaction that also allocates the money (and creates the payouts: it passes
        `payouts_created_at`, written in the same UPDATE). A repeat is a no-op. `locked=True`:
        this instance was locked and re-read by the caller in this transaction, which this call
        is part of (not read again, no savepoint of its own)."""
        extra = {} if payouts_created_at is None else {"payouts_created_at": payouts_created_at}
        with transaction.atomic(savepoint=not locked):
            locked = self if locked else self.lock_row()
            if locked.status != self.Status.SUCCEEDED:
                locked.transition(
                    self.Status.SUCCEEDED,
                    actor=actor,
                    action="payment.succeed",
                    reason=reason,
                    succeeded_at=timezone.now(),
                    failure_message="",
                    **extra,
                )
        return locked

    def mark_failed(self, *, message: str = "", actor=None, reason="") -> "Payment":
        """pending → failed (the card was declined; the organizer may retry). A repeat is a
        no-op; a succeeded or canceled payment never moves back (InvalidTransition)."""
        with transaction.atomic():
            locked = self.lock_row()
            if locked.status != self.Status.FAILED:
                locked.transition(
                    self.Status.FAILED,
                    actor=actor,
                    action="payment.fail",
                    reason=reason,
                    failure_message=(message or "")[:2000],
                )
        return locked

    def mark_canceled(self, *, actor=None, reason="") -> "Payment":
        """pending|failed → canceled (the PaymentIntent was canceled). A repeat is a no-op; a
        succeeded payment never moves back (InvalidTransition)."""
        with transaction.atomic():
            locked = self.lock_row()
            if locked.status != self.Status.CANCELED:
                locked.transition(
                    self.Status.CANCELED, actor=actor, action="payment.cancel", reason=reason
                )
        return locked


class IdempotencyRecord(models.Model):
    """The first response to a (user, Idempotency-Key): replayed for the same request,
    refused (409) for a different one."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.SET_NULL)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="payments_idempotency_user_key"),
        ]

    def __str__(self):
        return f"{self.user_id}:{self.key}"


class WebhookEvent(models.Model):
    """Every verified Stripe event, recorded once by its Stripe id."""

    class Outcome(models.TextChoices):
        RECEIVED = "received"
        PROCESSED = "processed"
        IGNORED = "ignored"
        STALE = "stale"
        MISMATCH = "mismatch"
        FAILED = "failed"

    id = models.BigAutoField(primary_key=True)
    stripe_event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    payload = models.JSONField()
    livemode = models.BooleanField(default=False)
    outcome = models.CharField(
        max_length=10, choices=Outcome.choices, default=Outcome.RECEIVED, db_index=True
    )
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.type} {self.stripe_event_id} ({self.outcome})"


class Allocation(models.Model):
    """How a succeeded payment was split to one booking vendor (append-only)."""

    id = models.BigAutoField(primary_key=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    booking_vendor = models.ForeignKey(
        "bookings.BookingVendor", on_delete=models.PROTECT, related_name="allocations"
    )
    agreed_price_cents = models.PositiveBigIntegerField()
    share_cents = models.PositiveBigIntegerField()
    fee_cents = models.PositiveBigIntegerField()
    reservation_cents = models.PositiveBigIntegerField()
    completion_cents = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["payment", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "booking_vendor"], name="payments_allocation_once"
            ),
        ]

    def __str__(self):
        return f"{format_cents(self.share_cents)} to {self.booking_vendor.vendor}"


class Payout(Transitions, models.Model):
    """Money owed to a vendor from a succeeded payment, released only by staff."""

    class Kind(models.TextChoices):
        RESERVATION = "reservation"
        COMPLETION = "completion"

    class Status(models.TextChoices):
        LOCKED = "locked"
        ELIGIBLE = "eligible"
        PAID = "paid"
        HELD = "held"
        REVERSED = "reversed"

    # Staff release, reverse or pay; disputes and cancellations hold. Paid and reversed are
    # final. (A released payout that was never due goes back to `locked`.)
    TRANSITIONS = {
        Status.LOCKED: {Status.ELIGIBLE, Status.HELD, Status.REVERSED},
        Status.ELIGIBLE: {Status.PAID, Status.HELD, Status.REVERSED},
        Status.HELD: {Status.ELIGIBLE, Status.LOCKED, Status.REVERSED},
        Status.PAID: set(),
        Status.REVERSED: set(),
    }
    TRANSITION_ERROR = "A {old} {self.kind} payout cannot be {verb}."
    TRANSITION_ERROR_DETAILS = {"payout_id": "{pk}", "status": "{old}"}
    transition_signal = payout_transitioned

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="payouts")
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, related_name="payouts"
    )
    booking_vendor = models.ForeignKey(
        "bookings.BookingVendor", on_delete=models.PROTECT, related_name="payouts"
    )
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="payouts")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount_cents = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3, default=settings.DEFAULT_CURRENCY)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.LOCKED, db_index=True
    )
    requested_at = models.DateTimeField(null=True, blank=True)
    eligible_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    hold_reason = models.TextField(blank=True)
    # The dispute that held this payout (so resolving it releases exactly what it held).
    held_by_dispute = models.ForeignKey(
        "disputes.Dispute", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reversed_at = models.DateTimeField(null=True, blank=True)
    reverse_reason = models.TextField(blank=True)
    # The part of a payout a refund took (a `reversed` row), split from the payout that kept
    # the rest (see `draw_for_refund`).
    split_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="splits"
    )
    refund = models.ForeignKey(
        "payments.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "booking_vendor", "kind"],
                condition=models.Q(split_from__isnull=True),
                name="payments_payout_once",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.vendor} · {self.booking.title}"

    # --- transitions: lock, re-read, guard, write, signal ------------------------------------
    #
    # Each method locks the booking, then the payout (`payments.locks.lock_payout`, the global
    # lock order), re-reads, and is a no-op returning the payout when the payout is already in
    # the target state (an admin's double click, two racing requests). Anything else illegal
    # raises InvalidTransition.

    def _refuse_if_being_refunded(self, verb: str) -> None:
        """A pending refund has reserved (part of) this payout's money: it cannot be paid or
        reversed until the refund succeeds (then the kept part can) or fails."""
        if RefundLine.objects.filter(payout_id=self.pk, refund__status="pending").exists():
            raise InvalidTransition(
                f"This payout cannot be {verb} while a refund that draws from it is pending.",
                details={"payout_id": str(self.pk)},
            )

    def _refuse_if_disputed(self, verb: str) -> None:
        if Dispute.open_for_booking(self.booking_id):
            raise InvalidTransition(
                f"This payout cannot be {verb} while a dispute on its booking is open.",
                details={"payout_id": str(self.pk), "booking_id": str(self.booking_id)},
            )

    @staticmethod
    def _require_reason(reason: str) -> str:
        reason = (reason or "").strip()
        if not reason:
            raise DomainValidationError(
                "A reason is required.", details={"reason": ["This field is required."]}
            )
        return reason

    def request(self, *, actor) -> "Payout":
        """The vendor asks for its reservation payout: locked → eligible. Needs the booking
        paid or later and no open dispute. Locks booking → payout; a repeat is a no-op."""
        with transaction.atomic():
            locked = locks.lock_payout(self)
            if locked.kind != self.Kind.RESERVATION:
                raise InvalidTransition(
                    "Only reservation payouts can be requested; completion payouts become "
                    "eligible when the booking completes.",
                    details={"payout_id": str(locked.pk), "kind": locked.kind},
                )
            if locked.status == self.Status.ELIGIBLE:
                return locked
            locked.check_transition(
                self.Status.ELIGIBLE, allowed_from={self.Status.LOCKED}, verb="requested"
            )
            if not locked.booking.is_paid_or_later:
                raise InvalidTransition(
                    "A reservation payout can be requested once the booking is paid.",
                    details={"payout_id": str(locked.pk), "booking_status": locked.booking.status},
                )
            locked._refuse_if_disputed("requested")
            now = timezone.now()
            locked.transition(
                self.Status.ELIGIBLE,
                actor=actor,
                action="payout.request",
                allowed_from={self.Status.LOCKED},
                verb="requested",
                requested_at=now,
                eligible_at=now,
            )
        return locked

    def make_eligible(self, *, actor=None) -> "Payout":
        """A completion payout of a completed booking: locked → eligible (refused while a
        dispute on the booking is open). Locks booking → payout; a repeat is a no-op."""
        with transaction.atomic():
            locked = locks.lock_payout(self)
            if locked.kind != self.Kind.COMPLETION:
                raise InvalidTransition(
                    "Only completion payouts become eligible with the booking's completion.",
                    details={"payout_id": str(locked.pk), "kind": locked.kind},
                )
            if locked.status == self.Status.ELIGIBLE:
                return locked
            locked.check_transition(
                self.Status.ELIGIBLE, allowed_from={self.Status.LOCKED}, verb="made eligible"
            )
            if locked.booking.status != "completed":
                raise InvalidTransition(
                    "A completion payout becomes eligible only when the booking is completed.",
                    details={"payout_id": str(locked.pk), "booking_status": locked.booking.status},
                )
            locked._refuse_if_disputed("made eligible")
            locked.transition(
                self.Status.ELIGIBLE,
                actor=actor,
                action="payout.make_eligible",
                allowed_from={self.Status.LOCKED},
                verb="made eligible",
                eligible_at=timezone.now(),
            )
        return locked

    def approve(self, *, actor, reason: str = "") -> "Payout":
        """Staff pay the payout out: eligible → paid, and the `payout` ledger transaction
        (vendor payable → vendor payouts) is written in the same transaction (exactly once: a
        repeat is a no-op, and the ledger has a unique constraint per payout). Refused while a
        dispute on the booking is open or a pending refund draws from the payout."""
        with transaction.atomic():
            locked = locks.lock_payout(self)
            if locked.status == self.Status.PAID:
                return locked
            locked.check_transition(self.Status.PAID, verb="approved")
            locked._refuse_if_disputed("approved")
            locked._refuse_if_being_refunded("approved")
            before = locked.audit_state()
            ledger.post([ledger.payout_paid(locked)])
            locked.transition(
                self.Status.PAID,
                actor=actor,
                action="payout.approve",
                reason=reason,
                verb="approved",
                before=before,
                paid_at=timezone.now(),
            )
        return locked

    def hold(self, *, actor, reason: str, dispute=None) -> "Payout":
        """Freeze a payout: locked|eligible → held, with the reason (and the dispute that held
        it, if any). A repeat is a no-op."""
        reason = self._require_reason(reason)
        with transaction.atomic():
            locked = locks.lock_payout(self)
            if locked.status != self.Status.HELD:
                locked.transition(
                    self.Status.HELD,
                    actor=actor,
                    action="payout.hold",
                    reason=reason,
                    verb="held",
                    held_at=timezone.now(),
                    hold_reason=reason,
                    held_by_dispute=dispute,
                )
        return locked

    def release(self, *, actor, reason: str) -> "Payout":
        """Staff release a held payout: held → eligible (refused while a dispute on the
        booking is open). A payout that was never due goes back to `locked` instead: a
        completion payout of a booking that is not completed, a reservation nobody requested.
        A repeat (already eligible) is a no-op."""
        reason = self._require_reason(reason)
        with transaction.atomic():
            locked = locks.lock_payout(self)
            if locked.status == self.Status.ELIGIBLE:
                return locked
            if locked.status != self.Status.HELD:
                locked.refuse(verb="released")
            locked._refuse_if_disputed("released")
            due = (
                locked.booking.status == "completed"
                if locked.kind == self.Kind.COMPLETION
                else locked.requested_at is not None and locked.booking.is_paid_or_later
            )
            changes = {"hold_reason": "", "held_by_dispute": None}
            if due and locked.eligible_at is None:
                changes["eligible_at"] = timezone.now()
            locked.transition(
                self.Status.ELIGIBLE if due else self.Status.LOCKED,
                actor=actor,
                action="payout.release",
                reason=reason,
                allowed_from={self.Status.HELD},
                verb="released",
                **changes,
            )
        return locked

    def reverse(self, *, actor, reason: str) -> "Payout":
        """Staff cancel a payout for good: locked|eligible|held → reversed. The vendor is no
        longer owed it: a `payout_reversal` ledger transaction moves it from the vendor's
        payable to the booking's escrow, where a refund can take it. A repeat is a no-op; a
        paid payout cannot be reversed here (nor one a pending refund draws from)."""
        reason = self._require_reason(reason)
        with transaction.atomic():
            locked = locks.lock_payout(self)
            if locked.status != self.Status.REVERSED:
                locked.check_transition(self.Status.REVERSED, verb="reversed")
                locked._refuse_if_being_refunded("reversed")
                ledger.post([ledger.payout_reversed(locked)])
                locked.transition(
                    self.Status.REVERSED,
                    actor=actor,
                    action="payout.reverse",
                    reason=reason,
                    verb="reversed",
                    reversed_at=timezone.now(),
                    reverse_reason=reason,
                )
        return locked

    def keep_on_cancellation(self, *, actor, reason: str) -> "Payout":
        """A late cancellation lets the vendor keep this reservation payout: locked|held →
        eligible (staff pay it out). Called by `payments.services.cancel_booking` with the
        booking and the payout locked. A repeat is a no-op."""
        if self.kind != self.Kind.RESERVATION:
            raise InvalidTransition(
                "Only reservation payouts are kept on a cancellation.",
                details={"payout_id": str(self.pk), "kind": self.kind},
            )
        if self.status == self.Status.ELIGIBLE:
            return self
        now = timezone.now()
        self.transition(
            self.Status.ELIGIBLE,
            actor=actor,
            action="payout.keep_on_cancellation",
            reason=reason,
            allowed_from={self.Status.LOCKED, self.Status.HELD},
            verb="kept",
            eligible_at=now,
            hold_reason="",
            held_by_dispute=None,
        )
        return self

    def draw_for_refund(self, *, amount_cents: int, refund, actor) -> "Payout":
        """A succeeded refund takes `amount_cents` of this unpaid payout (called by
        `payments.services` with the booking and this payout locked; the refund's ledger
        transaction moves the money). All of it: the payout is reversed. Part of it: the payout
        keeps the rest in its status, and the part taken becomes a `reversed` payout split
        from it. Returns the payout that was reversed (or the split part)."""
        reason = f"refund {refund.pk}: {refund.reason}"[:2000]
        if amount_cents <= 0 or amount_cents > self.amount_cents:
            raise InvalidTransition(
                "A refund cannot take more than a payout's amount.",
                details={"payout_id": str(self.pk), "amount_cents": self.amount_cents},
            )
        now = timezone.now()
        if amount_cents == self.amount_cents:
            self.transition(
                self.Status.REVERSED,
                actor=actor,
                action="payout.refund",
                reason=reason,
                verb="refunded",
                reversed_at=now,
                reverse_reason=reason,
                refund=refund,
            )
            return self
        self.check_transition(self.Status.REVERSED, verb="refunded")
        before = self.audit_state()
        self.amount_cents -= amount_cents
        self.save(update_fields=["amount_cents", "updated_at"])
        self.send_transition(actor=actor, action="payout.split", before=before, reason=reason)
        part = Payout.objects.create(
            vendor_id=self.vendor_id,
            booking_id=self.booking_id,
            booking_vendor_id=self.booking_vendor_id,
            payment_id=self.payment_id,
            kind=self.kind,
            amount_cents=amount_cents,
            currency=self.currency,
            status=self.Status.REVERSED,
            reversed_at=now,
            reverse_reason=reason,
            split_from=self,
            refund=refund,
        )
        part.send_transition(actor=actor, action="payout.refund", before=None, reason=reason)
        return part


class Refund(Transitions, models.Model):
    """Money returned to the organizer through Stripe's Refund API, from one payment.

    Created `pending` with its draws (`RefundLine`: which unpaid payouts, or the booking's
    escrow, the money comes from) in the transaction that checks it is refundable; the Stripe
    call is made after that commits; `succeeded` applies it (payouts reversed or split, ledger
    written, in `payments.services`), `failed` leaves the payouts untouched (retryable)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    class Origin(models.TextChoices):
        ADMIN = "admin"  # POST /admin/payments/{id}/refund
        CANCELLATION = "cancellation"  # the booking was canceled (organizer policy or staff)
        DISPUTE = "dispute"  # a dispute decided `refunded`
        PAYOUT = "payout"  # staff refund one payout (an `adjusted` dispute)

    TRANSITIONS = {
        Status.PENDING: {Status.SUCCEEDED, Status.FAILED},
        Status.FAILED: {Status.PENDING},  # a retry
        Status.SUCCEEDED: set(),
    }
    TRANSITION_ERROR = "A {old} refund cannot become {new}."
    TRANSITION_ERROR_DETAILS = {"refund_id": "{pk}", "status": "{old}"}
    transition_signal = refund_transitioned

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, related_name="refunds"
    )
    amount_cents = models.PositiveBigIntegerField()
    # amount = net (taken from vendors' unpaid payouts or the booking's escrow) + fee (the
    # platform's commission on that part, returned).
    net_cents = models.PositiveBigIntegerField()
    fee_cents = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3, default=settings.DEFAULT_CURRENCY)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    origin = models.CharField(max_length=20, choices=Origin.choices)
    reason = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    dispute = models.ForeignKey(
        "disputes.Dispute", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    failure_message = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="payments_refund_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(amount_cents=models.F("net_cents") + models.F("fee_cents")),
                name="payments_refund_amount_is_net_plus_fee",
            ),
        ]

    def __str__(self):
        return (
            f"Refund of {format_cents(self.amount_cents, self.currency)} · {self.booking.title}"
            f" ({self.get_status_display()})"
        )

    def audit_state(self) -> dict:
        return snapshot(
            self,
            [
                "status",
                "amount_cents",
                "net_cents",
                "fee_cents",
                "currency",
                "origin",
                "stripe_refund_id",
                "failure_message",
                "attempts",
            ],
        )


class RefundLine(models.Model):
    """Where a refund's net money comes from: one unpaid payout (reversed, or split when only
    partly drawn, once the refund succeeds) or, with no payout, the booking's escrow (money
    of payouts staff reversed earlier). Append-only; a failed refund's lines no longer count."""

    id = models.BigAutoField(primary_key=True)
    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="lines")
    payout = models.ForeignKey(
        Payout, null=True, blank=True, on_delete=models.PROTECT, related_name="refund_lines"
    )
    amount_cents = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["refund", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="payments_refundline_positive"
            ),
            models.UniqueConstraint(
                fields=["refund", "payout"], name="payments_refundline_once_per_payout"
            ),
        ]

    def __str__(self):
        return (
            f"{format_cents(self.amount_cents)} from {'a payout' if self.payout_id else 'escrow'}"
        )


# --- the double-entry ledger -------------------------------------------------------------------


class LedgerAccount(models.Model):
    """A named account of the double-entry ledger (one per type, currency and, where the type
    has one, booking or vendor). Its balance is the sum of its legs; see `payments.ledger`."""

    class Type(models.TextChoices):
        # Money received through Stripe (asset, debit-normal): Σ succeeded payments.
        STRIPE_CLEARING = "stripe_clearing"
        # What left again (contra-assets, credit-normal): refunds to organizers, payouts to
        # vendors. Stripe clearing − both = what the platform holds.
        ORGANIZER_REFUNDS = "organizer_refunds"
        VENDOR_PAYOUTS = "vendor_payouts"
        # Per booking (liability): money of the booking owed to nobody yet — between receipt
        # and allocation, and what reversed payouts released until it is refunded.
        BOOKING_ESCROW = "booking_escrow"
        # Per vendor (liability): the unpaid, unreversed payouts (locked, eligible or held).
        VENDOR_PAYABLE = "vendor_payable"
        # Income: commission earned, less commission returned with refunds.
        PLATFORM_REVENUE = "platform_revenue"

    DEBIT_NORMAL = frozenset({Type.STRIPE_CLEARING})

    id = models.BigAutoField(primary_key=True)
    code = models.CharField(max_length=120, unique=True)
    type = models.CharField(max_length=20, choices=Type.choices, db_index=True)
    currency = models.CharField(max_length=3)
    booking = models.ForeignKey(
        "bookings.Booking", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["type", "currency", "code"]
        constraints = [
            models.CheckConstraint(
                condition=(~models.Q(type="booking_escrow") | models.Q(booking__isnull=False))
                & (~models.Q(type="vendor_payable") | models.Q(vendor__isnull=False)),
                name="payments_ledgeraccount_owner_present",
            ),
        ]

    def __str__(self):
        return self.code

    @property
    def sign(self) -> int:
        """+1 when the balance reads as Σ legs (debit-normal), −1 when as −Σ legs."""
        return 1 if self.type in self.DEBIT_NORMAL else -1


class LedgerEntry(models.Model):
    """One journal transaction of the double-entry ledger: a money movement of one kind
    (`entry_type`) whose legs (`LedgerLeg`) between accounts sum to zero — checked at commit by
    a deferred PostgreSQL constraint trigger. Append-only: the ORM and database triggers refuse
    UPDATE and DELETE. `amount_cents` is the movement the kind names (the payment received,
    the fee earned, the payout paid, the refund, the fee returned, the payout reversed)."""

    class EntryType(models.TextChoices):
        HELD_FUNDS = "held_funds"  # stripe clearing → booking escrow
        PLATFORM_FEE = "platform_fee"  # escrow → platform revenue (fee) + vendor payable (net)
        PAYOUT = "payout"  # vendor payable → vendor payouts
        PAYOUT_REVERSAL = "payout_reversal"  # vendor payable → escrow (staff reversed it)
        REFUND = "refund"  # payable (drawn payouts) → escrow → organizer refunds
        FEE_REFUND = "fee_refund"  # platform revenue → escrow (the fee on a refunded part)

    id = models.BigAutoField(primary_key=True)
    entry_type = models.CharField(max_length=20, choices=EntryType.choices, db_index=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="ledger_entries")
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, related_name="ledger_entries"
    )
    booking_vendor = models.ForeignKey(
        "bookings.BookingVendor",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    payout = models.ForeignKey(
        Payout, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    refund = models.ForeignKey(
        Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    amount_cents = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    memo = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "ledger transaction"
        verbose_name_plural = "ledger transactions"
        constraints = [
            models.UniqueConstraint(
                fields=["payment"],
                condition=models.Q(entry_type="held_funds"),
                name="payments_ledger_one_held_funds_per_payment",
            ),
            models.UniqueConstraint(
                fields=["payment", "booking_vendor"],
                condition=models.Q(entry_type="platform_fee"),
                name="payments_ledger_one_fee_per_vendor",
            ),
            models.UniqueConstraint(
                fields=["payout"],
                condition=models.Q(entry_type="payout"),
                name="payments_ledger_one_entry_per_payout",
            ),
            models.UniqueConstraint(
                fields=["payout"],
                condition=models.Q(entry_type="payout_reversal"),
                name="payments_ledger_one_reversal_per_payout",
            ),
            models.UniqueConstraint(
                fields=["refund", "entry_type"],
                condition=models.Q(refund__isnull=False),
                name="payments_ledger_one_kind_per_refund",
            ),
        ]

    def __str__(self):
        return f"{self.get_entry_type_display()} · {format_cents(self.amount_cents, self.currency)}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Ledger entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Ledger entries are append-only.")


class LedgerLeg(models.Model):
    """One side of a journal transaction: a signed amount on one account (debit > 0,
    credit < 0). The legs of a transaction sum to zero (database-enforced)."""

    id = models.BigAutoField(primary_key=True)
    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="legs")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="legs")
    amount_cents = models.BigIntegerField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["entry", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(amount_cents=0), name="payments_ledgerleg_nonzero"
            ),
        ]

    def __str__(self):
        side = "Dr" if self.amount_cents > 0 else "Cr"
        return f"{side} {format_cents(abs(self.amount_cents))}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Ledger legs are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Ledger legs are append-only.")
