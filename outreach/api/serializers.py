"""Outreach API shapes: `<Model>Serializer` for output, `<Action>InputSerializer` for input.

`status` is read-only everywhere: it changes only through the POST actions.
"""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import models
from django.utils import timezone
from rest_framework import serializers

from clinics.api.common import FreshFieldsSerializer, ScopedPrimaryKeyRelatedField, StrictCharField
from clinics.catalogue import active_service
from clinics.models import MobileUnit, Patient, ServiceType, StaffMember, Venue
from clinics.permissions import (
    hide_sensitive,
    may_use_service,
    patients_for,
    scope_to_organisation,
)
from outreach.models import (
    Booking,
    OutreachSession,
    SessionSeries,
    StaffAssignment,
    VisitOutcome,
    WaitlistEntry,
    validate_weekdays,
)
from outreach.permissions import sessions_for
from outreach.services import Scope


def _own_units(user: Any) -> Any:
    return scope_to_organisation(
        MobileUnit.objects.filter(is_active=True), user, person_level=False
    )


def _own_staff(user: Any) -> Any:
    return scope_to_organisation(
        StaffMember.objects.filter(is_active=True), user, person_level=False
    )


def _services(user: Any) -> Any:
    """The active services `user` may name: a sensitive one only with the sensitive permission.

    One they may not see reads as an unknown id, as a record outside their scope does.
    """
    return hide_sensitive(ServiceType.objects.filter(is_active=True), user, "sensitive")


def _venues(user: Any) -> Any:
    return Venue.objects.filter(is_active=True)


def _live_patients(user: Any) -> Any:
    return patients_for(user).current()


