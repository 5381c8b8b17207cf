"""Forms of the referral board: one per status move, the chase log, and the directory."""

from typing import Any

from django import forms

from config.forms import NHSFormMixin
from referrals.destinations import EDITABLE_FIELDS
from referrals.models import Destination, Referral, ReferralChase

Status = Referral.Status


class MoveForm(NHSFormMixin, forms.Form):
    """Every move carries the status the coordinator saw, so a stale click is refused."""

    expected_status = forms.ChoiceField(choices=Status.choices, widget=forms.HiddenInput)


class NotesMoveForm(MoveForm):
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        label="Notes (optional)",
    )


class RejectForm(MoveForm):
    rejection_reason = forms.ChoiceField(
        choices=[("", "Choose a reason"), *Referral.RejectionReason.choices],
        label="Why did the service turn it down?",
        error_messages={"required": "Choose why the service turned the referral down."},
    )
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        label="Notes (optional)",
    )


class BookForm(MoveForm):
    appointment_at = forms.DateTimeField(
        required=False,
        label="Appointment date and time (if known)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )


class ReasonMoveForm(MoveForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        label="Why?",
        error_messages={"required": "Say why, so the next person knows."},
    )


# Each move a button can make: its label, its form, and the service call it makes.
MOVES: dict[str, dict[str, Any]] = {
    Status.SENT: {"label": "Send", "form": MoveForm},
    Status.ACCEPTED: {"label": "Record accepted", "form": NotesMoveForm},
    Status.REJECTED: {"label": "Record rejected", "form": RejectForm},
    Status.BOOKED: {"label": "Record appointment booked", "form": BookForm},
    Status.ATTENDED: {"label": "Record attended", "form": MoveForm},
    Status.CLOSED: {"label": "Close", "form": NotesMoveForm},
    Status.WITHDRAWN: {"label": "Withdraw", "form": ReasonMoveForm},
    Status.LOST: {"label": "Mark lost to follow-up", "form": ReasonMoveForm},
}


class ChaseForm(NHSFormMixin, forms.Form):
    channel = forms.ChoiceField(
        choices=[("", "Choose how"), *ReferralChase.Channel.choices],
        label="How did you chase?",
        error_messages={"required": "Choose how you chased."},
    )
    outcome = forms.ChoiceField(
        choices=[("", "Choose what happened"), *ReferralChase.Outcome.choices],
        label="What happened?",
        error_messages={"required": "Choose what happened."},
    )
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
        label="Notes (optional)",
    )


class DestinationForm(NHSFormMixin, forms.ModelForm):
    url = forms.URLField(required=False, assume_scheme="https", label="Website")

    class Meta:
        model = Destination
        fields = list(EDITABLE_FIELDS)
        labels = {
            "url": "Website",
            "response_target_days": "Days to respond to a routine referral",
            "is_active": "Takes referrals",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "address": forms.Textarea(attrs={"rows": 3}),
            "eligibility_notes": forms.Textarea(attrs={"rows": 3}),
        }

    def validate_unique(self) -> None:
        # The service checks every rule (the unique name per area among them) when it saves.
        return None

    def _post_clean(self) -> None:
        # The model is validated by the service; the form only checks what was typed.
        return None


class DirectorySearchForm(NHSFormMixin, forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Name, provider or area")
    category = forms.ChoiceField(
        choices=[("", "Any kind"), *Destination.Category.choices], required=False, label="Kind"
    )
    show_inactive = forms.BooleanField(required=False, label="Include those not taking referrals")
