"""The database refuses what the outreach models forbid, whatever the Python code above it does.

Check and unique constraints hold on both databases. The overlap rules are exclusion constraints
that exist only on PostgreSQL (see clinics/constraints.py); those tests are marked `postgres`.
Rows are written with `queryset.update()` or plain `create()`, never through `full_clean()`, so
what is asserted is the schema itself.
"""

from collections.abc import Callable
from datetime import date, time, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.db.utils import ConnectionHandler

from outreach.models import (
    Booking,
    Message,
    MessageTemplate,
    OutreachSession,
    StaffAssignment,
    WaitlistEntry,
)
from tests import factories
from tests.constraint_checks import (
    assert_accepted,
    assert_refused,
    case_ids,
    declared_constraints,
)

pytestmark = pytest.mark.django_db


AT = factories.BASE_TIME

Values = dict[str, Any] | Callable[[models.Model], dict[str, Any]]


def _a_user(_: models.Model) -> dict[str, Any]:
    return {"patient": None, "recipient_user": factories.UserFactory()}


# (constraint, factory, a row it refuses, a boundary row it accepts)
CHECK_CASES = [
    ("sessionseries_booking_mode_valid", factories.SessionSeriesFactory,
     {"booking_mode": "phone"}, {"booking_mode": "walk_in"}),
    ("sessionseries_audience_valid", factories.SessionSeriesFactory, {"audience": "children"},
     {"audience": "women"}),
    ("sessionseries_end_after_start", factories.SessionSeriesFactory,
     {"end_time": F("start_time")}, {"start_time": time(10, 0), "end_time": time(10, 1)}),
    ("sessionseries_until_after_start", factories.SessionSeriesFactory,
     {"start_date": date(2026, 6, 1), "until_date": date(2026, 5, 31)},
     {"start_date": date(2026, 6, 1), "until_date": date(2026, 6, 1)}),
    ("sessionseries_interval_range", factories.SessionSeriesFactory, {"interval_weeks": 0},
     {"interval_weeks": 1}),
    ("sessionseries_interval_range", factories.SessionSeriesFactory, {"interval_weeks": 9},
     {"interval_weeks": 8}),
    ("sessionseries_slot_minutes_range", factories.SessionSeriesFactory, {"slot_minutes": 4},
     {"slot_minutes": 5}),
    ("sessionseries_slot_minutes_range", factories.SessionSeriesFactory, {"slot_minutes": 241},
     {"slot_minutes": 240}),
    ("sessionseries_lanes_range", factories.SessionSeriesFactory, {"lanes": 0}, {"lanes": 1}),
    ("sessionseries_lanes_range", factories.SessionSeriesFactory, {"lanes": 21}, {"lanes": 20}),
    ("sessionseries_walk_in_share_range", factories.SessionSeriesFactory,
     {"walk_in_share_percent": 101}, {"walk_in_share_percent": 100}),
    ("outreachsession_status_valid", factories.OutreachSessionFactory, {"status": "postponed"},
     {"status": "completed"}),
    ("outreachsession_booking_mode_valid", factories.OutreachSessionFactory,
     {"booking_mode": "phone"}, {"booking_mode": "appointments"}),
    ("outreachsession_audience_valid", factories.OutreachSessionFactory,
     {"audience": "children"}, {"audience": "men"}),
    ("outreachsession_end_after_start", factories.OutreachSessionFactory,
     {"ends_at": F("starts_at")}, {"starts_at": AT, "ends_at": AT + timedelta(seconds=1)}),
    ("outreachsession_slot_minutes_range", factories.OutreachSessionFactory,
     {"slot_minutes": 4}, {"slot_minutes": 5}),
    ("outreachsession_slot_minutes_range", factories.OutreachSessionFactory,
     {"slot_minutes": 241}, {"slot_minutes": 240}),
    ("outreachsession_lanes_range", factories.OutreachSessionFactory, {"lanes": 0},
     {"lanes": 1}),
    ("outreachsession_lanes_range", factories.OutreachSessionFactory, {"lanes": 21},
     {"lanes": 20}),
    ("outreachsession_walk_in_share_range", factories.OutreachSessionFactory,
     {"walk_in_share_percent": 101}, {"walk_in_share_percent": 100}),
    ("outreachsession_cancel_has_reason", factories.OutreachSessionFactory,
     {"status": "cancelled", "cancellation_reason": ""},
     {"status": "cancelled", "cancellation_reason": "The bus broke down."}),
    ("staffassignment_end_after_start", factories.StaffAssignmentFactory,
     {"ends_at": F("starts_at")}, {"starts_at": AT, "ends_at": AT + timedelta(seconds=1)}),
    ("booking_status_valid", factories.BookingFactory, {"status": "pending"},
     {"status": "noshow"}),
    ("booking_source_valid", factories.BookingFactory, {"source": "phone"},
     {"source": "self_referral"}),
    ("booking_end_after_start", factories.BookingFactory, {"ends_at": F("starts_at")},
     {"starts_at": AT, "ends_at": AT + timedelta(seconds=1)}),
    ("booking_lane_positive", factories.BookingFactory, {"lane": 0}, {"lane": 1}),
    ("booking_lane_positive", factories.BookingFactory, {"lane": 0}, {"lane": None}),
    ("booking_cancel_says_by_whom", factories.BookingFactory,
     {"status": "cancelled", "cancelled_by": ""},
     {"status": "cancelled", "cancelled_by": "patient"}),
    ("booking_arrival_has_time", factories.BookingFactory,
     {"status": "arrived", "arrived_at": None}, {"status": "arrived", "arrived_at": AT}),
    ("booking_arrival_has_time", factories.BookingFactory,
     {"status": "fulfilled", "arrived_at": None}, {"status": "fulfilled", "arrived_at": AT}),
    ("booking_confirmation_says_how", factories.BookingFactory,
     {"confirmed_at": AT, "confirmed_via": ""},
     {"confirmed_at": AT, "confirmed_via": "text_reply"}),
    ("booking_confirmation_says_how", factories.BookingFactory,
     {"confirmed_at": None, "confirmed_via": "text_reply"},
     {"confirmed_at": None, "confirmed_via": ""}),
    ("booking_confirmation_says_how", factories.BookingFactory,
     {"confirmed_at": AT, "confirmed_via": "carrier_pigeon"},
     {"confirmed_at": AT, "confirmed_via": "text_reply"}),
    ("visitoutcome_outcome_valid", factories.VisitOutcomeFactory, {"outcome": "great"},
     {"outcome": "unable"}),
    ("visitoutcome_result_valid", factories.VisitOutcomeFactory, {"result": "positive"},
     {"result": "reactive"}),
    ("waitlistentry_status_valid", factories.WaitlistEntryFactory, {"status": "paused"},
     {"status": "expired"}),
    ("waitlistentry_window_ordered", factories.WaitlistEntryFactory,
     {"not_before": date(2026, 6, 2), "not_after": date(2026, 6, 1)},
     {"not_before": date(2026, 6, 2), "not_after": date(2026, 6, 2)}),
    ("waitlistentry_offer_has_time", factories.WaitlistEntryFactory,
     {"status": "offered", "offered_at": None}, {"status": "offered", "offered_at": AT}),
    ("messagetemplate_purpose_valid", factories.MessageTemplateFactory, {"purpose": "spam"},
     {"purpose": "referral_digest"}),
    ("messagetemplate_channel_valid", factories.MessageTemplateFactory, {"channel": "fax"},
     {"channel": "email"}),
    ("message_status_valid", factories.MessageFactory, {"status": "queued"},
     {"status": "expired"}),
    ("message_channel_valid", factories.MessageFactory, {"channel": "fax"},
     {"channel": "email"}),
    ("message_has_recipient", factories.MessageFactory,
     {"patient": None, "recipient_user": None}, _a_user),
    ("message_suppressed_has_reason", factories.MessageFactory,
     {"status": "suppressed", "suppressed_reason": ""},
     {"status": "suppressed", "suppressed_reason": "opted_out"}),
    ("message_sent_has_time", factories.MessageFactory, {"status": "sent", "sent_at": None},
     {"status": "sent", "sent_at": AT}),
    ("message_sent_has_time", factories.MessageFactory,
     {"status": "delivered", "sent_at": None, "delivered_at": AT},
     {"status": "delivered", "sent_at": AT, "delivered_at": AT}),
    ("message_delivered_has_time", factories.MessageFactory,
     {"status": "delivered", "sent_at": AT, "delivered_at": None},
     {"status": "failed", "sent_at": AT, "delivered_at": None}),
    ("message_idempotency_key_required", factories.MessageFactory, {"idempotency_key": ""},
     {"idempotency_key": "k"}),
    ("inboundmessage_action_valid", factories.InboundMessageFactory, {"action": "maybe"},
     {"action": "unknown"}),
]  # fmt: skip

