"""The two kinds of page every list uses.

Small catalogues (service types, venues, templates) are numbered pages: a client may jump to page
3 and knows the total. Lists that grow without bound (patients, bookings, messages, outcomes,
referrals) are cursor pages: the cost of a page does not grow with how far down it is, and a row
inserted while someone pages through is neither skipped nor shown twice.
"""

from typing import Any

from django.db.models import QuerySet
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request

MAX_PAGE_SIZE = 200


class StrictPageSize:
    """`?page_size=` is a whole number from 1 to 200; anything else is a 400, not ignored."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int | None:
        given = request.query_params.get(self.page_size_query_param)
        if given is not None and not (given.isdigit() and 1 <= int(given) <= MAX_PAGE_SIZE):
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"Give a whole number from 1 to {MAX_PAGE_SIZE}."]}
            )
        return super().get_page_size(request)  # type: ignore[misc]

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)  # type: ignore[misc]
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": MAX_PAGE_SIZE})
        return parameters


class CataloguePagination(StrictPageSize, PageNumberPagination):
    page_size = 50


class LargeListPagination(StrictPageSize, CursorPagination):
    """Cursor pages in the view's `ordering` (or a permitted `?ordering=`), ties broken by id.

    Only non-null columns may lead a cursor ordering: a cursor position of NULL cannot be
    compared, so views list nullable columns in neither `ordering` nor `ordering_fields`.
    """

    page_size = 50
    ordering = ("-id",)

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        ordering = tuple(super().get_ordering(request, queryset, view))
        if not any(field.lstrip("-") in {"id", "pk"} for field in ordering):
            # The id breaks ties, so rows with the same date keep a stable order across pages.
            ordering += ("-id" if ordering and ordering[0].startswith("-") else "id",)
        return ordering
