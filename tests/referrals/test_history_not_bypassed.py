"""No application code changes a history-tracked model with `QuerySet.update()`.

django-simple-history records a change when a model instance is saved; `QuerySet.update()`
writes SQL directly and leaves no history row, so the audit trail would silently miss it. This
test reads every application module (clinics/, outreach/, referrals/, config/; not tests/, whose
constraint tests use update() on purpose to reach the database past every service, nor
migrations) with `ast` and fails on any `.update(` call whose receiver is a queryset of a tracked
model. A receiver counts as one when its chain of names mentions:

- the model class (`Booking.objects.filter(...).update(...)`),
- a reverse accessor that yields the model (`session.bookings.update(...)`,
  `patient.referrals.filter(...).update(...)`), or
- a scoping helper annotated to return its queryset (`bookings_for(user).update(...)`).

Plain `dict.update()` and `.update()` on anything else do not match, so the check stays precise;
the first test proves it catches each shape.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.apps import apps
from simple_history.models import HistoricalRecords  # noqa: F401 - documents the dependency

ROOT = Path(__file__).resolve().parents[2]
APP_DIRS = ["clinics", "outreach", "referrals", "config"]


def tracked_models() -> list[type]:
    return [
        model
        for model in apps.get_models()
        if hasattr(model, "history") and not model.__name__.startswith("Historical")
    ]


def _source_files() -> Iterator[Path]:
    for folder in APP_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _helpers_returning(model_names: set[str]) -> set[str]:
    """Functions annotated to return a queryset of a tracked model (`bookings_for`...)."""
    helpers = set()
    for path in _source_files():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.FunctionDef) and node.returns is not None:
                returns = ast.unparse(node.returns)
                if "QuerySet" in returns and any(name in returns for name in model_names):
                    helpers.add(node.name)
    return helpers


def tracked_names() -> set[str]:
    names = set()
    for model in tracked_models():
        names.add(model.__name__)
        for relation in model._meta.get_fields():
            # Reverse accessors on *other* models that yield this one: session.bookings.
            if relation.is_relation and relation.many_to_one and relation.related_model:
                accessor = relation.remote_field.get_accessor_name()
                if accessor:  # None for related_name="+"
                    names.add(accessor)
    return names | _helpers_returning({model.__name__ for model in tracked_models()})


def _chain(node: ast.AST) -> set[str]:
    """Every name and attribute in the receiver expression of a call."""
    found = set()
    for part in ast.walk(node):
        if isinstance(part, ast.Name):
            found.add(part.id)
        elif isinstance(part, ast.Attribute):
            found.add(part.attr)
    return found


def bypasses(source: str, names: set[str]) -> list[int]:
    """Line numbers of `.update(` calls on a tracked model's queryset."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
            and _chain(node.func.value) & names
        ):
            lines.append(node.lineno)
    return lines


def test_the_tracked_models_are_the_ones_the_issue_names():
    assert {m.__name__ for m in tracked_models()} >= {
        "Patient",
        "OutreachSession",
        "Booking",
        "Referral",
        "VisitOutcome",
    }


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ("Booking.objects.filter(pk=1).update(status='x')", True),
        ("Referral.objects.select_for_update().filter(a=1).update(b=2)", True),
        ("session.bookings.filter(status='booked').update(status='cancelled')", True),
        ("patient.referrals.update(status='withdrawn')", True),
        ("bookings_for(user).update(notes='')", True),
        ("changes.update({'status': 'x'})", False),
        ("Message.objects.filter(pk=1).update(status='sending')", False),
        ("self.fields.update(other)", False),
    ],
)
def test_the_scanner_catches_each_shape_and_nothing_else(source, caught):
    assert bool(bypasses(source, tracked_names())) is caught


def test_no_code_updates_a_tracked_model_without_history():
    names = tracked_names()
    offences = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _source_files()
        for line in bypasses(path.read_text(), names)
    ]
    assert offences == [], "QuerySet.update() bypasses history: save() each row instead"