UNIQUE_TESTED = {
    "outreachsession_one_per_series_date",
    "staffassignment_unique",
    "booking_one_active_per_patient_per_session",
    "booking_idempotency_key_unique",
    "waitlistentry_one_open_per_patient_service_venue",
    "waitlistentry_one_open_per_patient_service_any_venue",
    "messagetemplate_one_active_per_purpose",
    "message_idempotency_key_unique",
}
EXCLUSION_TESTED = {
    "outreachsession_unit_no_overlap",
    "staffassignment_staff_no_overlap",
    "booking_lane_no_overlap",
    "booking_patient_no_overlap",
}
EXCLUSION_TABLES = {
    "outreachsession_unit_no_overlap": OutreachSession._meta.db_table,
    "staffassignment_staff_no_overlap": "outreach_staffassignment",
    "booking_lane_no_overlap": Booking._meta.db_table,
    "booking_patient_no_overlap": Booking._meta.db_table,
}


@pytest.mark.parametrize(
    ("name", "factory", "refused", "accepted"), CHECK_CASES, ids=case_ids(CHECK_CASES)
)
def test_check_constraint_refuses_a_violating_row(name, factory, refused, accepted):
    assert_refused(name, factory, refused)


@pytest.mark.parametrize(
    ("name", "factory", "refused", "accepted"), CHECK_CASES, ids=case_ids(CHECK_CASES)
)
def test_check_constraint_accepts_the_boundary_row(name, factory, refused, accepted):
    assert_accepted(factory, accepted)


