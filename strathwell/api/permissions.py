"""One permissions module for the API, and the staff permission map the console shares.

Staff least privilege: every staff operation, through the API (`/admin/*`, `/ops/*`) or the
console's confirm actions, names an entry of `STAFF_OPERATIONS`, which says which Django model
permissions it needs. The API's `IsAdmin` and the console's actions read this one map, so a
staff user refused an action in the console is refused it through the API as well.
Superusers hold every permission (Django's rule); a staff operation missing from the map is
refused to everyone else (fail closed).
"""

from rest_framework.permissions import BasePermission

from strathwell.api.exceptions import ConfirmationRequired
from strathwell.exceptions import SubscriptionRequired

CONFIRM_HEADER = "X-Confirm-Action"

# Only a superuser may do it (it makes superusers, or is not about one model).
SUPERUSER = "__superuser__"

STAFF_OPERATIONS: dict[str, tuple[str, ...]] = {
    # overview and ops
    "overview.view": (
        "vendors.view_vendor",
        "bookings.view_booking",
        "payments.view_payment",
        "payments.view_payout",
        "disputes.view_dispute",
    ),
    "ops.health": (),  # any active staff: database latency, migrations, versions
    "ops.seed_demo": (SUPERUSER,),  # creates a superuser with a published password
    "audit_log.view": ("audit.view_auditlog",),
    # users and sessions
    "user.revoke_sessions": ("accounts.change_user",),
    "subscription.view": ("accounts.view_subscription",),
    "subscription.grant_complimentary": ("accounts.change_subscription",),
    "subscription.cancel_now": ("accounts.change_subscription",),
    # catalogue
    "vendor.view": ("vendors.view_vendor",),
    "vendor.approve": ("vendors.change_vendor",),
    "vendor.request_changes": ("vendors.change_vendor",),
    "vendor_date_unit.view": ("vendors.view_vendordateunit",),
    "template.view": ("templates_app.view_template",),
    "template.add": ("templates_app.add_template",),
    "template.change": ("templates_app.change_template",),
    "template.delete": ("templates_app.delete_template",),
    "moderation_event.view": ("trust.view_moderationevent",),
    # bookings
    "booking.view": ("bookings.view_booking",),
    "booking.cancel": ("bookings.change_booking",),
    "booking.force_complete": ("bookings.change_booking",),
    # money
    "payment.view": ("payments.view_payment",),
    "payment.refund": ("payments.add_refund",),
    "refund.view": ("payments.view_refund",),
    "refund.retry": ("payments.change_refund",),
    "payout.view": ("payments.view_payout",),
    "payout.approve": ("payments.change_payout",),
    "payout.hold": ("payments.change_payout",),
    "payout.release": ("payments.change_payout",),
    "payout.reverse": ("payments.change_payout",),
    "payout.refund": ("payments.add_refund", "payments.change_payout"),
    "webhook_event.view": ("payments.view_webhookevent",),
    "webhook_event.replay": ("payments.change_webhookevent",),
    "dispute.view": ("disputes.view_dispute",),
    "dispute.decide": ("disputes.change_dispute",),
    # work outside requests
    "outbox.view": ("jobs.view_outboxmessage",),
    "outbox.retry": ("jobs.change_outboxmessage",),
    "notification.view": ("notifications.view_notification",),
    "notification.retry_email": ("notifications.change_notification",),
}


def staff_can(user, operation: str | None) -> bool:
    """Whether `user` may perform the staff `operation` (a key of STAFF_OPERATIONS): an
    active staff user holding every permission it needs. Unknown operations: superusers only."""
    if not (user is not None and user.is_authenticated and user.is_active and user.is_staff):
        return False
    if user.is_superuser:
        return True
    needed = STAFF_OPERATIONS.get(operation or "")
    if needed is None or SUPERUSER in needed:
        return False
    return user.has_perms(needed)


def require_confirmation(request) -> None:
    """Dangerous admin actions must carry `X-Confirm-Action: true` (else 428)."""
    if request.headers.get(CONFIRM_HEADER, "").strip().lower() != "true":
        raise ConfirmationRequired()


def staff_operation(request, view) -> str | None:
    """The staff operation a request to `view` performs: `view.staff_operations` maps the
    viewset action (or, for a plain APIView, the HTTP method) to a STAFF_OPERATIONS key."""
    operations = getattr(view, "staff_operations", None) or {}
    action = getattr(view, "action", None)
    if action == "metadata" or request.method == "OPTIONS":
        return next(iter(operations.values()), None)
    method = "get" if request.method == "HEAD" else request.method.lower()
    return operations.get(action or method)


class IsAdmin(BasePermission):
    """Staff users holding the model permissions of the operation (`STAFF_OPERATIONS`, through
    the view's `staff_operations`)."""

    message = "Your staff account does not have the permission this operation needs."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            self.message = "Administrator access is required."
            return False
        return staff_can(user, staff_operation(request, view))


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
