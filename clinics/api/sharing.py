"""Data-sharing agreements: which organisations' staff may see another's records, and why.

Coordinators, admins and auditors of either party read them; admins record and change them
through `clinics.services.record_sharing_agreement`, which allows a non-superuser to share only
their own organisation's records, and never two-way (a system administrator records those).
"""

from typing import Any

from django.db.models import QuerySet
from django_filters import BooleanFilter, FilterSet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.serializers import BaseSerializer

from clinics.api.common import ActionPermission, StrictModelSerializer, error_responses
from clinics.api.pagination import CataloguePagination
from clinics.governance import DataSharingAgreement
from clinics.models import Organisation
from clinics.permissions import agreements_for, london_today
from clinics.services import record_sharing_agreement


class SharingAgreementSerializer(StrictModelSerializer):
    # Any active organisation may be a party: the receiving one is usually not yours, and
    # whether you may share the sharing one's records is the service's rule, not the field's.
    sharing_organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(is_active=True),
        error_messages={"does_not_exist": "No such organisation: {pk_value}."},
    )
    receiving_organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(is_active=True),
        error_messages={"does_not_exist": "No such organisation: {pk_value}."},
    )
    in_force = serializers.SerializerMethodField(
        help_text="Whether it applies today (London date): started and not yet ended."
    )
    recorded_by = serializers.SerializerMethodField()

    class Meta:
        model = DataSharingAgreement
        fields = [
            "id",
            "sharing_organisation",
            "receiving_organisation",
            "reciprocal",
            "records",
            "purpose",
            "reference",
            "starts_on",
            "ends_on",
            "in_force",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = ["id", "in_force", "recorded_by", "recorded_at"]

    def get_in_force(self, agreement: DataSharingAgreement) -> bool:
        return agreement.starts_on <= london_today() < agreement.ends_on

    def get_recorded_by(self, agreement: DataSharingAgreement) -> str:
        user = agreement.recorded_by
        return user.get_full_name() or user.get_username()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The pair is checked here too, so a PATCH changing one party is checked against the
        # other as stored; the model's own clean() repeats it before saving.
        starts = attrs.get("starts_on", getattr(self.instance, "starts_on", None))
        ends = attrs.get("ends_on", getattr(self.instance, "ends_on", None))
        if starts and ends and ends <= starts:
            raise serializers.ValidationError({"ends_on": "The end date must be after the start."})
        sharing = attrs.get(
            "sharing_organisation", getattr(self.instance, "sharing_organisation", None)
        )
        receiving = attrs.get(
            "receiving_organisation", getattr(self.instance, "receiving_organisation", None)
        )
        if sharing is not None and sharing == receiving:
            raise serializers.ValidationError(
                {"receiving_organisation": "An organisation cannot share with itself."}
            )
        return attrs


class SharingAgreementFilter(FilterSet):
    in_force = BooleanFilter(
        method="filter_in_force", label="In force today (London date), or not."
    )

    class Meta:
        model = DataSharingAgreement
        fields = ["in_force", "sharing_organisation", "receiving_organisation", "records"]

    def filter_in_force(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        current = queryset.in_force(london_today())
        return current if value else queryset.exclude(pk__in=current.values("pk"))


WRITE_ERRORS = error_responses(None)


@extend_schema_view(
    create=extend_schema(
        responses={201: SharingAgreementSerializer, **WRITE_ERRORS},
        description=(
            "Record an agreement sharing your organisation's records. `not_your_records` and "
            "`reciprocal_needs_superuser` are 400s with field errors."
        ),
    ),
    partial_update=extend_schema(
        responses={200: SharingAgreementSerializer, **WRITE_ERRORS},
        description="Change an agreement your organisation shares its records under.",
    ),
)
class SharingAgreementViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Agreements your organisation is a party to, newest first."""

    serializer_class = SharingAgreementSerializer
    permission_classes = [ActionPermission]
    action_permissions = {
        "list": "clinics.view_datasharingagreement",
        "retrieve": "clinics.view_datasharingagreement",
        "create": "clinics.add_datasharingagreement",
        "partial_update": "clinics.change_datasharingagreement",
    }
    http_method_names = ["get", "post", "patch", "head", "options"]
    pagination_class = CataloguePagination
    filterset_class = SharingAgreementFilter
    ordering_fields = ["starts_on", "ends_on"]
    ordering = ["-starts_on", "id"]

    def get_queryset(self) -> QuerySet[DataSharingAgreement]:
        return agreements_for(self.request.user).select_related("recorded_by")

    def perform_create(self, serializer: BaseSerializer) -> None:
        agreement = DataSharingAgreement(**serializer.validated_data)
        serializer.instance = record_sharing_agreement(
            agreement, by=self.request.user, reason="Recorded through the API"
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        agreement = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(agreement, name, value)
        serializer.instance = record_sharing_agreement(
            agreement, by=self.request.user, reason="Changed through the API"
        )
