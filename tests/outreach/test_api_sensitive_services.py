"""A sensitive service through the API: to staff without `clinics.view_sensitive_services` it is
not there. Naming one is a 400 on the field, word for word an unknown id, and nothing is
written; a coordinator, who holds the permission by role, books, plans and searches it."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission

from clinics.models import ServiceType
from outreach.models import Booking, BookingMode, OutreachSession, SessionSeries, WaitlistEntry
from tests import factories
from tests.access_support import grant_sensitive_services
from tests.outreach.conftest import NOW, TOMORROW_10, assert_error, iso, post_json

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

BOOKINGS = "/api/v1/bookings/"


@pytest.fixture
def screening() -> ServiceType:
    return factories.ServiceTypeFactory(
        name="Cervical screening", sensitive=True, default_duration_minutes=15
    )


@pytest.fixture
def clinic(session, screening) -> OutreachSession:
    """Tomorrow's session (conftest), offering cervical screening too."""
    session.services.add(screening)
    return session


@pytest.fixture
def on_now(today_session, screening) -> OutreachSession:
    """The session on now (conftest), taking walk-ins for cervical screening too."""
    today_session.services.add(screening)
    return today_session


def _unknown(response, field: str, pk: int) -> None:
    """The answer an id that does not exist gets: a 400 naming `field`, and only it."""
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {field: [f"No such record: {pk}."]}


def _unknown_id() -> int:
    return (ServiceType.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000


# --- Booking -----------------------------------------------------------------------------------


def _book(client, session, patient, service, **extra):
    body = {"patient": patient.pk, "session": session.pk, "service": service.pk, **extra}
    return post_json(client, BOOKINGS, body)


def test_a_nurse_cannot_book_a_sensitive_service(nurse_client, clinic, patient, screening):
    _unknown(_book(nurse_client, clinic, patient, screening), "service", screening.pk)

    assert not Booking.objects.exists()


def test_it_reads_exactly_as_a_service_that_does_not_exist(nurse_client, clinic, patient):
    missing = _unknown_id()
    body = {"patient": patient.pk, "session": clinic.pk, "service": missing}

    _unknown(post_json(nurse_client, BOOKINGS, body), "service", missing)


def test_unknown_patients_and_sessions_are_named_with_it(nurse_client, screening):
    body = {"patient": 999_999, "session": 999_998, "service": screening.pk}

    error = assert_error(post_json(nurse_client, BOOKINGS, body), 400, "invalid")

    assert error["fields"] == {
        "patient": ["No such record: 999999."],
        "session": ["No such record: 999998."],
        "service": [f"No such record: {screening.pk}."],
    }


def test_a_coordinator_books_a_sensitive_service(
    coordinator_client, coordinator, clinic, patient, screening
):
    response = _book(coordinator_client, clinic, patient, screening)

    assert response.status_code == 201, response.content
    booking = Booking.objects.get(pk=response.json()["id"])
    assert (booking.service_type, booking.booked_by) == (screening, coordinator.user)


def test_a_nurse_granted_the_permission_books_it(nurse, client_for, clinic, patient, screening):
    grant_sensitive_services(nurse.user)

    response = _book(client_for(nurse), clinic, patient, screening)

    assert response.status_code == 201, response.content


def test_ordinary_services_are_booked_as_before(nurse_client, session, patient, service):
    assert _book(nurse_client, session, patient, service).status_code == 201


# --- Walk-ins ----------------------------------------------------------------------------------


def _walk_in(client, session, patient, service):
    url = f"/api/v1/sessions/{session.pk}/walk-ins/"
    return post_json(client, url, {"patient": patient.pk, "service": service.pk})


def test_a_nurse_cannot_add_a_walk_in_for_a_sensitive_service(
    nurse_client, on_now, patient, screening
):
    _unknown(_walk_in(nurse_client, on_now, patient, screening), "service", screening.pk)

    assert not Booking.objects.exists()


def test_a_coordinator_adds_a_walk_in_for_a_sensitive_service(
    coordinator_client, on_now, patient, screening
):
    response = _walk_in(coordinator_client, on_now, patient, screening)

    assert response.status_code == 201, response.content
    assert Booking.objects.get().source == Booking.Source.WALK_IN


# --- Rescheduling ------------------------------------------------------------------------------


def _reschedule(client, booking):
    later = iso(booking.starts_at + timedelta(hours=1))
    return post_json(client, f"{BOOKINGS}{booking.pk}/reschedule/", {"starts_at": later})


@pytest.fixture
def screening_booking(clinic, patient, screening) -> Booking:
    return factories.BookingFactory(
        session=clinic, patient=patient, service_type=screening, starts_at=TOMORROW_10, lane=1
    )


def test_a_nurse_cannot_reschedule_a_sensitive_booking(nurse_client, screening_booking):
    # The new booking keeps the old one's service, and the old one is not there for her.
    assert_error(_reschedule(nurse_client, screening_booking), 404, "not_found")

    screening_booking.refresh_from_db()
    assert screening_booking.status == Booking.Status.BOOKED
    assert Booking.objects.count() == 1


def test_a_coordinator_reschedules_a_sensitive_booking(coordinator_client, screening_booking):
    response = _reschedule(coordinator_client, screening_booking)

    assert response.status_code == 201, response.content
    assert response.json()["rescheduled_from"] == screening_booking.pk


# --- The waiting list --------------------------------------------------------------------------


def _join(client, patient, service):
    return post_json(client, "/api/v1/waitlist/", {"patient": patient.pk, "service": service.pk})


def test_a_nurse_cannot_put_someone_on_the_waiting_list_for_it(nurse_client, patient, screening):
    _unknown(_join(nurse_client, patient, screening), "service", screening.pk)

    assert not WaitlistEntry.objects.exists()


def test_a_coordinator_puts_someone_on_the_waiting_list_for_it(
    coordinator_client, patient, screening
):
    response = _join(coordinator_client, patient, screening)

    assert response.status_code == 201, response.content
    assert WaitlistEntry.objects.get().service_type == screening


def test_a_nurse_cannot_accept_an_offer_of_a_sensitive_slot(
    nurse_client, organisation, screening_booking, screening
):
    entry = factories.WaitlistEntryFactory(
        organisation=organisation,
        service_type=screening,
        status=WaitlistEntry.Status.OFFERED,
        offered_booking=screening_booking,
        offered_at=NOW,
    )

    assert_error(post_json(nurse_client, f"/api/v1/waitlist/{entry.pk}/accept/"), 404)

    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.OFFERED
    assert Booking.objects.count() == 1


# --- Planning ----------------------------------------------------------------------------------


@pytest.fixture
def planner(nurse, client_for):
    """A nurse granted planning per user, but not the sensitive services."""
    nurse.user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_outreachsession", "add_sessionseries"])
    )
    return client_for(nurse)


