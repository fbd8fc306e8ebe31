"""Forms of the confirmation pages of the console's actions.

Each form validates what the staff user typed and turns it into the keyword arguments of the
model method the action calls (`method_kwargs()`); the method itself keeps every rule.
`ConfirmActionForm` is the generic one; forms of a domain's own actions subclass it next to
that domain's admin (`vendors/forms.py`, `payments/forms.py`, `disputes/forms.py`).
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
