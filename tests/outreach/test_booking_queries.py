"""What a booking costs: a fixed number of queries, whatever the session holds, and the
input checks folded into the locked reads still answer exactly as before."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinics.models import ServiceType
from outreach.messaging import reminders
from outreach.models import Booking, Message
from tests import factories
from tests.access_support import grant_sensitive_services
from tests.outreach.conftest import TOMORROW_10, assert_error, iso, post_json

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

BOOKINGS = "/api/v1/bookings/"
# The session and the user with their staff row; inside the booking's savepoint the locked
# session (with its venue, the service check and the reminders' templates), the locked patient
# with their contact points (for the reminders), the session's bookings (its booked time and
# lanes, with the patient's bookings that could clash, in one statement), then the booking, its
# history row and its reminders: one statement on PostgreSQL, three on SQLite (no savepoint for
# the reminders: their keys name the new booking, so nothing can clash). (The service comes from
# the cached catalogue, the permissions from the cache.)
BOOKING_QUERY_BUDGET = 8 if connection.vendor == "postgresql" else 10


def _book(client, session, patient, service, **extra):
    body = {"patient": patient.pk, "session": session.pk, "service": service.pk, **extra}
    return post_json(client, BOOKINGS, body)


def _person(organisation, name):
    patient = factories.PatientFactory(organisation=organisation, preferred_name=name)
    factories.ContactPointFactory(patient=patient)
    return patient


@pytest.mark.parametrize("booked_already", [0, 12])
def test_a_booking_makes_the_same_few_queries_however_full_the_session(
    nurse_client, session, service, organisation, booked_already, django_assert_max_num_queries
):
    for n in range(booked_already):
        assert (
            _book(nurse_client, session, _person(organisation, f"P{n}"), service).status_code == 201
        )
    # The first request of a client warms the permission and service caches.
    _book(nurse_client, session, _person(organisation, "Warm"), service)
    patient = _person(organisation, "Sam")
    service.reminder_offsets_hours = [20, 2]
    service.save()
    _book(nurse_client, session, _person(organisation, "Rewarm"), service)

    with django_assert_max_num_queries(BOOKING_QUERY_BUDGET):
        response = _book(nurse_client, session, patient, service)

    assert response.status_code == 201, response.content
    booking = Booking.objects.get(pk=response.json()["id"])
    # Both reminders were written, in the booking's transaction, by the one insert.
    sent_for = Message.objects.filter(booking=booking, purpose="reminder")
    assert sorted(sent_for.values_list("idempotency_key", flat=True)) == [
        f"booking:{booking.pk}:reminder:20h",
        f"booking:{booking.pk}:reminder:2h",
    ]
    assert booking.history.count() == 1


@pytest.fixture
def screening(session):
    screening = factories.ServiceTypeFactory(name="Cervical screening", sensitive=True)
    session.services.add(screening)
    return screening


def test_a_sensitive_service_costs_no_more_to_book(
    nurse, client_for, session, screening, organisation, django_assert_max_num_queries
):
    """Whether the user may book it is read off the cached service and permission set."""
    grant_sensitive_services(nurse.user)
    client = client_for(nurse)
    _book(client, session, _person(organisation, "Warm"), screening)
    patient = _person(organisation, "Sam")

    with django_assert_max_num_queries(BOOKING_QUERY_BUDGET):
        response = _book(client, session, patient, screening)

    assert response.status_code == 201, response.content


def test_a_sensitive_service_is_refused_without_reading_the_catalogue_table(
    nurse_client, session, screening, service, organisation
):
    _book(nurse_client, session, _person(organisation, "Warm"), service)

    with CaptureQueriesContext(connection) as queries:
        response = _book(nurse_client, session, _person(organisation, "Sam"), screening)

    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"service": [f"No such record: {screening.pk}."]}
    assert not [q for q in queries.captured_queries if "clinics_servicetype" in q["sql"]]
    assert not Booking.objects.filter(service_type=screening).exists()


def test_every_unknown_id_is_named_when_another_field_is_wrong(nurse_client, session, service):
    body = {"patient": 999_999, "session": 999_998, "service": service.pk, "lane": 99}

    error = assert_error(post_json(nurse_client, BOOKINGS, body), 400, "invalid")

    assert error["fields"]["patient"] == ["No such record: 999999."]
    assert error["fields"]["session"] == ["No such record: 999998."]
    assert "lane" in error["fields"]


def test_an_unknown_patient_and_session_are_both_named(nurse_client, service):
    body = {"patient": 999_999, "session": 999_998, "service": service.pk}

    error = assert_error(post_json(nurse_client, BOOKINGS, body), 400, "invalid")

    assert error["fields"] == {
        "patient": ["No such record: 999999."],
        "session": ["No such record: 999998."],
    }


def test_an_id_of_the_wrong_type_is_a_type_error(nurse_client, session, patient, service):
    body = {"patient": "sam", "session": True, "service": service.pk}

    error = assert_error(post_json(nurse_client, BOOKINGS, body), 400, "invalid")

    assert error["fields"]["patient"] == ["Incorrect type. Expected pk value, received str."]
    assert error["fields"]["session"] == ["Incorrect type. Expected pk value, received bool."]


def test_an_unknown_session_found_under_the_lock_reads_like_the_input_check(
    nurse_client, patient, service
):
    theirs = factories.OutreachSessionFactory(starts_at=TOMORROW_10)
    theirs.services.add(service)

    response = _book(nurse_client, theirs, patient, service)

    assert response.json() == {
        "code": "invalid",
        "detail": "Some of the information is missing or not right: see fields.",
        "fields": {"session": [f"No such record: {theirs.pk}."]},
    }
    assert response.status_code == 400


def test_a_retry_naming_a_patient_merged_since_is_refused(
    nurse_client, session, patient, service, organisation
):
    headers = {"HTTP_IDEMPOTENCY_KEY": "tablet-7"}
    first = post_json(
        nurse_client,
        BOOKINGS,
        {"patient": patient.pk, "session": session.pk, "service": service.pk},
        **headers,
    )
    assert first.status_code == 201
    patient.merged_into = factories.PatientFactory(organisation=organisation)
    patient.save()

    retry = post_json(
        nurse_client,
        BOOKINGS,
        {"patient": patient.pk, "session": session.pk, "service": service.pk},
        **headers,
    )

    error = assert_error(retry, 400, "invalid")
    assert error["fields"] == {"patient": [f"No such record: {patient.pk}."]}


def test_a_service_switched_off_is_refused_at_once_despite_the_cache(
    nurse_client, session, patient, service, organisation
):
    assert _book(nurse_client, session, _person(organisation, "Warm"), service).status_code == 201
    service.is_active = False
    service.save()

    error = assert_error(_book(nurse_client, session, patient, service), 400, "invalid")

    assert error["fields"]["service"] == [f"No such record: {service.pk}."]


def test_a_new_service_can_be_booked_at_once_despite_the_cache(
    nurse_client, session, patient, service, organisation
):
    assert _book(nurse_client, session, _person(organisation, "Warm"), service).status_code == 201
    new = ServiceType.objects.create(code="bbv", name="Blood-borne virus test")
    session.services.add(new)

    response = _book(nurse_client, session, patient, new, starts_at=iso(TOMORROW_10))

    assert response.status_code == 201, response.content


def test_reminders_written_again_for_a_booking_return_the_first_rows(
    nurse_client, session, patient, service
):
    factories.ContactPointFactory(patient=patient)
    booking = Booking.objects.get(pk=_book(nurse_client, session, patient, service).json()["id"])
    first = list(Message.objects.filter(booking=booking))
    assert first

    again = reminders.schedule_reminders(booking, now=booking.starts_at - timedelta(days=1))

    assert [m.pk for m in again] == [m.pk for m in first]
    assert Message.objects.filter(booking=booking).count() == len(first)
