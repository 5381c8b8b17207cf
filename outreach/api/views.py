"""Thin views: parse with an input serializer, call one service, answer with an output one."""

from datetime import timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics.api.common import (
    ActionPermission,
    HistoryEntrySerializer,
    error_responses,
    history_response_data,
    organisation_of,
    validated_input,
)
from clinics.api.pagination import LargeListPagination
from clinics.api.patient_records import PatientReadLogMixin
from outreach import availability, services
from outreach.api import serializers as s
from outreach.models import Booking, OutreachSession, StaffAssignment
from outreach.permissions import bookings_for, series_for, sessions_for

ERRORS = error_responses(
    "lane_taken, patient_double_booked, unit_clash, staff_clash, illegal_transition..."
)


def _session_queryset(user: Any) -> QuerySet[OutreachSession]:
    return (
        sessions_for(user)
        .prefetch_related(
            "services",
            Prefetch("assignments", queryset=StaffAssignment.objects.select_related("staff__user")),
        )
        .select_related("venue")
    )


def _booking_queryset(user: Any) -> QuerySet[Booking]:
    return bookings_for(user).select_related("patient", "service_type", "outcome")


class SessionSeriesViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Recurring clinics. Creating one creates its sessions a horizon ahead."""

    serializer_class = s.SessionSeriesSerializer
    permission_classes = [ActionPermission]
    action_permissions = {"create": "outreach.add_sessionseries"}

    def get_queryset(self) -> QuerySet:
        return series_for(self.request.user).prefetch_related("services", "staff")

    @extend_schema(
        request=s.SeriesInputSerializer, responses={201: s.SessionSeriesSerializer, **ERRORS}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = validated_input(s.SeriesInputSerializer, request)
        series = services.create_series(
            organisation=organisation_of(request.user), by=request.user, **data
        )
        return Response(s.SessionSeriesSerializer(series).data, status=status.HTTP_201_CREATED)


class SessionViewSet(
    PatientReadLogMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Outreach sessions. Status changes through the POST actions only."""

    serializer_class = s.OutreachSessionSerializer
    permission_classes = [ActionPermission]
    action_permissions = {
        "create": "outreach.add_outreachsession",
        "partial_update": "outreach.change_outreachsession",
        "cancel": "outreach.change_outreachsession",
        "confirm": "outreach.change_outreachsession",
        "start": "outreach.change_outreachsession",
        "complete": "outreach.change_outreachsession",
        "staff": "outreach.add_staffassignment",
        "walk_ins": "outreach.add_booking",
        # The day view names the people booked: only roles that may see bookings.
        "day": "outreach.view_booking",
    }
    filterset_fields = {
        "venue": ["exact"],
        "mobile_unit": ["exact"],
        "status": ["exact"],
        "series": ["exact"],
        "starts_at": ["gte", "lt"],
    }
    ordering_fields = ["starts_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet:
        return _session_queryset(self.request.user)

    @extend_schema(
        request=s.SessionInputSerializer, responses={201: s.OutreachSessionSerializer, **ERRORS}
    )
    def create(self, request: Request) -> Response:
        data = validated_input(s.SessionInputSerializer, request)
        session = services.create_session(
            organisation=organisation_of(request.user), by=request.user, **data
        )
        return Response(self._out(session), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.SessionUpdateInputSerializer,
        responses={200: s.OutreachSessionSerializer, **ERRORS},
        description="Change this session, this and the following ones, or the whole series "
        "(`scope`: this, following, all). Bookings must still fit.",
    )
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        session = self.get_object()
        data = dict(validated_input(s.SessionUpdateInputSerializer, request))
        scope = data.pop("scope")
        reason = data.pop("reason")
        services.update_series(session, scope=scope, by=request.user, reason=reason, **data)
        return Response(self._out(session))

    def _out(self, session: OutreachSession) -> dict[str, Any]:
        return s.OutreachSessionSerializer(self.get_queryset().get(pk=session.pk)).data

    def _move(self, request: Request, to: str, reason: str) -> Response:
        session = self.get_object()
        services.move_session(session, to, by=request.user, reason=reason)
        return Response(self._out(session))

    @extend_schema(request=None, responses={200: s.OutreachSessionSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: Any = None) -> Response:
        return self._move(request, OutreachSession.Status.CONFIRMED, "Confirmed")

    @extend_schema(request=None, responses={200: s.OutreachSessionSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: Any = None) -> Response:
        return self._move(request, OutreachSession.Status.IN_PROGRESS, "Started")

    @extend_schema(request=None, responses={200: s.OutreachSessionSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: Any = None) -> Response:
        return self._move(request, OutreachSession.Status.COMPLETED, "Completed")

    @extend_schema(
        request=s.CancelSessionInputSerializer,
        responses={200: s.OutreachSessionSerializer, **ERRORS},
        description="Cancel the session; every booked patient's booking is cancelled too.",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: Any = None) -> Response:
        session = self.get_object()
        data = validated_input(s.CancelSessionInputSerializer, request)
        services.cancel_session(session, by=request.user, reason=data["reason"])
        return Response(self._out(session))

    @extend_schema(
        request=s.AssignStaffInputSerializer, responses={200: s.OutreachSessionSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"])
    def staff(self, request: Request, pk: Any = None) -> Response:
        session = self.get_object()
        data = validated_input(s.AssignStaffInputSerializer, request)
        services.assign_staff(session, data["staff"], by=request.user)
        return Response(self._out(session))

    @extend_schema(
        parameters=[OpenApiParameter("service", int, required=True)],
        responses={200: s.SlotSerializer(many=True), **ERRORS},
    )
    @action(detail=True, methods=["get"])
    def slots(self, request: Request, pk: Any = None) -> Response:
        session = self.get_object()
        data = validated_input(s.SessionSlotQuerySerializer, request, request.query_params)
        slots = availability.free_slots([session], data["service"], now=timezone.now())
        return Response(s.slots_data(slots))

    @extend_schema(responses={200: s.SessionDaySerializer, 404: ERRORS[404]})
    @action(detail=True, methods=["get"])
    def day(self, request: Request, pk: Any = None) -> Response:
        """The session with its bookings, the walk-in queue and live counts."""
        session = self.get_object()
        bookings = list(
            bookings_for(request.user)
            .filter(session=session)
            .select_related("patient", "service_type", "outcome")
            .order_by("starts_at", "lane", "id")
        )
        counts = dict.fromkeys(Booking.Status.values, 0)
        for booking in bookings:
            counts[booking.status] += 1
        queue = sorted(
            (
                b
                for b in bookings
                if b.status == Booking.Status.ARRIVED and b.source == Booking.Source.WALK_IN
            ),
            key=lambda b: (b.arrived_at, b.pk),
        )
        counts["walk_ins_waiting"] = len(queue)
        data = {"session": session, "counts": counts, "bookings": bookings, "walk_in_queue": queue}
        return Response(s.SessionDaySerializer(data).data)

    @extend_schema(
        methods=["post"],
        request=s.WalkInInputSerializer,
        responses={201: s.BookingSerializer, **ERRORS},
    )
    @extend_schema(methods=["get"], responses={200: s.BookingSerializer(many=True)})
    @action(detail=True, methods=["get", "post"], url_path="walk-ins")
    def walk_ins(self, request: Request, pk: Any = None) -> Response:
        """The walk-in queue in arrival order; POST adds someone who has just walked in."""
        session = self.get_object()
        if request.method == "GET":
            # Through the scope: a sensitive service's walk-ins stay hidden without the permission.
            queue = (
                bookings_for(request.user)
                .filter(pk__in=services.walk_in_queue(session).values("pk"))
                .select_related("patient", "service_type")
                .order_by("arrived_at", "id")
            )
            return Response(s.BookingSerializer(queue, many=True).data)
        data = validated_input(s.WalkInInputSerializer, request)
        booking = services.add_walk_in(
            patient=data["patient"],
            session=session,
            service=data["service"],
            notes=data["notes"],
            by=request.user,
        )
        return Response(s.BookingSerializer(booking).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: HistoryEntrySerializer(many=True), 404: ERRORS[404]})
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: Any = None) -> Response:
        return Response(history_response_data(self.get_object()))


class SlotSearchView(APIView):
    """The next free slots for a service across sessions (optionally at one venue)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("service", int, required=True),
            OpenApiParameter("venue", int),
            OpenApiParameter("from", str, description="ISO date-time; default now."),
            OpenApiParameter("to", str, description="ISO date-time; default 30 days after from."),
            OpenApiParameter(
                "limit", int, description="At most this many slots (1-200, default 20)."
            ),
        ],
        responses={200: s.SlotSerializer(many=True), 400: ERRORS[400]},
    )
    def get(self, request: Request) -> Response:
        data = validated_input(s.SlotQuerySerializer, request, request.query_params)
        now = timezone.now()
        start = max(data.get("from") or now, now - timedelta(hours=12))
        end = data.get("to") or start + timedelta(days=30)
        sessions = sessions_for(request.user).filter(
            availability.sessions_offering(
                data["service"], start=start - timedelta(hours=12), end=end
            )
        )
        if data.get("venue"):
            sessions = sessions.filter(venue=data["venue"])
        found = availability.search_slots(
            sessions,
            data["service"],
            now=max(now, start),
            limit=data["limit"],
            until=end,
            offered=True,
        )
        return Response(s.slots_data(found))


class BookingViewSet(
    PatientReadLogMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Bookings. Create with POST; every status change is a POST action."""

    serializer_class = s.BookingSerializer
    permission_classes = [ActionPermission]
    pagination_class = LargeListPagination
    action_permissions = {
        **dict.fromkeys(
            ("check_in", "seen", "no_show", "cancel", "reschedule"), "outreach.change_booking"
        ),
        "create": "outreach.add_booking",
    }
    filterset_fields = {
        "session": ["exact"],
        "patient": ["exact"],
        "status": ["exact"],
        "starts_at": ["gte", "lt"],
    }
    ordering_fields = ["starts_at", "created_at"]
    ordering = ["starts_at"]

    def get_queryset(self) -> QuerySet:
        return _booking_queryset(self.request.user)

    @extend_schema(
        request=s.BookingInputSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Send the same key when retrying: the first booking is returned.",
            )
        ],
        responses={
            201: s.BookingSerializer,
            200: OpenApiResponse(s.BookingSerializer, description="A retried request's booking."),
            **ERRORS,
        },
    )
    def create(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 100:
            return Response(
                {"code": "invalid", "detail": "Idempotency-Key is at most 100 characters."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        data = s.BookingInputSerializer.ids_only(request.data, request.user)
        if data is None:
            checked = s.BookingInputSerializer(data=request.data, context={"request": request})
            checked.is_valid(raise_exception=True)
            data = checked.validated_data
        try:
            booking, created = services.book_slot(
                # Ids: the service reads both under their locks.
                patient=data["patient"],
                session=data["session"],
                for_user=request.user,
                service=data["service"],
                starts_at=data.get("starts_at"),
                lane=data.get("lane"),
                source=data["source"],
                notes=data["notes"],
                idempotency_key=key,
                by=request.user,
            )
        except services.UnknownRecord:
            # Name every unknown id, as a check before the service would have.
            serializer = s.BookingInputSerializer(data=request.data, context={"request": request})
            raise serializer.unknown_ids() from None
        return Response(
            s.booking_data(booking),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def _out(self, booking: Booking, code: int = status.HTTP_200_OK) -> Response:
        return Response(s.booking_data(self.get_queryset().get(pk=booking.pk)), status=code)

    @extend_schema(request=None, responses={200: s.BookingSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request: Request, pk: Any = None) -> Response:
        return self._out(services.check_in(self.get_object(), by=request.user))

    @extend_schema(request=s.SeenInputSerializer, responses={200: s.BookingSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def seen(self, request: Request, pk: Any = None) -> Response:
        booking = self.get_object()
        data = validated_input(s.SeenInputSerializer, request)
        services.record_visit(booking, by=request.user, **data)
        return self._out(booking)

    @extend_schema(request=None, responses={200: s.BookingSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request: Request, pk: Any = None) -> Response:
        return self._out(services.mark_no_show(self.get_object(), by=request.user))

    @extend_schema(
        request=s.CancelBookingInputSerializer, responses={200: s.BookingSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: Any = None) -> Response:
        booking = self.get_object()
        data = validated_input(s.CancelBookingInputSerializer, request)
        services.cancel_booking(
            booking, by=request.user, cancelled_by=data["cancelled_by"], reason=data["reason"]
        )
        return self._out(booking)

    @extend_schema(
        request=s.RescheduleInputSerializer,
        responses={201: s.BookingSerializer, **ERRORS},
        description="Move to another slot: the old booking is cancelled and a new one made, "
        "linked by `rescheduled_from`; all or nothing.",
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, pk: Any = None) -> Response:
        booking = self.get_object()
        data = validated_input(s.RescheduleInputSerializer, request)
        new_booking = services.reschedule_booking(
            booking,
            by=request.user,
            session=data.get("session"),
            starts_at=data.get("starts_at"),
            lane=data.get("lane"),
            reason=data["reason"],
        )
        return self._out(new_booking, status.HTTP_201_CREATED)

    @extend_schema(responses={200: HistoryEntrySerializer(many=True), 404: ERRORS[404]})
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: Any = None) -> Response:
        return Response(history_response_data(self.get_object()))
