"""Forms of the session planner: a series' recurrence, and a cancellation with its reason."""

from typing import Any

from django import forms

from clinics.models import ServiceType, StaffMember
from clinics.permissions import mobile_units_for, staff_members_for, venues_for
from config.forms import NHSFormMixin
from outreach.models import Audience, BookingMode

WEEKDAYS = [
    ("0", "Monday"),
    ("1", "Tuesday"),
    ("2", "Wednesday"),
    ("3", "Thursday"),
    ("4", "Friday"),
    ("5", "Saturday"),
    ("6", "Sunday"),
]


class StaffChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        name = obj.user.get_full_name() or obj.user.get_username()
        return f"{name} ({obj.get_role_display()})"


class SeriesForm(NHSFormMixin, forms.Form):
    """A recurring clinic: weekly on chosen days, every N weeks, until a date or N times."""

    name = forms.CharField(
        max_length=200,
        help_text="For example, Cathedral Square bus stop.",
        error_messages={"required": "Enter a name for the series."},
    )
    venue = forms.ModelChoiceField(
        queryset=None,
        empty_label="Choose a venue",
        error_messages={
            "required": "Choose the venue.",
            "invalid_choice": "Choose a venue from the list.",
        },
    )
    mobile_unit = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="No mobile unit", label="Mobile unit"
    )
    services = forms.ModelMultipleChoiceField(
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        label="Services offered",
        error_messages={"required": "Choose at least one service."},
    )
    staff = StaffChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Staff",
        help_text="Put on the rota of every session.",
    )
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        label="Days of the week",
        error_messages={"required": "Choose at least one day of the week."},
    )
    interval_weeks = forms.IntegerField(
        min_value=1,
        max_value=8,
        initial=1,
        label="Every how many weeks",
        help_text="1 is every week, 2 is every other week.",
    )
    start_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        label="First date",
        error_messages={"required": "Enter the first date."},
    )
    until_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        label="Last date",
        help_text="Leave empty to keep going, or give a number of sessions instead.",
    )
    occurrence_limit = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=520,
        label="Number of sessions",
        help_text="Stop after this many sessions.",
    )
    start_time = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        label="Starts",
        error_messages={"required": "Enter the time the sessions start."},
    )
    end_time = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        label="Ends",
        error_messages={"required": "Enter the time the sessions end."},
    )
    booking_mode = forms.ChoiceField(
        choices=BookingMode.choices, initial=BookingMode.MIXED, label="Booking"
    )
    slot_minutes = forms.IntegerField(
        min_value=5, max_value=240, initial=15, label="Slot length in minutes"
    )
    lanes = forms.IntegerField(
        min_value=1, max_value=20, initial=1, help_text="How many people can be seen at once."
    )
    walk_in_share_percent = forms.IntegerField(
        min_value=0,
        max_value=100,
        initial=0,
        label="Share held back for walk-ins, in per cent",
    )
    audience = forms.ChoiceField(choices=Audience.choices, initial=Audience.EVERYONE)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["venue"].queryset = venues_for(user).filter(is_active=True)
        self.fields["mobile_unit"].queryset = mobile_units_for(user).filter(is_active=True)
        # The catalogue of services is shared by every organisation.
        self.fields["services"].queryset = ServiceType.objects.filter(is_active=True)
        self.fields["staff"].queryset = (
            # The rota is the people who see patients: nurses, HCAs and outreach workers.
            staff_members_for(user)
            .filter(is_active=True, user__is_active=True, role__in=StaffMember.CLINICAL_ROLES)
            .order_by("user__first_name", "user__last_name")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", "The session must end after it starts.")
        return data


class CancelSessionForm(NHSFormMixin, forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        label="Why is this session cancelled?",
        help_text="Kept with the session's history: leave out anyone's personal details.",
        error_messages={"required": "Say why the session is cancelled."},
    )
