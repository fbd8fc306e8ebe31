"""The outbox in the staff console: what is owed, delivered or failed; staff retry a message
(a confirm action with a reason, audited)."""

from django.contrib import admin

from strathwell.console import display
from strathwell.console.actions import confirm_action
from strathwell.console.mixins import ReadOnlyModelAdmin
from strathwell.jobs import outbox
from strathwell.jobs.models import OutboxMessage

RETRY_ACTION = confirm_action(
    name="retry_outbox_messages",
    operation="outbox.retry",
    label="Retry delivery now",
    verb="retry",
    done="Queued for delivery",
    perform=lambda obj, *, actor, reason: outbox.retry(obj, actor=actor, reason=reason),
    effect="Each failed or pending message is delivered again now (a failed one gets a fresh "
    "set of attempts). Delivered messages are refused: nothing is ever sent twice.",
)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyModelAdmin):
    list_display = (
        "created_at",
        "topic",
        "dedupe_key",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "short_error",
    )
    list_filter = ("status", "topic")
    search_fields = ("=id", "dedupe_key", "last_error")
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = (
        "id",
        "topic",
        "dedupe_key",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_error",
        "payload_masked",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("payload_masked",)
    actions = [RETRY_ACTION]

    @admin.display(description="error")
    def short_error(self, obj):
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    @admin.display(description="payload")
    def payload_masked(self, obj):
        return display.masked_json(obj.payload)
