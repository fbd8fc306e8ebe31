"""Forms of the dispute actions' confirmation pages in the staff console."""

from django import forms

from disputes.models import Dispute
from strathwell.console.forms import ConfirmActionForm


class DisputeStatusForm(ConfirmActionForm):
    """The dispute's next status and the note recorded with it (the audit row's reason and,
    as through `PATCH /admin/disputes/{id}`, the dispute's resolution note)."""

    new_status = forms.ChoiceField(label="New status", choices=())
    field_order = ["new_status", "reason"]

    def __init__(self, *args, **kwargs):
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
