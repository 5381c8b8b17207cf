"""Concurrent requests for the same lane, person, bus, nurse or idempotency key: one wins.

Each test builds its data in the main thread (committed, because the test is transactional),
then starts real threads that wait at a barrier and call the service at the same moment, each
on its own database connection. A plain TestCase would run every thread inside one uncommitted
transaction and hide exactly the races these tests are about. PostgreSQL only: on SQLite the
overlap rules are not in the schema and one writer at a time hides any race anyway.
"""

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Exists, OuterRef

from clinics.domain import Conflict
from outreach.models import Booking, BookingMode, OutreachSession, StaffAssignment
from outreach.services import book_slot, create_session
from tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Fixed instants well in the future: nothing here depends on today's date or the clock.
CLINIC_START = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)
NOW = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
THREAD_TIMEOUT_SECONDS = 60
# Two requests racing often finish one after the other by chance; the two-party races are
# repeated so that the truly simultaneous interleavings, which are rare, are met too.
ROUNDS = 40


def run_at_once(calls: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Run each call in its own thread, released together; ("ok", value) or ("error", exc)."""
    barrier = threading.Barrier(len(calls), timeout=THREAD_TIMEOUT_SECONDS)
    outcomes: list[tuple[str, Any]] = [("error", RuntimeError("thread did not finish"))] * len(
        calls
    )

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            # Connect before the barrier, so connection set-up does not stagger the start.
            connection.ensure_connection()
            barrier.wait()
            outcomes[index] = ("ok", call())
        except Exception as error:
            outcomes[index] = ("error", error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(index, call), daemon=True)
        for index, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a thread is still running"
    return outcomes


def successes(outcomes: list[tuple[str, Any]]) -> list[Any]:
    return [value for kind, value in outcomes if kind == "ok"]


def failures(outcomes: list[tuple[str, Any]]) -> list[BaseException]:
    return [value for kind, value in outcomes if kind == "error"]


def refusals(outcomes: list[tuple[str, Any]]) -> list[str]:
    """Why each refused call failed: a Conflict's code, or the type and gist of anything else."""
    reasons = []
    for error in failures(outcomes):
        if isinstance(error, Conflict):
            reasons.append(error.code)
        else:
            gist = str(error).splitlines()[0] if str(error) else ""
            reasons.append(f"{type(error).__name__}: {gist}")
    return reasons


def lane_overlaps(session: OutreachSession) -> list[Booking]:
    """Active bookings of the session sharing a lane with another at an overlapping time."""
    clashing = (
        Booking.objects.active()
        .filter(
            session=OuterRef("session"),
            lane=OuterRef("lane"),
            starts_at__lt=OuterRef("ends_at"),
            ends_at__gt=OuterRef("starts_at"),
        )
        .exclude(pk=OuterRef("pk"))
    )
    return list(
        Booking.objects.active()
        .filter(session=session, lane__isnull=False)
        .filter(Exists(clashing))
    )


def a_session(minutes: int, lanes: int, **fields: Any) -> OutreachSession:
    fields.setdefault("starts_at", CLINIC_START)
    return factories.OutreachSessionFactory(
        ends_at=fields["starts_at"] + timedelta(minutes=minutes),
        lanes=lanes,
        slot_minutes=15,
        booking_mode=BookingMode.APPOINTMENTS,
        **fields,
    )


def fifteen_minute_service(session: OutreachSession) -> Any:
    service = factories.ServiceTypeFactory(default_duration_minutes=15)
    session.services.add(service)
    return service


def test_fifty_people_racing_for_one_lane_get_one_booking_and_forty_nine_lane_taken():
    session = a_session(minutes=60, lanes=1)
    service = fifteen_minute_service(session)
    clerk = factories.UserFactory()
    patients = factories.PatientFactory.create_batch(50, organisation=session.organisation)
    slot = CLINIC_START + timedelta(minutes=15)

    outcomes = run_at_once(
        [
            lambda patient=patient: book_slot(
                patient=patient,
                session=session,
                service=service,
                by=clerk,
                starts_at=slot,
                lane=1,
                now=NOW,
            )
            for patient in patients
        ]
    )

    booked = successes(outcomes)
    assert len(booked) == 1
    booking, created = booked[0]
    assert created is True
    assert (booking.starts_at, booking.lane) == (slot, 1)
    assert refusals(outcomes) == ["lane_taken"] * 49
    on_the_lane = Booking.objects.active().filter(session=session, lane=1, starts_at=slot)
    assert list(on_the_lane.values_list("pk", flat=True)) == [booking.pk]
    assert Booking.objects.filter(session=session).count() == 1


def test_twenty_people_racing_for_next_free_slot_fill_capacity_exactly_without_overlaps():
    # Two lanes of three 15-minute slots: six places, and twenty people asking at once.
    session = a_session(minutes=45, lanes=2)
    service = fifteen_minute_service(session)
    clerk = factories.UserFactory()
    patients = factories.PatientFactory.create_batch(20, organisation=session.organisation)

    outcomes = run_at_once(
        [
            lambda patient=patient: book_slot(
                patient=patient, session=session, service=service, by=clerk, now=NOW
            )
            for patient in patients
        ]
    )

    booked = successes(outcomes)
    assert len(booked) == 6
    assert all(created for _, created in booked)
    codes = refusals(outcomes)
    assert len(codes) == 14
    assert set(codes) <= {"no_free_slot", "lane_taken"}
    active = Booking.objects.active().filter(session=session)
    assert active.count() == 6
    assert sorted(active.values_list("starts_at", "lane")) == [
        (CLINIC_START + timedelta(minutes=offset), lane)
        for offset in (0, 15, 30)
        for lane in (1, 2)
    ]
    assert lane_overlaps(session) == []


def overlapping_windows(round_: int) -> list[tuple[datetime, datetime]]:
    """Two overlapping three-hour plans on the round's own day, so rounds never meet."""
    day = CLINIC_START + timedelta(days=round_)
    return [
        (day, day + timedelta(hours=3)),
        (day + timedelta(hours=1), day + timedelta(hours=4)),
    ]


def test_one_person_booked_into_two_overlapping_sessions_at_once_gets_one_booking():
    organisation = factories.OrganisationFactory()
    clerk = factories.UserFactory()
    service = factories.ServiceTypeFactory(default_duration_minutes=15)
    for round_ in range(ROUNDS):
        day = CLINIC_START + timedelta(days=round_)
        # Two clinics at the same hour at different venues.
        sessions = [
            a_session(minutes=60, lanes=1, organisation=organisation, starts_at=day)
            for _ in range(2)
        ]
        assert sessions[0].venue_id != sessions[1].venue_id
        for session in sessions:
            session.services.add(service)
        patient = factories.PatientFactory(organisation=organisation)

        outcomes = run_at_once(
            [
                lambda session=session, patient=patient, day=day: book_slot(
                    patient=patient,
                    session=session,
                    service=service,
                    by=clerk,
                    starts_at=day,
                    now=NOW,
                )
                for session in sessions
            ]
        )

        assert len(successes(outcomes)) == 1, f"round {round_}: {outcomes!r}"
        assert refusals(outcomes) == ["patient_double_booked"], (
            f"round {round_}: {failures(outcomes)!r}"
        )
        assert Booking.objects.active().filter(patient=patient).count() == 1


def test_one_bus_planned_into_two_overlapping_sessions_at_once_is_refused_once():
    organisation = factories.OrganisationFactory()
    service = factories.ServiceTypeFactory()
    coordinators = factories.UserFactory.create_batch(2)
    venues = factories.VenueFactory.create_batch(2, organisation=organisation)
    for round_ in range(ROUNDS):
        unit = factories.MobileUnitFactory(organisation=organisation)
        windows = overlapping_windows(round_)

        outcomes = run_at_once(
            [
                lambda coordinator=coordinator, venue=venue, window=window, unit=unit: (
                    create_session(
                        organisation=organisation,
                        by=coordinator,
                        services=[service],
                        name=f"Bus at {venue.name}",
                        venue=venue,
                        mobile_unit=unit,
                        starts_at=window[0],
                        ends_at=window[1],
                        lanes=1,
                    )
                )
                for coordinator, venue, window in zip(coordinators, venues, windows, strict=True)
            ]
        )

        planned = successes(outcomes)
        assert len(planned) == 1, f"round {round_}: {outcomes!r}"
        assert refusals(outcomes) == ["unit_clash"], f"round {round_}: {failures(outcomes)!r}"
        live = OutreachSession.objects.live().filter(mobile_unit=unit)
        assert list(live.values_list("pk", flat=True)) == [planned[0].pk]


def test_one_nurse_planned_into_two_overlapping_sessions_at_once_is_refused_once():
    organisation = factories.OrganisationFactory()
    service = factories.ServiceTypeFactory()
    coordinators = factories.UserFactory.create_batch(2)
    venues = factories.VenueFactory.create_batch(2, organisation=organisation)
    for round_ in range(ROUNDS):
        nurse = factories.StaffMemberFactory(organisation=organisation)
        windows = overlapping_windows(round_)
        sessions_before = set(OutreachSession.objects.values_list("pk", flat=True))

        outcomes = run_at_once(
            [
                lambda coordinator=coordinator, venue=venue, window=window, nurse=nurse: (
                    create_session(
                        organisation=organisation,
                        by=coordinator,
                        services=[service],
                        staff=[nurse],
                        name=f"Clinic at {venue.name}",
                        venue=venue,
                        starts_at=window[0],
                        ends_at=window[1],
                        lanes=1,
                    )
                )
                for coordinator, venue, window in zip(coordinators, venues, windows, strict=True)
            ]
        )

        planned = successes(outcomes)
        assert len(planned) == 1, f"round {round_}: {outcomes!r}"
        assert refusals(outcomes) == ["staff_clash"], f"round {round_}: {failures(outcomes)!r}"
        assignments = StaffAssignment.objects.filter(staff=nurse, is_live=True)
        assert list(assignments.values_list("session_id", flat=True)) == [planned[0].pk]
        # The refused plan left nothing behind: no session without its nurse.
        sessions_after = set(OutreachSession.objects.values_list("pk", flat=True))
        assert sessions_after - sessions_before == {planned[0].pk}


def test_ten_retries_of_one_request_with_the_same_idempotency_key_make_one_booking():
    session = a_session(minutes=120, lanes=2)
    service = fifteen_minute_service(session)
    patient = factories.PatientFactory(organisation=session.organisation)
    tablet_user = factories.UserFactory()

    outcomes = run_at_once(
        [
            lambda: book_slot(
                patient=patient,
                session=session,
                service=service,
                by=tablet_user,
                idempotency_key="bus-tablet-7:request-42",
                now=NOW,
            )
        ]
        * 10
    )

    assert failures(outcomes) == []
    returned = successes(outcomes)
    assert len(returned) == 10
    booking_ids = {booking.pk for booking, _ in returned}
    assert len(booking_ids) == 1
    assert [created for _, created in returned].count(True) == 1
    stored = Booking.objects.filter(
        booked_by=tablet_user, idempotency_key="bus-tablet-7:request-42"
    )
    assert list(stored.values_list("pk", flat=True)) == list(booking_ids)
    assert Booking.objects.filter(patient=patient).count() == 1