def test_every_outreach_constraint_has_a_test():
    declared = declared_constraints("outreach")
    assert declared == {case[0] for case in CHECK_CASES} | UNIQUE_TESTED | EXCLUSION_TESTED


# --- Unique constraints: both databases ----------------------------------------------------


def test_a_series_cannot_have_two_sessions_for_one_date():
    series = factories.SessionSeriesFactory()
    first = factories.OutreachSessionFactory(
        organisation=series.organisation, series=series, occurrence_date=date(2026, 6, 1)
    )
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        factories.OutreachSessionFactory(
            organisation=series.organisation,
            series=series,
            occurrence_date=first.occurrence_date,
            starts_at=first.ends_at,
        )


def test_sessions_outside_a_series_may_share_an_occurrence_date():
    factories.OutreachSessionFactory(occurrence_date=date(2026, 6, 1))
    factories.OutreachSessionFactory(occurrence_date=date(2026, 6, 1))
    assert OutreachSession.objects.filter(occurrence_date=date(2026, 6, 1)).count() == 2


def test_a_series_may_have_sessions_on_different_dates():
    series = factories.SessionSeriesFactory()
    for day in (1, 8):
        factories.OutreachSessionFactory(
            organisation=series.organisation,
            series=series,
            occurrence_date=date(2026, 6, day),
            starts_at=AT + timedelta(days=day),
        )
    assert series.sessions.count() == 2


def test_a_staff_member_cannot_be_assigned_twice_to_one_session():
    assignment = factories.StaffAssignmentFactory()
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        # Not live, so only the unique constraint (not the overlap rule) can refuse it.
        factories.StaffAssignmentFactory(
            session=assignment.session, staff=assignment.staff, is_live=False
        )


def test_a_patient_cannot_hold_two_active_bookings_at_one_session():
    first = factories.BookingFactory()
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        # A later time and another lane: only the one-per-session rule can refuse it.
        factories.BookingFactory(
            session=first.session,
            patient=first.patient,
            lane=2,
            starts_at=first.starts_at + timedelta(hours=1),
        )


@pytest.mark.parametrize("status", ["cancelled", "noshow", "entered-in-error"])
def test_a_patient_may_rebook_a_session_after_an_inactive_booking(status):
    first = factories.BookingFactory(status=status, cancelled_by="patient")
    again = factories.BookingFactory(session=first.session, patient=first.patient)
    assert again.pk != first.pk


def test_two_messages_cannot_share_an_idempotency_key():
    first = factories.MessageFactory()
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        factories.MessageFactory(idempotency_key=first.idempotency_key)
    assert Message.objects.filter(idempotency_key=first.idempotency_key).count() == 1


def test_one_user_cannot_reuse_an_idempotency_key():
    first = factories.BookingFactory(booked_by=factories.UserFactory(), idempotency_key="abc")
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        factories.BookingFactory(booked_by=first.booked_by, idempotency_key="abc")


