"""The patient endpoints of information governance: the access log, history, subject access
export and anonymisation, and the logging of every read of a patient record.

A mixin of PatientViewSet, so each is under /api/v1/patients/{id}/.
"""

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied

# DRF's get_object_or_404: an id that is not a number ("null,null") is a 404, not a 500.
from rest_framework.generics import get_object_or_404
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from clinics.access_log import entries_about, record_patient_access
from clinics.api.common import HistoryEntrySerializer, history_response_data
from clinics.api.serializers import PatientSerializer
from clinics.data_protection import anonymise_patient, subject_access_export
from clinics.governance import AccessLogEntry
from clinics.models import Patient
from clinics.permissions import (
    audited_patients_for,
    patients_for,
    scope_to_organisation,
    sees_sensitive_services,
)

Action = AccessLogEntry.Action
API = AccessLogEntry.Via.API

_NOT_FOUND = OpenApiResponse(description="Not found, or not yours to see.")
_FORBIDDEN = OpenApiResponse(description="Your role does not allow this.")


class AccessLogEntrySerializer(serializers.ModelSerializer):
    patient_count = serializers.SerializerMethodField()

    class Meta:
        model = AccessLogEntry
        fields = [
            "id",
            "at",
            "username",
            "organisation_id",
            "action",
            "via",
            "patient_count",
            "ip_address",
            "user_agent",
            "path",
            "entry_hash",
        ]
        read_only_fields = fields

    def get_patient_count(self, entry: AccessLogEntry) -> int:
        return len(entry.patient_ids)


class AccessLogPagination(CursorPagination):
    ordering = "-id"
    page_size = 50


class SubjectAccessExportSerializer(serializers.Serializer):
    """The shape of the export: one list of plain rows per kind of record."""

    exported_at = serializers.DateTimeField()
    patient = serializers.DictField()
    contact_points = serializers.ListField(child=serializers.DictField())
    patient_history = serializers.ListField(child=serializers.DictField())
    bookings = serializers.ListField(child=serializers.DictField())
    booking_history = serializers.ListField(child=serializers.DictField())
    visit_outcomes = serializers.ListField(child=serializers.DictField())
    visit_outcome_history = serializers.ListField(child=serializers.DictField())
    waiting_list_entries = serializers.ListField(child=serializers.DictField())
    messages = serializers.ListField(child=serializers.DictField())
    replies = serializers.ListField(child=serializers.DictField())
    referrals = serializers.ListField(child=serializers.DictField())
    referral_history = serializers.ListField(child=serializers.DictField())
    referral_chases = serializers.ListField(child=serializers.DictField())
    access_log = serializers.ListField(child=serializers.DictField())


def patient_ids_in(data: Any, depth: int = 0) -> set[int]:
    """The `patient` ids in a response body: rows, pages and nested lists (a session's day)."""
    found: set[int] = set()
    if depth > 3:
        return found
    if isinstance(data, dict):
        if isinstance(data.get("patient"), int):
            found.add(data["patient"])
        for value in data.values():
            if isinstance(value, list | dict):
                found |= patient_ids_in(value, depth + 1)
    elif isinstance(data, list):
        for item in data:
            found |= patient_ids_in(item, depth + 1)
    return found


class PatientReadLogMixin:
    """For viewsets whose rows name a patient (bookings, referrals, messages, the waiting list).

    Every successful GET whose body names patients is one access log entry naming them all:
    a view for one record, a list otherwise, and the history of a record as a history read.
    """

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if request.method != "GET" or not 200 <= response.status_code < 300:
            return response
        if getattr(self, "action", None) == "history":
            instance = self.get_object()  # type: ignore[attr-defined]
            ids = {instance.patient_id} if getattr(instance, "patient_id", None) else set()
            action = Action.HISTORY
        else:
            ids = patient_ids_in(response.data)
            single = getattr(self, "detail", False) and len(ids) == 1
            action = Action.VIEW if single else Action.LIST
        record_patient_access(request, ids, action=action, via=API)
        return response


