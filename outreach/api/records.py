"""Visit outcomes (read: they are written by a booking's `seen/` action) and message templates."""

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.serializers import BaseSerializer

from clinics.api.common import ActionPermission, StrictModelSerializer, error_responses
from clinics.api.pagination import CataloguePagination, LargeListPagination
from outreach.messaging.templates import save_message_template
from outreach.models import MessageTemplate, VisitOutcome
from outreach.permissions import message_templates_for, outcomes_for

ERRORS = error_responses(None)


class VisitOutcomeRecordSerializer(StrictModelSerializer):
    session = serializers.IntegerField(source="booking.session_id", read_only=True)
    patient = serializers.IntegerField(source="booking.patient_id", read_only=True)
    service = serializers.IntegerField(source="booking.service_type_id", read_only=True)

    class Meta:
        model = VisitOutcome
        fields = [
            "id",
            "booking",
            "session",
            "patient",
            "service",
            "outcome",
            "result",
            "follow_up_date",
            "notes",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class VisitOutcomeViewSet(viewsets.ReadOnlyModelViewSet):
    """What was done at each visit. Record one with `POST /bookings/{id}/seen/`."""

    serializer_class = VisitOutcomeRecordSerializer
    permission_classes = [ActionPermission]
    action_permissions = dict.fromkeys(("list", "retrieve"), "outreach.view_visitoutcome")
    pagination_class = LargeListPagination
    filterset_fields = {
        "outcome": ["exact"],
        "result": ["exact"],
        "booking": ["exact"],
        "booking__session": ["exact"],
        "booking__patient": ["exact"],
        "follow_up_date": ["gte", "lt"],
    }
    ordering_fields = ["recorded_at"]
    ordering = ["-recorded_at"]

    def get_queryset(self) -> Any:
        return outcomes_for(self.request.user).select_related("booking")


class MessageTemplateSerializer(StrictModelSerializer):
    class Meta:
        model = MessageTemplate
        fields = [
            "id",
            "name",
            "purpose",
            "channel",
            "discreet",
            "subject",
            "body",
            "notify_template_id",
            "is_active",
            "updated_at",
        ]
        read_only_fields = ["id", "updated_at"]
        # The one-active-per-purpose rule is checked by the model when saving (a field error).
        validators: list[Any] = []


@extend_schema_view(
    create=extend_schema(responses={201: MessageTemplateSerializer, **ERRORS}),
    partial_update=extend_schema(responses={200: MessageTemplateSerializer, **ERRORS}),
)
class MessageTemplateViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The wording of reminders and updates, per purpose and channel, with discreet variants.

    Templates are shared by every organisation, so only administrators change them.
    """

    serializer_class = MessageTemplateSerializer
    permission_classes = [ActionPermission]
    pagination_class = CataloguePagination
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_permissions = {
        "list": "outreach.view_messagetemplate",
        "retrieve": "outreach.view_messagetemplate",
        "create": "outreach.add_messagetemplate",
        "partial_update": "outreach.change_messagetemplate",
    }
    filterset_fields = ["purpose", "channel", "discreet", "is_active"]
    ordering_fields = ["purpose", "name", "updated_at"]
    ordering = ["purpose", "channel", "discreet", "id"]

    def get_queryset(self) -> Any:
        return message_templates_for(self.request.user)

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = save_message_template(
            by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = save_message_template(
            serializer.instance, by=self.request.user, **serializer.validated_data
        )
