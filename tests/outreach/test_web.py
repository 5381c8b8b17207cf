"""The nurse's pages through the test client: Today, bookings, walk-ins, a person's page."""

from datetime import timedelta

import pytest
from django.urls import reverse

from clinics.models import Patient
from outreach.models import Booking, BookingMode
from tests import factories
from tests.api_support import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def service():
    return factories.ServiceTypeFactory(name="Health check", code="health-check")


@pytest.fixture
def session(clock, organisation, service, nurse):
    """On now: 09:00 to 13:00 London today, mixed bookings, with the nurse on the rota."""
    session = factories.OutreachSessionFactory(
        organisation=organisation,
        name="Food bank clinic",
        starts_at=NOW,
        ends_at=NOW + timedelta(hours=4),
        booking_mode=BookingMode.MIXED,
    )
    session.services.add(service)
    factories.StaffAssignmentFactory(session=session, staff=nurse)
    return session


@pytest.fixture
def booking(session, service):
    return factories.BookingFactory(
        session=session,
        service_type=service,
        patient=factories.PatientFactory(organisation=session.organisation, preferred_name="Ayo"),
        starts_at=NOW + timedelta(minutes=15),
    )


def test_today_lists_my_sessions_with_bookings_in_time_order_and_counts(
    nurse_client, session, service
):
    later = factories.BookingFactory(
        session=session,
        service_type=service,
        starts_at=NOW + timedelta(hours=1),
        patient__preferred_name="Later",
        patient__organisation=session.organisation,
    )
    earlier = factories.BookingFactory(
        session=session,
        service_type=service,
        starts_at=NOW + timedelta(minutes=30),
        patient__preferred_name="Earlier",
        patient__organisation=session.organisation,
    )

    response = nurse_client.get(reverse("outreach_web:today"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Food bank clinic" in body
    assert body.index("Earlier") < body.index("Later")
    assert response.context["sessions"][0].counts["booked"] == 2
    assert f'hx-get="{reverse("outreach_web:session_counts", args=[session.pk])}"' in body
    assert earlier.starts_at < later.starts_at


def test_today_shows_only_the_nurses_rota_unless_asked_for_every_session(
    nurse_client, session, organisation
):
    other = factories.OutreachSessionFactory(
        organisation=organisation,
        name="Hostel clinic",
        starts_at=NOW,
        ends_at=NOW + timedelta(hours=2),
    )

    mine = nurse_client.get(reverse("outreach_web:today")).content.decode()
    everything = nurse_client.get(reverse("outreach_web:today") + "?all=1").content.decode()

    assert "Hostel clinic" not in mine
    assert other.name in everything


def test_the_counts_partial_is_a_fragment_for_htmx(nurse_client, booking):
    response = nurse_client.get(
        reverse("outreach_web:session_counts", args=[booking.session_id]), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert "1</span> booked" in body


def test_check_in_then_record_an_outcome(nurse_client, booking):
    response = nurse_client.post(reverse("outreach_web:check_in", args=[booking.pk]), follow=True)
    assert "Ayo is checked in." in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ARRIVED

    response = nurse_client.post(
        reverse("outreach_web:record_outcome", args=[booking.pk]),
        {"outcome": "completed", "result": "normal"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("outreach_web:outcome", args=[booking.pk])
    booking.refresh_from_db()
    assert booking.status == Booking.Status.FULFILLED
    assert booking.outcome.result == "normal"


def test_a_refused_outcome_keeps_what_was_typed(nurse_client, booking, clock):
    nurse_client.post(reverse("outreach_web:check_in", args=[booking.pk]))

    response = nurse_client.post(
        reverse("outreach_web:record_outcome", args=[booking.pk]),
        {
            "result": "normal",
            "notes": "Needs glasses",
            "follow_up_date_0": "31",
            "follow_up_date_1": "2",
            "follow_up_date_2": "2027",
        },
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body
    assert "Choose what happened at the visit." in body
    assert "Follow-up or recall date (optional) must be a real date." in body
    assert "Needs glasses" in body
    assert 'value="31"' in body


def test_a_service_refusal_reads_as_a_sentence(nurse_client, booking):
    # Too early: the appointment has not started yet.
    response = nurse_client.post(reverse("outreach_web:no_show", args=[booking.pk]), follow=True)

    assert "A booking can only be marked as not attended once its time has come." in (
        response.content.decode()
    )
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED


def test_mark_no_show_once_the_time_has_come(nurse_client, booking, clock):
    clock.shift(timedelta(minutes=20))

    nurse_client.post(reverse("outreach_web:no_show", args=[booking.pk]))

    booking.refresh_from_db()
    assert booking.status == Booking.Status.NOSHOW


def test_cancel_needs_a_reason_and_keeps_who_cancelled(nurse_client, booking):
    url = reverse("outreach_web:cancel", args=[booking.pk])

    refused = nurse_client.post(url, {"cancelled_by": "patient", "reason": ""})
    assert refused.status_code == 400
    assert "Enter why the booking is cancelled." in refused.content.decode()
    assert 'value="patient" id="id_cancelled_by_0" class="nhsuk-radios__input" checked' in (
        refused.content.decode()
    )

    nurse_client.post(url, {"cancelled_by": "patient", "reason": "Moved away"})
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.cancellation_reason == "Moved away"


def test_add_a_walk_in_registering_someone_new(nurse_client, session, service):
    url = reverse("outreach_web:walk_in", args=[session.pk])

    page = nurse_client.get(url, {"q": "Kez"})
    assert "Someone new" in page.content.decode()

    response = nurse_client.post(
        url, {"q": "Kez", "person": "new", "new_name": "Kez", "service": service.pk}
    )

    assert response.status_code == 302
    walk_in = Booking.objects.get(session=session, source=Booking.Source.WALK_IN)
    assert walk_in.patient.preferred_name == "Kez"
    assert walk_in.status == Booking.Status.ARRIVED


def test_a_refused_walk_in_registers_no_one(nurse_client, session, service, clock):
    clock.shift(timedelta(hours=5))  # the session is over
    url = reverse("outreach_web:walk_in", args=[session.pk])

    response = nurse_client.post(
        url, {"q": "Kez", "person": "new", "new_name": "Kez", "service": service.pk}
    )

    assert response.status_code == 400
    assert "Walk-ins are added on the day, while the session is on." in response.content.decode()
    assert not Patient.objects.filter(preferred_name="Kez").exists()


def test_the_walk_in_queue_is_in_arrival_order(nurse_client, session, service, clock):
    for name in ("First", "Second"):
        person = factories.PatientFactory(organisation=session.organisation, preferred_name=name)
        nurse_client.post(
            reverse("outreach_web:walk_in", args=[session.pk]),
            {"q": name, "person": person.pk, "service": service.pk},
        )
        clock.shift(timedelta(minutes=5))

    body = nurse_client.get(reverse("outreach_web:today")).content.decode()

    assert body.index("First") < body.index("Second")
    assert "2</span> waiting" in body


def test_person_page_shows_upcoming_bookings_and_messages(nurse_client, booking):
    factories.MessageFactory(
        organisation=booking.session.organisation,
        patient=booking.patient,
        status="sent",
        sent_at=NOW,
    )

    response = nurse_client.get(reverse("outreach_web:person", args=[booking.patient_id]))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Health check" in body
    assert "<h2>Messages</h2>" in body
    assert "No messages." not in body
    assert "Open referrals" in body


def test_book_the_next_free_slot_from_the_person_page(nurse_client, session, service, organisation):
    person = factories.PatientFactory(organisation=organisation, preferred_name="Bea")

    response = nurse_client.post(
        reverse("outreach_web:book_next", args=[person.pk]),
        {"next-service": service.pk},
        follow=True,
    )

    assert "Bea is booked for Health check" in response.content.decode()
    assert Booking.objects.filter(patient=person, status=Booking.Status.BOOKED).count() == 1


def test_book_next_says_when_there_is_no_free_slot(nurse_client, organisation):
    person = factories.PatientFactory(organisation=organisation)
    other_service = factories.ServiceTypeFactory(name="Eye test")

    response = nurse_client.post(
        reverse("outreach_web:book_next", args=[person.pk]), {"next-service": other_service.pk}
    )

    assert response.status_code == 400
    assert "There are no free slots for Eye test in the next 8 weeks." in response.content.decode()


def test_add_a_walk_in_from_the_person_page(nurse_client, session, service, organisation):
    person = factories.PatientFactory(organisation=organisation)

    nurse_client.post(
        reverse("outreach_web:person_walk_in", args=[person.pk]),
        {"walk_in-session": session.pk, "walk_in-service": service.pk},
    )

    assert Booking.objects.filter(patient=person, source=Booking.Source.WALK_IN).exists()


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("booking", "get"),
        ("check_in", "post"),
        ("no_show", "post"),
        ("record_outcome", "post"),
        ("cancel", "post"),
        ("outcome", "get"),
    ],
)
def test_another_organisations_booking_is_not_found(client_for, make_staff, booking, name, method):
    stranger = client_for(make_staff(factories.OrganisationFactory()))

    response = getattr(stranger, method)(reverse(f"outreach_web:{name}", args=[booking.pk]))

    assert response.status_code == 404


@pytest.mark.parametrize("name", ["person", "book_next", "person_walk_in"])
def test_another_organisations_person_is_not_found(client_for, make_staff, booking, name):
    stranger = client_for(make_staff(factories.OrganisationFactory()))
    method = "get" if name == "person" else "post"

    response = getattr(stranger, method)(reverse(f"outreach_web:{name}", args=[booking.patient_id]))

    assert response.status_code == 404


def test_another_organisations_session_is_not_found(client_for, make_staff, session):
    stranger = client_for(make_staff(factories.OrganisationFactory()))

    assert stranger.get(reverse("outreach_web:walk_in", args=[session.pk])).status_code == 404
    assert (
        stranger.get(reverse("outreach_web:session_counts", args=[session.pk])).status_code == 404
    )


def test_analysts_do_not_see_the_nurse_pages(client_for, make_staff, organisation, session):
    analyst = client_for(make_staff(organisation, "analyst"))

    assert analyst.get(reverse("outreach_web:today")).status_code == 403


def test_a_nurse_lands_on_today(nurse_client, session):
    response = nurse_client.get("/")

    assert response.status_code == 302
    assert response["Location"] == reverse("outreach_web:today")


def test_the_booking_page_offers_cancel_before_and_the_outcome_after_check_in(
    nurse_client, booking
):
    before = nurse_client.get(reverse("outreach_web:booking", args=[booking.pk])).content.decode()
    nurse_client.post(reverse("outreach_web:check_in", args=[booking.pk]))
    after = nurse_client.get(reverse("outreach_web:booking", args=[booking.pk])).content.decode()

    assert "Cancel the booking" in before
    assert "Record the outcome" not in before
    assert "Record the outcome" in after
    assert "Cancel the booking" not in after


def test_the_outcome_page_waits_for_an_outcome(nurse_client, booking):
    response = nurse_client.get(reverse("outreach_web:outcome", args=[booking.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("outreach_web:booking", args=[booking.pk])


def test_a_session_not_on_today_takes_no_walk_ins_here(nurse_client, session, clock):
    clock.shift(timedelta(days=1))

    assert nurse_client.get(reverse("outreach_web:walk_in", args=[session.pk])).status_code == 404
