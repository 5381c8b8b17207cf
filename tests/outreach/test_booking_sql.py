"""The booking's hand-written statements write and read what the ORM would."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from clinics.models import ContactPoint
from outreach import booking_sql
from outreach.models import Booking, Message, MessageTemplate
from tests import factories
from tests.factories import BASE_TIME

pytestmark = pytest.mark.django_db

Purpose = MessageTemplate.Purpose


def _message(organisation, patient, key, **extra):
    return Message(
        **{
            "organisation": organisation,
            "patient": patient,
            "channel": ContactPoint.Channel.SMS,
            "to": "+447700900123",
            "body": "See you tomorrow.",
            "send_after": BASE_TIME,
            "idempotency_key": key,
            **extra,
        }
    )


def test_inserted_rows_get_their_ids_defaults_and_timestamps(organisation, patient):
    first = _message(organisation, patient, "raw:1")
    second = _message(organisation, patient, "raw:2", subject="Hello", discreet=True)

    with CaptureQueriesContext(connection) as captured:
        booking_sql.insert_rows([first, second])

    assert len(captured) == 1
    assert first.pk
    assert second.pk
    assert first.pk != second.pk
    assert not first._state.adding
    for made in (first, second):
        stored = Message.objects.get(pk=made.pk)
        assert stored.idempotency_key == made.idempotency_key
        assert stored.subject == made.subject
        assert stored.discreet is made.discreet
        # The model's defaults and auto_now stamps were written, as `bulk_create` writes them.
        assert stored.status == Message.Status.SCHEDULED
        assert stored.attempts == 0
        assert stored.created_at is not None
        assert stored.created_at == made.created_at


def test_an_empty_insert_runs_nothing():
    with CaptureQueriesContext(connection) as captured:
        booking_sql.insert_rows([])
    assert len(captured) == 0


def test_the_active_template_is_found():
    factories.MessageTemplateFactory(body="Switched off", is_active=False)
    active = factories.MessageTemplateFactory(body="Current")
    factories.MessageTemplateFactory(body="Discreet", discreet=True)
    factories.MessageTemplateFactory(body="Email", channel=ContactPoint.Channel.EMAIL)

    found = booking_sql.active_template(Purpose.REMINDER, ContactPoint.Channel.SMS, discreet=False)

    assert found == active
    assert found.body == "Current"
    assert found.is_active is True
    assert found.discreet is False
    assert found.updated_at == active.updated_at
    discreet = booking_sql.active_template(
        Purpose.REMINDER, ContactPoint.Channel.SMS, discreet=True
    )
    assert discreet.body == "Discreet"
    assert discreet.discreet is True


def test_no_active_template_is_none():
    factories.MessageTemplateFactory(is_active=False)
    assert (
        booking_sql.active_template(Purpose.REMINDER, ContactPoint.Channel.SMS, discreet=False)
        is None
    )


def test_a_booking_inserted_by_hand_has_the_history_its_save_would_make(
    session, patient, service, nurse
):
    user = nurse.user
    saved = factories.BookingFactory.build(
        session=session, patient=patient, service_type=service, booked_by=user
    )
    saved._history_user, saved._change_reason = user, "Booked"
    saved.save()
    other = factories.PatientFactory(organisation=patient.organisation)
    by_hand = factories.BookingFactory.build(
        session=session,
        patient=other,
        service_type=service,
        booked_by=user,
        starts_at=saved.ends_at,
        ends_at=saved.ends_at + (saved.ends_at - saved.starts_at),
    )

    booking_sql.insert_with_history(by_hand, user=user, reason="Booked")

    stored = Booking.objects.get(pk=by_hand.pk)
    assert stored.created_at == by_hand.created_at
    assert stored.updated_at is not None
    ignored = {"id", "history_id", "history_date", "patient_id", "starts_at", "ends_at"}
    ignored |= {"created_at", "idempotency_key"}

    def row(booking):
        (entry,) = booking.history.all()
        return {
            field.attname: getattr(entry, field.attname)
            for field in entry._meta.concrete_fields
            if field.attname not in ignored
        }

    assert row(stored) == row(saved)
    (entry,) = stored.history.all()
    assert entry.id == stored.pk
    assert entry.history_type == "+"
    assert entry.history_user == user
    assert entry.history_change_reason == "Booked"


def _new_booking(session, patient, service, user):
    return factories.BookingFactory.build(
        session=session, patient=patient, service_type=service, booked_by=user
    )


@pytest.mark.postgres
def test_a_booking_and_its_history_row_are_one_statement_on_postgresql(
    session, patient, service, nurse
):
    booking = _new_booking(session, patient, service, nurse.user)

    with CaptureQueriesContext(connection) as captured:
        booking_sql.insert_with_history(booking, user=nurse.user, reason="Booked")

    assert len(captured) == 1
    (entry,) = Booking.objects.get(pk=booking.pk).history.all()
    assert (entry.id, entry.history_user, entry.history_change_reason) == (
        booking.pk,
        nurse.user,
        "Booked",
    )
    assert entry.starts_at == booking.starts_at
    assert entry.created_at == booking.created_at


def test_history_signal_receivers_see_and_can_change_the_history_row(
    session, patient, service, nurse
):
    seen = []

    def mark(sender, history_instance, **kwargs):
        history_instance.history_change_reason = "Booked (seen by a receiver)"
        seen.append(kwargs["instance"])

    def after(sender, history_instance, **kwargs):
        seen.append(history_instance.pk)

    history_model = Booking.history.model
    pre_create_historical_record.connect(mark, sender=history_model)
    post_create_historical_record.connect(after, sender=history_model)
    try:
        booking = _new_booking(session, patient, service, nurse.user)
        booking_sql.insert_with_history(booking, user=nurse.user, reason="Booked")
    finally:
        pre_create_historical_record.disconnect(mark, sender=history_model)
        post_create_historical_record.disconnect(after, sender=history_model)

    (entry,) = Booking.objects.get(pk=booking.pk).history.all()
    assert entry.history_change_reason == "Booked (seen by a receiver)"
    assert seen == [booking, entry.pk]


def test_a_booking_has_no_save_receiver_but_its_history():
    # `insert_with_history` sends no save signals: a new receiver must be called from there.
    assert not pre_save.has_listeners(Booking)
    receivers = list(post_save._live_receivers(Booking)[0])
    assert [type(receiver.__self__) for receiver in receivers] == [HistoricalRecords]


def test_contact_points_are_read_in_the_models_order(patient):
    email = factories.ContactPointFactory(
        patient=patient, channel=ContactPoint.Channel.EMAIL, value="sam@example.org"
    )
    preferred = factories.ContactPointFactory(patient=patient, is_preferred=True)
    text = factories.ContactPointFactory(patient=patient, value="+447700900999")
    factories.ContactPointFactory(patient=factories.PatientFactory())

    found = booking_sql.contact_points(patient.pk)

    assert found == list(patient.contact_points.all())
    assert found == [preferred, email, text]
    assert found[0].is_preferred is True
    assert found[1].is_preferred is False
    assert found[0].created_at == preferred.created_at
    assert booking_sql.contact_points(factories.PatientFactory().pk) == []


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


@pytest.mark.postgres
def test_the_booking_statements_are_prepared_once_on_postgresql(patient, settings):
    settings.OUTREACH_PREPARED_STATEMENTS = True
    factories.ContactPointFactory(patient=patient)

    with CaptureQueriesContext(connection) as captured:
        first = booking_sql.contact_points(patient.pk)
        again = booking_sql.contact_points(patient.pk)

    # Django's query capture still sees them, and they read what they always read.
    assert len(captured) == 2
    assert first == again == list(patient.contact_points.all())
    prepared = [s for s in _prepared_statements() if s.startswith("SELECT") and "contactpoint" in s]
    assert len(prepared) == 1
    assert "$1" in prepared[0]
    # Django's own statements are not prepared: they bind on the client.
    list(patient.contact_points.all())
    assert len([s for s in _prepared_statements() if "contactpoint" in s]) == 1


@pytest.mark.postgres
def test_the_reads_under_a_bookings_locks_are_not_planned_afresh_each_time(
    session, patient, service, nurse, settings
):
    settings.OUTREACH_PREPARED_STATEMENTS = True
    minutes = timedelta(minutes=session.slot_minutes)
    for n in range(3):
        _one_slot_booking(
            session,
            factories.PatientFactory(organisation=patient.organisation),
            service,
            nurse.user,
            session.starts_at + n * minutes,
        )
    _one_slot_booking(session, patient, service, nurse.user, session.starts_at, lane=2)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE outreach_booking")

    for _ in range(8):
        booking_sql.lock_for_booking(
            session.pk, ("pk", "starts_at"), service.pk, templates=None, patient_id=patient.pk
        )

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            ["%UNION ALL%"],
        )
        ((statement, generic, custom),) = cursor.fetchall()
    # The first five runs are planned for their values; after that, PostgreSQL keeps the
    # generic plan only if it costs no more. With the statuses bound, the generic plan could
    # not use the partial indexes (their conditions name the statuses) and, on the benchmark's
    # 200,000 bookings, cost more: every run was planned again. A table this small plans the
    # same either way, so the statuses must be in the statement's text.
    assert "\"status\" IN ('booked', 'arrived', 'fulfilled')" in statement
    assert "$" not in statement.split("UNION ALL")[0].split("IN (")[1]
    assert (generic, custom) == (3, 5)


def test_only_codes_are_written_into_a_statement():
    assert booking_sql._literals(["booked", "entered-in-error"]) == "'booked', 'entered-in-error'"
    with pytest.raises(ValueError, match="Not a code"):
        booking_sql._literals(["booked'); DROP TABLE x; --"])


@pytest.mark.postgres
def test_prepared_statements_can_be_turned_off(patient, settings):
    settings.OUTREACH_PREPARED_STATEMENTS = False
    factories.ContactPointFactory(patient=patient)
    before = _prepared_statements()

    assert booking_sql.contact_points(patient.pk) == list(patient.contact_points.all())

    assert _prepared_statements() == before


def test_a_sessions_bookings_read_at_once_are_what_the_windowed_reads_find(
    session, service, organisation
):
    start = session.starts_at
    minutes = timedelta(minutes=15)

    def book(offset, lane=1, **extra):
        return factories.BookingFactory(
            session=session,
            patient=factories.PatientFactory(organisation=organisation),
            service_type=service,
            starts_at=start + offset * minutes,
            ends_at=start + (offset + 1) * minutes,
            lane=lane,
            **extra,
        )

    book(0)
    book(0, lane=2)
    book(3, lane=2)
    book(5, status=Booking.Status.CANCELLED, cancelled_by=Booking.CancelledBy.PATIENT)
    walk_in = {"status": Booking.Status.ARRIVED, "arrived_at": start, "source": "walk_in"}
    book(6, lane=None, **walk_in)
    factories.BookingFactory()  # another session's

    known = booking_sql.session_bookings(session.pk)

    assert known.session_id == session.pk
    # SQLite's sum of day fractions is off by microseconds; the units they make are the same.
    summed = booking_sql.appointment_seconds([session.pk])[session.pk]
    assert known.appointment_seconds == pytest.approx(summed, abs=0.001)
    assert known.appointment_seconds == 3 * minutes.total_seconds()
    for window in [(start, start + 2 * minutes), (start, session.ends_at)]:
        by_lane = booking_sql.lane_bookings([session.pk], *window)[session.pk]
        assert {lane: held for lane, held in known.overlapping(*window).items() if held} == dict(
            by_lane
        )
    assert sorted(known.by_lane) == [1, 2]


def test_a_session_without_bookings_has_none_known(session):
    known = booking_sql.session_bookings(session.pk)
    assert (known.appointment_seconds, known.by_lane) == (0, {})


def test_the_locked_patient_comes_with_their_contact_points_in_order(patient):
    email = factories.ContactPointFactory(
        patient=patient, channel=ContactPoint.Channel.EMAIL, value="sam@example.org"
    )
    preferred = factories.ContactPointFactory(patient=patient, is_preferred=True)
    factories.ContactPointFactory(patient=factories.PatientFactory())

    locked = booking_sql.lock_patient(patient.pk)

    assert locked == patient
    assert locked.preferred_name == patient.preferred_name
    assert locked.known_contact_points == [preferred, email]
    assert locked.known_contact_points == booking_sql.contact_points(patient.pk)
    alone = factories.PatientFactory()
    assert booking_sql.lock_patient(alone.pk).known_contact_points == []
    assert booking_sql.lock_patient(alone.pk + 1000) is None


def test_the_history_model_is_simple_historys():
    assert booking_sql.history_model_of(Booking) is Booking.history.model
    assert booking_sql.history_model_of(Booking) is booking_sql.history_model_of(Booking)
    assert booking_sql.history_model_of(type(factories.PatientFactory.build())) is (
        factories.PatientFactory._meta.model.history.model
    )


def _reminders(organisation, patient, booking, hours=(48, 2)):
    return [
        _message(
            organisation,
            patient,
            f"booking:{booking_sql.NEW_ID}:reminder:{n}h",
            booking=booking,
            subject=f"In {n} hours ({booking_sql.NEW_ID} stays in the subject)",
            send_after=BASE_TIME + timedelta(hours=n),
            discreet=n == 2,
        )
        for n in hours
    ]


def _insert_with_reminders(booking, organisation, patient, user, hours=(48, 2)):
    messages = _reminders(organisation, patient, booking, hours)
    booking_sql.insert_with_history(
        booking,
        user=user,
        reason="Booked",
        dependents=messages,
        link="booking",
        named=("idempotency_key",),
    )
    return messages


def test_dependent_rows_go_in_with_the_booking_and_name_its_id(
    session, patient, service, nurse, organisation
):
    booking = _new_booking(session, patient, service, nurse.user)

    with CaptureQueriesContext(connection) as captured:
        messages = _insert_with_reminders(booking, organisation, patient, nurse.user)

    # One statement on PostgreSQL; the booking, its history row and the rows on SQLite.
    assert len(captured) == (1 if connection.vendor == "postgresql" else 3)
    assert booking.pk
    assert Booking.objects.get(pk=booking.pk).history.count() == 1
    stored = list(Message.objects.filter(booking=booking).order_by("pk"))
    assert [m.pk for m in stored] == [m.pk for m in messages]
    for made, row in zip(messages, stored, strict=True):
        assert not made._state.adding
        assert made.booking_id == booking.pk
        assert made.booking is booking
        assert made.idempotency_key == row.idempotency_key
        assert made.subject == row.subject
        assert (made.discreet, made.send_after, made.created_at) == (
            row.discreet,
            row.send_after,
            row.created_at,
        )
        assert row.status == Message.Status.SCHEDULED
        assert row.attempts == 0
    assert [m.idempotency_key for m in stored] == [
        f"booking:{booking.pk}:reminder:48h",
        f"booking:{booking.pk}:reminder:2h",
    ]
    # Only the named fields have the new id put in.
    assert all(booking_sql.NEW_ID in m.subject for m in stored)


def test_dependent_rows_are_written_by_the_statement_and_by_the_inserts_alike(
    session, patient, service, nurse, organisation
):
    one = _new_booking(session, patient, service, nurse.user)
    by_one = _insert_with_reminders(one, organisation, patient, nurse.user, hours=(20, 4, 1))
    received = []
    history_model = Booking.history.model

    def listen(sender, **kwargs):
        received.append(kwargs["instance"])

    # A listener makes the history row a separate insert: the rows follow with `insert_rows`.
    post_create_historical_record.connect(listen, sender=history_model)
    try:
        other = factories.PatientFactory(organisation=organisation)
        two = _new_booking(session, other, service, nurse.user)
        two.starts_at, two.ends_at = one.ends_at, one.ends_at + (one.ends_at - one.starts_at)
        by_two = _insert_with_reminders(two, organisation, other, nurse.user, hours=(20, 4, 1))
    finally:
        post_create_historical_record.disconnect(listen, sender=history_model)

    assert received == [two]
    ignored = {"id", "booking_id", "patient_id", "idempotency_key", "created_at", "updated_at"}

    def rows(booking):
        return [
            {
                field.attname: getattr(row, field.attname)
                for field in Message._meta.concrete_fields
                if field.attname not in ignored
            }
            for row in Message.objects.filter(booking=booking).order_by("pk")
        ]

    assert rows(one) == rows(two)
    assert len(rows(one)) == 3
    assert [m.idempotency_key for m in by_two] == [
        f"booking:{two.pk}:reminder:{n}h" for n in (20, 4, 1)
    ]
    assert [m.pk for m in by_one] == sorted(m.pk for m in by_one)


def test_a_booking_without_dependents_returns_none(session, patient, service, nurse):
    booking = _new_booking(session, patient, service, nurse.user)
    booking_sql.insert_with_history(booking, user=nurse.user, reason="Booked", dependents=[])
    assert Booking.objects.filter(pk=booking.pk).exists()
    assert not Message.objects.filter(booking=booking).exists()


def test_the_locked_session_comes_with_the_active_templates_by_channel(session, service):
    factories.MessageTemplateFactory(body="Switched off", is_active=False)
    sms = factories.MessageTemplateFactory(body="Current")
    discreet = factories.MessageTemplateFactory(body="Discreet", discreet=True)
    factories.MessageTemplateFactory(purpose=Purpose.CANCELLATION, body="Cancelled")
    fields = ("pk", "venue", "starts_at", "ends_at", "organisation", "name")

    plain = booking_sql.lock_session(
        session.pk, fields, service.pk, templates=(Purpose.REMINDER, False)
    )
    hidden = booking_sql.lock_session(
        session.pk, fields, service.pk, templates=(Purpose.REMINDER, True)
    )
    without = booking_sql.lock_session(session.pk, fields, service.pk)

    assert plain.known_templates == {
        (Purpose.REMINDER, False): {
            ContactPoint.Channel.SMS: sms,
            ContactPoint.Channel.EMAIL: None,
        }
    }
    found = plain.known_templates[(Purpose.REMINDER, False)][ContactPoint.Channel.SMS]
    assert (found.body, found.is_active, found.updated_at) == ("Current", True, sms.updated_at)
    assert hidden.known_templates[(Purpose.REMINDER, True)] == {
        ContactPoint.Channel.SMS: discreet,
        ContactPoint.Channel.EMAIL: None,
    }
    assert not hasattr(without, "known_templates")
    for locked in (plain, hidden, without):
        assert (locked.pk, locked.name, locked.starts_at) == (
            session.pk,
            session.name,
            session.starts_at,
        )
        assert locked.offers_service is True
        assert locked.venue.name == session.venue.name
    assert booking_sql.lock_session(session.pk + 1000, fields, service.pk) is None


def _one_slot_booking(
    session, patient, service, by, at, *, status=Booking.Status.BOOKED, lane=1, **extra
):
    return factories.BookingFactory(
        **extra,
        session=session,
        patient=patient,
        service_type=service,
        booked_by=by,
        starts_at=at,
        ends_at=at + timedelta(minutes=session.slot_minutes),
        lane=lane,
        status=status,
    )


def test_a_patients_bookings_read_with_the_session_find_what_the_clash_query_finds(
    session, patient, service, nurse, organisation
):
    from outreach.services.booking_rules import patient_clashes_in

    minutes = timedelta(minutes=session.slot_minutes)
    start = session.starts_at
    other_session = factories.OutreachSessionFactory(
        organisation=organisation, starts_at=session.starts_at, ends_at=session.ends_at
    )
    elsewhere = factories.OutreachSessionFactory(organisation=organisation, venue=session.venue)
    someone = factories.PatientFactory(organisation=organisation)

    def booking(at, *, into=session, who=patient, **extra):
        return _one_slot_booking(into, who, service, nurse.user, at, **extra)

    booking(start + 2 * minutes)
    booking(start, who=someone, lane=2)
    booking(
        start + 6 * minutes,
        status=Booking.Status.CANCELLED,
        cancelled_by=Booking.CancelledBy.PATIENT,
    )
    # Fulfilled (active, but no longer holding its time), elsewhere at the same time.
    booking(
        other_session.starts_at,
        into=other_session,
        status=Booking.Status.FULFILLED,
        arrived_at=other_session.starts_at,
    )
    windows = [
        (start, start + minutes),
        (start + 2 * minutes, start + 3 * minutes),
        (start + 6 * minutes, start + 7 * minutes),
        (session.ends_at - minutes, session.ends_at),
    ]

    for who in (patient, someone, factories.PatientFactory(organisation=organisation)):
        known = booking_sql.session_bookings(session.pk, patient_id=who.pk)
        alone = booking_sql.session_bookings(session.pk)
        assert (known.appointment_seconds, known.by_lane) == (
            alone.appointment_seconds,
            alone.by_lane,
        )
        assert alone.patient_bookings is None
        for into in (session, elsewhere):
            for window in windows:
                assert sorted(patient_clashes_in(known.patient_bookings, into.pk, *window)) == (
                    sorted(booking_sql.patient_clashes(who.pk, into.pk, *window))
                ), (who, into, window)
    known = booking_sql.session_bookings(session.pk, patient_id=patient.pk)
    assert [(b.session_id, b.status) for b in known.patient_bookings] == [
        (session.pk, Booking.Status.BOOKED)
    ]


def test_values_are_written_as_the_fields_own_preparation_makes_them(
    session, patient, service, nurse, organisation
):
    booking = _new_booking(session, patient, service, nurse.user)
    booking.notes = Booking.Source.BOOKED  # a str subclass (a choice) still goes the long way
    message = _message(organisation, patient, "prep:1", expires_at=None, attempts=0)
    for obj in (booking, message):
        fields = booking_sql._writable(type(obj))
        assert list(fields) == [
            f for f in obj._meta.concrete_fields if f is not obj._meta.auto_field
        ]
        # The second `pre_save` (not adding) keeps the first's creation stamps; the clock is
        # frozen (the session fixture), so `auto_now` stamps the same time again.
        written = booking_sql._db_values(fields, obj)
        expected = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in fields]
        assert written == expected
        assert [type(value) for value in written] == [type(value) for value in expected]


@pytest.mark.parametrize("hours", [(48,), (48, 2), (30, 20, 10, 5, 2, 1)])
def test_any_number_of_dependent_rows_goes_in_with_the_booking(
    session, patient, service, nurse, organisation, hours
):
    booking = _new_booking(session, patient, service, nurse.user)

    with CaptureQueriesContext(connection) as captured:
        messages = _insert_with_reminders(booking, organisation, patient, nurse.user, hours)

    assert len(captured) == (1 if connection.vendor == "postgresql" else 3)
    stored = list(Message.objects.filter(booking=booking).order_by("pk"))
    assert [(m.pk, m.idempotency_key, m.send_after) for m in stored] == [
        (m.pk, f"booking:{booking.pk}:reminder:{n}h", BASE_TIME + timedelta(hours=n))
        for m, n in zip(messages, hours, strict=True)
    ]
    assert {m.body for m in stored} == {"See you tomorrow."}


def test_the_locks_for_a_booking_read_what_the_three_reads_do_one_by_one(
    session, patient, service, nurse, organisation
):
    minutes = timedelta(minutes=session.slot_minutes)
    factories.ContactPointFactory(patient=patient)
    factories.MessageTemplateFactory(body="Current")
    other_session = factories.OutreachSessionFactory(
        organisation=organisation, starts_at=session.starts_at, ends_at=session.ends_at
    )
    later = factories.OutreachSessionFactory(
        organisation=organisation,
        starts_at=session.ends_at + timedelta(hours=1),
        ends_at=session.ends_at + timedelta(hours=3),
    )
    someone = factories.PatientFactory(organisation=organisation)
    for into, who, at, lane in (
        (session, someone, session.starts_at, 1),
        (session, patient, session.starts_at + 2 * minutes, 2),
        (other_session, patient, other_session.starts_at + 4 * minutes, 1),
        # Outside the session's hours: not a booking a slot in it could clash with.
        (later, patient, later.starts_at, 1),
    ):
        _one_slot_booking(into, who, service, nurse.user, at, lane=lane)
    fields = ("pk", "venue", "starts_at", "ends_at", "organisation", "name", "lanes")
    templates = (Purpose.REMINDER, False)

    with CaptureQueriesContext(connection) as captured:
        locked = booking_sql.lock_for_booking(
            session.pk, fields, service.pk, templates=templates, patient_id=patient.pk
        )

    one = booking_sql.lock_session(session.pk, fields, service.pk, templates=templates)
    person = booking_sql.lock_patient(patient.pk)
    known = booking_sql.session_bookings(session.pk, patient_id=patient.pk)
    assert [
        (f.attname, getattr(locked.session, f.attname))
        for f in one._meta.concrete_fields
        if f.attname in one.__dict__
    ] == [
        (f.attname, getattr(one, f.attname))
        for f in one._meta.concrete_fields
        if f.attname in one.__dict__
    ]
    assert locked.session.known_templates == one.known_templates
    assert (locked.session.offers_service, locked.session.venue.name) == (True, session.venue.name)
    assert [getattr(locked.patient, f.attname) for f in person._meta.concrete_fields] == [
        getattr(person, f.attname) for f in person._meta.concrete_fields
    ]
    assert locked.patient.known_contact_points == person.known_contact_points
    assert locked.bookings == known
    assert sorted(b.session_id for b in locked.bookings.patient_bookings) == sorted(
        [session.pk, other_session.pk]
    )
    # Each statement is in the query log with its text.
    statements = [query["sql"] for query in captured.captured_queries]
    assert all(statements)
    assert sum("outreach_booking" in sql for sql in statements) == 1

    missing = booking_sql.lock_for_booking(
        session.pk + 1000, fields, service.pk, templates=templates, patient_id=patient.pk + 1000
    )
    assert (missing.session, missing.patient) == (None, None)
    assert missing.bookings.by_lane == {}
    assert missing.bookings.patient_bookings == ()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_error_within_the_locks_for_a_booking_is_djangos_and_rolls_back_cleanly(
    session, patient, service
):
    """A statement that fails in the pipeline raises as it would alone; the rest are skipped."""
    from django.db import OperationalError, connections, transaction

    other = connections.create_connection("default")
    try:
        with other.cursor() as holder:
            holder.execute("BEGIN")
            holder.execute(
                "SELECT id FROM outreach_outreachsession WHERE id = %s FOR UPDATE", [session.pk]
            )
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '50ms'")
                with pytest.raises(OperationalError, match="lock"):
                    booking_sql.lock_for_booking(
                        session.pk, ("pk",), service.pk, templates=None, patient_id=patient.pk
                    )
            holder.execute("ROLLBACK")
    finally:
        other.close()
    # The connection is usable and nothing is left locked.
    with transaction.atomic():
        locked = booking_sql.lock_for_booking(
            session.pk, ("pk", "venue"), service.pk, templates=None, patient_id=patient.pk
        )
    assert (locked.session.pk, locked.patient.pk) == (session.pk, patient.pk)
