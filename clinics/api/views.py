from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.serializers import BaseSerializer

from clinics import services
from clinics.api.common import ActionPermission, organisation_of
from clinics.api.patient_records import PatientRecordsMixin
from clinics.api.serializers import (
    MobileUnitSerializer,
    PatientSerializer,
    ServiceTypeSerializer,
    StaffMemberSerializer,
    VenueSerializer,
)
from clinics.models import MobileUnit, ServiceType, StaffMember, Venue
from clinics.permissions import patients_for, scope_to_organisation
from clinics.validators import normalise_nhs_number


class ServiceTypeViewSet(viewsets.ReadOnlyModelViewSet):
    """The service catalogue."""

    serializer_class = ServiceTypeSerializer
    queryset = ServiceType.objects.filter(is_active=True)
    pagination_class = None


class VenueViewSet(viewsets.ReadOnlyModelViewSet):
    """Venues: food banks, hostels, street sites, workplaces."""

    serializer_class = VenueSerializer
    queryset = Venue.objects.filter(is_active=True)
    filterset_fields = ["kind", "town"]


class MobileUnitViewSet(viewsets.ReadOnlyModelViewSet):
    """Your organisation's mobile units."""

    serializer_class = MobileUnitSerializer

    def get_queryset(self) -> QuerySet[MobileUnit]:
        units = MobileUnit.objects.filter(is_active=True).prefetch_related("supported_services")
        return scope_to_organisation(units, self.request.user, person_level=False)


class StaffMemberViewSet(viewsets.ReadOnlyModelViewSet):
    """Your organisation's staff, for rotas."""

    serializer_class = StaffMemberSerializer
    filterset_fields = ["role"]

    def get_queryset(self) -> QuerySet[StaffMember]:
        staff = StaffMember.objects.filter(is_active=True).select_related("user")
        return scope_to_organisation(
            staff.prefetch_related("competencies"), self.request.user, person_level=False
        )


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "search", str, description="Part of a name, or an NHS number (spaces allowed)."
            )
        ]
    )
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
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_permissions = {
        "create": "clinics.add_patient",
        "partial_update": "clinics.change_patient",
        "access_log": "clinics.view_accesslogentry",
        "export": "clinics.export_patient",
        "anonymise": "clinics.anonymise_patient",
    }

    def get_queryset(self) -> QuerySet:
        patients = patients_for(self.request.user).current().prefetch_related("contact_points")
        term = self.request.query_params.get("search", "").strip()
        if term:
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
