"""Patients and their contact points."""

from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from clinics import services
from clinics.access_log import record_patient_access
from clinics.api.common import (
    ActionPermission,
    error_responses,
    organisation_of,
    validated_input,
)
from clinics.api.pagination import LargeListPagination
from clinics.api.patient_records import PatientReadLogMixin, PatientRecordsMixin
from clinics.api.serializers import ContactPointSerializer, PatientSerializer
from clinics.governance import AccessLogEntry
from clinics.permissions import contact_points_for, patients_for
from clinics.validators import normalise_nhs_number

ERRORS = error_responses(None)
Action, Via = AccessLogEntry.Action, AccessLogEntry.Via


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "search", str, description="Part of a name, or an NHS number (spaces allowed)."
            )
        ]
    ),
    create=extend_schema(responses={201: PatientSerializer, **ERRORS}),
    partial_update=extend_schema(responses={200: PatientSerializer, **ERRORS}),
)
class PatientViewSet(
    PatientRecordsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """People your organisation has registered, and those a data-sharing agreement shares with it.

    Another organisation's record is a 404. Every read is in the access log.
    """

    serializer_class = PatientSerializer
    permission_classes = [ActionPermission]
    pagination_class = LargeListPagination
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_permissions = {
        "create": "clinics.add_patient",
        "partial_update": "clinics.change_patient",
        "contact_points": "clinics.view_contactpoint",
        "access_log": "clinics.view_accesslogentry",
        "export": "clinics.export_patient",
        "anonymise": "clinics.anonymise_patient",
    }
    filterset_fields = ["housing_status", "gp_registration", "no_fixed_abode", "sex"]
    ordering_fields = ["created_at", "preferred_name"]
    ordering = ["-created_at"]

    def get_queryset(self) -> QuerySet:
        patients = patients_for(self.request.user).current().prefetch_related("contact_points")
        term = self.request.query_params.get("search", "").strip()
        if term and self.action == "list":
            digits = normalise_nhs_number(term)
            if digits.isdigit() and len(digits) == 10:
                patients = patients.filter(nhs_number=digits)
            else:
                patients = patients.filter(
                    Q(preferred_name__icontains=term) | Q(legal_name__icontains=term)
                )
        return patients

    def perform_create(self, serializer: BaseSerializer) -> None:
        user = self.request.user
        serializer.instance = services.register_patient(
            organisation=organisation_of(user), by=user, **serializer.validated_data
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.update_patient(
            serializer.instance, by=self.request.user, **serializer.validated_data
        )

    @extend_schema(
        methods=["post"],
        request=ContactPointSerializer,
        responses={201: ContactPointSerializer, **ERRORS},
        description="Add a mobile number or email address; consent is stamped with who and when.",
    )
    @extend_schema(
        methods=["get"], responses={200: ContactPointSerializer(many=True), 404: ERRORS[404]}
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="contact-points",
        pagination_class=None,
        filter_backends=[],
    )
    def contact_points(self, request: Request, pk: Any = None) -> Response:
        patient = self.get_object()
        if request.method == "GET":
            contacts = contact_points_for(request.user).filter(patient=patient)
            record_patient_access(request, patient, action=Action.VIEW, via=Via.API)
            return Response(ContactPointSerializer(contacts, many=True).data)
        if not request.user.has_perm("clinics.add_contactpoint"):
            self.permission_denied(request)
        data = validated_input(ContactPointSerializer, request)
        contact = services.add_contact_point(patient, by=request.user, **data)
        return Response(ContactPointSerializer(contact).data, status=status.HTTP_201_CREATED)


@extend_schema_view(partial_update=extend_schema(responses={200: ContactPointSerializer, **ERRORS}))
class ContactPointViewSet(
    PatientReadLogMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """A contact point of one of your organisation's patients (add them under the patient)."""

    serializer_class = ContactPointSerializer
    permission_classes = [ActionPermission]
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_permissions = {
        "partial_update": "clinics.change_contactpoint",
        "opt_out": "clinics.change_contactpoint",
    }

    def get_queryset(self) -> QuerySet:
        return contact_points_for(self.request.user)

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.update_contact_point(
            serializer.instance, by=self.request.user, **serializer.validated_data
        )

    @extend_schema(
        request=None,
        responses={200: ContactPointSerializer, **ERRORS},
        description="The person asked for no more messages here: nothing more is sent to it.",
    )
    @action(detail=True, methods=["post"], url_path="opt-out")
    def opt_out(self, request: Request, pk: Any = None) -> Response:
        contact = services.opt_out_contact_point(self.get_object(), by=request.user)
        return Response(ContactPointSerializer(contact).data)
