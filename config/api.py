"""One error shape for the whole API: {"code", "detail", "fields"}.

Service errors (`DomainError` and its subclasses) carry their own stable code and HTTP status;
DRF's own errors (validation, malformed JSON, not found, not allowed) are reshaped to match, so a
client handles every failure the same way.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from clinics.domain import DomainError


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [str(item) for item in detail]
        return [_flatten(item) for item in detail]
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"code": exc.code, "detail": exc.detail}
        extra = dict(exc.extra)
        fields = extra.pop("fields", None)
        if fields:
            body["fields"] = {
                key: [value] if isinstance(value, str) else value for key, value in fields.items()
            }
        body.update(extra)
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if not isinstance(fields, dict):
            fields = {"non_field_errors": fields}
        response.data = {
            "code": "invalid",
            "detail": "Some of the information is missing or not right: see fields.",
            "fields": fields,
        }
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    response.data = {
        "code": code if isinstance(code, str) else "error",
        "detail": str(detail),
    }
    return response
