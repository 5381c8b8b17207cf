"""The waiting list: joining, and the slot a cancellation frees going to the first who waits."""

from datetime import date, timedelta

import pytest

from outreach.models import Booking, WaitlistEntry
from tests import factories
from tests.outreach.conftest import TOMORROW_10, assert_error, post_json

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

WAITLIST = "/api/v1/waitlist/"


def _action(entry_id: int, action: str) -> str:
    return f"{WAITLIST}{entry_id}/{action}/"


def _join(client, patient, service, **extra):
    return post_json(client, WAITLIST, {"patient": patient.pk, "service": service.pk, **extra})


def _cancel(client, booking):
    return post_json(
        client,
        f"/api/v1/bookings/{booking.pk}/cancel/",
        {"cancelled_by": "patient", "reason": "Feeling better"},
    )


@pytest.fixture
def booked(session, patient, service) -> Booking:
    return factories.BookingFactory(
        session=session, patient=patient, service_type=service, starts_at=TOMORROW_10, lane=2
    )


@pytest.fixture
def waiting(nurse_client, organisation, service, venue):
    """Two people waiting for the service, Fay first (at the venue), then Gus (anywhere)."""
    entries = []
    for name, where in (("Fay", {"venue": venue.pk}), ("Gus", {})):
        person = factories.PatientFactory(organisation=organisation, preferred_name=name)
        response = _join(nurse_client, person, service, **where)
        assert response.status_code == 201, response.content
        entries.append(WaitlistEntry.objects.get(pk=response.json()["id"]))
    return entries


def test_a_person_joins_the_waiting_list(nurse_client, organisation, patient, service, venue):
    response = _join(nurse_client, patient, service, venue=venue.pk, not_before="2026-06-02")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == WaitlistEntry.Status.WAITING
    assert (body["patient"], body["service_type"], body["venue"]) == (
        patient.pk,
        service.pk,
        venue.pk,
    )
    assert WaitlistEntry.objects.get().organisation == organisation


@pytest.mark.parametrize("at_venue", [True, False], ids=["at-a-venue", "anywhere"])
def test_a_second_open_entry_for_the_same_service_is_refused(
    nurse_client, patient, service, venue, at_venue
):
    where = {"venue": venue.pk} if at_venue else {}
    _join(nurse_client, patient, service, **where)

    assert_error(_join(nurse_client, patient, service, **where), 409, "already_waiting")
    assert WaitlistEntry.objects.count() == 1


def test_a_window_ending_before_it_starts_is_refused(nurse_client, patient, service):
    response = _join(
        nurse_client, patient, service, not_before="2026-06-10", not_after="2026-06-09"
    )

    assert "not_after" in assert_error(response, 400, "invalid")["fields"]


def test_a_cancellation_offers_the_slot_to_the_first_person_waiting(nurse_client, booked, waiting):
    fay, gus = waiting

    assert _cancel(nurse_client, booked).status_code == 200

    fay.refresh_from_db()
    gus.refresh_from_db()
    assert fay.status == WaitlistEntry.Status.OFFERED
    assert fay.offered_booking == booked
    assert fay.offered_at is not None
    assert gus.status == WaitlistEntry.Status.WAITING


def test_entries_that_do_not_fit_the_slot_are_passed_over(
    nurse_client, booked, organisation, service
):
    elsewhere = factories.VenueFactory(organisation=organisation)
    wrong_venue = factories.WaitlistEntryFactory(
        organisation=organisation, service_type=service, venue=elsewhere
    )
    too_late = factories.WaitlistEntryFactory(
        organisation=organisation, service_type=service, not_before=date(2026, 6, 3)
    )
    other_trust = factories.WaitlistEntryFactory(service_type=service)
    fits = factories.WaitlistEntryFactory(organisation=organisation, service_type=service)

    _cancel(nurse_client, booked)

    statuses = {
        entry.pk: entry.status
        for entry in WaitlistEntry.objects.filter(
            pk__in=[wrong_venue.pk, too_late.pk, other_trust.pk, fits.pk]
        )
    }
    assert statuses == {
        wrong_venue.pk: WaitlistEntry.Status.WAITING,
        too_late.pk: WaitlistEntry.Status.WAITING,
        other_trust.pk: WaitlistEntry.Status.WAITING,
        fits.pk: WaitlistEntry.Status.OFFERED,
    }


def test_accepting_the_offer_books_the_freed_time_in_any_free_lane(nurse_client, booked, waiting):
    fay, _ = waiting
    _cancel(nurse_client, booked)

    response = post_json(nurse_client, _action(fay.pk, "accept"))

    assert response.status_code == 201, response.content
    booking = Booking.objects.get(pk=response.json()["id"])
    assert booking.patient == fay.patient
    # The freed time, in the first lane free then: another lane may have come free first.
    assert booking.starts_at == booked.starts_at
    assert booking.lane is not None
    assert booking.status == Booking.Status.BOOKED
    fay.refresh_from_db()
    assert fay.status == WaitlistEntry.Status.BOOKED


def test_accepting_without_an_offer_is_refused(nurse_client, waiting):
    fay, _ = waiting

    assert_error(post_json(nurse_client, _action(fay.pk, "accept")), 409, "no_offer")
    assert not Booking.objects.exists()


def test_declining_passes_the_slot_to_the_next_person(nurse_client, booked, waiting):
    fay, gus = waiting
    _cancel(nurse_client, booked)

    response = post_json(nurse_client, _action(fay.pk, "decline"))

    assert response.status_code == 200, response.content
    assert response.json()["status"] == WaitlistEntry.Status.WAITING
    assert response.json()["offered_booking"] is None
    gus.refresh_from_db()
    assert gus.status == WaitlistEntry.Status.OFFERED
    assert gus.offered_booking == booked


def test_withdrawing_takes_the_person_off_the_list(nurse_client, patient, service):
    entry = _join(nurse_client, patient, service).json()

    response = post_json(nurse_client, _action(entry["id"], "withdraw"))

    assert response.status_code == 200, response.content
    assert response.json()["status"] == WaitlistEntry.Status.WITHDRAWN
    # Withdrawn is closed: the person may join again later.
    assert _join(nurse_client, patient, service).status_code == 201
    again = post_json(nurse_client, _action(entry["id"], "withdraw"))
    assert_error(again, 409, "illegal_transition")


def test_a_slot_in_the_past_is_offered_to_no_one(nurse_client, organisation, venue, service):
    started = factories.OutreachSessionFactory(
        organisation=organisation, venue=venue, starts_at=TOMORROW_10 - timedelta(days=1, hours=2)
    )
    gone = factories.BookingFactory(session=started, service_type=service)
    entry = factories.WaitlistEntryFactory(organisation=organisation, service_type=service)

    _cancel(nurse_client, gone)

    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.WAITING


def test_another_organisations_entry_is_not_there(nurse_client):
    theirs = factories.WaitlistEntryFactory()

    assert_error(nurse_client.get(f"{WAITLIST}{theirs.pk}/"), 404, "not_found")
    assert_error(post_json(nurse_client, _action(theirs.pk, "withdraw")), 404, "not_found")
    assert nurse_client.get(WAITLIST).json()["results"] == []
