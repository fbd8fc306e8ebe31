"""One permissions module for the API."""

from rest_framework.permissions import BasePermission

from strathwell.api.exceptions import ConfirmationRequired

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


class ConfirmAction(BasePermission):
    """Permission-class form of `require_confirmation`, for whole admin endpoints."""

    def has_permission(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        require_confirmation(request)
        return True