def test_two_users_may_use_the_same_idempotency_key():
    factories.BookingFactory(booked_by=factories.UserFactory(), idempotency_key="abc")
    factories.BookingFactory(booked_by=factories.UserFactory(), idempotency_key="abc")
    assert Booking.objects.filter(idempotency_key="abc").count() == 2


def test_bookings_without_an_idempotency_key_do_not_clash():
    user = factories.UserFactory()
    factories.BookingFactory(booked_by=user, idempotency_key="")
    factories.BookingFactory(booked_by=user, idempotency_key="")
    assert Booking.objects.filter(booked_by=user).count() == 2


@pytest.mark.parametrize(
    ("first_status", "second_status"), [("waiting", "waiting"), ("offered", "waiting")]
)
def test_a_patient_cannot_wait_twice_for_one_service_at_one_venue(first_status, second_status):
    first = factories.WaitlistEntryFactory(
        venue=factories.VenueFactory(), status=first_status, offered_at=AT
    )
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        factories.WaitlistEntryFactory(
            organisation=first.organisation,
            patient=first.patient,
            service_type=first.service_type,
            venue=first.venue,
            status=second_status,
        )


def test_a_patient_cannot_wait_twice_for_one_service_at_any_venue():
    # venue=None means "any venue": it is as much a duplicate as the same named venue.
    first = factories.WaitlistEntryFactory(venue=None)
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        factories.WaitlistEntryFactory(
            organisation=first.organisation,
            patient=first.patient,
            service_type=first.service_type,
            venue=None,
        )


@pytest.mark.parametrize("any_venue", [False, True], ids=["one-venue", "any-venue"])
@pytest.mark.parametrize("closed_status", ["booked", "withdrawn", "expired"])
def test_a_patient_may_wait_again_once_the_entry_is_closed(closed_status, any_venue):
    venue = None if any_venue else factories.VenueFactory()
    first = factories.WaitlistEntryFactory(venue=venue, status=closed_status)
    again = factories.WaitlistEntryFactory(
        organisation=first.organisation,
        patient=first.patient,
        service_type=first.service_type,
        venue=first.venue,
    )
    assert WaitlistEntry.objects.filter(patient=first.patient).count() == 2
    assert again.status == WaitlistEntry.Status.WAITING


def test_only_one_active_template_per_purpose_channel_and_variant():
    factories.MessageTemplateFactory()
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        factories.MessageTemplateFactory()


def test_inactive_and_discreet_templates_sit_beside_the_active_one():
    factories.MessageTemplateFactory()
    factories.MessageTemplateFactory(is_active=False)
    factories.MessageTemplateFactory(is_active=False)
    factories.MessageTemplateFactory(discreet=True)
    factories.MessageTemplateFactory(channel="email")
    assert MessageTemplate.objects.count() == 5


def test_a_message_idempotency_key_is_used_once():
    factories.MessageFactory(idempotency_key="booking:1:reminder")
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        factories.MessageFactory(idempotency_key="booking:1:reminder")


# --- Exclusion constraints: PostgreSQL only -------------------------------------------------


@pytest.mark.postgres
def test_the_exclusion_constraints_are_in_the_postgresql_schema():
    with connection.cursor() as cursor:
        for name, table in EXCLUSION_TABLES.items():
            assert name in connection.introspection.get_constraints(cursor, table), name


@pytest.mark.postgres
def test_two_bookings_cannot_hold_the_same_lane_at_overlapping_times():
    first = factories.BookingFactory(lane=1)
    with pytest.raises(IntegrityError, match="booking_lane_no_overlap"), transaction.atomic():
        factories.BookingFactory(
            session=first.session, lane=1, starts_at=first.starts_at + timedelta(minutes=14)
        )


@pytest.mark.postgres
def test_back_to_back_bookings_may_share_a_lane():
    first = factories.BookingFactory(lane=1)
    after = factories.BookingFactory(session=first.session, lane=1, starts_at=first.ends_at)
    before = factories.BookingFactory(
        session=first.session, lane=1, starts_at=first.starts_at - timedelta(minutes=15)
    )
    assert after.starts_at == first.ends_at
    assert before.ends_at == first.starts_at


@pytest.mark.postgres
@pytest.mark.parametrize("status", ["cancelled", "noshow", "entered-in-error"])
def test_a_booking_that_is_no_longer_active_frees_the_lane(status):
    first = factories.BookingFactory(lane=1, status=status, cancelled_by="service")
    again = factories.BookingFactory(session=first.session, lane=1, starts_at=first.starts_at)
    assert again.pk


