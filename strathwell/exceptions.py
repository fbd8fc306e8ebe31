"""Domain errors. Model methods and services raise these; the API layer maps each to the one
error envelope (`strathwell.api.exceptions`), and the admin shows their message.
"""


class DomainError(Exception):
    """A refusal that is part of the domain, with a stable code and an HTTP status."""

    status_code = 400
    code = "validation_error"
    default_message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, details: dict | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)


class InvalidTransition(DomainError):
    """The object is not in a state that allows this change; nothing was changed."""

    status_code = 409
    code = "invalid_transition"
    default_message = "This change is not allowed in the object's current state."


class BalanceDue(InvalidTransition):
    """The booking still has a balance to pay (e.g. it cannot start)."""

    code = "balance_due"
    default_message = "The booking's balance must be paid first."


class NothingToRefund(InvalidTransition):
    code = "nothing_to_refund"
    default_message = "Nothing of this payment is refundable."


class AlreadyExists(DomainError):
    status_code = 409
    code = "already_exists"
    default_message = "This object already exists."


class IdempotencyConflict(DomainError):
    status_code = 409
    code = "idempotency_conflict"
    default_message = "This Idempotency-Key was already used with a different request."


class VendorUnavailable(DomainError):
    """A vendor has no capacity left on a date (every unit is blocked, held or booked), or a
    date cannot be blocked because bookings hold it; nothing was changed. `details` names the
    vendors (`vendor_ids`) and the date."""

    status_code = 409
    code = "vendor_unavailable"
    default_message = "This vendor is not available on this date."


class PaymentProviderError(DomainError):
    status_code = 502
    code = "payment_provider_error"
    default_message = "The payment provider failed or is unreachable; nothing was charged."


class PaymentFailed(DomainError):
    """The payment provider refused the payment (a declined card); nothing was charged."""

    status_code = 402
    code = "payment_failed"
    default_message = "The payment was declined; nothing was charged."


class DomainPermissionDenied(DomainError):
    status_code = 403
    code = "permission_denied"
    default_message = "You do not have permission to perform this action."


class VendorNotApproved(DomainPermissionDenied):
    code = "vendor_not_approved"
    default_message = "Only approved vendors can take part in bookings."


class SubscriptionRequired(DomainPermissionDenied):
    code = "subscription_required"
    default_message = "An active subscription is required."


class AccountLocked(DomainError):
    """Too many failed logins for this email from this client (django-axes lockout)."""

    status_code = 429
    code = "account_locked"
    default_message = "Too many failed logins: try again later."


class UploadQuotaExceeded(DomainError):
    status_code = 409
    code = "upload_quota_exceeded"
    default_message = "Your upload quota is used up."


class DomainValidationError(DomainError):
    """Field-level validation refusal from a model method: details = {field: [messages]}."""

    status_code = 400
    code = "validation_error"
    default_message = "Invalid input."
