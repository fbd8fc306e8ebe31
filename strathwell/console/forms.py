"""Forms of the confirmation pages of the console's actions.

Each form validates what the staff user typed and turns it into the keyword arguments of the
model method the action calls (`method_kwargs()`); the method itself keeps every rule.
"""

from django import forms

REASON_MAX_LENGTH = 2000


class ConfirmActionForm(forms.Form):
    """A required reason, recorded in the audit row by the model method."""

    reason = forms.CharField(
        label="Reason",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Required. Recorded in the audit log with your name.",
    )

    def method_kwargs(self) -> dict:
        return {"reason": self.cleaned_data["reason"]}


class VendorApproveForm(ConfirmActionForm):
    """Vendor.approve records its notes as the audit row's reason (as the API does)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = (
            "Required. Recorded in the audit log with your name, and as the vendor's admin "
            "notes (the vendor can read them)."
        )

    def method_kwargs(self) -> dict:
        return {"notes": self.cleaned_data["reason"]}


class VendorNeedsChangesForm(ConfirmActionForm):
    """Needs-changes takes notes telling the vendor what to fix. Vendor.request_changes stores
    them as the vendor's admin notes and as the audit row's reason, exactly like
    `POST /admin/vendors/{id}/needs-changes {notes}`: here the notes are the required reason."""

    reason = None
    notes = forms.CharField(
        label="Notes for the vendor",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Required. What the vendor has to change; the vendor sees these notes and "
        "they are recorded in the audit log as the reason.",
    )

    def method_kwargs(self) -> dict:
        return {"notes": self.cleaned_data["notes"]}


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


class DisputeStatusForm(ConfirmActionForm):
    """The dispute's next status and the note recorded with it (the audit row's reason and,
    as through `PATCH /admin/disputes/{id}`, the dispute's resolution note)."""

    new_status = forms.ChoiceField(label="New status", choices=())
    field_order = ["new_status", "reason"]

    def __init__(self, *args, **kwargs):
        from disputes.models import Dispute

        super().__init__(*args, **kwargs)
        self.fields["new_status"].choices = [
            (value, label)
            for value, label in Dispute.Status.choices
            if value != Dispute.Status.OPEN
        ]
        self.fields["reason"].label = "Resolution note"
        self.fields[
            "reason"
        ].help_text = "Required. Recorded as the dispute's resolution note and in the audit log."

    def method_kwargs(self) -> dict:
        return {"status": self.cleaned_data["new_status"], "note": self.cleaned_data["reason"]}