def _new_session(venue, *services):
    return {
        "name": "Women's health morning",
        "venue": venue.pk,
        "services": [s.pk for s in services],
        "starts_at": iso(TOMORROW_10),
        "ends_at": iso(TOMORROW_10 + timedelta(hours=4)),
        "booking_mode": BookingMode.APPOINTMENTS,
    }


def _new_series(venue, *services):
    return {
        "name": "Monday women's health",
        "venue": venue.pk,
        "services": [s.pk for s in services],
        "weekdays": [0],
        "start_date": "2026-06-01",
        "start_time": "10:00",
        "end_time": "14:00",
        "booking_mode": BookingMode.MIXED,
    }


@pytest.mark.parametrize(
    ("url", "body", "model"),
    [
        ("/api/v1/sessions/", _new_session, OutreachSession),
        ("/api/v1/series/", _new_series, SessionSeries),
    ],
)
def test_planning_a_sensitive_service_needs_the_permission(
    planner, coordinator_client, venue, service, screening, url, body, model
):
    refused = post_json(planner, url, body(venue, service, screening))

    _unknown(refused, "services", screening.pk)
    assert not model.objects.exists()

    planned = post_json(coordinator_client, url, body(venue, service, screening))
    assert planned.status_code == 201, planned.content
    assert sorted(planned.json()["services"]) == sorted([service.pk, screening.pk])


def test_a_planner_without_it_plans_ordinary_services(planner, venue, service):
    response = post_json(planner, "/api/v1/sessions/", _new_session(venue, service))

    assert response.status_code == 201, response.content


# --- Free slots --------------------------------------------------------------------------------


def test_a_nurse_cannot_search_a_sensitive_services_slots(nurse_client, clinic, screening):
    params = {"service": screening.pk}

    for url in (f"/api/v1/sessions/{clinic.pk}/slots/", "/api/v1/slots/"):
        _unknown(nurse_client.get(url, params), "service", screening.pk)


def test_a_coordinator_finds_a_sensitive_services_slots(coordinator_client, clinic, screening):
    params = {"service": screening.pk}

    one = coordinator_client.get(f"/api/v1/sessions/{clinic.pk}/slots/", params)
    search = coordinator_client.get("/api/v1/slots/", params)

    assert one.status_code == search.status_code == 200
    assert one.json()
    assert search.json()


# --- The catalogue ------------------------------------------------------------------------------


def test_the_catalogue_lists_a_sensitive_service_only_to_staff_who_may_use_it(
    nurse_client, coordinator_client, service, screening
):
    listed = nurse_client.get("/api/v1/service-types/").json()["results"]
    assert screening.pk not in [row["id"] for row in listed]
    assert service.pk in [row["id"] for row in listed]
    assert nurse_client.get(f"/api/v1/service-types/{screening.pk}/").status_code == 404
    listed = coordinator_client.get("/api/v1/service-types/").json()["results"]
    assert screening.pk in [row["id"] for row in listed]
    assert coordinator_client.get(f"/api/v1/service-types/{screening.pk}/").status_code == 200
