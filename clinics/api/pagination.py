"""The two kinds of page every list uses.

Small catalogues (service types, venues, templates) are numbered pages: a client may jump to page
3 and knows the total. Lists that grow without bound (patients, bookings, messages, outcomes,
referrals) are cursor pages: the cost of a page does not grow with how far down it is, and a row
inserted while someone pages through is neither skipped nor shown twice.
"""

from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.request import Request


class CataloguePagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class LargeListPagination(CursorPagination):
    """Cursor pages in the view's `ordering` (or a permitted `?ordering=`), ties broken by id.

    Only non-null columns may lead a cursor ordering: a cursor position of NULL cannot be
    compared, so views list nullable columns in neither `ordering` nor `ordering_fields`.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-id",)

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        ordering = tuple(super().get_ordering(request, queryset, view))
        if not any(field.lstrip("-") in {"id", "pk"} for field in ordering):
            # The id breaks ties, so rows with the same date keep a stable order across pages.
            ordering += ("-id" if ordering and ordering[0].startswith("-") else "id",)
        return ordering
