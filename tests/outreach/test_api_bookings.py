"""The bookings API: booking a slot, every way it is refused, the day's actions and walk-ins."""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from clinics.models import Patient, ServiceType, StaffMember
from clinics.services import SYSTEM_USERNAME
from outreach import services
from outreach.models import Audience, Booking, BookingMode, OutreachSession
from tests import factories
from tests.outreach.conftest import NOW, TOMORROW_10, assert_error, iso, post_json

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

BOOKINGS = "/api/v1/bookings/"


def _book(client, session, patient, service, **extra):
    body = {"patient": patient.pk, "session": session.pk, "service": service.pk, **extra}
    return post_json(client, BOOKINGS, body)


def _action(booking_id: int, action: str) -> str:
    return f"{BOOKINGS}{booking_id}/{action}/"


@pytest.fixture
def booking(nurse_client, session, patient, service) -> Booking:
    response = _book(nurse_client, session, patient, service, starts_at=iso(TOMORROW_10))
    assert response.status_code == 201, response.content
    return Booking.objects.get(pk=response.json()["id"])


def _other_patient(organisation, name="Alex") -> Patient:
    return factories.PatientFactory(organisation=organisation, preferred_name=name)


# --- Booking ----------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Europe/London", "UTC", "America/New_York"])
def test_a_booking_is_written_as_its_serializer_writes_it(zone):
    from django.utils import timezone

    from outreach.api.serializers import BookingSerializer, booking_data

    at = TOMORROW_10
    booked = factories.BookingFactory(notes="Bring glasses", starts_at=at)
    walk_in = factories.BookingFactory(
        lane=None, status=Booking.Status.ARRIVED, arrived_at=at, source=Booking.Source.WALK_IN
    )
    confirmed = factories.BookingFactory(
        confirmed_at=NOW, confirmed_via=Booking.ConfirmedVia.TEXT_REPLY, rescheduled_from=booked
    )
    cancelled = factories.BookingFactory(
        status=Booking.Status.CANCELLED,
        cancelled_by=Booking.CancelledBy.SERVICE,
        cancellation_reason="Bus broke down",
    )
    no_show = factories.BookingFactory(status=Booking.Status.NOSHOW)
    seen = factories.VisitOutcomeFactory().booking
    seen_without_outcome = factories.BookingFactory(status=Booking.Status.FULFILLED, arrived_at=at)
    in_error = factories.VisitOutcomeFactory(
        booking__status=Booking.Status.ENTERED_IN_ERROR
    ).booking

    with timezone.override(zone):
        for made in (
            booked,
            walk_in,
            confirmed,
            cancelled,
            no_show,
            seen,
            seen_without_outcome,
            in_error,
        ):
            booking = Booking.objects.get(pk=made.pk)
            expected = BookingSerializer(booking).data
            written = booking_data(booking)
            assert list(written.items()) == list(expected.items()), booking.status
            assert [type(v) for v in written.values()] == [type(v) for v in expected.values()]
    assert booking_data(seen)["outcome"]["outcome"] == "completed"
    assert booking_data(walk_in)["lane"] is None


def test_without_a_time_the_next_free_slot_is_booked(
    nurse_client, nurse, session, patient, service, organisation
):
    first = _book(nurse_client, session, patient, service)
    second = _book(nurse_client, session, _other_patient(organisation), service)

    assert first.status_code == 201, first.content
    assert first.json()["starts_at"] == "2026-06-02T10:00:00+01:00"
    assert first.json()["lane"] == 1
    assert first.json()["status"] == Booking.Status.BOOKED
    # Two lanes: the next person gets the same time in the other lane.
    assert (second.json()["starts_at"], second.json()["lane"]) == (first.json()["starts_at"], 2)
    assert Booking.objects.get(pk=first.json()["id"]).booked_by == nurse.user


def test_a_given_slot_is_booked(nurse_client, session, patient, service):
    at = TOMORROW_10 + timedelta(minutes=45)

    response = _book(nurse_client, session, patient, service, starts_at=iso(at))

    assert response.status_code == 201, response.content
    booking = Booking.objects.get(pk=response.json()["id"])
    assert (booking.starts_at, booking.ends_at) == (at, at + timedelta(minutes=15))