@pytest.mark.postgres
def test_cancelling_a_booking_frees_its_lane_for_someone_else():
    first = factories.BookingFactory(lane=1)
    Booking.objects.filter(pk=first.pk).update(status="cancelled", cancelled_by="patient")
    again = factories.BookingFactory(session=first.session, lane=1, starts_at=first.starts_at)
    assert again.pk


@pytest.mark.postgres
def test_overlapping_bookings_in_different_lanes_are_fine():
    first = factories.BookingFactory(lane=1)
    other = factories.BookingFactory(session=first.session, lane=2, starts_at=first.starts_at)
    assert other.pk


@pytest.mark.postgres
def test_walk_ins_in_the_queue_hold_no_lane():
    first = factories.BookingFactory(lane=None)
    other = factories.BookingFactory(session=first.session, lane=None, starts_at=first.starts_at)
    assert other.pk


@pytest.mark.postgres
def test_the_same_lane_number_at_another_session_is_fine():
    first = factories.BookingFactory(lane=1)
    other = factories.BookingFactory(lane=1, starts_at=first.starts_at)
    assert other.session_id != first.session_id


@pytest.mark.postgres
def test_a_patient_cannot_be_in_two_appointments_at_once():
    first = factories.BookingFactory()
    elsewhere = factories.OutreachSessionFactory(organisation=first.session.organisation)
    with pytest.raises(IntegrityError, match="booking_patient_no_overlap"), transaction.atomic():
        factories.BookingFactory(
            session=elsewhere,
            patient=first.patient,
            starts_at=first.starts_at + timedelta(minutes=5),
        )


@pytest.mark.postgres
def test_a_patient_may_have_back_to_back_appointments():
    first = factories.BookingFactory()
    elsewhere = factories.OutreachSessionFactory(organisation=first.session.organisation)
    second = factories.BookingFactory(
        session=elsewhere, patient=first.patient, starts_at=first.ends_at
    )
    assert second.pk


@pytest.mark.postgres
@pytest.mark.parametrize("status", ["cancelled", "fulfilled", "noshow"])
def test_a_booking_no_longer_pending_does_not_hold_the_patients_time(status):
    first = factories.BookingFactory(status=status, cancelled_by="patient", arrived_at=AT)
    elsewhere = factories.OutreachSessionFactory(organisation=first.session.organisation)
    second = factories.BookingFactory(
        session=elsewhere, patient=first.patient, starts_at=first.starts_at
    )
    assert second.pk


@pytest.mark.postgres
def test_a_mobile_unit_cannot_be_at_two_sessions_at_once():
    unit = factories.MobileUnitFactory()
    first = factories.OutreachSessionFactory(mobile_unit=unit)
    with (
        pytest.raises(IntegrityError, match="outreachsession_unit_no_overlap"),
        transaction.atomic(),
    ):
        factories.OutreachSessionFactory(
            mobile_unit=unit, starts_at=first.ends_at - timedelta(minutes=1)
        )


@pytest.mark.postgres
def test_a_mobile_unit_may_go_straight_from_one_session_to_the_next():
    unit = factories.MobileUnitFactory()
    first = factories.OutreachSessionFactory(mobile_unit=unit)
    second = factories.OutreachSessionFactory(mobile_unit=unit, starts_at=first.ends_at)
    assert second.pk


@pytest.mark.postgres
def test_a_cancelled_session_frees_the_bus():
    unit = factories.MobileUnitFactory()
    first = factories.OutreachSessionFactory(mobile_unit=unit)
    OutreachSession.objects.filter(pk=first.pk).update(
        status="cancelled", cancellation_reason="Flat tyre."
    )
    second = factories.OutreachSessionFactory(mobile_unit=unit, starts_at=first.starts_at)
    assert second.pk


@pytest.mark.postgres
def test_a_cancelled_session_cannot_come_back_while_the_bus_is_elsewhere():
    unit = factories.MobileUnitFactory()
    first = factories.OutreachSessionFactory(
        mobile_unit=unit, status="cancelled", cancellation_reason="Flat tyre."
    )
    factories.OutreachSessionFactory(mobile_unit=unit, starts_at=first.starts_at)
    with (
        pytest.raises(IntegrityError, match="outreachsession_unit_no_overlap"),
        transaction.atomic(),
    ):
        OutreachSession.objects.filter(pk=first.pk).update(status="planned")


