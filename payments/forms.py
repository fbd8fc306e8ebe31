"""Forms of the payments actions' confirmation pages in the staff console."""

from django import forms

from strathwell.console.forms import ConfirmActionForm


class WebhookReplayForm(ConfirmActionForm):
    """Replay: events with a final outcome are skipped unless `force` is ticked."""

    force = forms.BooleanField(
        label="Reprocess already handled events",
        required=False,
        help_text="Also run events that were processed, ignored, stale or mismatched again "
        "(like `replay_webhook_events --ids … --force`).",
    )

    def method_kwargs(self) -> dict:
        return {"reason": self.cleaned_data["reason"], "force": self.cleaned_data["force"]}


class RefundForm(ConfirmActionForm):
    """Refund: an optional amount in cents (default: everything refundable)."""

    amount_cents = forms.IntegerField(
        label="Amount (cents)",
        required=False,
        min_value=1,
        help_text="Leave empty to refund everything refundable.",
    )

    def method_kwargs(self) -> dict:
        return {
            "reason": self.cleaned_data["reason"],
            "amount_cents": self.cleaned_data.get("amount_cents"),
        }
