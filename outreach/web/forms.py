"""Forms of the nurse's pages: a walk-in, the visit outcome, a cancellation, the next free slot."""

from typing import Any

from django import forms
from django.db.models import QuerySet

from clinics.models import Patient, ServiceType, Venue
from config.forms import DayMonthYearField, NHSForm
from outreach.models import Booking, OutreachSession, VisitOutcome

NEW_PERSON = "new"


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ServiceType) -> str:
        return obj.name


class WalkInForm(NHSForm):
    """Who walked in (someone found by name, or someone new) and what for."""

    person = forms.ChoiceField(
        label="Who is it?",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose who walked in, or someone new."},
    )
    new_name = forms.CharField(
        label="Preferred name of someone new",
        required=False,
        max_length=100,
        help_text="Only needed for someone new. A first name is enough.",
    )
    service = ServiceChoiceField(
        label="Service",
        queryset=ServiceType.objects.none(),
        empty_label="Choose a service",
        error_messages={"required": "Choose the service they came for."},
    )
    notes = forms.CharField(
        label="Notes (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self, *args: Any, people: list[Patient], services: QuerySet[ServiceType], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [
            *((str(p.pk), _describe(p)) for p in people),
            (NEW_PERSON, "Someone new"),
        ]
        self.fields["service"].queryset = services
        if services.count() == 1:
            self.fields["service"].initial = services.first()
        self._people = {str(p.pk): p for p in people}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("person") == NEW_PERSON and not data.get("new_name", "").strip():
            self.add_error("new_name", "Enter the name they would like to be called.")
        return data

    def chosen_person(self) -> Patient | None:
        return self._people.get(self.cleaned_data["person"])


def _describe(person: Patient) -> str:
    parts = [person.preferred_name]
    if person.legal_name:
        parts.append(f"({person.legal_name})")
    if person.date_of_birth:
        parts.append(f"born {person.date_of_birth:%-d %B %Y}")
    elif person.year_of_birth:
        parts.append(f"born {person.year_of_birth}")
    return " ".join(parts)


class OutcomeForm(NHSForm):
    outcome = forms.ChoiceField(
        label="What happened?",
        choices=VisitOutcome.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what happened at the visit."},
    )
    result = forms.ChoiceField(
        label="Result",
        choices=VisitOutcome.Result.choices,
        initial=VisitOutcome.Result.NOT_APPLICABLE,
        help_text="A result may suggest a referral.",
    )
    follow_up_date = DayMonthYearField(
        label="Follow-up or recall date (optional)",
        required=False,
        help_text="For example, 15 3 2027",
    )
    notes = forms.CharField(
        label="Notes (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Only what scheduling and referral need: this is not a clinical record.",
    )


class CancelForm(NHSForm):
    cancelled_by = forms.ChoiceField(
        label="Who cancelled?",
        choices=Booking.CancelledBy.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose who cancelled: the person or the service."},
    )
    reason = forms.CharField(
        label="Reason",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Enter why the booking is cancelled."},
    )


class NextSlotForm(NHSForm):
    prefix = "next"

    service = ServiceChoiceField(
        label="Service",
        queryset=ServiceType.objects.none(),
        empty_label="Choose a service",
        error_messages={"required": "Choose the service to book."},
    )
    venue = forms.ModelChoiceField(
        label="Venue (optional)",
        queryset=Venue.objects.none(),
        required=False,
        empty_label="Any venue",
    )

    def __init__(
        self, *args: Any, services: QuerySet[ServiceType], venues: QuerySet[Venue], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        self.fields["venue"].queryset = venues


class SessionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OutreachSession) -> str:
        from outreach.services import london

        start = obj.starts_at.astimezone(london())
        end = obj.ends_at.astimezone(london())
        return f"{obj.name}, {start:%H:%M} to {end:%H:%M}"


class PersonWalkInForm(NHSForm):
    """Add the person on the page as a walk-in to one of today's sessions."""

    prefix = "walk_in"

    session = SessionChoiceField(
        label="Session today",
        queryset=OutreachSession.objects.none(),
        empty_label="Choose a session",
        error_messages={"required": "Choose the session they walked in to."},
    )
    service = ServiceChoiceField(
        label="Service",
        queryset=ServiceType.objects.none(),
        empty_label="Choose a service",
        error_messages={"required": "Choose the service they came for."},
    )

    def __init__(
        self,
        *args: Any,
        sessions: QuerySet[OutreachSession],
        services: QuerySet[ServiceType],
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = sessions
        self.fields["service"].queryset = services
