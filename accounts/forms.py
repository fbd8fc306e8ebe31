"""Forms of the accounts confirm actions in the staff console (see strathwell.console.actions)."""

from django import forms

from accounts.models import Subscription
from strathwell.console.forms import ConfirmActionForm


class GrantComplimentaryForm(ConfirmActionForm):
    """The plan of the complimentary subscription, and the required reason."""

    plan = forms.ChoiceField(
        choices=Subscription.Plan.choices,
        initial=Subscription.Plan.ANNUAL,
        help_text="Shown to the organizer as their plan; nothing is charged.",
    )

    def method_kwargs(self) -> dict:
        return {**super().method_kwargs(), "plan": self.cleaned_data["plan"]}
