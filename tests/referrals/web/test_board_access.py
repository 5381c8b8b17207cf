"""The referral board logs whom it shows and hides referrals from sensitive services."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from clinics.governance import AccessLogEntry
from clinics.models import StaffMember
from referrals.models import Referral
from tests import factories
from tests.access_support import grant_sensitive_services, the_one_entry, web_entries
from tests.api_support import NOW

pytestmark = pytest.mark.django_db

Action = AccessLogEntry.Action
Status = Referral.Status


def _overdue(organisation, **fields):
    return factories.ReferralFactory(
        organisation=organisation,
        status=Status.SENT,
        sent_at=NOW - timedelta(days=20),
        due_date=date(2026, 5, 20),
        **fields,
    )


@pytest.fixture
def screening_referral(organisation):
    """An overdue referral made from a cervical screening booking."""
    screening = factories.ServiceTypeFactory(name="Cervical screening", sensitive=True)
    booking = factories.BookingFactory(session__organisation=organisation, service_type=screening)
    return _overdue(organisation, patient=booking.patient, source_booking=booking)


def test_the_board_logs_one_list_of_the_people_on_the_open_worklist(
    clock, organisation, coordinator_client
):
    first, second = _overdue(organisation), _overdue(organisation)
    # Counted in a tab but not listed on this page: not logged.
    factories.ReferralFactory(
        organisation=organisation, status=Status.ATTENDED, sent_at=NOW, responded_at=NOW
    )

    coordinator_client.get(reverse("referral-board"))
    coordinator_client.get(reverse("referral-board"), headers={"HX-Request": "true"})

    assert [(e.action, e.patient_id, e.patient_ids) for e in web_entries()] == [
        (Action.LIST, None, sorted([first.patient_id, second.patient_id]))
    ] * 2


def test_an_empty_worklist_logs_nothing(clock, organisation, coordinator_client):
    _overdue(organisation)

    coordinator_client.get(reverse("referral-board"), {"list": "mine"})

    assert web_entries() == []


def test_a_referral_page_logs_a_view_also_after_a_refused_move_or_chase(
    clock, organisation, coordinator_client
):
    referral = _overdue(organisation)
    detail = reverse("board-referral", args=[referral.pk])

    coordinator_client.get(detail)
    refused = coordinator_client.post(
        reverse("board-referral-move", args=[referral.pk, Status.REJECTED]),
        {"move-rejected-expected_status": "sent"},
    )
    assert refused.status_code == 400
    stale = coordinator_client.post(
        reverse("board-referral-move", args=[referral.pk, Status.ACCEPTED]),
        {"move-accepted-expected_status": "draft"},
    )
    assert stale.status_code == 409
    refused = coordinator_client.post(reverse("board-referral-chase", args=[referral.pk]), {})
    assert refused.status_code == 400
    moved = coordinator_client.post(
        reverse("board-referral-move", args=[referral.pk, Status.ACCEPTED]),
        {"move-accepted-expected_status": "sent"},
    )
    assert moved.status_code == 302  # a redirect shows nobody

    assert [(e.action, e.patient_id) for e in web_entries()] == [
        (Action.VIEW, referral.patient_id)
    ] * 4


def test_a_nurse_without_the_permission_sees_no_sensitive_referral(
    clock, organisation, make_staff, client_for, screening_referral
):
    ordinary = _overdue(organisation)
    nurse = client_for(make_staff(organisation, StaffMember.Role.NURSE))

    board = nurse.get(reverse("referral-board"))

    assert [r.pk for r in board.context["page"].object_list] == [ordinary.pk]
    assert {tab["name"]: tab["count"] for tab in board.context["tabs"]}["overdue"] == 1
    assert the_one_entry().patient_ids == [ordinary.patient_id]
    detail = reverse("board-referral", args=[screening_referral.pk])
    assert nurse.get(detail).status_code == 404


def test_a_nurse_granted_the_permission_sees_the_sensitive_referral(
    clock, organisation, make_staff, client_for, screening_referral
):
    staff = make_staff(organisation, StaffMember.Role.NURSE)
    grant_sensitive_services(staff.user)
    nurse = client_for(staff)

    board = nurse.get(reverse("referral-board"))

    assert [r.pk for r in board.context["page"].object_list] == [screening_referral.pk]
    detail = reverse("board-referral", args=[screening_referral.pk])
    assert nurse.get(detail).status_code == 200


def test_auditors_get_no_board_and_no_referral_page(clock, organisation, make_staff, client_for):
    referral = _overdue(organisation)
    auditor = client_for(make_staff(organisation, StaffMember.Role.AUDITOR))

    assert auditor.get(reverse("referral-board")).status_code == 403
    assert auditor.get(reverse("board-referral", args=[referral.pk])).status_code == 403
    assert web_entries() == []