@pytest.mark.postgres
def test_sessions_without_a_bus_or_with_different_buses_may_overlap():
    first = factories.OutreachSessionFactory(mobile_unit=factories.MobileUnitFactory())
    factories.OutreachSessionFactory(mobile_unit=factories.MobileUnitFactory())
    factories.OutreachSessionFactory(mobile_unit=None)
    factories.OutreachSessionFactory(mobile_unit=None)
    assert OutreachSession.objects.filter(starts_at=first.starts_at).count() == 4


@pytest.mark.postgres
def test_a_nurse_cannot_work_two_sessions_at_once():
    first = factories.StaffAssignmentFactory()
    elsewhere = factories.OutreachSessionFactory(
        organisation=first.session.organisation, starts_at=first.ends_at - timedelta(minutes=1)
    )
    with (
        pytest.raises(IntegrityError, match="staffassignment_staff_no_overlap"),
        transaction.atomic(),
    ):
        factories.StaffAssignmentFactory(session=elsewhere, staff=first.staff)


@pytest.mark.postgres
def test_a_nurse_may_work_back_to_back_sessions():
    first = factories.StaffAssignmentFactory()
    next_one = factories.OutreachSessionFactory(
        organisation=first.session.organisation, starts_at=first.ends_at
    )
    assert factories.StaffAssignmentFactory(session=next_one, staff=first.staff).pk


@pytest.mark.postgres
def test_an_assignment_that_is_not_live_frees_the_nurse():
    first = factories.StaffAssignmentFactory(is_live=False)
    elsewhere = factories.OutreachSessionFactory(
        organisation=first.session.organisation, starts_at=first.starts_at
    )
    assert factories.StaffAssignmentFactory(session=elsewhere, staff=first.staff).pk


@pytest.mark.postgres
def test_validate_constraints_reports_an_overlapping_booking_with_the_constraints_message():
    first = factories.BookingFactory(lane=1)
    clash = factories.BookingFactory.build(
        session=first.session,
        patient=factories.PatientFactory(organisation=first.session.organisation),
        service_type=first.service_type,
        lane=1,
        starts_at=first.starts_at + timedelta(minutes=5),
    )
    with pytest.raises(ValidationError) as error:
        clash.validate_constraints()
    assert error.value.messages == ["That slot has just been taken."]
    assert error.value.error_dict["__all__"][0].code == "lane_taken"
    with pytest.raises(ValidationError, match=r"That slot has just been taken\."):
        clash.full_clean()


@pytest.mark.postgres
def test_validate_constraints_passes_a_back_to_back_booking():
    first = factories.BookingFactory(lane=1)
    next_one = factories.BookingFactory.build(
        session=first.session,
        patient=factories.PatientFactory(organisation=first.session.organisation),
        service_type=first.service_type,
        lane=1,
        starts_at=first.ends_at,
    )
    next_one.full_clean()


def test_a_sqlite_schema_leaves_the_exclusion_constraints_out():
    """SQLite cannot enforce them, so its CREATE TABLE must not mention them at all."""
    sqlite = ConnectionHandler(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    )
    with sqlite["default"].schema_editor(collect_sql=True) as editor:
        for model in (OutreachSession, Booking, StaffAssignment):
            editor.create_model(model)
    schema = "\n".join(editor.collected_sql)
    assert "CREATE TABLE" in schema
    for name in EXCLUSION_TABLES:
        assert name not in schema, name


def test_the_exclusion_constraints_exist_only_where_the_database_enforces_them():
    with connection.cursor() as cursor:
        for name, table in EXCLUSION_TABLES.items():
            present = name in connection.introspection.get_constraints(cursor, table)
            assert present == (connection.vendor == "postgresql"), name
    first = factories.BookingFactory(lane=1)
    clash = factories.BookingFactory.build(
        session=first.session,
        patient=factories.PatientFactory(organisation=first.session.organisation),
        service_type=first.service_type,
        lane=1,
        starts_at=first.starts_at,
    )
    if connection.vendor == "postgresql":
        with pytest.raises(ValidationError):
            clash.validate_constraints()
        return
    # On SQLite validation skips them and nothing in the schema stands in the way: the
    # services' own checks have to (tests/outreach/test_booking_stateful.py).
    clash.validate_constraints()
    clash.full_clean()
    clash.save()
    assert Booking.objects.filter(session=first.session, lane=1).count() == 2
