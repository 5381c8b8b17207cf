"""Referrals and their worklists. Thin views: parse input, call one service, answer."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from clinics.api.common import (
    ActionPermission,
    HistoryEntrySerializer,
    error_responses,
    history_response_data,
    organisation_of,
    validated_input,
)
from clinics.api.filters import StrictFilterBackend
from clinics.api.pagination import LargeListPagination, StrictPageSize
from clinics.api.patient_records import PatientReadLogMixin
from outreach.models import VisitOutcome
from outreach.permissions import bookings_for
from referrals import fhir, services
from referrals.api import serializers as s
from referrals.models import Referral
from referrals.permissions import chases_for, referrals_for
from referrals.summary import referral_summary

ERRORS = error_responses(
    "illegal_transition with `allowed`, the moves that are; stale_status; not_rejected; "
    "not_chaseable"
)


class WorklistPagination(StrictPageSize, CursorPagination):
    """Cursor pages: the cost of a page does not grow with how far down the list it is."""

    page_size = 50

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        # The worklist chooses (and validates) its own ordering; see ReferralViewSet.worklist.
        return tuple(self.ordering)


WORKLIST_ORDERINGS = {"due_date", "-due_date", "sent_at", "-sent_at", "created_at", "-created_at"}


def _worklists(user: Any) -> dict[str, tuple[Callable[[QuerySet], QuerySet], str]]:
    now = timezone.now()
    today = timezone.localdate(now)
    booking_before = now - timedelta(days=settings.OUTREACH_REFERRAL_BOOKING_DAYS)
    return {
        "overdue": (lambda q: q.overdue(today), "due_date"),
        "accepted-not-booked": (lambda q: q.accepted_not_booked(booking_before), "responded_at"),
        "attended-not-closed": (lambda q: q.attended_not_closed(), "attended_at"),
        "mine": (lambda q: q.made_by(user), "due_date"),
    }


WORKLIST_FILTERS = [
    OpenApiParameter("destination", int),
    OpenApiParameter("destination__category", str),
    OpenApiParameter("priority", str),
    OpenApiParameter("patient", int),
    OpenApiParameter("referrer", int),
]

TRANSITION_DOC = (
    "Moves the referral by the transition table; a move it does not allow answers 409 "
    "`illegal_transition` listing the moves that are."
)


class ReferralFilter(filters.FilterSet):
    """Declared once rather than built from `filterset_fields` on every request."""

    class Meta:
        model = Referral
        fields = {
            "status": ["exact"],
            "priority": ["exact"],
            "destination": ["exact"],
            "destination__category": ["exact"],
            "patient": ["exact"],
            "referrer": ["exact"],
            "due_date": ["lt", "gte"],
        }


class ReferralViewSet(
    PatientReadLogMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Onward referrals, followed until they close. Status changes through POST actions."""

    serializer_class = s.ReferralSerializer
    permission_classes = [ActionPermission]
    action_permissions = {
        "create": "referrals.add_referral",
        "re_refer": "referrals.add_referral",
        **dict.fromkeys(
            ("send", "accept", "reject", "book", "attend", "close", "withdraw", "lost"),
            "referrals.change_referral",
        ),
        "chases": "referrals.view_referralchase",
        # Work queues of named people: an analyst's would be all zeros, which reads as
        # "nothing overdue" rather than "not yours to see".
        "worklists": "referrals.view_referral",
        "worklist": "referrals.view_referral",
    }
    filterset_class = ReferralFilter
    pagination_class = LargeListPagination
    # Cursor pages need a column that is never empty to lead the order: due and sent dates
    # are empty on drafts, so the worklists (which hold only dated referrals) order by those.
    ordering_fields = ["created_at", "priority"]
    ordering = ["-created_at"]

    def get_queryset(self) -> QuerySet:
        return referrals_for(self.request.user).select_related("patient", "destination")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def _out(self, referral: Referral, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=referral.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(
        request=s.ReferralInputSerializer,
        responses={201: s.ReferralSerializer, **ERRORS},
        description="Make a referral in one call, from a booking or visit outcome (the patient "
        "comes with it) or for a patient; `send` sends it at once. The due date follows the "
        "priority and the destination's response target. Consent to share is required.",
    )
    def create(self, request: Request) -> Response:
        data = dict(validated_input(s.ReferralInputSerializer, request))
        referral = services.create_referral(
            organisation=organisation_of(request.user), by=request.user, **data
        )
        return self._out(referral, status.HTTP_201_CREATED)

    def _transition(
        self, request: Request, service: Callable[..., Referral], input_class: type, **fixed: Any
    ) -> Response:
        referral = self.get_object()
        data = dict(validated_input(input_class, request))
        moved = service(referral, by=request.user, **fixed, **data)
        return self._out(moved)

    @extend_schema(
        request=s.TransitionInputSerializer,
        responses={200: s.ReferralSerializer, **ERRORS},
        description="Send a draft; the person is told what happens next. " + TRANSITION_DOC,
    )
    @action(detail=True, methods=["post"])
    def send(self, request: Request, pk: Any = None) -> Response:
        return self._transition(request, services.send_referral, s.TransitionInputSerializer)

    @extend_schema(
        request=s.NotesInputSerializer,
        responses={200: s.ReferralSerializer, **ERRORS},
        description=TRANSITION_DOC,
    )
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: Any = None) -> Response:
        return self._transition(request, services.accept_referral, s.NotesInputSerializer)

    @extend_schema(
        request=s.RejectInputSerializer,
        responses={200: s.ReferralSerializer, **ERRORS},
        description=TRANSITION_DOC,
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: Any = None) -> Response:
        return self._transition(request, services.reject_referral, s.RejectInputSerializer)

    @extend_schema(
        request=s.BookInputSerializer,
        responses={200: s.ReferralSerializer, **ERRORS},
        description=TRANSITION_DOC,
    )
    @action(detail=True, methods=["post"])
    def book(self, request: Request, pk: Any = None) -> Response:
        return self._transition(request, services.book_referral, s.BookInputSerializer)

    @extend_schema(
        request=s.TransitionInputSerializer,
        responses={200: s.ReferralSerializer, **ERRORS},
        description=TRANSITION_DOC,
    )
    @action(detail=True, methods=["post"])
    def attend(self, request: Request, pk: Any = None) -> Response:
        return self._transition(request, services.attend_referral, s.TransitionInputSerializer)

    @extend_schema(
        request=s.NotesInputSerializer,
        responses={200: s.ReferralSerializer, **ERRORS},
        description=TRANSITION_DOC,
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: Any = None) -> Response:
        return self._transition(request, services.close_referral, s.NotesInputSerializer)

    @extend_schema(
        request=s.ReasonInputSerializer,
        responses={200: s.ReferralSerializer, **ERRORS},
        description=TRANSITION_DOC,
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: Any = None) -> Response:
        return self._transition(request, services.withdraw_referral, s.ReasonInputSerializer)

    @extend_schema(
        request=s.ReasonInputSerializer,
        responses={200: s.ReferralSerializer, **ERRORS},
        description="Mark lost to follow-up, with a note. " + TRANSITION_DOC,
    )
    @action(detail=True, methods=["post"])
    def lost(self, request: Request, pk: Any = None) -> Response:
        referral = self.get_object()
        data = dict(validated_input(s.ReasonInputSerializer, request))
        moved = services.mark_lost_to_follow_up(
            referral,
            by=request.user,
            note=data["reason"],
            expected_status=data.get("expected_status"),
        )
        return self._out(moved)

    @extend_schema(
        request=s.ReReferInputSerializer,
        responses={201: s.ReferralSerializer, **ERRORS},
        description="Make a new referral for a rejected one, linked by `previous_referral`.",
    )
    @action(detail=True, methods=["post"], url_path="re-refer")
    def re_refer(self, request: Request, pk: Any = None) -> Response:
        referral = self.get_object()
        data = dict(validated_input(s.ReReferInputSerializer, request))
        data.pop("consent_to_share")
        new = services.re_refer(referral, by=request.user, **data)
        return self._out(new, status.HTTP_201_CREATED)

    @extend_schema(
        methods=["post"],
        request=s.ChaseInputSerializer,
        responses={201: s.ReferralChaseSerializer, **ERRORS},
        description="Log a chase. After OUTREACH_REFERRAL_MAX_FAILED_CHASES failed ones the "
        "referral becomes lost to follow-up.",
    )
    @extend_schema(methods=["get"], responses={200: s.ReferralChaseSerializer(many=True)})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def chases(self, request: Request, pk: Any = None) -> Response:
        referral = self.get_object()
        if request.method == "GET":
            chases = chases_for(request.user).filter(referral=referral)
            return Response(s.ReferralChaseSerializer(chases, many=True).data)
        if not request.user.has_perm("referrals.add_referralchase"):
            raise exceptions.PermissionDenied()
        data = validated_input(s.ChaseInputSerializer, request)
        chase = services.record_chase(referral, by=request.user, **data)
        return Response(s.ReferralChaseSerializer(chase).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: HistoryEntrySerializer(many=True), 404: ERRORS[404]})
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: Any = None) -> Response:
        """Every change: who (a named system user for background jobs), when, what and why."""
        return Response(history_response_data(self.get_object()))

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT, 404: ERRORS[404]},
        description="The referral as a FHIR R4 ServiceRequest (UK Core shaped).",
    )
    @action(detail=True, methods=["get"])
    def fhir(self, request: Request, pk: Any = None) -> Response:
        referral = self.get_object()
        return Response(fhir.service_request(referral), content_type="application/fhir+json")

    @extend_schema(
        responses={200: s.SummarySerializer, 404: ERRORS[404]},
        description="The referral letter for email routes: subject, plain text and HTML.",
    )
    @action(detail=True, methods=["get"])
    def summary(self, request: Request, pk: Any = None) -> Response:
        return Response(referral_summary(self.get_object()))

    @extend_schema(
        parameters=[OpenApiParameter("outcome", int, required=True)],
        responses={200: s.SuggestionSerializer(many=True), **ERRORS},
        description="Referrals a visit outcome's result suggests, by the rules table.",
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def suggestions(self, request: Request) -> Response:
        outcome_id = request.query_params.get("outcome", "")
        if not outcome_id.isdigit():
            raise exceptions.ValidationError({"outcome": ["Give a visit outcome id."]})
        outcome = (
            VisitOutcome.objects.select_related("booking__service_type")
            .filter(booking__in=bookings_for(request.user), pk=int(outcome_id))
            .first()
        )
        if outcome is None:
            raise exceptions.NotFound()
        return Response(s.SuggestionSerializer(services.suggest_referrals(outcome), many=True).data)

    @extend_schema(
        responses={200: s.WorklistCountsSerializer},
        description="How many referrals are on each worklist, and open and overdue ones by "
        "destination.",
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def worklists(self, request: Request) -> Response:
        referrals = referrals_for(request.user)
        counts = services.worklist_counts(referrals, user=request.user)
        today = timezone.localdate()
        by_destination = (
            referrals.open()
            .values("destination", "destination__name")
            .annotate(
                open=Count("pk"),
                overdue=Count("pk", filter=Q(status=Referral.Status.SENT, due_date__lt=today)),
            )
            .order_by("-overdue", "destination__name")
        )
        counts["by_destination"] = [
            {
                "destination": row["destination"],
                "name": row["destination__name"],
                "open": row["open"],
                "overdue": row["overdue"],
            }
            for row in by_destination
        ]
        return Response(counts)

    @extend_schema(
        parameters=[
            *WORKLIST_FILTERS,
            OpenApiParameter("ordering", str, enum=sorted(WORKLIST_ORDERINGS)),
            OpenApiParameter("page_size", int, description="1-200, default 50."),
            OpenApiParameter("cursor", str),
        ],
        responses={200: s.WorklistEntrySerializer(many=True), 400: ERRORS[400]},
        description="One worklist (overdue, accepted-not-booked, attended-not-closed, mine), "
        "in cursor pages.",
    )
    @action(
        detail=False,
        methods=["get"],
        url_path=r"worklists/(?P<name>overdue|accepted-not-booked|attended-not-closed|mine)",
        pagination_class=WorklistPagination,
    )
    def worklist(self, request: Request, name: str) -> Response:
        narrow, default_order = _worklists(request.user)[name]
        ordering = request.query_params.get("ordering") or default_order
        if ordering not in WORKLIST_ORDERINGS | {default_order}:
            raise exceptions.ValidationError(
                {"ordering": [f"Order by one of: {', '.join(sorted(WORKLIST_ORDERINGS))}."]}
            )
        queryset = narrow(self.filter_queryset_without_ordering(self.get_queryset()))
        queryset = queryset.only(*s.WorklistEntrySerializer.COLUMNS)
        paginator = self.paginator
        # The id breaks ties, so rows with the same date keep a stable order across pages.
        paginator.ordering = (ordering, "-id" if ordering.startswith("-") else "id")
        page = paginator.paginate_queryset(queryset, request, view=self)
        rows = s.WorklistEntrySerializer(page, many=True, context=self.get_serializer_context())
        return paginator.get_paginated_response(rows.data)

    def filter_queryset_without_ordering(self, queryset: QuerySet) -> QuerySet:
        # The worklist validates its own ordering; the generic OrderingFilter would apply the
        # same parameter a second time against the list's fields. The filter form is only built
        # when a filter is asked for: on an unfiltered page it was a fifth of the request.
        if not set(self.request.query_params) & set(ReferralFilter.base_filters):
            return queryset
        return StrictFilterBackend().filter_queryset(self.request, queryset, self)
