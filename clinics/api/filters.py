"""Filter backends every list uses."""

import re
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django_filters import BooleanFilter, NumberFilter
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request


class StrictOrderingFilter(OrderingFilter):
    """`?ordering=` with a field the list does not offer is a 400 naming those it does.

    DRF's own filter drops an unknown field silently, so a typo returned the default order and
    looked like a bug in the data.
    """

    def remove_invalid_fields(
        self, queryset: QuerySet, fields: list[str], view: Any, request: Request
    ) -> list[str]:
        valid = super().remove_invalid_fields(queryset, fields, view, request)
        if len(valid) != len([field for field in fields if field]):
            names = sorted(
                name for name, _ in self.get_valid_fields(queryset, view, {"request": request})
            )
            raise exceptions.ValidationError(
                {"ordering": [f"Order by one of: {', '.join(names)} (- before it: descending)."]}
            )
        return valid


_BOOLEANS = {"true", "false", "True", "False", "1", "0"}
_WHOLE = re.compile(r"^-?[0-9]+$")


def _counts(queryset: QuerySet, declared: Any) -> bool:
    """Whether a number filter is on a whole-number column (an id, a decile)."""
    if not isinstance(declared, NumberFilter) or "__" in declared.field_name:
        return False
    try:
        column = queryset.model._meta.get_field(declared.field_name)
    except FieldDoesNotExist:
        return False
    return isinstance(column, models.IntegerField | models.AutoField | models.ForeignKey)


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, except that a filter given a value it cannot use is a 400.

    django-filter reads `?sensitive=maybe` or `?starts_at__lt=` as "no filter" and answers the
    whole list, and `?imd_decile=0.5` as a question with no answer: each looks like an answer
    to the question asked. Here each is a field error instead.
    """

    def get_filterset(self, request: Request, queryset: QuerySet, view: Any) -> Any:
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        wrong = {}
        for name, declared in filterset.filters.items():
            if name not in request.query_params:
                continue
            value = request.query_params[name]
            if value == "":
                wrong[name] = ["Give a value, or leave the filter out."]
            elif isinstance(declared, BooleanFilter) and value not in _BOOLEANS:
                wrong[name] = ["Give true or false."]
            elif _counts(queryset, declared) and not _WHOLE.match(value):
                wrong[name] = ["Give a whole number."]
        if wrong:
            raise exceptions.ValidationError(wrong)
        return filterset
