"""The messages API (list, resend) and GOV.UK Notify's two callbacks."""

import hmac
from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from clinics.api.common import ActionPermission
from clinics.api.pagination import LargeListPagination
from clinics.api.patient_records import PatientReadLogMixin
from outreach.messaging import inbound, outbox, receipts
from outreach.models import Message, MessageTemplate
from outreach.permissions import messages_for


def mask(value: str) -> str:
    """Show only enough of a number or address to recognise it."""
    if "@" in value:
        name, _, domain = value.partition("@")
        return f"{name[:1]}***@{domain}"
    return f"{'*' * max(len(value) - 4, 0)}{value[-4:]}"


class MessageSerializer(serializers.ModelSerializer):
    to = serializers.SerializerMethodField()
    # Blank on a message that was written for no listed purpose (a one-off text).
    suppressed_reason = serializers.ChoiceField(
        Message.SuppressedReason.choices, allow_blank=True, read_only=True
    )
    purpose = serializers.ChoiceField(
        MessageTemplate.Purpose.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "patient",
            "booking",
            "channel",
            "purpose",
            "to",
            "subject",
            "body",
            "status",
            "suppressed_reason",
            "send_after",
            "expires_at",
            "sent_at",
            "delivered_at",
            "attempts",
            "failure_permanent",
            "failure_detail",
            "created_at",
        ]
        read_only_fields = fields

    def get_to(self, message: Message) -> str:
        return mask(message.to)


class ResendThrottle(UserRateThrottle):
    """A resend costs money and may wake someone: a few a minute per user is plenty."""

    scope = "message-resend"
    rate = "10/minute"


class MessageViewSet(
    PatientReadLogMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Messages for a patient or a booking, newest first, with their statuses."""

    serializer_class = MessageSerializer
    permission_classes = [ActionPermission]
    action_permissions = {
        "list": "outreach.view_message",
        "retrieve": "outreach.view_message",
        "resend": "outreach.change_message",
    }
    pagination_class = LargeListPagination
    filterset_fields = ["patient", "booking", "status", "channel", "purpose"]
    ordering_fields = ["send_after", "created_at"]
    ordering = ["-send_after"]

    def get_queryset(self) -> Any:
        return messages_for(self.request.user).order_by("-send_after", "-id")

    def get_throttles(self) -> list[Any]:
        if self.action == "resend":
            return [ResendThrottle()]
        return super().get_throttles()

    @extend_schema(
        request=None,
        responses={
            200: MessageSerializer,
            409: OpenApiResponse(description="Only a failed message can be sent again."),
            429: OpenApiResponse(description="Too many resends: wait a minute."),
        },
    )
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: Any = None) -> Response:
        """Send a failed message again."""
        message = outbox.resend_message(self.get_object())
        return Response(MessageSerializer(message).data)


# Notify's callbacks carry the bearer token we gave it (settings.NOTIFY_CALLBACK_TOKEN), never
# a staff session or an API token: the schema says so (config/settings.py's SPECTACULAR_SETTINGS
# declares the scheme), and a staff session gets the same 401 as a wrong token.
CALLBACK_AUTH = [{"notifyCallbackToken": []}]
CALLBACK_ERRORS = {
    400: OpenApiResponse(description="Invalid input: `code`, `detail` and `fields`."),
    401: OpenApiResponse(description="Bad or missing callback token."),
}


class NotifyCallback(APIView):
    """Notify signs callbacks with the bearer token we gave it; no session, so no CSRF."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # A method the callback does not take is a 405 before the token is looked at.
        if not hasattr(self, request.method.lower()):
            raise exceptions.MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)
        expected = settings.NOTIFY_CALLBACK_TOKEN
        given = request.headers.get("Authorization", "")
        # Constant-time comparison; an unset token refuses everything rather than anything.
        if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
            raise exceptions.AuthenticationFailed("Bad or missing callback token.")

    def get_authenticate_header(self, request: Request) -> str:
        return "Bearer"

    @staticmethod
    def payload(request: Request) -> dict[str, Any]:
        """The callback's JSON object; a list or a bare value is a 400, not a crash."""
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError(
                {"non_field_errors": ["Send a JSON object, as GOV.UK Notify does."]}
            )
        return request.data


class NotifyReceiptView(NotifyCallback):
    @extend_schema(
        request=OpenApiTypes.OBJECT,
        auth=CALLBACK_AUTH,
        responses={
            200: OpenApiTypes.OBJECT,
            **CALLBACK_ERRORS,
            503: OpenApiResponse(
                description="`not_ready`: the send is not recorded yet; Notify retries "
                "after `Retry-After` seconds."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        """A delivery receipt from GOV.UK Notify."""
        result = receipts.apply_receipt(self.payload(request))
        if result == "not_ready":
            # Notify retries a callback that fails; by then the send is recorded.
            return Response({"result": result}, status=503, headers={"Retry-After": "5"})
        return Response({"result": result})


class NotifyInboundView(NotifyCallback):
    @extend_schema(
        request=OpenApiTypes.OBJECT,
        auth=CALLBACK_AUTH,
        responses={200: OpenApiTypes.OBJECT, **CALLBACK_ERRORS},
    )
    def post(self, request: Request) -> Response:
        """A text a patient sent to our number, forwarded by GOV.UK Notify."""
        payload = self.payload(request)
        if not payload.get("id"):
            raise exceptions.ValidationError({"id": ["Required."]})
        reply = inbound.receive_text(payload)
        return Response({"action": reply.action})
