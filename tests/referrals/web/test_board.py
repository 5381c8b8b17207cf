"""The referral board: worklists with counts, moves by the table, stale moves, chases, history."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinics.models import StaffMember
from referrals import services
from referrals.models import Referral, ReferralChase
from tests import factories
from tests.access_support import log_inserts
from tests.api_support import NOW

pytestmark = pytest.mark.django_db

Status = Referral.Status


@pytest.fixture
def destination():
    return factories.DestinationFactory(name="Hepatitis C treatment service")


def _referral(organisation, destination, *, status=Status.SENT, referrer=None, **fields):
    defaults = {"sent_at": NOW - timedelta(days=20), "due_date": date(2026, 5, 20)}
    if status == Status.DRAFT:
        defaults = {}
    return factories.ReferralFactory(
        organisation=organisation,
        destination=destination,
        status=status,
        referrer=referrer or factories.UserFactory(),
        **{**defaults, **fields},
    )


# --- the worklists ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (StaffMember.Role.COORDINATOR, 200),
        (StaffMember.Role.ADMIN, 200),
        (StaffMember.Role.NURSE, 200),
        (StaffMember.Role.ANALYST, 403),
    ],
)
def test_who_sees_the_board(clock, organisation, make_staff, client_for, role, status):
    client = client_for(make_staff(organisation, role))
    assert client.get(reverse("referral-board")).status_code == status


def test_each_worklist_has_its_count_and_overdue_rows_stand_out(
    clock, organisation, coordinator, coordinator_client, destination
):
    overdue = _referral(organisation, destination, patient__preferred_name="Sam")
    _referral(organisation, destination, due_date=date(2026, 6, 20))  # sent, not yet due
    _referral(
        organisation,
        destination,
        status=Status.ACCEPTED,
        responded_at=NOW - timedelta(days=30),
    )
    _referral(organisation, destination, status=Status.ATTENDED, responded_at=NOW)
    _referral(organisation, destination, status=Status.DRAFT, referrer=coordinator.user)
    _referral(factories.OrganisationFactory(), destination)  # another organisation's
    response = coordinator_client.get(reverse("referral-board"))
    counts = {tab["name"]: tab["count"] for tab in response.context["tabs"]}
    assert counts == {
        "overdue": 1,
        "accepted-not-booked": 1,
        "attended-not-closed": 1,
        "mine": 1,
    }
    html = response.content.decode()
    assert [r.pk for r in response.context["page"].object_list] == [overdue.pk]
    assert "coord-row--overdue" in html
    assert "Overdue by 12 days" in html
    assert "Sam" in html


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("accepted-not-booked", Status.ACCEPTED),
        ("attended-not-closed", Status.ATTENDED),
    ],
)
def test_choosing_a_worklist_shows_its_referrals(
    clock, organisation, coordinator_client, destination, name, status
):
    wanted = _referral(
        organisation, destination, status=status, responded_at=NOW - timedelta(days=30)
    )
    _referral(organisation, destination)
    response = coordinator_client.get(reverse("referral-board"), {"list": name})
    assert [r.pk for r in response.context["page"].object_list] == [wanted.pk]


def test_an_unknown_worklist_shows_the_overdue_one(clock, coordinator_client):
    response = coordinator_client.get(reverse("referral-board"), {"list": "everything"})
    assert response.status_code == 200
    assert response.context["name"] == "overdue"


def test_htmx_gets_only_the_tabs_and_the_list(clock, coordinator_client):
    response = coordinator_client.get(
        reverse("referral-board"), {"list": "mine"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert 'id="worklist-title"' in html
    assert 'aria-current="page"' in html
    assert "<html" not in html


def test_the_board_costs_the_same_queries_for_one_referral_or_many(
    clock, organisation, coordinator_client, destination
):
    def board_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert coordinator_client.get(reverse("referral-board")).status_code == 200
        # The page is one access log entry naming everyone on it, not one per row.
        assert log_inserts(queries) == 1
        return len(queries)

    _referral(organisation, destination)
    one = board_queries()
    for _ in range(8):
        _referral(organisation, factories.DestinationFactory())
    assert board_queries() == one


# --- one referral -----------------------------------------------------------------------------


def test_another_organisations_referral_is_not_found(clock, coordinator_client, destination):
    theirs = _referral(factories.OrganisationFactory(), destination)
    assert coordinator_client.get(reverse("board-referral", args=[theirs.pk])).status_code == 404
    move = reverse("board-referral-move", args=[theirs.pk, Status.ACCEPTED])
    assert (
        coordinator_client.post(move, {"move-accepted-expected_status": "sent"}).status_code == 404
    )
    chase = reverse("board-referral-chase", args=[theirs.pk])
    assert (
        coordinator_client.post(chase, {"channel": "phone", "outcome": "no_answer"}).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert theirs.status == Status.SENT
    assert not theirs.chases.exists()


@pytest.mark.parametrize(
    ("status", "buttons"),
    [
        (Status.DRAFT, ["Send", "Withdraw"]),
        (Status.SENT, ["Record accepted", "Record rejected", "Withdraw", "Mark lost to follow-up"]),
        (Status.ACCEPTED, ["Record appointment booked", "Withdraw", "Mark lost to follow-up"]),
        (Status.ATTENDED, ["Close", "Withdraw", "Mark lost to follow-up"]),
        (Status.CLOSED, []),
    ],
)
def test_only_the_moves_the_table_allows_are_offered(
    clock, organisation, coordinator_client, destination, status, buttons
):
    referral = _referral(organisation, destination, status=status)
    response = coordinator_client.get(reverse("board-referral", args=[referral.pk]))
    assert [move["label"] for move in response.context["moves"]] == buttons


def test_a_nurse_sees_the_referral_but_an_analyst_does_not(
    clock, organisation, make_staff, client_for, destination
):
    referral = _referral(organisation, destination)
    nurse = client_for(make_staff(organisation, StaffMember.Role.NURSE))
    assert nurse.get(reverse("board-referral", args=[referral.pk])).status_code == 200
    analyst = client_for(make_staff(organisation, StaffMember.Role.ANALYST))
    assert analyst.get(reverse("board-referral", args=[referral.pk])).status_code == 403


def _move(client, referral, to, **fields):
    data = {f"move-{to}-expected_status": fields.pop("expected", referral.status)}
    data.update({f"move-{to}-{name}": value for name, value in fields.items()})
    return client.post(reverse("board-referral-move", args=[referral.pk, to]), data)


def test_a_referral_moves_through_to_closed_with_its_history(
    clock, organisation, coordinator, coordinator_client, destination
):
    referral = _referral(organisation, destination)
    for to, fields in [
        (Status.ACCEPTED, {"notes": "Clinic has capacity"}),
        (Status.BOOKED, {"appointment_at": "2026-06-10T14:30"}),
        (Status.ATTENDED, {}),
        (Status.CLOSED, {"notes": "Treatment started"}),
    ]:
        response = _move(coordinator_client, referral, to, **fields)
        assert response.status_code == 302, response.content.decode()
        referral.refresh_from_db()
        assert referral.status == to
    assert referral.outcome_notes == "Treatment started"
    page = coordinator_client.get(reverse("board-referral", args=[referral.pk]))
    timeline = page.context["timeline"]
    assert timeline[0]["reason"] == "Treatment started"
    assert timeline[0]["by"] == coordinator.user.get_full_name()
    assert {"field": "Status", "old": "Attended", "new": "Closed"} in timeline[0]["changes"]
    html = page.content.decode()
    assert "Clinic has capacity" in html
    assert "Status: Attended to Closed" in html


def test_someone_else_moving_it_first_is_explained_and_nothing_is_overwritten(
    clock, organisation, coordinator_client, destination, make_staff
):
    referral = _referral(organisation, destination)
    colleague = make_staff(organisation, StaffMember.Role.COORDINATOR)
    services.accept_referral(referral, by=colleague.user)
    # This coordinator's page still showed "sent": they withdraw it.
    response = _move(
        coordinator_client, referral, Status.WITHDRAWN, expected="sent", reason="Moved away"
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else moved this referral to &#x27;Accepted&#x27;" in html
    referral.refresh_from_db()
    assert referral.status == Status.ACCEPTED
    # The page now offers the moves from the status it really has.
    assert "Record appointment booked" in [m["label"] for m in response.context["moves"]]


def test_a_move_that_needs_a_reason_keeps_the_page_and_says_so(
    clock, organisation, coordinator_client, destination
):
    referral = _referral(organisation, destination)
    response = _move(coordinator_client, referral, Status.REJECTED, notes="Typed notes")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose why the service turned the referral down." in html
    assert "Typed notes" in html
    assert "There is a problem" in html
    referral.refresh_from_db()
    assert referral.status == Status.SENT


def test_a_move_the_table_does_not_allow_is_refused_in_a_sentence(
    clock, organisation, coordinator_client, destination
):
    referral = _referral(organisation, destination, status=Status.CLOSED, closed_at=NOW)
    response = _move(coordinator_client, referral, Status.ATTENDED)
    assert response.status_code == 409
    assert "This referral is closed, so it cannot move to &#x27;Attended&#x27;." in (
        response.content.decode()
    )


def test_an_unknown_move_is_not_found(clock, organisation, coordinator_client, destination):
    referral = _referral(organisation, destination)
    response = coordinator_client.post(
        reverse("board-referral-move", args=[referral.pk, "teleported"])
    )
    assert response.status_code == 404


def test_an_analyst_cannot_move_a_referral(
    clock, organisation, make_staff, client_for, destination
):
    referral = _referral(organisation, destination)
    analyst = client_for(make_staff(organisation, StaffMember.Role.ANALYST))
    assert _move(analyst, referral, Status.ACCEPTED).status_code == 403


# --- chasing ----------------------------------------------------------------------------------


def test_a_chase_is_logged_and_shown(clock, organisation, coordinator_client, destination):
    referral = _referral(organisation, destination)
    url = reverse("board-referral-chase", args=[referral.pk])
    response = coordinator_client.post(
        url, {"channel": "phone", "outcome": "left_message", "notes": "Spoke to reception"}
    )
    assert response.status_code == 302
    chase = ReferralChase.objects.get()
    assert (chase.channel, chase.outcome) == ("phone", "left_message")
    html = coordinator_client.get(reverse("board-referral", args=[referral.pk])).content.decode()
    assert "Left a message. Spoke to reception" in html


def test_enough_failed_chases_mark_it_lost(
    clock, organisation, coordinator_client, destination, settings
):
    settings.OUTREACH_REFERRAL_MAX_FAILED_CHASES = 2
    referral = _referral(organisation, destination)
    url = reverse("board-referral-chase", args=[referral.pk])
    for _ in range(2):
        response = coordinator_client.post(url, {"channel": "phone", "outcome": "no_answer"})
    page = coordinator_client.get(response["Location"])
    assert "It is now marked lost to follow-up." in page.content.decode()
    referral.refresh_from_db()
    assert referral.status == Status.LOST


def test_a_chase_without_its_choices_is_explained_and_kept(
    clock, organisation, coordinator_client, destination
):
    referral = _referral(organisation, destination)
    response = coordinator_client.post(
        reverse("board-referral-chase", args=[referral.pk]), {"notes": "Rang twice"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose how you chased." in html
    assert "Rang twice" in html
    assert not ReferralChase.objects.exists()


def test_a_closed_referral_is_not_chased(clock, organisation, coordinator_client, destination):
    referral = _referral(organisation, destination, status=Status.CLOSED, closed_at=NOW)
    page = coordinator_client.get(reverse("board-referral", args=[referral.pk]))
    assert page.context["may_chase"] is False
    response = coordinator_client.post(
        reverse("board-referral-chase", args=[referral.pk]),
        {"channel": "phone", "outcome": "no_answer"},
    )
    assert response.status_code == 409
    assert "A &#x27;closed&#x27; referral is not chased." in response.content.decode()