class CatalogueServiceField(ScopedPrimaryKeyRelatedField):
    """An active service type, found in the cached catalogue instead of by a query.

    Scoped as `_services` is: a sensitive service is an unknown id to a user without the
    sensitive-services permission, checked on the cached row and the user's cached permissions.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(_services, **kwargs)

    def to_internal_value(self, data: Any) -> ServiceType:
        try:
            if isinstance(data, bool):
                raise TypeError
            pk = ServiceType._meta.pk.get_prep_value(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        service = active_service(pk)
        user = getattr(self.context.get("request"), "user", None)
        if service is None or not may_use_service(user, service):
            self.fail("does_not_exist", pk_value=data)
        return service


class StaffAssignmentSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = StaffAssignment
        fields = ["id", "staff", "name"]
        read_only_fields = fields

    def get_name(self, assignment: StaffAssignment) -> str:
        user = assignment.staff.user
        return user.get_full_name() or user.get_username()


class OutreachSessionSerializer(serializers.ModelSerializer):
    services = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    staff = StaffAssignmentSerializer(source="assignments", many=True, read_only=True)
    venue_name = serializers.CharField(source="venue.name", read_only=True)

    class Meta:
        model = OutreachSession
        fields = [
            "id",
            "name",
            "organisation",
            "series",
            "occurrence_date",
            "detached",
            "venue",
            "venue_name",
            "mobile_unit",
            "services",
            "staff",
            "starts_at",
            "ends_at",
            "booking_mode",
            "slot_minutes",
            "lanes",
            "walk_in_share_percent",
            "minimum_notice_minutes",
            "audience",
            "status",
            "cancellation_reason",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SessionInputSerializer(serializers.Serializer):
    """Plan a one-off session."""

    name = StrictCharField(max_length=200)
    venue = ScopedPrimaryKeyRelatedField(_venues)
    mobile_unit = ScopedPrimaryKeyRelatedField(_own_units, required=False, allow_null=True)
    services = ScopedPrimaryKeyRelatedField(_services, many=True, allow_empty=False)
    staff = ScopedPrimaryKeyRelatedField(_own_staff, many=True, required=False)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    booking_mode = serializers.ChoiceField(OutreachSession._meta.get_field("booking_mode").choices)
    slot_minutes = serializers.IntegerField(min_value=5, max_value=240, default=15)
    lanes = serializers.IntegerField(min_value=1, max_value=20, default=1)
    walk_in_share_percent = serializers.IntegerField(min_value=0, max_value=100, default=0)
    minimum_notice_minutes = serializers.IntegerField(min_value=0, max_value=10080, default=0)
    audience = serializers.ChoiceField(
        OutreachSession._meta.get_field("audience").choices, default="everyone"
    )
    notes = StrictCharField(required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["ends_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": "The session must end after it starts."})
        if attrs["ends_at"] <= timezone.now():
            raise serializers.ValidationError({"ends_at": "This time has already passed."})
        return attrs


class SessionUpdateInputSerializer(serializers.Serializer):
    """Change a session; for a series occurrence, `scope` says which occurrences change."""

    scope = serializers.ChoiceField(Scope.CHOICES, default=Scope.THIS)
    reason = StrictCharField(max_length=500, required=False, default="Details changed")
    name = StrictCharField(max_length=200, required=False)
    venue = ScopedPrimaryKeyRelatedField(_venues, required=False)
    mobile_unit = ScopedPrimaryKeyRelatedField(_own_units, required=False, allow_null=True)
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False)
    start_time = serializers.TimeField(required=False)
    end_time = serializers.TimeField(required=False)
    booking_mode = serializers.ChoiceField(
        OutreachSession._meta.get_field("booking_mode").choices, required=False
    )
    slot_minutes = serializers.IntegerField(min_value=5, max_value=240, required=False)
    lanes = serializers.IntegerField(min_value=1, max_value=20, required=False)
    walk_in_share_percent = serializers.IntegerField(min_value=0, max_value=100, required=False)
    minimum_notice_minutes = serializers.IntegerField(min_value=0, max_value=10080, required=False)
    audience = serializers.ChoiceField(
        OutreachSession._meta.get_field("audience").choices, required=False
    )
    notes = StrictCharField(required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        scope = attrs.get("scope", Scope.THIS)
        if scope == Scope.THIS and ({"start_time", "end_time"} & set(attrs)):
            raise serializers.ValidationError(
                {"start_time": "For one session, send starts_at and ends_at instead."}
            )
        if scope != Scope.THIS:
            for field in ("starts_at", "ends_at", "minimum_notice_minutes", "notes"):
                if field in attrs:
                    raise serializers.ValidationError(
                        {field: "Not a series field: change it on the one session (scope=this)."}
                    )
        if len(set(attrs) - {"scope", "reason"}) == 0:
            raise serializers.ValidationError({"non_field_errors": ["Nothing to change."]})
        return attrs


class SessionSeriesSerializer(serializers.ModelSerializer):
    services = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    staff = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = SessionSeries
        fields = [
            "id",
            "name",
            "organisation",
            "venue",
            "mobile_unit",
            "services",
            "staff",
            "weekdays",
            "interval_weeks",
            "start_date",
            "until_date",
            "occurrence_limit",
            "start_time",
            "end_time",
            "booking_mode",
            "slot_minutes",
            "lanes",
            "walk_in_share_percent",
            "audience",
            "is_active",
            "created_at",
        ]
        read_only_fields = fields


class SeriesInputSerializer(serializers.Serializer):
    """Plan a recurring clinic: weekly on chosen days, every N weeks, until a date or N times."""

    name = StrictCharField(max_length=200)
    venue = ScopedPrimaryKeyRelatedField(_venues)
    mobile_unit = ScopedPrimaryKeyRelatedField(_own_units, required=False, allow_null=True)
    services = ScopedPrimaryKeyRelatedField(_services, many=True, allow_empty=False)
    staff = ScopedPrimaryKeyRelatedField(_own_staff, many=True, required=False)
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        allow_empty=False,
        help_text="0 is Monday, 6 is Sunday.",
    )
    interval_weeks = serializers.IntegerField(min_value=1, max_value=8, default=1)
    start_date = serializers.DateField()
    until_date = serializers.DateField(required=False, allow_null=True)
    occurrence_limit = serializers.IntegerField(
        min_value=1, max_value=520, required=False, allow_null=True
    )
    start_time = serializers.TimeField()
    end_time = serializers.TimeField()
    booking_mode = serializers.ChoiceField(SessionSeries._meta.get_field("booking_mode").choices)
    slot_minutes = serializers.IntegerField(min_value=5, max_value=240, default=15)
    lanes = serializers.IntegerField(min_value=1, max_value=20, default=1)
    walk_in_share_percent = serializers.IntegerField(min_value=0, max_value=100, default=0)
    audience = serializers.ChoiceField(
        SessionSeries._meta.get_field("audience").choices, default="everyone"
    )

    def validate_weekdays(self, value: list[int]) -> list[int]:
        try:
            validate_weekdays(value)
        except Exception as error:
            raise serializers.ValidationError(str(error.messages[0])) from None
        return sorted(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end_time"] <= attrs["start_time"]:
            raise serializers.ValidationError({"end_time": "The session must end after it starts."})
        until = attrs.get("until_date")
        if until and until < attrs["start_date"]:
            raise serializers.ValidationError({"until_date": "Must be on or after the start date."})
        if until and attrs.get("occurrence_limit"):
            raise serializers.ValidationError(
                {"occurrence_limit": "Give an end date or a number of sessions, not both."}
            )
        return attrs


class CancelSessionInputSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=1000)


class AssignStaffInputSerializer(serializers.Serializer):
    staff = ScopedPrimaryKeyRelatedField(_own_staff)


# A free slot's shape, for the schema: `slots_data` writes the answers.
class SlotSerializer(serializers.Serializer):
    session = serializers.IntegerField(source="session_id")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    lane = serializers.IntegerField()
    lanes_free = serializers.IntegerField()


def slots_data(slots: Iterable[Any]) -> list[dict[str, Any]]:
    """What `SlotSerializer(slots, many=True).data` gives, without a field call per value.

    A search answers with up to 200 slots of five plain values each; the times are written by
    the serializer's own `DateTimeField`, so their format and time zone are the same.
    """
    moment = serializers.DateTimeField().to_representation
    return [
        {
            "session": slot.session_id,
            "starts_at": moment(slot.starts_at),
            "ends_at": moment(slot.ends_at),
            "lane": slot.lane,
            "lanes_free": slot.lanes_free,
        }
        for slot in slots
    ]


class SlotQuerySerializer(serializers.Serializer):
    """Query parameters of the slot search: ?service=&venue=&from=&to=&limit=."""

    service = CatalogueServiceField()
    venue = ScopedPrimaryKeyRelatedField(_venues, required=False)
    to = serializers.DateTimeField(required=False)
    limit = serializers.IntegerField(min_value=1, max_value=200, default=20)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword, so the field is added by name.
        self.fields["from"] = serializers.DateTimeField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("from"), attrs.get("to")
        if start and end and end <= start:
            raise serializers.ValidationError({"to": "Must be after 'from'."})
        if start and end and (end - start).days > 92:
            raise serializers.ValidationError({"to": "Search at most 92 days at a time."})
        return attrs


class SessionSlotQuerySerializer(serializers.Serializer):
    service = CatalogueServiceField()


class VisitOutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = VisitOutcome
        fields = ["outcome", "result", "follow_up_date", "notes", "recorded_by", "recorded_at"]
        read_only_fields = fields


class BookingSerializer(serializers.ModelSerializer):
    # Blank until the booking is cancelled: the schema says so, as the answers do.
    cancelled_by = serializers.ChoiceField(
        Booking.CancelledBy.choices, allow_blank=True, read_only=True
    )
    # Blank until the patient confirms, as the model's constraint has it.
    confirmed_via = serializers.ChoiceField(
        Booking.ConfirmedVia.choices, allow_blank=True, read_only=True
    )
    patient_name = serializers.CharField(source="patient.preferred_name", read_only=True)
    service_name = serializers.CharField(source="service_type.name", read_only=True)
    service = serializers.IntegerField(source="service_type_id", read_only=True)
    outcome = serializers.SerializerMethodField()

    class Meta:
        model = Booking
        fields = [
            "id",
            "session",
            "patient",
            "patient_name",
            "service",
            "service_name",
            "starts_at",
            "ends_at",
            "lane",
            "status",
            "source",
            "arrived_at",
            "cancelled_by",
            "cancellation_reason",
            "confirmed_at",
            "confirmed_via",
            "notes",
            "rescheduled_from",
            "outcome",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_outcome(self, booking: Booking) -> dict[str, Any] | None:
        return booking_outcome(booking)


def booking_outcome(booking: Booking) -> dict[str, Any] | None:
    """The visit outcome of a booking, as `BookingSerializer` shows it."""
    # Only a booking marked seen has an outcome: skip the lookup for every other one.
    if booking.status not in (Booking.Status.FULFILLED, Booking.Status.ENTERED_IN_ERROR):
        return None
    try:
        visit = booking.outcome
    except VisitOutcome.DoesNotExist:
        return None
    return VisitOutcomeSerializer(visit).data


def booking_data(booking: Booking) -> dict[str, Any]:
    """What `BookingSerializer(booking).data` gives, without a field call per value.

    Every booking made through the API is answered with it. The times are written by the
    serializer's own `DateTimeField`, so their format and time zone are the same, and the
    outcome as the serializer finds it (only a booking marked seen has one). A test compares
    the two over bookings in every status.
    """
    moment = _MOMENT

    def maybe(value: datetime | None) -> str | None:
        return None if value is None else moment(value)

    return {
        "id": booking.pk,
        "session": booking.session_id,
        "patient": booking.patient_id,
        "patient_name": booking.patient.preferred_name,
        "service": booking.service_type_id,
        "service_name": booking.service_type.name,
        "starts_at": moment(booking.starts_at),
        "ends_at": moment(booking.ends_at),
        "lane": booking.lane,
        "status": str(booking.status),
        "source": str(booking.source),
        "arrived_at": maybe(booking.arrived_at),
        "cancelled_by": str(booking.cancelled_by),
        "cancellation_reason": str(booking.cancellation_reason),
        "confirmed_at": maybe(booking.confirmed_at),
        "confirmed_via": str(booking.confirmed_via),
        "notes": str(booking.notes),
        "rescheduled_from": booking.rescheduled_from_id,
        "outcome": booking_outcome(booking),
        "created_at": moment(booking.created_at),
        "updated_at": moment(booking.updated_at),
    }


_MOMENT = serializers.DateTimeField().to_representation


class ReadUnderLockField(ScopedPrimaryKeyRelatedField):
    """A related id checked for its type only: the service reads the row, under its lock.

    The row must be read again under the lock anyway, so reading it here too would cost a
    query on every booking. The service checks it is in the same scope (`get_queryset`) and
    answers an unknown id with the same 400 on this field.
    """

    def __init__(self, scope: Any, model: type[models.Model], **kwargs: Any) -> None:
        self.model = model
        super().__init__(scope, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        try:
            if isinstance(data, bool):
                raise TypeError
            return self.model._meta.pk.get_prep_value(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)


class BookingInputSerializer(FreshFieldsSerializer):
    """Book a person into a slot; leave `starts_at` out for the session's next free slot."""

    # `patient` and `session` come back as ids: `book_slot` reads them under lock and checks
    # they are in these scopes (the docstring above is the API schema's description).
    patient = ReadUnderLockField(_live_patients, Patient)
    session = ReadUnderLockField(sessions_for, OutreachSession)
    service = CatalogueServiceField()
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    lane = serializers.IntegerField(min_value=1, max_value=20, required=False, allow_null=True)
    source = serializers.ChoiceField(
        [Booking.Source.BOOKED, Booking.Source.SELF_REFERRAL], default=Booking.Source.BOOKED
    )
    notes = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")

    _IDS_ONLY = frozenset(("patient", "session", "service"))

    @classmethod
    def ids_only(cls, data: Any, user: Any) -> dict[str, Any] | None:
        """What `validated_data` would be for the commonest booking, the next free slot with
        nothing but the three ids (whole numbers) given; None for any other request.

        The fields would answer the same and cost a booking more than its slot choice: building
        and running seven of them. Anything else, a wrong or unknown value included, goes to
        them for its answer (`is_valid`). A property test compares the two.
        """
        if type(data) is not dict or data.keys() != cls._IDS_ONLY:
            return None
        patient, session, service = data["patient"], data["session"], data["service"]
        if any(type(value) is not int for value in (patient, session, service)):
            return None
        found = active_service(service)
        if found is None or not may_use_service(user, found):
            return None
        return {
            "patient": patient,
            "session": session,
            "service": found,
            "source": cls._declared_fields["source"].default,
            "notes": cls._declared_fields["notes"].default,
        }

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            # Another field is wrong, so the service will not run: name an unknown patient or
            # session now as well, as a check that read them here would have.
            raise serializers.ValidationError(self._with_unknown_ids(data, error.detail)) from None

    def _with_unknown_ids(self, data: Any, errors: Any) -> Any:
        if not isinstance(errors, dict) or not hasattr(data, "get"):
            return errors
        errors = dict(errors)
        for name in ("patient", "session"):
            field = self.fields[name]
            if name in errors or data.get(name) in (None, ""):
                continue
            pk = field.to_internal_value(data[name])
            if not field.get_queryset().filter(pk=pk).exists():
                errors[name] = [field.error_messages["does_not_exist"].format(pk_value=data[name])]
        # In the order of the fields, as the serializer itself lists them.
        return {name: errors[name] for name in [*self.fields, *errors] if name in errors}

    def unknown_ids(self) -> serializers.ValidationError:
        """The error for the patient or session (or both) that the service could not find."""
        return serializers.ValidationError(self._with_unknown_ids(self.initial_data, {}))


