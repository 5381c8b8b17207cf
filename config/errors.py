"""Answers for URLs that match no view: JSON under /api/, the usual page elsewhere."""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults


def not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    # An API client (a typo, an id that is not a number) gets the one error shape, not a page.
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "detail": "No such address."}, status=404)
    return defaults.page_not_found(request, exception)
