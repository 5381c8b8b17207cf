"""Forms of the people pages: find a person, register a person."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from clinics.models import Patient
from clinics.validators import (
    nhs_number_is_valid,
    normalise_nhs_number,
    normalise_postcode,
    validate_postcode,
)
from config.forms import DayMonthYearField, NHSForm


def _clean_nhs_number(value: str) -> str:
    number = normalise_nhs_number(value)
    if number and not (len(number) == 10 and number.isdigit()):
        raise ValidationError("NHS number must be 10 digits, like 943 476 5919.")
    if number and not nhs_number_is_valid(number):
        raise ValidationError(
            "Check the NHS number: it is not a real one (the last digit is wrong)."
        )
    return number


class FindPersonForm(NHSForm):
    name = forms.CharField(
        label="Name",
        required=False,
        max_length=100,
        help_text="Preferred or legal name. A first name or part of one is enough.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    date_of_birth = DayMonthYearField(label="Date of birth", required=False, must_be_past=True)
    nhs_number = forms.CharField(
        label="NHS number",
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-10"}),
    )

    def clean_nhs_number(self) -> str:
        return _clean_nhs_number(self.cleaned_data["nhs_number"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and not any(
            data.get(f) for f in ("name", "date_of_birth", "nhs_number")
        ):
            raise ValidationError("Enter a name, a date of birth or an NHS number to search for.")
        return data


class RegisterPersonForm(NHSForm):
    preferred_name = forms.CharField(
        label="Preferred name",
        max_length=100,
        help_text="What they would like to be called. This is the only thing you need.",
        error_messages={"required": "Enter the name they would like to be called."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    legal_name = forms.CharField(label="Legal name (optional)", required=False, max_length=200)
    date_of_birth = DayMonthYearField(
        label="Date of birth (optional)", required=False, must_be_past=True
    )
    nhs_number = forms.CharField(
        label="NHS number (optional)",
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-10"}),
    )
    sex = forms.ChoiceField(
        label="Sex (optional)",
        required=False,
        choices=[("", "Not recorded"), *Patient.Sex.choices],
    )
    housing_status = forms.ChoiceField(
        label="Housing (optional)",
        required=False,
        choices=Patient.Housing.choices,
        initial=Patient.Housing.UNKNOWN,
    )
    postcode = forms.CharField(label="Postcode (optional)", required=False, max_length=8)

    def clean_nhs_number(self) -> str:
        number = _clean_nhs_number(self.cleaned_data["nhs_number"])
        if number and Patient.objects.filter(nhs_number=number, merged_into__isnull=True).exists():
            raise ValidationError(
                "Someone with this NHS number is already registered: search for them instead."
            )
        return number

    def clean_postcode(self) -> str:
        postcode = normalise_postcode(self.cleaned_data["postcode"])
        if postcode:
            try:
                validate_postcode(postcode)
            except ValidationError:
                raise ValidationError("Enter a real postcode, like LS1 4AP.") from None
        return postcode

    def patient_fields(self) -> dict[str, Any]:
        """The fields to register with: the ones filled in."""
        return {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}
