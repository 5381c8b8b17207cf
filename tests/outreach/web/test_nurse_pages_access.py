"""The nurse's pages log whom they show, and hide sensitive care from staff without it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinics.governance import AccessLogEntry
from outreach.models import Booking, BookingMode
from tests import factories
from tests.access_support import grant_sensitive_services, log_inserts, the_one_entry, web_entries
from tests.api_support import NOW

pytestmark = pytest.mark.django_db

Action = AccessLogEntry.Action


@pytest.fixture
def service():
    return factories.ServiceTypeFactory(name="Health check", code="health-check")


@pytest.fixture
def screening():
    return factories.ServiceTypeFactory(
        name="Cervical screening", code="cervical-screening", sensitive=True
    )


@pytest.fixture
def session(clock, organisation, service, screening, nurse):
    """On now, offering a health check and cervical screening, with the nurse on the rota."""
    session = factories.OutreachSessionFactory(
        organisation=organisation,
        name="Food bank clinic",
        starts_at=NOW,
        ends_at=NOW + timedelta(hours=4),
        booking_mode=BookingMode.MIXED,
    )
    session.services.add(service, screening)
    factories.StaffAssignmentFactory(session=session, staff=nurse)
    return session


def _booking(session, service, name, *, minutes=15, **fields):
    return factories.BookingFactory(
        session=session,
        service_type=service,
        patient=factories.PatientFactory(organisation=session.organisation, preferred_name=name),
        starts_at=NOW + timedelta(minutes=minutes),
        **fields,
    )


@pytest.fixture
def booking(session, service):
    return _booking(session, service, "Ayo")


@pytest.fixture
def sensitive(session, screening):
    return _booking(session, screening, "Robin", minutes=30)


def _seen(booking):
    """Checked in and an outcome recorded, as the nurse would."""
    booking.status = Booking.Status.FULFILLED
    booking.arrived_at = NOW
    booking.save()
    return factories.VisitOutcomeFactory(booking=booking)


# --- the access log ---------------------------------------------------------------------------


def test_today_logs_one_list_of_the_people_on_it(nurse_client, session, service, booking, clock):
    queued = _booking(
        session,
        service,
        "Kai",
        minutes=120,
        source=Booking.Source.WALK_IN,
        status=Booking.Status.ARRIVED,
        arrived_at=NOW,
    )

    assert nurse_client.get(reverse("outreach_web:today")).status_code == 200

    entry = the_one_entry()
    assert entry.action == Action.LIST
    assert entry.via == AccessLogEntry.Via.WEB
    assert entry.patient_ids == sorted([booking.patient_id, queued.patient_id])
    assert entry.path == reverse("outreach_web:today")


def test_today_with_nobody_on_it_logs_nothing(nurse_client, session):
    assert nurse_client.get(reverse("outreach_web:today")).status_code == 200
    assert web_entries() == []


def test_the_polled_counts_log_nothing(nurse_client, booking):
    url = reverse("outreach_web:session_counts", args=[booking.session_id])
    assert nurse_client.get(url, HTTP_HX_REQUEST="true").status_code == 200
    assert web_entries() == []


def test_today_writes_one_entry_however_many_people_are_on_it(
    nurse_client, session, service, booking
):
    def today_queries():
        with CaptureQueriesContext(connection) as queries:
            assert nurse_client.get(reverse("outreach_web:today")).status_code == 200
        return queries

    today_queries()  # warm: the first request after signing in also reads the permissions
    one = today_queries()
    for minutes in (30, 45, 60, 75):
        _booking(session, service, f"Person {minutes}", minutes=minutes)
    many = today_queries()
    assert len(many) == len(one)
    assert log_inserts(one) == log_inserts(many) == 1
    assert len(web_entries()[-1].patient_ids) == 5


def test_the_person_page_logs_a_view_of_the_person(nurse_client, booking):
    assert (
        nurse_client.get(reverse("outreach_web:person", args=[booking.patient_id])).status_code
        == 200
    )

    entry = the_one_entry()
    assert (entry.action, entry.patient_id, entry.patient_ids) == (
        Action.VIEW,
        booking.patient_id,
        [booking.patient_id],
    )


def test_a_refused_booking_or_walk_in_logs_the_page_shown_again(nurse_client, organisation):
    person = factories.PatientFactory(organisation=organisation)
    no_slots = factories.ServiceTypeFactory(name="Eye test")

    refused = nurse_client.post(
        reverse("outreach_web:book_next", args=[person.pk]), {"next-service": no_slots.pk}
    )
    assert refused.status_code == 400
    refused = nurse_client.post(reverse("outreach_web:person_walk_in", args=[person.pk]), {})
    assert refused.status_code == 400

    assert [(e.action, e.patient_ids) for e in web_entries()] == [(Action.VIEW, [person.pk])] * 2


def test_the_booking_page_and_its_refused_forms_log_a_view(nurse_client, booking):
    nurse_client.get(reverse("outreach_web:booking", args=[booking.pk]))
    refused = nurse_client.post(reverse("outreach_web:cancel", args=[booking.pk]), {})
    assert refused.status_code == 400
    nurse_client.post(reverse("outreach_web:check_in", args=[booking.pk]))
    refused = nurse_client.post(reverse("outreach_web:record_outcome", args=[booking.pk]), {})
    assert refused.status_code == 400

    # The check-in only redirects: it shows nobody, so three pages, three entries.
    assert [(e.action, e.patient_id, e.path) for e in web_entries()] == [
        (Action.VIEW, booking.patient_id, reverse("outreach_web:booking", args=[booking.pk])),
        (Action.VIEW, booking.patient_id, reverse("outreach_web:cancel", args=[booking.pk])),
        (
            Action.VIEW,
            booking.patient_id,
            reverse("outreach_web:record_outcome", args=[booking.pk]),
        ),
    ]


def test_the_outcome_page_logs_a_view(nurse_client, booking):
    _seen(booking)

    assert nurse_client.get(reverse("outreach_web:outcome", args=[booking.pk])).status_code == 200

    entry = the_one_entry()
    assert (entry.action, entry.patient_ids) == (Action.VIEW, [booking.patient_id])


def test_a_walk_in_search_logs_the_people_found(nurse_client, session, organisation):
    found = factories.PatientFactory(organisation=organisation, preferred_name="Jonathan Okoro")
    factories.PatientFactory(organisation=organisation, preferred_name="Zainab Ali")
    url = reverse("outreach_web:walk_in", args=[session.pk])

    nurse_client.get(url)
    assert web_entries() == []  # the empty form shows nobody

    nurse_client.get(url, {"q": "Jonathan"})
    entry = the_one_entry()
    assert (entry.action, entry.patient_id, entry.patient_ids) == (
        Action.SEARCH,
        None,
        [found.pk],
    )


# --- sensitive services -----------------------------------------------------------------------


def test_a_nurse_without_the_permission_sees_no_sensitive_booking_on_today(
    nurse_client, booking, sensitive
):
    response = nurse_client.get(reverse("outreach_web:today"))

    body = response.content.decode()
    assert "Ayo" in body
    assert "Robin" not in body
    assert response.context["sessions"][0].counts["booked"] == 1
    counts = nurse_client.get(reverse("outreach_web:session_counts", args=[booking.session_id]))
    assert counts.context["counts"]["booked"] == 1
    assert the_one_entry().patient_ids == [booking.patient_id]


def test_a_nurse_without_the_permission_does_not_reach_sensitive_care(nurse_client, sensitive):
    person = nurse_client.get(reverse("outreach_web:person", args=[sensitive.patient_id]))
    # The person is there, to be booked into an ordinary clinic; their screening is not.
    assert person.status_code == 200
    assert list(person.context["upcoming"]) == []
    assert nurse_client.get(reverse("outreach_web:booking", args=[sensitive.pk])).status_code == 404
    _seen(sensitive)
    assert nurse_client.get(reverse("outreach_web:outcome", args=[sensitive.pk])).status_code == 404


def test_a_nurse_granted_the_permission_sees_sensitive_care(
    nurse, nurse_client, booking, sensitive
):
    grant_sensitive_services(nurse.user)

    today = nurse_client.get(reverse("outreach_web:today"))
    assert "Robin" in today.content.decode()
    assert today.context["sessions"][0].counts["booked"] == 2
    person = nurse_client.get(reverse("outreach_web:person", args=[sensitive.patient_id]))
    assert list(person.context["upcoming"]) == [sensitive]
    assert nurse_client.get(reverse("outreach_web:booking", args=[sensitive.pk])).status_code == 200
    _seen(sensitive)
    assert nurse_client.get(reverse("outreach_web:outcome", args=[sensitive.pk])).status_code == 200


def test_a_sensitive_message_is_not_on_the_person_page_without_the_permission(
    nurse, nurse_client, organisation, sensitive
):
    factories.MessageFactory(
        organisation=organisation,
        patient=sensitive.patient,
        booking=sensitive,
        discreet=True,
        status="sent",
        sent_at=NOW,
    )
    url = reverse("outreach_web:person", args=[sensitive.patient_id])

    assert list(nurse_client.get(url).context["sent"]) == []
    grant_sensitive_services(nurse.user)
    assert len(nurse_client.get(url).context["sent"]) == 1


def test_only_staff_who_may_see_sensitive_care_are_offered_it_to_book(
    nurse, nurse_client, booking, sensitive
):
    person = reverse("outreach_web:person", args=[sensitive.patient_id])
    walk_in = reverse("outreach_web:walk_in", args=[sensitive.session_id])

    def offered(url: str, form: str) -> set[int]:
        return {s.pk for s in nurse_client.get(url).context[form].fields["service"].queryset}

    assert sensitive.service_type_id not in offered(person, "next_form")
    assert sensitive.service_type_id not in offered(person, "walk_in_form")
    assert sensitive.service_type_id not in offered(walk_in, "form")
    assert booking.service_type_id in offered(person, "next_form")
    grant_sensitive_services(nurse.user)
    assert sensitive.service_type_id in offered(person, "next_form")
    assert sensitive.service_type_id in offered(walk_in, "form")


# --- roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["analyst", "auditor"])
def test_analysts_and_auditors_get_no_person_level_page(
    client_for, make_staff, organisation, booking, role
):
    client = client_for(make_staff(organisation, role))
    _seen(booking)

    for name, args in [
        ("outreach_web:today", []),
        ("outreach_web:walk_in", [booking.session_id]),
        ("outreach_web:session_counts", [booking.session_id]),
        ("outreach_web:person", [booking.patient_id]),
        ("outreach_web:booking", [booking.pk]),
        ("outreach_web:outcome", [booking.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 403, name
    assert web_entries() == []
