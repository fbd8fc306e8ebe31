from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.signals import subscription_changed
from strathwell.transitions import Transitions


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(role=User.Role.ADMIN, is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address (unique regardless of case)."""

    class Role(models.TextChoices):
        ORGANIZER = "organizer"
        VENDOR = "vendor"
        ADMIN = "admin"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ORGANIZER)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        """Saves the user; a new password (`set_password`, by any path: the API, the console,
        `manage.py changepassword`) also revokes every session (refresh-token family) of the
        user, in the same transaction. Django's own hash upgrades at login do not count."""
        self.email = (self.email or "").strip().lower()
        if self._password is None or self._state.adding:
            return super().save(*args, **kwargs)
        with transaction.atomic():
            super().save(*args, **kwargs)
            self.revoke_sessions()

    def revoke_sessions(self) -> int:
        """Revoke every refresh token of the user not yet revoked; returns how many sessions
        (families) were still usable. Access tokens already issued die with their 15 minutes,
        or at once when the password changed (their password fingerprint no longer matches)."""
        now = timezone.now()
        tokens = RefreshToken.objects.filter(user_id=self.pk, revoked_at__isnull=True)
        live = (
            tokens.filter(spent_at__isnull=True, expires_at__gt=now)
            .values("family")
            .distinct()
            .count()
        )
        tokens.update(revoked_at=now)
        return live

    @property
    def is_admin(self) -> bool:
        return self.is_staff or self.role == self.Role.ADMIN

    @property
    def is_organizer(self) -> bool:
        return self.role == self.Role.ORGANIZER

    @property
    def is_vendor(self) -> bool:
        return self.role == self.Role.VENDOR

    @property
    def current_subscription(self) -> Subscription:
        """The organizer's subscription row, or an unsaved one in status `none` (nobody has
        started one yet; the flows in `accounts.billing` create the row)."""
        try:
            return self.subscription
        except Subscription.DoesNotExist:
            return Subscription(user=self)

    @property
    def has_active_subscription(self) -> bool:
        """Whether the subscription opens the organizer gates (`Subscription.access()`): the
        one rule behind `HasActiveSubscription` and the staff console."""
        return self.current_subscription.access().granted


class RefreshToken(models.Model):
    """One issued refresh token. Tokens of one login share a `family`; rotation spends the
    presented token and issues the next in the family; presenting a spent one revokes it all.
    A family ends at `family_expires_at` (`REFRESH_FAMILY_MAX_DAYS` after the login) however
    often it is rotated: no token of it expires later."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_tokens")
    family = models.UUIDField(db_index=True)
    jti = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    family_expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    spent_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        # Never the jti: it names the token as well as the token itself for a replay.
        return f"Refresh token of {self.user_id} (session {self.family})"

    @property
    def is_usable(self) -> bool:
        return (
            self.spent_at is None and self.revoked_at is None and self.expires_at > timezone.now()
        )


@dataclass(frozen=True)
class Access:
    """What a subscription opens: `granted`, until when (None: open-ended) and why."""

    granted: bool
    until: datetime.datetime | None
    reason: str


class Subscription(Transitions, models.Model):
    """An organizer's subscription: one per organizer (its primary key is the user's id).

    Status: `none → incomplete → active ⇄ past_due → canceled`, and a canceled one can start
    again (`canceled → incomplete | active`). With Stripe Billing the status follows Stripe
    (`accounts.billing` applies the start/cancel responses and the webhooks); the manual and
    complimentary providers have no payments. Whether the gates open is `access()`, the one
    rule every gate and the staff console read. Changed only through `accounts.billing`, under
    the row lock of `accounts.locks.lock_subscription`.
    """

    class Status(models.TextChoices):
        NONE = "none"
        INCOMPLETE = "incomplete"
        ACTIVE = "active"
        PAST_DUE = "past_due", "Past due"
        CANCELED = "canceled"

    class Plan(models.TextChoices):
        MONTHLY = "monthly"
        ANNUAL = "annual"

    class Provider(models.TextChoices):
        MANUAL = "manual", "Manual (no payment; runs without Stripe)"
        STRIPE = "stripe", "Stripe Billing"
        COMPLIMENTARY = "complimentary", "Complimentary (granted by staff)"

    TRANSITIONS = {
        Status.NONE: {Status.INCOMPLETE, Status.ACTIVE},
        Status.INCOMPLETE: {Status.ACTIVE, Status.CANCELED},
        Status.ACTIVE: {Status.PAST_DUE, Status.CANCELED},
        Status.PAST_DUE: {Status.ACTIVE, Status.CANCELED},
        Status.CANCELED: {Status.INCOMPLETE, Status.ACTIVE},
    }
    # How far along the lifecycle a status is: two Stripe states stamped with the same second
    # are ordered by it (see `accounts.billing`).
    RANK = {
        Status.NONE: 0,
        Status.INCOMPLETE: 1,
        Status.ACTIVE: 2,
        Status.PAST_DUE: 3,
        Status.CANCELED: 4,
    }
    TRANSITION_ERROR = "Cannot {verb} a subscription that is {old}."
    transition_signal = subscription_changed

    user = models.OneToOneField(
        User, primary_key=True, on_delete=models.CASCADE, related_name="subscription"
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.NONE, db_index=True
    )
    plan = models.CharField(max_length=20, choices=Plan.choices, blank=True)
    provider = models.CharField(max_length=20, choices=Provider.choices, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    # Set while a cancellation at the period's end is pending: access runs until then.
    cancel_at = models.DateTimeField(null=True, blank=True)
    past_due_since = models.DateTimeField(null=True, blank=True)

    # Stripe Billing: the organizer's Customer (made once, kept across subscriptions) and the
    # current subscription. `stripe_state_at` is Stripe's time (epoch seconds: an event's
    # `created`, or the `Date` of the API response) of the newest Stripe state applied, so an
    # older event never overwrites a newer state.
    stripe_customer_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_state_at = models.BigIntegerField(null=True, blank=True)

    # A start talking to Stripe claims the row (no lock is held during the Stripe calls), so
    # concurrent starts wait for it instead of making a second Customer or subscription.
    start_token = models.UUIDField(null=True, blank=True)
    start_claimed_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self):
        return f"{self.user_id}: {self.status}"

    @property
    def is_stripe(self) -> bool:
        return self.provider == self.Provider.STRIPE

    def access(self, *, now: datetime.datetime | None = None) -> Access:
        """Whether the organizer gates are open now: `active` (until `cancel_at`, when a
        cancellation is pending), or `past_due` for `SUBSCRIPTION_GRACE_DAYS` after the failed
        renewal. Nothing else opens them."""
        now = now or timezone.now()
        if self.status == self.Status.ACTIVE:
            if self.cancel_at is not None and now >= self.cancel_at:
                return Access(False, self.cancel_at, "canceled at the end of its period")
            return Access(True, self.cancel_at, "active")
        if self.status == self.Status.PAST_DUE:
            since = self.past_due_since or self.updated_at or now
            until = since + datetime.timedelta(days=settings.SUBSCRIPTION_GRACE_DAYS)
            if now < until:
                return Access(True, until, "past due, within the grace period")
            return Access(False, until, "past due beyond the grace period")
        reasons = {
            self.Status.NONE: "no subscription",
            self.Status.INCOMPLETE: "the first payment is not complete",
            self.Status.CANCELED: "canceled",
        }
        return Access(False, None, reasons[self.status])

    def audit_state(self) -> dict:
        return {
            "status": self.status,
            "plan": self.plan,
            "provider": self.provider,
            "current_period_end": self.current_period_end,
            "cancel_at": self.cancel_at,
            "stripe_subscription_id": self.stripe_subscription_id,
        }

    def record_change(self, *, actor, action: str, reason: str = "", **changes) -> None:
        """A change that is not a status move (a pending cancellation, a renewed period, a plan
        switch) on the locked row: save exactly those fields, audit before/after."""
        before = self.audit_state()
        for field, value in changes.items():
            setattr(self, field, value)
        self.save(update_fields=[*changes, "updated_at"])
        self.send_transition(actor=actor, action=action, before=before, reason=reason)
