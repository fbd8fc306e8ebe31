import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from strathwell.exceptions import InvalidTransition


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

    class SubscriptionStatus(models.TextChoices):
        NONE = "none"
        ACTIVE = "active"
        CANCELED = "canceled"

    class Plan(models.TextChoices):
        MONTHLY = "monthly"
        ANNUAL = "annual"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ORGANIZER)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    subscription_status = models.CharField(
        max_length=20, choices=SubscriptionStatus.choices, default=SubscriptionStatus.NONE
    )
    subscription_plan = models.CharField(max_length=20, choices=Plan.choices, blank=True)
    subscription_started_at = models.DateTimeField(null=True, blank=True)
    subscription_canceled_at = models.DateTimeField(null=True, blank=True)

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
    def has_active_subscription(self) -> bool:
        return self.subscription_status == self.SubscriptionStatus.ACTIVE

    # --- subscription transitions (manual provider; Stripe Billing can sit behind later) -----

    def start_subscription(self, *, plan: str, actor=None) -> "User":
        """none|canceled → active on `plan`. Locks the user row; starting an already active
        subscription on the same plan is a no-op, on another plan it switches the plan."""
        from accounts.signals import subscription_changed

        with transaction.atomic():
            locked = User.objects.select_for_update().get(pk=self.pk)
            if locked.has_active_subscription and locked.subscription_plan == plan:
                return locked
            before = {
                "subscription_status": locked.subscription_status,
                "plan": locked.subscription_plan,
            }
            locked.subscription_status = self.SubscriptionStatus.ACTIVE
            locked.subscription_plan = plan
            locked.subscription_started_at = timezone.now()
            locked.subscription_canceled_at = None
            locked.save(
                update_fields=[
                    "subscription_status",
                    "subscription_plan",
                    "subscription_started_at",
                    "subscription_canceled_at",
                ]
            )
            subscription_changed.send(
                sender=User,
                actor=actor or locked,
                action="subscription.start",
                target=locked,
                before=before,
                after={"subscription_status": locked.subscription_status, "plan": plan},
                reason="",
            )
        return locked

    def cancel_subscription(self, *, actor=None) -> "User":
        """active → canceled; gated access ends at once. Only an active one can be canceled."""
        from accounts.signals import subscription_changed

        with transaction.atomic():
            locked = User.objects.select_for_update().get(pk=self.pk)
            if not locked.has_active_subscription:
                raise InvalidTransition("There is no active subscription to cancel.")
            locked.subscription_status = self.SubscriptionStatus.CANCELED
            locked.subscription_canceled_at = timezone.now()
            locked.save(update_fields=["subscription_status", "subscription_canceled_at"])
            subscription_changed.send(
                sender=User,
                actor=actor or locked,
                action="subscription.cancel",
                target=locked,
                before={"subscription_status": self.SubscriptionStatus.ACTIVE},
                after={"subscription_status": locked.subscription_status},
                reason="",
            )
        return locked


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
