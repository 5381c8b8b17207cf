"""Reference data: organisations, staff, mobile units, venues and the service catalogue.

Everyone signed in reads it (analysts too: reports are split by venue and service); the admins
of an organisation manage their own organisation's records. Another organisation's record is a
404 to a write, even where it may be read (venues are shared: a food bank hosts several teams).
"""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.serializers import BaseSerializer

from clinics import services
from clinics.api.common import ActionPermission, error_responses, organisation_of
from clinics.api.pagination import CataloguePagination
from clinics.api.serializers import (
    MobileUnitSerializer,
    OrganisationSerializer,
    ServiceTypeSerializer,
    StaffMemberSerializer,
    VenueSerializer,
)
from clinics.models import ServiceType
from clinics.permissions import (
    hide_sensitive,
    mobile_units_for,
    organisations_for,
    staff_directory_for,
    usable_venues_for,
    venues_for,
)

WRITE_ERRORS = error_responses(None)
WRITES = {"create", "partial_update"}


def _writes_documented(model_name: str, serializer: type[BaseSerializer]) -> Any:
    return extend_schema_view(
        create=extend_schema(
            responses={201: serializer, **WRITE_ERRORS}, description=f"Add a {model_name}."
        ),
        partial_update=extend_schema(
            responses={200: serializer, **WRITE_ERRORS},
            description=f"Change a {model_name} of your organisation.",
        ),
    )


class ReferenceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Read for everyone signed in; add and change with the model's Django permissions."""

    permission_classes = [ActionPermission]
    pagination_class = CataloguePagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_action_permissions(self) -> dict[str, str]:
        meta = self.get_serializer_class().Meta.model._meta
        return {
            "create": f"{meta.app_label}.add_{meta.model_name}",
            "partial_update": f"{meta.app_label}.change_{meta.model_name}",
        }

    @property
    def action_permissions(self) -> dict[str, str]:
        return self.get_action_permissions()


class OrganisationViewSet(viewsets.ReadOnlyModelViewSet):
    """Your organisation (and, with data-sharing agreements, those you work with)."""

    serializer_class = OrganisationSerializer
    pagination_class = CataloguePagination
    filterset_fields = ["kind", "is_active"]
    ordering_fields = ["name"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet:
        return organisations_for(self.request.user)


class ServiceTypeViewSet(viewsets.ReadOnlyModelViewSet):
    """The service catalogue, shared by every organisation; kept in the admin.

    Sensitive services are listed only to staff who may use them, as everywhere else.
    """

    serializer_class = ServiceTypeSerializer
    pagination_class = CataloguePagination
    filterset_fields = ["sensitive", "requires_competency", "requires_cervix"]
    ordering_fields = ["name", "code", "default_duration_minutes"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet:
        return hide_sensitive(
            ServiceType.objects.filter(is_active=True), self.request.user, "sensitive"
        )


@_writes_documented("venue", VenueSerializer)
class VenueViewSet(ReferenceViewSet):
    """Venues: food banks, hostels, street sites, workplaces. Any active venue may be used."""

    serializer_class = VenueSerializer
    filterset_fields = ["kind", "town", "organisation", "imd_decile", "is_active"]
    ordering_fields = ["name", "town", "imd_decile"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet:
        user = self.request.user
        return venues_for(user) if self.action in WRITES else usable_venues_for(user)

    def perform_create(self, serializer: BaseSerializer) -> None:
        user = self.request.user
        serializer.instance = services.add_venue(
            organisation=organisation_of(user), by=user, **serializer.validated_data
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.update_venue(
            serializer.instance, by=self.request.user, **serializer.validated_data
        )


@_writes_documented("mobile unit", MobileUnitSerializer)
class MobileUnitViewSet(ReferenceViewSet):
    """Your organisation's mobile units."""

    serializer_class = MobileUnitSerializer
    filterset_fields = ["is_active", "supported_services"]
    ordering_fields = ["name", "registration", "capacity"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet:
        return mobile_units_for(self.request.user).prefetch_related("supported_services")

    def perform_create(self, serializer: BaseSerializer) -> None:
        user = self.request.user
        serializer.instance = services.add_mobile_unit(
            organisation=organisation_of(user), by=user, **serializer.validated_data
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.update_mobile_unit(
            serializer.instance, by=self.request.user, **serializer.validated_data
        )


@extend_schema_view(
    partial_update=extend_schema(
        responses={200: StaffMemberSerializer, **WRITE_ERRORS},
        description="Change a member of staff's role, competencies, phone or whether they are "
        "active. New accounts are made in the admin.",
    )
)
class StaffMemberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Your organisation's staff, for rotas."""

    serializer_class = StaffMemberSerializer
    permission_classes = [ActionPermission]
    pagination_class = CataloguePagination
    action_permissions = {"partial_update": "clinics.change_staffmember"}
    http_method_names = ["get", "patch", "head", "options"]
    filterset_fields = ["role", "is_active", "competencies"]
    ordering_fields = ["role"]

    def get_queryset(self) -> QuerySet:
        return (
            staff_directory_for(self.request.user)
            .prefetch_related("competencies")
            .order_by("user__first_name", "user__last_name", "id")
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.update_staff_member(
            serializer.instance, by=self.request.user, **serializer.validated_data
        )