def test_a_retry_with_the_same_idempotency_key_returns_the_first_booking(
    nurse_client, session, patient, service
):
    body = {"patient": patient.pk, "session": session.pk, "service": service.pk}
    headers = {"Idempotency-Key": "tablet-7:2026-06-01T09:00"}

    first = post_json(nurse_client, BOOKINGS, body, headers=headers)
    retry = post_json(nurse_client, BOOKINGS, body, headers=headers)

    assert first.status_code == 201, first.content
    assert retry.status_code == 200, retry.content
    assert retry.json()["id"] == first.json()["id"]
    assert Booking.objects.count() == 1


def test_a_taken_slot_is_a_lane_taken_conflict(
    nurse_client, session, patient, service, organisation
):
    at = iso(TOMORROW_10)
    for name in ("Bea", "Cal"):
        _book(nurse_client, session, _other_patient(organisation, name), service, starts_at=at)

    assert_error(_book(nurse_client, session, patient, service, starts_at=at), 409, "lane_taken")
    assert not Booking.objects.filter(patient=patient).exists()


def test_a_named_lane_already_in_use_is_a_lane_taken_conflict(
    nurse_client, session, patient, service, organisation
):
    at = iso(TOMORROW_10)
    _book(nurse_client, session, _other_patient(organisation), service, starts_at=at, lane=1)

    response = _book(nurse_client, session, patient, service, starts_at=at, lane=1)

    assert_error(response, 409, "lane_taken")


def test_the_same_person_cannot_be_booked_twice_into_a_session(
    nurse_client, booking, session, patient, service
):
    later = iso(TOMORROW_10 + timedelta(hours=2))

    response = _book(nurse_client, session, patient, service, starts_at=later)

    assert_error(response, 409, "already_booked")
    assert Booking.objects.count() == 1


def test_a_time_already_passed_is_too_late(nurse_client, today_session, patient, service):
    earlier = iso(NOW - timedelta(minutes=30))

    error = assert_error(
        _book(nurse_client, today_session, patient, service, starts_at=earlier), 400, "too_late"
    )

    assert "starts_at" in error["fields"]


def test_a_time_off_the_slot_grid_is_not_a_slot(nurse_client, session, patient, service):
    off_grid = iso(TOMORROW_10 + timedelta(minutes=7))

    error = assert_error(
        _book(nurse_client, session, patient, service, starts_at=off_grid), 400, "not_a_slot"
    )

    assert "starts_at" in error["fields"]


@pytest.mark.parametrize(
    "at",
    [
        TOMORROW_10 - timedelta(minutes=15),
        TOMORROW_10 + timedelta(hours=4),
        TOMORROW_10 + timedelta(hours=3, minutes=50),
    ],
    ids=["before", "after", "overruns-the-end"],
)
def test_a_time_outside_the_session_is_refused(nurse_client, session, patient, service, at):
    error = assert_error(
        _book(nurse_client, session, patient, service, starts_at=iso(at)), 400, "outside_session"
    )

    assert "starts_at" in error["fields"]


def test_a_cancelled_session_takes_no_bookings(nurse_client, session, patient, service):
    OutreachSession.objects.filter(pk=session.pk).update(
        status=OutreachSession.Status.CANCELLED, cancellation_reason="Snow"
    )

    assert_error(_book(nurse_client, session, patient, service), 409, "session_closed")


def test_a_service_the_session_does_not_offer_is_refused(nurse_client, session, patient):
    dental = factories.ServiceTypeFactory(name="Dental check")

    error = assert_error(_book(nurse_client, session, patient, dental), 400, "service_not_offered")

    assert "service" in error["fields"]


def test_a_women_only_session_refuses_a_man(nurse_client, session, organisation, service):
    OutreachSession.objects.filter(pk=session.pk).update(audience=Audience.WOMEN)
    man = factories.PatientFactory(organisation=organisation, sex=Patient.Sex.MALE)

    error = assert_error(_book(nurse_client, session, man, service), 400, "audience")

    assert "patient" in error["fields"]


def test_cervical_screening_is_refused_for_a_70_year_old(nurse_client, session, organisation):
    screening = factories.ServiceTypeFactory(
        name="Cervical screening", requires_cervix=True, min_age_years=25, max_age_years=64
    )
    session.services.add(screening)
    seventy = factories.PatientFactory(
        organisation=organisation, sex=Patient.Sex.FEMALE, year_of_birth=1956
    )

    error = assert_error(_book(nurse_client, session, seventy, screening), 400, "not_eligible")

    assert "64" in error["detail"]


