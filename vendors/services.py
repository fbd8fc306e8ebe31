"""Vendor onboarding and the vendor's own edits: flows that span trust screening, uploads and
the audit trail. Verification transitions themselves are model methods on `Vendor`."""

from django.db import IntegrityError, transaction

from strathwell.exceptions import AlreadyExists
from strathwell.uploads.services import attach_uploads, claim_uploaded_keys
from trust.services import screen_user_text
from vendors import availability
from vendors.models import Vendor
from vendors.signals import vendor_profile_changed

VENDOR_EDITABLE_FIELDS = ("business_name", "description", "city", "photo_keys")


def _already_onboarded() -> AlreadyExists:
    return AlreadyExists("This account has already onboarded a vendor; edit it at /vendors/me.")


def onboard_vendor(*, user, data: dict) -> Vendor:
    """Create the user's vendor (`pending`) with the profile matching its type, in one
    transaction, audited. A second onboarding (even a concurrent one) is 409 already_exists.

    `data` is validated input: the matching profile is present, the other one absent."""
    if Vendor.objects.filter(user=user).exists():
        raise _already_onboarded()
    # Screening may log a moderation event: outside the transaction, so a refusal keeps it.
    screen_user_text(
        user=user, text=data.get("description", ""), field="description", context_type="profile"
    )
    vendor_type = data["vendor_type"]
    profile_field = Vendor.PROFILE_FIELDS[vendor_type]
    profile_model = Vendor._meta.get_field(profile_field).related_model
    try:
        with transaction.atomic():
            vendor = Vendor.objects.create(
                user=user,
                vendor_type=vendor_type,
                business_name=data["business_name"].strip(),
                description=data.get("description", "").strip(),
                city=data["city"].strip(),
                daily_capacity=data.get("daily_capacity", 1),
            )
            profile = profile_model.objects.create(vendor=vendor, **data[profile_field])
            setattr(vendor, profile_field, profile)
            vendor_profile_changed.send(
                sender=Vendor,
                actor=user,
                action="vendor.onboard",
                target=vendor,
                before=None,
                after=vendor.audit_snapshot(),
                reason="",
            )
    except IntegrityError:
        if Vendor.objects.filter(user=user).exists():  # a concurrent onboarding won
            raise _already_onboarded() from None
        raise
    return vendor


def update_own_vendor(*, vendor: Vendor, actor, data: dict) -> Vendor:
    """Apply the vendor's edits (fields, profile fields, photo keys, daily capacity) in one
    transaction, audited with before/after. An edit while `needs_changes` resubmits it
    (→ `pending`). A capacity change keeps the vendor's dates within it
    (`availability.set_daily_capacity`, 400 if a coming date already uses more).

    Screening and the storage check of photo keys run first, outside the transaction."""
    if "description" in data:
        screen_user_text(
            user=actor,
            text=data["description"],
            field="description",
            context_type="profile",
            context_id=str(vendor.pk),
        )
    if "photo_keys" in data:
        data = {
            **data,
            "photo_keys": claim_uploaded_keys(owner=vendor.user, keys=data["photo_keys"]),
        }

    with transaction.atomic():
        locked = Vendor.objects.with_profiles().select_for_update(of=("self",)).get(pk=vendor.pk)
        before = locked.audit_snapshot()
        fields = []
        for name in VENDOR_EDITABLE_FIELDS:
            if name in data:
                value = data[name]
                setattr(locked, name, value.strip() if isinstance(value, str) else value)
                fields.append(name)
        if fields:
            locked.save(update_fields=[*fields, "updated_at"])
        if "daily_capacity" in data:
            availability.set_daily_capacity(locked, data["daily_capacity"], actor=actor)
        if "photo_keys" in data:
            # In this transaction: the stale-upload sweep must not delete them from now on.
            attach_uploads(owner=vendor.user, keys=data["photo_keys"])
        profile_data = data.get(Vendor.PROFILE_FIELDS[locked.vendor_type]) or {}
        if profile_data:
            profile = locked.profile
            for name, value in profile_data.items():
                setattr(profile, name, value)
            profile.save(update_fields=list(profile_data))
        after = locked.audit_snapshot()
        if after != before:
            vendor_profile_changed.send(
                sender=Vendor,
                actor=actor,
                action="vendor.update",
                target=locked,
                before=before,
                after=after,
                reason="",
            )
        if locked.verification_status == Vendor.VerificationStatus.NEEDS_CHANGES:
            locked.resubmit(actor=actor)
    return Vendor.objects.with_profiles().get(pk=vendor.pk)
