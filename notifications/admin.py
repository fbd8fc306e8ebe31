"""Notifications in the staff console: read-only, with their email's delivery status; staff
retry a failed (or late) email with a confirm action (audited, through the outbox)."""

from django.contrib import admin
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Concat

from notifications.models import EMAIL_KEY_PREFIX, Notification, email_dedupe_key
from strathwell.console.actions import ActionFailed, confirm_action
from strathwell.console.mixins import ReadOnlyModelAdmin
from strathwell.jobs import outbox
from strathwell.jobs.models import OutboxMessage


def retry_email(notification: Notification, *, actor, reason: str):
    message = OutboxMessage.objects.filter(dedupe_key=email_dedupe_key(notification.pk)).first()
    if message is None:
        raise ActionFailed("no email is owed for this notification.")
    return outbox.retry(message, actor=actor, reason=reason)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "recipient", "kind", "title", "email_status", "read_at")
    list_filter = ("kind",)
    search_fields = ("=id", "recipient__email", "title", "=booking__id")
    date_hierarchy = "created_at"
    list_select_related = ("recipient",)
    show_full_result_count = False
    fields = (
        "id",
        "recipient",
        "kind",
        "title",
        "body",
        "booking",
        "event_key",
        "created_at",
        "read_at",
        "emailed_at",
        "email_status",
    )
    readonly_fields = ("email_status",)
    actions = [
        confirm_action(
            name="retry_notification_emails",
            operation="notification.retry_email",
            label="Retry email now",
            verb="retry the email of",
            done="Email queued for",
            perform=retry_email,
            state_field=None,
            effect="Each notification's email is delivered again now (a failed one gets a fresh "
            "set of attempts). An email already sent is refused: nobody gets it twice.",
        )
    ]

    def get_queryset(self, request):
        status = OutboxMessage.objects.filter(
            dedupe_key=Concat(Value(EMAIL_KEY_PREFIX), OuterRef("pk"), output_field=CharField())
        ).values("status")[:1]
        return super().get_queryset(request).annotate(_email_status=Subquery(status))

    @admin.display(description="email")
    def email_status(self, obj):
        return getattr(obj, "_email_status", None) or "-"
