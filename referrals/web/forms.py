"""The referral form a suggestion opens, prefilled."""

from typing import Any

from django import forms
from django.db.models import QuerySet

from config.forms import NHSForm
from referrals.models import Destination, Referral


class DestinationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Destination) -> str:
        return obj.name


class ReferralForm(NHSForm):
    destination = DestinationChoiceField(
        label="Refer to",
        queryset=Destination.objects.none(),
        empty_label="Choose a service",
        error_messages={"required": "Choose where to refer them."},
    )
    reason = forms.CharField(
        label="Reason for referral",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter the reason for the referral."},
    )
    priority = forms.ChoiceField(
        label="Priority",
        choices=Referral.Priority.choices,
        widget=forms.RadioSelect,
        initial=Referral.Priority.ROUTINE,
        error_messages={"required": "Choose the priority."},
    )
    consent_to_share = forms.BooleanField(
        label="They agree to their details being shared with this service",
        required=False,
        help_text="Ask them before you send the referral.",
    )
    consent_method = forms.ChoiceField(
        label="How did they agree?",
        choices=Referral.ConsentMethod.choices,
        widget=forms.RadioSelect,
        initial=Referral.ConsentMethod.VERBAL,
        error_messages={"required": "Choose how they agreed."},
    )

    def __init__(self, *args: Any, destinations: QuerySet[Destination], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["destination"].queryset = destinations

    def clean_consent_to_share(self) -> bool:
        if not self.cleaned_data["consent_to_share"]:
            raise forms.ValidationError(
                "Confirm that they agree to their details being shared, or do not refer."
            )
        return True