class WalkInInputSerializer(serializers.Serializer):
    patient = ScopedPrimaryKeyRelatedField(_live_patients)
    service = CatalogueServiceField()
    notes = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class SeenInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(VisitOutcome.Outcome.choices)
    result = serializers.ChoiceField(
        VisitOutcome.Result.choices, default=VisitOutcome.Result.NOT_APPLICABLE
    )
    follow_up_date = serializers.DateField(required=False, allow_null=True)
    notes = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
    lane = serializers.IntegerField(min_value=1, max_value=20, required=False, allow_null=True)

    def validate_follow_up_date(self, value: date | None) -> date | None:
        if value is not None and value < timezone.localdate():
            raise serializers.ValidationError("A follow-up date cannot be in the past.")
        return value


class CancelBookingInputSerializer(serializers.Serializer):
    cancelled_by = serializers.ChoiceField(Booking.CancelledBy.choices)
    reason = StrictCharField(max_length=1000)


class RescheduleInputSerializer(serializers.Serializer):
    session = ScopedPrimaryKeyRelatedField(sessions_for, required=False)
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    lane = serializers.IntegerField(min_value=1, max_value=20, required=False, allow_null=True)
    reason = StrictCharField(max_length=1000, required=False, default="Rescheduled")


class SessionDaySerializer(serializers.Serializer):
    """Everything a nurse needs for one session on one screen."""

    session = OutreachSessionSerializer()
    counts = serializers.DictField(child=serializers.IntegerField())
    bookings = BookingSerializer(many=True)
    walk_in_queue = BookingSerializer(many=True)


class WaitlistEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = WaitlistEntry
        fields = [
            "id",
            "patient",
            "service_type",
            "venue",
            "not_before",
            "not_after",
            "status",
            "offered_booking",
            "offered_at",
            "notes",
            "created_at",
        ]
        read_only_fields = fields


class WaitlistInputSerializer(serializers.Serializer):
    patient = ScopedPrimaryKeyRelatedField(_live_patients)
    service = CatalogueServiceField()
    venue = ScopedPrimaryKeyRelatedField(_venues, required=False, allow_null=True)
    not_before = serializers.DateField(required=False, allow_null=True)
    not_after = serializers.DateField(required=False, allow_null=True)
    notes = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("not_before"), attrs.get("not_after")
        if start and end and end < start:
            raise serializers.ValidationError({"not_after": "Must be on or after not_before."})
        return attrs
