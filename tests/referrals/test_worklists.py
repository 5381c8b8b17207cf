"""Coordinators' worklists: what is on each, counts, filters, ordering and query budgets."""

from datetime import date, timedelta

import pytest

from clinics.models import StaffMember
from outreach.models import Message
from referrals import services, tasks
from referrals.models import Referral
from tests import factories
from tests.referrals.conftest import NOW, assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

WORKLISTS = "/api/v1/referrals/worklists/"
S = Referral.Status


@pytest.fixture
def board(coordinator):
    """One referral on each worklist, and some that are on none."""
    org = coordinator.organisation
    make = factories.ReferralFactory
    return {
        "overdue": make(organisation=org, status=S.SENT, sent_at=NOW, due_date=date(2026, 5, 20)),
        "in_time": make(organisation=org, status=S.SENT, sent_at=NOW, due_date=date(2026, 6, 9)),
        "accepted_long_ago": make(
            organisation=org,
            status=S.ACCEPTED,
            sent_at=NOW,
            responded_at=NOW - timedelta(days=20),
        ),
        "accepted_today": make(organisation=org, status=S.ACCEPTED, sent_at=NOW, responded_at=NOW),
        "attended": make(organisation=org, status=S.ATTENDED, sent_at=NOW),
        "mine": make(organisation=org, referrer=coordinator.user),
        "closed": make(organisation=org, status=S.CLOSED, sent_at=NOW, due_date=date(2026, 5, 1)),
        "elsewhere": make(status=S.SENT, sent_at=NOW, due_date=date(2026, 5, 1)),
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("overdue", ["overdue"]),
        ("accepted-not-booked", ["accepted_long_ago"]),
        ("attended-not-closed", ["attended"]),
        ("mine", ["mine"]),
    ],
)
def test_each_worklist_holds_what_it_says(coordinator_client, board, name, expected):
    response = coordinator_client.get(f"{WORKLISTS}{name}/")
    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["results"]] == [board[k].pk for k in expected]


def test_the_counts(coordinator_client, board):
    body = coordinator_client.get(WORKLISTS).json()
    assert {k: body[k] for k in ("overdue", "accepted_not_booked", "attended_not_closed")} == {
        "overdue": 1,
        "accepted_not_booked": 1,
        "attended_not_closed": 1,
    }
    assert body["mine"] == 1
    destinations = {row["destination"]: row for row in body["by_destination"]}
    assert destinations[board["overdue"].destination_id]["overdue"] == 1
    assert board["elsewhere"].destination_id not in destinations


def test_worklists_filter_by_destination_and_priority(coordinator_client, coordinator):
    org = coordinator.organisation
    target = factories.DestinationFactory()
    wanted = factories.ReferralFactory(
        organisation=org, destination=target, status=S.SENT, sent_at=NOW,
        due_date=date(2026, 5, 1), priority="urgent",
    )  # fmt: skip
    factories.ReferralFactory(
        organisation=org, status=S.SENT, sent_at=NOW, due_date=date(2026, 5, 1)
    )
    by_destination = coordinator_client.get(f"{WORKLISTS}overdue/?destination={target.pk}")
    assert [row["id"] for row in by_destination.json()["results"]] == [wanted.pk]
    by_priority = coordinator_client.get(f"{WORKLISTS}overdue/?priority=urgent")
    assert [row["id"] for row in by_priority.json()["results"]] == [wanted.pk]


def test_worklists_order_and_page_with_a_cursor(coordinator_client, coordinator):
    org = coordinator.organisation
    made = [
        factories.ReferralFactory(
            organisation=org, status=S.SENT, sent_at=NOW, due_date=date(2026, 5, 1 + i)
        )
        for i in range(5)
    ]
    first = coordinator_client.get(f"{WORKLISTS}overdue/?page_size=2").json()
    assert [row["id"] for row in first["results"]] == [made[0].pk, made[1].pk]
    second = coordinator_client.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == [made[2].pk, made[3].pk]
    newest = coordinator_client.get(f"{WORKLISTS}overdue/?ordering=-due_date&page_size=1").json()
    assert [row["id"] for row in newest["results"]] == [made[4].pk]
    assert_error(coordinator_client.get(f"{WORKLISTS}overdue/?ordering=patient"), 400, "invalid")


