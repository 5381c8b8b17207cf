"""Forms rendered in the NHS.UK design system, and service errors turned into form errors.

Every web form subclasses `NHSForm` (or mixes in `NHSFormMixin`):
- `{{ form }}` renders each field with its label, hint and inline error message
  (config/templates/forms/nhsuk/field.html picks the markup by widget: text, select, textarea,
  radios, checkboxes, a single checkbox, and `DayMonthYearField`'s day/month/year inputs);
- `{% load nhsuk %}{% error_summary form %}` at the top of the page lists every error, each
  linking to its field (the NHS.UK error summary pattern);
- `add_domain_error(form, error)` files a service's `DomainError` under the field it names, or
  above the form, so the user reads a sentence next to what they typed and nothing is lost.
"""

from collections.abc import Mapping
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.widgets import Input
from django.utils import timezone

from clinics.domain import DomainError

FIELD_TEMPLATE = "forms/nhsuk/field.html"

# Widget class -> the NHS.UK class of the control (and its error modifier, if it has one).
_CONTROL_CLASSES: list[tuple[type[forms.Widget], str, str]] = [
    (forms.RadioSelect, "nhsuk-radios__input", ""),
    (forms.CheckboxSelectMultiple, "nhsuk-checkboxes__input", ""),
    (forms.CheckboxInput, "nhsuk-checkboxes__input", ""),
    (forms.Select, "nhsuk-select", "nhsuk-select--error"),
    (forms.Textarea, "nhsuk-textarea", "nhsuk-textarea--error"),
    (Input, "nhsuk-input", "nhsuk-input--error"),
]


class DayMonthYearWidget(forms.MultiWidget):
    """Three text boxes for day, month and year (the NHS.UK date input)."""

    template_name = "forms/nhsuk/widgets/day_month_year.html"
    use_fieldset = True

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        box = {"inputmode": "numeric", "class": "nhsuk-input nhsuk-date-input__input"}
        super().__init__(
            [forms.TextInput(attrs=box), forms.TextInput(attrs=box), forms.TextInput(attrs=box)],
            attrs,
        )

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, date):
            return [value.day, value.month, value.year]
        return [None, None, None]


class DayMonthYearField(forms.MultiValueField):
    """A date typed as day, month and year, with the NHS.UK error sentences."""

    widget = DayMonthYearWidget

    def __init__(self, *, must_be_past: bool = False, **kwargs: Any) -> None:
        self.must_be_past = must_be_past
        parts = (forms.CharField(required=False), forms.CharField(required=False))
        super().__init__(
            fields=(*parts, forms.CharField(required=False)), require_all_fields=False, **kwargs
        )

    def _name(self) -> str:
        return str(self.label or "The date")

    def clean(self, value: Any) -> date | None:
        day, month, year = (str(part or "").strip() for part in (value or ["", "", ""]))
        name = self._name()
        if not (day or month or year):
            if self.required:
                raise ValidationError(f"Enter the {name[0].lower()}{name[1:]}.", code="required")
            return None
        parts = (("day", day), ("month", month), ("year", year))
        missing = [part for part, typed in parts if not typed]
        if missing:
            raise ValidationError(
                f"{name} must include a {' and a '.join(missing)}.", code="incomplete"
            )
        if not (day.isdigit() and month.isdigit() and year.isdigit()):
            raise ValidationError(f"{name} must be a real date, in numbers.", code="invalid")
        if len(year) != 4:
            raise ValidationError("Year must include 4 numbers.", code="invalid")
        try:
            cleaned = date(int(year), int(month), int(day))
        except ValueError:
            raise ValidationError(f"{name} must be a real date.", code="invalid") from None
        if self.must_be_past and cleaned > timezone.localdate():
            raise ValidationError(f"{name} must be today or in the past.", code="future")
        self.run_validators(cleaned)
        return cleaned

    def compress(self, data_list: list[Any]) -> Any:  # clean() does the whole job
        raise NotImplementedError


class NHSBoundField(forms.BoundField):
    """A bound field that gives its control the NHS.UK classes and error state."""

    @property
    def template_name(self) -> str:
        return self.field.template_name or FIELD_TEMPLATE

    @property
    def describedby(self) -> str:
        """The ids of the hint and error message, for a fieldset's aria-describedby."""
        ids = []
        if self.help_text:
            ids.append(f"{self.auto_id}_helptext")
        if self.errors:
            ids.append(f"{self.auto_id}_error")
        return " ".join(ids)

    @property
    def first_input_id(self) -> str:
        """Where the error summary links: the control, or the first of a group of them."""
        widget = self.field.widget
        if isinstance(widget, (forms.RadioSelect, forms.CheckboxSelectMultiple, forms.MultiWidget)):
            return f"{self.auto_id}_0"
        return self.auto_id

    def build_widget_attrs(self, attrs: dict[str, Any], widget: Any = None) -> dict[str, Any]:
        widget = widget or self.field.widget
        attrs = super().build_widget_attrs(attrs, widget)
        if isinstance(widget, DayMonthYearWidget):
            if self.errors:
                for sub in widget.widgets:
                    sub.attrs["class"] = "nhsuk-input nhsuk-date-input__input nhsuk-input--error"
            return attrs
        for widget_class, control, error in _CONTROL_CLASSES:
            if isinstance(widget, widget_class):
                classes = [widget.attrs.get("class", ""), attrs.get("class", ""), control]
                if self.errors and error:
                    classes.append(error)
                attrs["class"] = " ".join(dict.fromkeys(c for c in classes if c))
                break
        return attrs


class NHSFormMixin:
    bound_field_class = NHSBoundField
    template_name = "forms/nhsuk/form.html"
    # The browser's own "required" bubbles appear before the error summary can: leave checks
    # to the server, which answers in sentences.
    use_required_attribute = False


class NHSForm(NHSFormMixin, forms.Form):
    pass


class NHSModelForm(NHSFormMixin, forms.ModelForm):
    pass


def add_domain_error(
    form: forms.BaseForm, error: DomainError, *, fields: Mapping[str, str] | None = None
) -> None:
    """File a service's refusal on the form: under the field it concerns, else above the form.

    `error.extra["fields"]` names the service's arguments; `fields` maps those names to the
    form's field names where they differ (e.g. {"service": "service_type"}). With one field the
    service's whole sentence is shown there; with several, each field gets its own message.
    """
    named = dict(error.extra.get("fields") or {})
    mapping = dict(fields or {})
    placed = {
        mapping.get(name, name): message
        for name, message in named.items()
        if mapping.get(name, name) in form.fields
    }
    if len(placed) == 1:
        form.add_error(next(iter(placed)), error.detail)
    elif placed:
        for field, message in placed.items():
            form.add_error(field, str(message))
    else:
        form.add_error(None, error.detail)
