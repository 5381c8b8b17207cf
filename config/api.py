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


ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error shape. Conflicts may add more keys, such as `allowed`, "
    "`current` or `clashing_session`.",
    "properties": {
        "code": {"type": "string", "description": "Stable, for programs: `invalid`, ..."},
        "detail": {"type": "string", "description": "Readable, for people."},
        "fields": {
            "type": "object",
            "description": "Input errors by field name: a list of messages (or, for a list "
            "or nested object, the same shape again).",
            "additionalProperties": {},
        },
    },
    "required": ["code", "detail"],
    "additionalProperties": True,
}

_GENERIC = {
    400: "Invalid input: `code`, `detail` and `fields`.",
    401: "Not signed in.",
    403: "Your role may not do this.",
    404: "Not found, or not yours to see (or no such page).",
}


def document_errors(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Give every operation its error answers, each with the one error shape as its body.

    drf-spectacular documents what a view declares; the answers every endpoint can give
    (signed out, a role without the permission, another organisation's id, bad query
    parameters) are added here once, so the schema does not lie by omission.
    """
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    _plain_times(result)
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            wanted = {401, 403}
            parameters = {parameter.get("name") for parameter in operation.get("parameters", [])}
            # A page past the end, or a cursor that is not one of ours, is also a 404.
            if "{" in path or parameters & {"page", "cursor"}:
                wanted.add(404)
            if method in {"post", "put", "patch"} or any(
                parameter.get("in") == "query" for parameter in operation.get("parameters", [])
            ):
                wanted.add(400)
            for code in wanted:
                responses.setdefault(str(code), {"description": _GENERIC[code]})
            for code, response in responses.items():
                if code.startswith(("4", "5")) and "content" not in response:
                    response["content"] = body
    return result


_TIME = {
    "type": "string",
    "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$",
    "description": "Wall-clock time in London, such as 10:00 or 10:00:00.",
}


def _plain_times(node: Any) -> None:
    """Say what a time is: `format: time` demands a UTC offset, which a clinic's 10:00 has not."""
    if isinstance(node, dict):
        if node.get("format") == "time":
            node.pop("format")
            for key, value in _TIME.items():
                node.setdefault(key, value)
        for value in node.values():
            _plain_times(value)
    elif isinstance(node, list):
        for value in node:
            _plain_times(value)