def test_an_unknown_worklist_is_not_found(coordinator_client):
    assert coordinator_client.get(f"{WORKLISTS}everything/").status_code == 404


@pytest.mark.parametrize("page_size", [10, 50, 200])
def test_the_overdue_worklist_costs_the_same_queries_at_any_page_size(
    coordinator_client, coordinator, django_assert_max_num_queries, page_size
):
    org = coordinator.organisation
    for i in range(60):
        factories.ReferralFactory(
            organisation=org,
            status=S.SENT,
            sent_at=NOW,
            due_date=date(2026, 5, 1) + timedelta(days=i % 20),
        )
    # Session, user, staff (for the scope), the page, and the page's one access log entry
    # (one statement on PostgreSQL, two on SQLite): nothing per row.
    # A coordinator's request also reads their authenticator device (two-factor).
    with django_assert_max_num_queries(8):
        response = coordinator_client.get(f"{WORKLISTS}overdue/?page_size={page_size}")
    assert len(response.json()["results"]) == min(60, page_size)


def test_the_counts_cost_a_fixed_number_of_queries(
    coordinator_client, board, django_assert_max_num_queries
):
    # A coordinator's request also reads their authenticator device (two-factor).
    with django_assert_max_num_queries(7):
        assert coordinator_client.get(WORKLISTS).status_code == 200


# --- The nightly jobs ------------------------------------------------------------------------


def test_the_overdue_job_flags_each_once_as_the_system_user(board):
    # Every organisation's: this one's and the other one's.
    assert tasks.mark_overdue_referrals_task() == 2
    assert Referral.objects.filter(overdue_since__isnull=False).count() == 2
    flagged = Referral.objects.get(pk=board["overdue"].pk)
    assert flagged.overdue_since == date(2026, 6, 1)
    latest = flagged.history.first()
    assert latest.history_user.username == "outreach-system"
    assert latest.history_change_reason == "Overdue: no response by 20 May 2026"
    # A second run changes nothing.
    assert tasks.mark_overdue_referrals_task() == 0
    assert flagged.history.count() == 2


def test_the_daily_digest_goes_to_each_coordinator_with_an_email(board, coordinator, make_staff):
    org = coordinator.organisation
    no_email = make_staff(org, StaffMember.Role.COORDINATOR, user__email="")
    make_staff(org, StaffMember.Role.NURSE)
    assert tasks.send_referral_digests_task() == 1
    digest = Message.objects.get(recipient_user=coordinator.user)
    assert digest.channel == "email"
    assert digest.to == coordinator.user.email
    assert digest.status == Message.Status.SCHEDULED
    assert "1 referrals are past their response date" in digest.body
    assert not Message.objects.filter(recipient_user=no_email.user).exists()
    # Once a day.
    assert services.send_overdue_digests() == 0


def test_the_digest_uses_the_template_when_there_is_one(board, coordinator):
    factories.MessageTemplateFactory(
        purpose="referral_digest",
        channel="email",
        subject="{{ count }} to chase",
        body="Hello {{ first_name }}, {{ count }} overdue.",
    )
    services.send_overdue_digests()
    digest = Message.objects.get(recipient_user=coordinator.user)
    assert digest.subject == "1 to chase"
    assert digest.body == f"Hello {coordinator.user.first_name}, 1 overdue."


def test_a_malformed_filter_is_a_400(coordinator_client):
    assert_error(coordinator_client.get(f"{WORKLISTS}overdue/?destination=abc"), 400, "invalid")
