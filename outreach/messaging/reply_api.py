"""Patients' text replies: the ones the system could not act on wait here for a coordinator.

C, X and STOP act on their own (outreach.messaging.inbound) and arrive already handled; an
unknown reply, or a C or X that could not be acted on (its `note` says why), is listed with
`handled=false` until a coordinator marks it dealt with.
"""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from clinics.admin import mask_contact
from clinics.api.common import ActionPermission, error_responses
from clinics.api.pagination import LargeListPagination
from clinics.api.patient_records import PatientReadLogMixin
from outreach.messaging import inbound
from outreach.models import InboundMessage
from outreach.permissions import replies_for


class ReplySerializer(serializers.ModelSerializer):
    masked_from = serializers.SerializerMethodField(
        help_text="The number the text came from, all but its last three digits hidden."
    )
    handled_by = serializers.SerializerMethodField(
        help_text="Who marked it dealt with; null if nobody has, or it was acted on by itself."
    )

    class Meta:
        model = InboundMessage
        fields = [
            "id",
            "received_at",
            "masked_from",
            "body",
            "action",
            "note",
            "patient",
            "booking",
            "handled",
            "handled_at",
            "handled_by",
        ]
        read_only_fields = fields

    def get_masked_from(self, reply: InboundMessage) -> str:
        return mask_contact(reply.from_number)

    def get_handled_by(self, reply: InboundMessage) -> str | None:
        user = reply.handled_by
        if user is None:
            return None
        return user.get_full_name() or user.get_username()


class ReplyViewSet(
    PatientReadLogMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Texts patients sent back, newest first; `?handled=false` is the coordinator's queue.

    Replies about a sensitive service are hidden from staff who may not see those services.
    """

    serializer_class = ReplySerializer
    permission_classes = [ActionPermission]
    action_permissions = {
        "list": "outreach.view_inboundmessage",
        "retrieve": "outreach.view_inboundmessage",
        "handle": "outreach.change_inboundmessage",
    }
    pagination_class = LargeListPagination
    filterset_fields = ["handled", "action", "booking", "patient"]
    ordering_fields = ["received_at"]
    ordering = ["-received_at"]

    def get_queryset(self) -> QuerySet[InboundMessage]:
        return replies_for(self.request.user).select_related("handled_by")

    @extend_schema(
        request=None,
        responses={
            200: ReplySerializer,
            **error_responses("`already_handled`: someone has marked it dealt with"),
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def handle(self, request: Request, pk: Any = None) -> Response:
        """Mark a reply dealt with, recording who and when."""
        reply = inbound.mark_reply_handled(self.get_object(), by=request.user)
        return Response(ReplySerializer(reply).data)
