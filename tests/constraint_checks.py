"""The checks behind each app's table-driven constraint tests.

A case is (constraint name, factory, values the database must refuse, boundary values it must
accept); values may be a callable taking the saved row, for values that need other rows.
Rows are changed with QuerySet.update() on purpose: it skips Python validation, so only the
database stands between the values and the table.
"""

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from django.apps import apps
from django.db import IntegrityError, models, transaction

Values = dict[str, Any] | Callable[[models.Model], dict[str, Any]]
Case = tuple[str, Callable[..., models.Model], Values, Values]


def _values(values: Values, obj: models.Model) -> dict[str, Any]:
    return values(obj) if callable(values) else values


def case_ids(cases: Iterable[Case]) -> list[str]:
    ids = []
    for name, _, refused, _ in cases:
        shown = refused if isinstance(refused, dict) else {"values": refused.__name__}
        ids.append(name + ":" + ",".join(f"{field}={value}" for field, value in shown.items()))
    return ids


def assert_refused(name: str, factory: Callable[..., models.Model], refused: Values) -> None:
    obj = factory()
    with pytest.raises(IntegrityError, match=name), transaction.atomic():
        type(obj).objects.filter(pk=obj.pk).update(**_values(refused, obj))


def assert_accepted(factory: Callable[..., models.Model], accepted: Values) -> None:
    obj = factory()
    values = _values(accepted, obj)
    assert type(obj).objects.filter(pk=obj.pk).update(**values) == 1
    obj.refresh_from_db()
    for field, value in values.items():
        expected = value.pk if isinstance(value, models.Model) else value
        actual = getattr(obj, field)
        actual = actual.pk if isinstance(actual, models.Model) else actual
        assert actual == expected, field


def declared_constraints(app_label: str) -> set[str]:
    return {
        constraint.name
        for model in apps.get_app_config(app_label).get_models()
        for constraint in model._meta.constraints
    }
