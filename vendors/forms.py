"""Forms of the vendor verification actions' confirmation pages in the staff console."""

from django import forms

from strathwell.console.forms import REASON_MAX_LENGTH, ConfirmActionForm


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