def test_an_unknown_patient_is_a_field_error(nurse_client, session, service, patient):
    body = {"patient": patient.pk + 1000, "session": session.pk, "service": service.pk}

    error = assert_error(post_json(nurse_client, BOOKINGS, body), 400, "invalid")

    assert error["fields"]["patient"] == [f"No such record: {patient.pk + 1000}."]


def test_another_organisations_patient_reads_as_unknown(nurse_client, session, service):
    theirs = factories.PatientFactory()

    error = assert_error(_book(nurse_client, session, theirs, service), 400, "invalid")

    # The same words as for an id that does not exist: nothing says the record is there.
    assert error["fields"]["patient"] == [f"No such record: {theirs.pk}."]
    assert not Booking.objects.exists()


def test_another_organisations_session_reads_as_unknown(nurse_client, patient, service):
    theirs = factories.OutreachSessionFactory(starts_at=TOMORROW_10)
    theirs.services.add(service)

    error = assert_error(_book(nurse_client, theirs, patient, service), 400, "invalid")

    assert error["fields"]["session"] == [f"No such record: {theirs.pk}."]


def test_malformed_json_is_a_parse_error(nurse_client):
    response = nurse_client.post(BOOKINGS, '{"patient": 1,', content_type="application/json")

    assert_error(response, 400, "parse_error")


def test_status_in_the_body_is_ignored(nurse_client, session, patient, service):
    response = _book(
        nurse_client, session, patient, service, status="fulfilled", arrived_at=iso(NOW)
    )

    assert response.status_code == 201, response.content
    assert response.json()["status"] == Booking.Status.BOOKED
    assert response.json()["arrived_at"] is None


def test_an_analyst_cannot_book(session, patient, service, make_staff, client_for, organisation):
    analyst = client_for(make_staff(organisation, StaffMember.Role.ANALYST))

    assert_error(_book(analyst, session, patient, service), 403)


ID_KEYS = ["patient", "session", "service", "starts_at", "lane", "source", "notes", "other"]


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_request_of_three_ids_is_checked_as_the_fields_check_it(
    data, service, nurse, coordinator
):
    from rest_framework.test import APIRequestFactory

    from outreach.api.serializers import BookingInputSerializer

    hidden = ServiceType.objects.filter(code="screening").first() or (
        factories.ServiceTypeFactory(code="screening", sensitive=True)
    )
    retired = ServiceType.objects.filter(code="retired").first() or (
        factories.ServiceTypeFactory(code="retired", is_active=False)
    )
    value = st.one_of(
        st.integers(min_value=-3, max_value=2**40),
        st.sampled_from([service.pk, hidden.pk, retired.pk]),
        st.booleans(),
        st.none(),
        st.floats(allow_nan=False),
        st.sampled_from(["1", "", "booked", "x"]),
        st.lists(st.integers(), max_size=1),
    )
    whole = st.integers(min_value=-3, max_value=2**40)
    services = st.sampled_from([service.pk, service.pk, hidden.pk, retired.pk])
    # Mostly what a booking sends, so that both ways are taken often.
    body = data.draw(
        st.one_of(
            st.fixed_dictionaries(
                {
                    "patient": st.one_of(whole, whole, whole, value),
                    "session": st.one_of(whole, whole, whole, value),
                    "service": st.one_of(services, services, services, value),
                }
            ),
            st.dictionaries(st.sampled_from(ID_KEYS), value, max_size=5),
        )
    )
    user = data.draw(st.sampled_from([nurse.user, coordinator.user]))
    request = APIRequestFactory().post(BOOKINGS)
    request.user = user

    quick = BookingInputSerializer.ids_only(body, user)
    checked = BookingInputSerializer(data=body, context={"request": request})
    event("taken without the fields" if quick is not None else "left to the fields")
    if quick is not None:
        assert checked.is_valid(), checked.errors
        assert quick == dict(checked.validated_data)
        assert [type(v) for v in quick.values()] == [
            type(v) for v in checked.validated_data.values()
        ]


