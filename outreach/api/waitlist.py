"""The waiting list: people waiting for a service; a cancellation offers the freed slot."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from clinics.api.common import ActionPermission, organisation_of, validated_input
from clinics.api.patient_records import PatientReadLogMixin
from outreach import services
from outreach.api import serializers as s
from outreach.api.views import ERRORS
from outreach.permissions import waitlist_for


class WaitlistViewSet(
    PatientReadLogMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """People waiting for a service; a cancellation offers the freed slot to the first."""

    serializer_class = s.WaitlistEntrySerializer
    permission_classes = [ActionPermission]
    action_permissions = {
        "create": "outreach.add_waitlistentry",
        "accept": "outreach.add_booking",
        "decline": "outreach.change_waitlistentry",
        "withdraw": "outreach.change_waitlistentry",
    }
    filterset_fields = ["status", "patient", "service_type", "venue"]
    ordering_fields = ["created_at"]

    def get_queryset(self) -> QuerySet:
        return waitlist_for(self.request.user)

    @extend_schema(
        request=s.WaitlistInputSerializer, responses={201: s.WaitlistEntrySerializer, **ERRORS}
    )
    def create(self, request: Request) -> Response:
        data = validated_input(s.WaitlistInputSerializer, request)
        entry = services.join_waitlist(
            organisation=organisation_of(request.user), by=request.user, **data
        )
        return Response(s.WaitlistEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: s.BookingSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: Any = None) -> Response:
        booking = services.accept_offer(self.get_object(), by=request.user)
        return Response(s.BookingSerializer(booking).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.WaitlistEntrySerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: Any = None) -> Response:
        entry = services.decline_offer(self.get_object(), by=request.user)
        return Response(s.WaitlistEntrySerializer(entry).data)

    @extend_schema(request=None, responses={200: s.WaitlistEntrySerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: Any = None) -> Response:
        entry = services.leave_waitlist(self.get_object(), by=request.user)
        return Response(s.WaitlistEntrySerializer(entry).data)
