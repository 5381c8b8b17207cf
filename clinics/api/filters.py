"""Filter backends every list uses."""

from typing import Any

from django.db.models import QuerySet
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
