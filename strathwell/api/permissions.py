"""One permissions module for the API."""

from rest_framework.permissions import BasePermission

from strathwell.api.exceptions import ConfirmationRequired
from strathwell.exceptions import SubscriptionRequired

CONFIRM_HEADER = "X-Confirm-Action"


def require_confirmation(request) -> None:
    """Dangerous admin actions must carry `X-Confirm-Action: true` (else 428)."""
    if request.headers.get(CONFIRM_HEADER, "").strip().lower() != "true":
        raise ConfirmationRequired()


class IsAdmin(BasePermission):
    """Staff users (role admin)."""

    message = "Administrator access is required."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_admin)


class IsOrganizer(BasePermission):
    message = "Only organizers can do this."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (user.is_organizer or user.is_admin))


class IsVendorUser(BasePermission):
    message = "Only vendor accounts can do this."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_vendor)


class HasActiveSubscription(BasePermission):
    """Organizers need an active subscription (else 403 `subscription_required`); admins pass
    every gate. Combine with a role permission: this one only gates organizers."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if user.is_admin or not user.is_organizer:
            return True
        if not user.has_active_subscription:
            raise SubscriptionRequired()
        return True
