"""API pieces every app uses: role permissions, scoped related fields and history."""

import copy
from collections.abc import Callable
from itertools import pairwise
from typing import Any

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from clinics.permissions import staff_for


class StrictCharField(serializers.CharField):
    """Text is sent as text: a number where words belong is a field error, not a quiet "0"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer):
    """A model serializer whose text fields take only text (see `StrictCharField`)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }


class ActionPermission(permissions.BasePermission):
    """Each viewset action names the Django permission it needs (`action_permissions`).

    Roles are groups with model permissions (clinics/roles.py), so "a nurse may book but not
    plan a series" is configured once and enforced here and in the admin alike.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        needed = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if needed is None:
            return True
        return request.user.has_perm(needed)


@extend_schema_field(OpenApiTypes.INT)
class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related id that must be one the requesting user may see; others read as unknown."""

    def __init__(self, scope: Callable[[Any], models.QuerySet], **kwargs: Any) -> None:
        self.scope = scope
        kwargs.setdefault("error_messages", {"does_not_exist": "No such record: {pk_value}."})
        super().__init__(**kwargs)

    def get_queryset(self) -> models.QuerySet:
        request = self.context.get("request")
        return self.scope(getattr(request, "user", None))


def organisation_of(user: Any) -> Any:
    """The organisation a new record created by `user` belongs to."""
    staff = staff_for(user)
    if staff is None:
        raise serializers.ValidationError(
            {"non_field_errors": ["Your account is not linked to an organisation."]}
        )
    return staff.organisation


class HistoryEntrySerializer(serializers.Serializer):
    """One change: who, when, what kind, why, and the fields that changed."""

    id = serializers.IntegerField(source="history_id")
    at = serializers.DateTimeField(source="history_date")
    type = serializers.SerializerMethodField()
    by = serializers.SerializerMethodField()
    reason = serializers.CharField(source="history_change_reason", allow_null=True)
    changes = serializers.SerializerMethodField()

    _TYPES = {"+": "created", "~": "changed", "-": "deleted"}

    def get_type(self, entry: Any) -> str:
        return self._TYPES.get(entry.history_type, entry.history_type)

    def get_by(self, entry: Any) -> str | None:
        user = entry.history_user
        if user is None:
            return None
        return user.get_full_name() or user.get_username()

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "old": {"type": "string", "nullable": True},
                    "new": {"type": "string", "nullable": True},
                },
            },
        }
    )
    def get_changes(self, entry: Any) -> list[dict[str, Any]]:
        previous = self.context.get("previous", {}).get(entry.history_id)
        if previous is None:
            return []
        delta = entry.diff_against(previous)
        return [
            {
                "field": change.field,
                "old": None if change.old is None else str(change.old),
                "new": None if change.new is None else str(change.new),
            }
            for change in delta.changes
        ]


def history_response_data(instance: models.Model) -> list[dict[str, Any]]:
    """The full history of `instance`, oldest first, each entry with its field changes."""
    entries = list(
        instance.history.select_related("history_user").order_by("history_date", "history_id")
    )
    previous = {entry.history_id: before for before, entry in pairwise(entries)}
    return HistoryEntrySerializer(entries, many=True, context={"previous": previous}).data


_IMMUTABLE_TYPES = (str, int, float, bool, type(None), tuple, frozenset, type)


class FreshFieldsSerializer(serializers.Serializer):
    """An input serializer whose fields are made anew from their declarations, not deep copied.

    DRF gives each serializer its own fields by deep-copying the declared ones, and a field's
    copy deep-copies every argument it was declared with before making it again: for a booking
    that costs more than its checks. Fields made again from the same arguments are the same
    fields. The arguments are shared, as DRF already shares validators, so this is for
    serializers whose fields are declared with values nothing changes: numbers, text, types,
    functions, choices; a nested serializer or a mutable argument gets the deep copy.
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        made = {}
        for name, field in self._declared_fields.items():
            if _shareable(field):
                made[name] = field.__class__(*field._args, **field._kwargs)
            else:
                made[name] = copy.deepcopy(field)
        return made


def _shareable(field: serializers.Field) -> bool:
    if isinstance(field, serializers.BaseSerializer):
        return False
    values = [*field._args, *field._kwargs.values()]
    return all(
        isinstance(value, _IMMUTABLE_TYPES) or callable(value) or _choices(value)
        for value in values
    )


def _choices(value: Any) -> bool:
    """A list of choices (values or value and label pairs), which a ChoiceField only reads."""
    return isinstance(value, list) and all(
        isinstance(item, (str, int)) or (isinstance(item, tuple) and len(item) == 2)
        for item in value
    )


def validated_input(
    serializer_class: type[serializers.Serializer], request: Request, data: Any = None
) -> dict[str, Any]:
    """Validate the request body (or `data`, such as query parameters) with an input serializer.

    Invalid input raises DRF's ValidationError, which the API's error handler turns into a 400
    with field errors.
    """
    serializer = serializer_class(
        data=request.data if data is None else data, context={"request": request}
    )
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def error_responses(conflicts: str | None) -> dict[int, OpenApiResponse]:
    """The documented error answers of an endpoint; `conflicts` lists its 409 codes, if any.

    The body of each is the one error shape (`Error` in the schema), added by
    `config.api.document_errors` with the 401 and 403 every endpoint may answer.
    """
    responses = {
        400: OpenApiResponse(description="Invalid input: `code`, `detail` and `fields`."),
        403: OpenApiResponse(description="Your role may not do this."),
        404: OpenApiResponse(description="Not found, or not yours to see."),
    }
    if conflicts:
        responses[409] = OpenApiResponse(
            description=f"Conflicts with the current state: `code` says why ({conflicts})."
        )
    return responses