def test_three_ids_are_taken_without_the_fields(service, nurse, coordinator):
    from outreach.api.serializers import BookingInputSerializer

    hidden = factories.ServiceTypeFactory(sensitive=True)
    retired = factories.ServiceTypeFactory(is_active=False)
    # A sensitive service for a user without the permission, or one no longer offered, is
    # left to the fields, which answer that it does not exist.
    for user, named in ((nurse, hidden), (nurse, retired), (coordinator, retired)):
        assert (
            BookingInputSerializer.ids_only(
                {"patient": 7, "session": 9, "service": named.pk}, user.user
            )
            is None
        )
    assert BookingInputSerializer.ids_only(
        {"patient": 7, "session": 9, "service": hidden.pk}, coordinator.user
    ) == {"patient": 7, "session": 9, "service": hidden, "source": "booked", "notes": ""}
    body = {"patient": 7, "session": 9, "service": service.pk}
    assert BookingInputSerializer.ids_only(body, nurse.user) == {
        "patient": 7,
        "session": 9,
        "service": service,
        "source": Booking.Source.BOOKED,
        "notes": "",
    }
    assert BookingInputSerializer.ids_only({**body, "lane": None}, nurse.user) is None
    assert BookingInputSerializer.ids_only({**body, "patient": True}, nurse.user) is None


# --- The day's actions ------------------------------------------------------------------------


def test_checking_in_marks_the_person_arrived(nurse_client, booking):
    response = post_json(nurse_client, _action(booking.pk, "check-in"))

    assert response.status_code == 200, response.content
    assert response.json()["status"] == Booking.Status.ARRIVED
    booking.refresh_from_db()
    assert booking.arrived_at == NOW