def _ids_on_page(data: Any) -> list[int]:
    rows = data.get("results", []) if isinstance(data, dict) else data
    return [row["id"] for row in rows]


class PatientRecordsMixin:
    """Log reads of patients; the governance actions on one patient."""

    request: Request
    kwargs: dict[str, Any]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)  # type: ignore[misc]
        searched = bool(request.query_params.get("search", "").strip())
        # One entry for the page, naming everyone on it: a list costs one insert.
        record_patient_access(
            request,
            _ids_on_page(response.data),
            action=Action.SEARCH if searched else Action.LIST,
            via=API,
        )
        return response

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().retrieve(request, *args, **kwargs)  # type: ignore[misc]
        record_patient_access(request, response.data["id"], action=Action.VIEW, via=API)
        return response

    def _own_patient(self) -> Patient:
        """A patient of the user's own organisation (the controller), not a shared one."""
        own = scope_to_organisation(Patient.objects.all(), self.request.user)
        return get_object_or_404(own, pk=self.kwargs["pk"])

    @extend_schema(
        responses={200: HistoryEntrySerializer(many=True), 404: _NOT_FOUND},
        description=(
            "Every change to the patient's record: who, when, what and why. Auditors read it "
            "for their organisation's patients. Logged in the access log."
        ),
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request: Request, pk: Any = None) -> Response:
        user = request.user
        try:
            patient = get_object_or_404(patients_for(user), pk=pk)
        except Http404:
            patient = get_object_or_404(audited_patients_for(user), pk=pk)
        record_patient_access(request, patient, action=Action.HISTORY, via=API)
        return Response(history_response_data(patient))

    @extend_schema(
        responses={200: AccessLogEntrySerializer(many=True), 403: _FORBIDDEN, 404: _NOT_FOUND},
        description=(
            "Who read this patient's record, newest first (cursor paginated). For auditors, "
            "coordinators and admins of the patient's organisation."
        ),
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="access-log",
        pagination_class=AccessLogPagination,
        filter_backends=[],
    )
    def access_log(self, request: Request, pk: Any = None) -> Response:
        patient = get_object_or_404(audited_patients_for(request.user), pk=pk)
        page = self.paginate_queryset(entries_about(patient.pk))  # type: ignore[attr-defined]
        data = AccessLogEntrySerializer(page, many=True).data
        return self.get_paginated_response(data)  # type: ignore[attr-defined]

    @extend_schema(
        responses={200: SubjectAccessExportSerializer, 403: _FORBIDDEN, 404: _NOT_FOUND},
        description=(
            "Subject access: everything held about the patient as JSON. For coordinators and "
            "admins of the patient's own organisation who may see sensitive services (the "
            "export must be complete). Logged in the access log as an export."
        ),
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def export(self, request: Request, pk: Any = None) -> Response:
        patient = self._own_patient()
        if not sees_sensitive_services(request.user):
            raise PermissionDenied(
                "A subject access export includes sensitive services: ask someone who may "
                "see them to export it."
            )
        data = subject_access_export(patient)
        record_patient_access(request, patient, action=Action.EXPORT, via=API)
        return Response(data)

    @extend_schema(
        request=None,
        responses={
            200: PatientSerializer,
            403: _FORBIDDEN,
            404: _NOT_FOUND,
            409: OpenApiResponse(
                description=(
                    "`patient_has_open_care`: an open referral, a future booking or a "
                    "waiting-list entry; `blockers` lists them."
                )
            ),
        },
        description=(
            "Remove what identifies the person for good (name, dates, NHS number, postcode, "
            "contact points, free text, also in the history), keeping coded fields for "
            "reporting. Refused while care is in progress."
        ),
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def anonymise(self, request: Request, pk: Any = None) -> Response:
        patient = anonymise_patient(self._own_patient(), by=request.user)
        return Response(PatientSerializer(patient).data)
