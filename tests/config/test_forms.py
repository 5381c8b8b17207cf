"""The NHS.UK form pattern: labels, hints, inline errors, the error summary, service errors."""

from datetime import date

import pytest
from django import forms
from django.template import Context, Template

from clinics.domain import DomainError
from config.forms import DayMonthYearField, NHSForm, add_domain_error


class ExampleForm(NHSForm):
    name = forms.CharField(label="Preferred name", help_text="What they like to be called.")
    born = DayMonthYearField(label="Date of birth", required=False, must_be_past=True)
    service = forms.ChoiceField(label="Service", choices=[("", "Choose"), ("bp", "Blood pressure")])
    priority = forms.ChoiceField(
        label="Priority",
        choices=[("routine", "Routine"), ("urgent", "Urgent")],
        widget=forms.RadioSelect,
    )
    needs = forms.MultipleChoiceField(
        label="Needs",
        choices=[("wheelchair", "Wheelchair"), ("interpreter", "Interpreter")],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    notes = forms.CharField(label="Notes", widget=forms.Textarea, required=False)
    consent = forms.BooleanField(label="They agree", required=False)


def render(form: forms.Form) -> str:
    return Template("{% load nhsuk %}{% error_summary form %}{{ form }}").render(
        Context({"form": form})
    )


def test_every_field_has_its_label_hint_and_nhs_classes():
    html = render(ExampleForm())

    assert '<label class="nhsuk-label" for="id_name">Preferred name</label>' in html
    hint = '<div class="nhsuk-hint" id="id_name_helptext">What they like to be called.</div>'
    assert hint in html
    assert 'class="nhsuk-input"' in html
    assert 'class="nhsuk-select"' in html
    assert 'class="nhsuk-textarea"' in html
    assert 'class="nhsuk-radios__input"' in html
    assert 'class="nhsuk-checkboxes__input"' in html
    assert 'nhsuk-fieldset__legend--s">Date of birth</legend>' in html
    assert "nhsuk-error-summary" not in html


def test_errors_are_summarised_with_links_and_shown_next_to_each_field():
    form = ExampleForm(data={"name": "", "born_0": "31", "born_1": "2", "born_2": "1990"})

    assert not form.is_valid()
    html = render(form)

    assert "There is a problem" in html
    assert '<a href="#id_name">This field is required.</a>' in html
    assert '<a href="#id_born_0">Date of birth must be a real date.</a>' in html
    assert '<a href="#id_priority_0">' in html
    assert 'id="id_name_error"' in html
    assert 'aria-describedby="id_name_helptext id_name_error"' in html
    assert "nhsuk-form-group--error" in html
    assert "nhsuk-input--error" in html


def test_what_was_typed_is_kept_when_the_form_is_refused():
    form = ExampleForm(
        data={
            "name": "Sam",
            "born_0": "3",
            "born_1": "x",
            "born_2": "1990",
            "notes": "Came with a friend",
        }
    )

    assert not form.is_valid()
    html = render(form)

    assert 'value="Sam"' in html
    assert 'value="3"' in html
    assert 'value="x"' in html
    assert 'value="1990"' in html
    assert "Came with a friend" in html


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (("", "", ""), None),
        (("1", "", "1990"), "Date of birth must include a month."),
        (("", "", "1990"), "Date of birth must include a day and a month."),
        (("1", "1", "90"), "Year must include 4 numbers."),
        (("30", "2", "1990"), "Date of birth must be a real date."),
        (("1", "1", "2999"), "Date of birth must be today or in the past."),
    ],
)
def test_day_month_year_errors_are_sentences(parts, message):
    data = {"name": "Sam", "priority": "routine", "service": "bp"}
    data.update({f"born_{i}": part for i, part in enumerate(parts)})
    form = ExampleForm(data=data)

    if message is None:
        assert form.is_valid(), form.errors
        assert form.cleaned_data["born"] is None
    else:
        assert form.errors["born"] == [message]


def test_a_day_month_year_date_is_read_as_a_date():
    data = {
        "name": "Sam",
        "priority": "routine",
        "service": "bp",
        "born_0": "9",
        "born_1": "11",
        "born_2": "1984",
    }
    form = ExampleForm(data=data)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["born"] == date(1984, 11, 9)


def test_a_service_error_naming_a_field_is_shown_on_that_field():
    form = ExampleForm(data={"name": "Sam", "priority": "routine", "service": "bp"})
    assert form.is_valid()

    add_domain_error(
        form,
        DomainError(
            "Blood pressure is not offered at this session.", fields={"service": "Not offered."}
        ),
    )

    assert form.errors["service"] == ["Blood pressure is not offered at this session."]


def test_a_service_error_without_a_field_goes_above_the_form():
    form = ExampleForm(data={"name": "Sam", "priority": "routine", "service": "bp"})
    assert form.is_valid()

    add_domain_error(form, DomainError("There are no free slots left in this session."))

    assert form.non_field_errors() == ["There are no free slots left in this session."]
    assert "<li>There are no free slots left in this session.</li>" in render(form)


def test_service_argument_names_map_to_form_fields():
    form = ExampleForm(data={"name": "Sam", "priority": "routine", "service": "bp"})
    assert form.is_valid()

    add_domain_error(
        form, DomainError("Choose a lane.", fields={"patient": "x"}), fields={"patient": "name"}
    )

    assert form.errors["name"] == ["Choose a lane."]