def test_seen_records_the_outcome(nurse_client, nurse, booking):
    post_json(nurse_client, _action(booking.pk, "check-in"))

    response = post_json(
        nurse_client, _action(booking.pk, "seen"), {"outcome": "completed", "result": "normal"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == Booking.Status.FULFILLED
    assert body["outcome"]["outcome"] == "completed"
    assert body["outcome"]["result"] == "normal"
    assert body["outcome"]["recorded_by"] == nurse.user.pk


def test_seen_without_an_outcome_is_a_field_error(nurse_client, booking):
    post_json(nurse_client, _action(booking.pk, "check-in"))

    error = assert_error(post_json(nurse_client, _action(booking.pk, "seen")), 400, "invalid")

    assert "outcome" in error["fields"]
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ARRIVED


def test_a_booking_not_yet_checked_in_cannot_be_seen(nurse_client, booking):
    response = post_json(nurse_client, _action(booking.pk, "seen"), {"outcome": "completed"})

    error = assert_error(response, 409, "illegal_transition")
    assert error["allowed"] == ["arrived", "cancelled", "entered-in-error", "noshow"]


def test_no_show_before_the_appointment_is_too_early(nurse_client, booking):
    assert_error(post_json(nurse_client, _action(booking.pk, "no-show")), 409, "too_early")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED


def test_no_show_once_the_appointment_has_started(nurse_client, booking, clock):
    clock.move_to(TOMORROW_10 + timedelta(minutes=20))

    response = post_json(nurse_client, _action(booking.pk, "no-show"))

    assert response.status_code == 200, response.content
    assert response.json()["status"] == Booking.Status.NOSHOW


def test_cancelling_needs_a_reason(nurse_client, booking):
    response = post_json(nurse_client, _action(booking.pk, "cancel"), {"cancelled_by": "patient"})

    error = assert_error(response, 400, "invalid")
    assert "reason" in error["fields"]
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED


def test_the_patient_cancels(nurse_client, booking):
    response = post_json(
        nurse_client,
        _action(booking.pk, "cancel"),
        {"cancelled_by": "patient", "reason": "Has a job interview"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == Booking.Status.CANCELLED
    assert body["cancelled_by"] == Booking.CancelledBy.PATIENT
    assert body["cancellation_reason"] == "Has a job interview"


def test_a_cancelled_booking_cannot_be_cancelled_again(nurse_client, booking):
    body = {"cancelled_by": "patient", "reason": "Away"}
    post_json(nurse_client, _action(booking.pk, "cancel"), body)

    assert_error(post_json(nurse_client, _action(booking.pk, "cancel"), body), 409)


def test_rescheduling_cancels_the_old_booking_and_links_the_new_one(nurse_client, booking):
    later = TOMORROW_10 + timedelta(hours=1)

    response = post_json(nurse_client, _action(booking.pk, "reschedule"), {"starts_at": iso(later)})

    assert response.status_code == 201, response.content
    new = Booking.objects.get(pk=response.json()["id"])
    assert new.rescheduled_from_id == booking.pk
    assert new.starts_at == later
    assert new.status == Booking.Status.BOOKED
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_rescheduling_to_a_taken_slot_changes_nothing(
    nurse_client, booking, session, service, organisation
):
    later = iso(TOMORROW_10 + timedelta(hours=1))
    _book(nurse_client, session, _other_patient(organisation), service, starts_at=later, lane=1)

    response = post_json(
        nurse_client, _action(booking.pk, "reschedule"), {"starts_at": later, "lane": 1}
    )

    assert_error(response, 409, "lane_taken")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED
    assert Booking.objects.count() == 2


def test_the_history_lists_each_step_with_who_and_why(nurse_client, nurse, booking):
    name = nurse.user.get_full_name()
    post_json(nurse_client, _action(booking.pk, "check-in"))
    post_json(nurse_client, _action(booking.pk, "seen"), {"outcome": "completed"})

    history = nurse_client.get(_action(booking.pk, "history")).json()

    assert [(entry["by"], entry["reason"]) for entry in history] == [
        (name, "Booked"),
        (name, "Checked in"),
        (name, "Seen"),
    ]
    assert {"field": "status", "old": "booked", "new": "arrived"} in history[1]["changes"]


def test_another_organisations_booking_is_not_there(nurse_client):
    theirs = factories.BookingFactory(session__starts_at=TOMORROW_10)

    assert_error(nurse_client.get(f"{BOOKINGS}{theirs.pk}/"), 404, "not_found")
    assert_error(post_json(nurse_client, _action(theirs.pk, "check-in")), 404, "not_found")


# --- Walk-ins ---------------------------------------------------------------------------------


def _walk_ins(session) -> str:
    return f"/api/v1/sessions/{session.pk}/walk-ins/"


def test_walk_ins_queue_in_the_order_they_arrived(
    nurse_client, today_session, service, organisation, clock
):
    first = post_json(
        nurse_client,
        _walk_ins(today_session),
        {"patient": _other_patient(organisation, "Dee").pk, "service": service.pk},
    )
    clock.shift(timedelta(minutes=5))
    second = post_json(
        nurse_client,
        _walk_ins(today_session),
        {"patient": _other_patient(organisation, "Eli").pk, "service": service.pk},
    )
    # Entered last, but arrived before both (the tablet was offline).
    earliest = factories.BookingFactory(
        session=today_session,
        service_type=service,
        lane=None,
        starts_at=NOW,
        status=Booking.Status.ARRIVED,
        source=Booking.Source.WALK_IN,
        arrived_at=NOW - timedelta(minutes=10),
    )

    queue = nurse_client.get(_walk_ins(today_session)).json()

    assert first.status_code == second.status_code == 201, (first.content, second.content)
    assert first.json()["status"] == Booking.Status.ARRIVED
    assert first.json()["source"] == Booking.Source.WALK_IN
    assert first.json()["lane"] is None
    assert [b["id"] for b in queue] == [earliest.pk, first.json()["id"], second.json()["id"]]


def test_an_appointments_only_session_takes_no_walk_ins(
    nurse_client, today_session, patient, service
):
    OutreachSession.objects.filter(pk=today_session.pk).update(
        booking_mode=BookingMode.APPOINTMENTS
    )

    response = post_json(
        nurse_client, _walk_ins(today_session), {"patient": patient.pk, "service": service.pk}
    )

    assert_error(response, 409, "appointments_only")
    assert not Booking.objects.exists()


# --- Automatic no-show ------------------------------------------------------------------------


def test_bookings_still_booked_after_the_session_are_marked_not_attended(
    settings, organisation, venue, service
):
    settings.OUTREACH_AUTO_NO_SHOW_MINUTES = 60
    ended_long_ago = factories.OutreachSessionFactory(
        organisation=organisation,
        venue=venue,
        starts_at=NOW - timedelta(hours=6),
        ends_at=NOW - timedelta(hours=2),
    )
    ended_just_now = factories.OutreachSessionFactory(
        organisation=organisation,
        venue=venue,
        starts_at=NOW - timedelta(hours=4),
        ends_at=NOW - timedelta(minutes=30),
    )
    missed = factories.BookingFactory(session=ended_long_ago, service_type=service)
    came = factories.BookingFactory(
        session=ended_long_ago,
        service_type=service,
        lane=2,
        status=Booking.Status.ARRIVED,
        arrived_at=ended_long_ago.starts_at,
    )
    not_yet = factories.BookingFactory(session=ended_just_now, service_type=service)

    marked = services.mark_missed_bookings(now=NOW)

    assert marked == 1
    for booking in (missed, came, not_yet):
        booking.refresh_from_db()
    assert missed.status == Booking.Status.NOSHOW
    assert came.status == Booking.Status.ARRIVED
    assert not_yet.status == Booking.Status.BOOKED
    last = missed.history.latest()
    assert last.history_user.username == SYSTEM_USERNAME
    assert "not attended" in last.history_change_reason


def test_the_automatic_no_show_cutoff_follows_the_setting(settings, organisation, venue, service):
    session = factories.OutreachSessionFactory(
        organisation=organisation,
        venue=venue,
        starts_at=NOW - timedelta(hours=4),
        ends_at=NOW - timedelta(minutes=30),
    )
    booking = factories.BookingFactory(session=session, service_type=service)

    settings.OUTREACH_AUTO_NO_SHOW_MINUTES = 60
    assert services.mark_missed_bookings(now=NOW) == 0
    settings.OUTREACH_AUTO_NO_SHOW_MINUTES = 15
    assert services.mark_missed_bookings(now=NOW) == 1
    booking.refresh_from_db()
    assert booking.status == Booking.Status.NOSHOW


@pytest.fixture
def walk_in(nurse_client, today_session, service, organisation) -> dict:
    response = post_json(
        nurse_client,
        f"/api/v1/sessions/{today_session.pk}/walk-ins/",
        {"patient": _other_patient(organisation, "Dee").pk, "service": service.pk},
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_walk_in_cannot_be_seen_in_a_lane_an_appointment_holds(
    nurse_client, today_session, service, walk_in
):
    # The appointment holds lane 1 from 08:00 UTC; the walk-in arrived at 08:00 too.
    factories.BookingFactory(session=today_session, service_type=service, starts_at=NOW, lane=1)

    response = post_json(
        nurse_client, _action(walk_in["id"], "seen"), {"outcome": "completed", "lane": 1}
    )

    assert_error(response, 409, "lane_taken")
    assert Booking.objects.get(pk=walk_in["id"]).status == Booking.Status.ARRIVED


def test_a_walk_in_cannot_be_seen_in_a_lane_the_session_does_not_have(nurse_client, walk_in):
    response = post_json(
        nurse_client, _action(walk_in["id"], "seen"), {"outcome": "completed", "lane": 9}
    )

    assert response.status_code in (400, 409), response.content
    assert_error(response, response.status_code)
    assert Booking.objects.get(pk=walk_in["id"]).status == Booking.Status.ARRIVED


def test_walk_ins_are_added_only_while_the_session_is_on(nurse_client, session, patient, service):
    response = post_json(
        nurse_client,
        f"/api/v1/sessions/{session.pk}/walk-ins/",
        {"patient": patient.pk, "service": service.pk},
    )

    assert_error(response, 409, "not_on_now")


@pytest.mark.parametrize("body", ["[1, 2]", "null"], ids=["a-list", "null"])
def test_a_body_that_is_not_an_object_is_a_field_error(nurse_client, body):
    response = nurse_client.post(BOOKINGS, body, content_type="application/json")

    assert "non_field_errors" in assert_error(response, 400, "invalid")["fields"]


def test_an_overlong_idempotency_key_is_refused(nurse_client, session, patient, service):
    body = {"patient": patient.pk, "session": session.pk, "service": service.pk}

    response = post_json(nurse_client, BOOKINGS, body, headers={"Idempotency-Key": "k" * 101})

    assert_error(response, 400, "invalid")
    assert not Booking.objects.exists()
