"""Template tags for NHS.UK pages: the error summary of one or more forms."""

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("forms/nhsuk/error_summary.html")
def error_summary(*forms: Any) -> dict[str, Any]:
    """List every error of `forms` at the top of the page, each linking to its field."""
    errors: list[tuple[str, str]] = []
    for form in forms:
        if not form or not form.is_bound or not form.errors:
            continue
        for message in form.non_field_errors():
            errors.append(("", message))
        for field in form:
            if field.is_hidden:
                continue
            href = getattr(field, "first_input_id", field.auto_id)
            errors.extend((href, message) for message in field.errors)
    return {"errors": errors}
