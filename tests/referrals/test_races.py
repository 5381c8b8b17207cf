"""Two coordinators acting on the same referral at once: one wins, the other gets 409.

Transactional tests on PostgreSQL with real threads, each with its own connection and its own
signed-in client, released together at a barrier. Each coordinator says which status they saw
(`expected_status`): without it, "accept" then "withdraw" is a legal sequence and both would
rightly succeed one after the other. With it, whoever commits second finds the referral moved
on, is refused, and the history shows exactly the winner's change.
"""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client

from clinics.models import StaffMember
from referrals.models import Referral
from tests import factories
from tests.api_support import TwoFactorClient
from tests.referrals.conftest import NOW

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREAD_TIMEOUT_SECONDS = 60
ROUNDS = 5


def run_at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls), timeout=THREAD_TIMEOUT_SECONDS)
    results: list[Any] = [None] * len(calls)

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            results[index] = call()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c), daemon=True) for i, c in
               enumerate(calls)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT_SECONDS)
    assert not any(thread.is_alive() for thread in threads)
    return results


def _coordinator(organisation) -> StaffMember:
    staff = factories.StaffMemberFactory(
        organisation=organisation, role=StaffMember.Role.COORDINATOR
    )
    staff.user.groups.add(Group.objects.get(name=staff.group_name))
    return staff


def _client(staff: StaffMember) -> Client:
    client = TwoFactorClient()
    client.force_login(staff.user)
    return client


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_accept_and_withdraw_at_once_one_wins_the_other_gets_409(round_number):
    organisation = factories.OrganisationFactory()
    first, second = _coordinator(organisation), _coordinator(organisation)
    referral = factories.ReferralFactory(
        organisation=organisation, status=Referral.Status.SENT, sent_at=NOW
    )
    url = f"/api/v1/referrals/{referral.pk}/"
    accept_client, withdraw_client = _client(first), _client(second)

    responses = run_at_once(
        [
            lambda: accept_client.post(
                url + "accept/", {"expected_status": "sent"}, content_type="application/json"
            ),
            lambda: withdraw_client.post(
                url + "withdraw/",
                {"expected_status": "sent", "reason": "Duplicate"},
                content_type="application/json",
            ),
        ]
    )

    assert not [r for r in responses if isinstance(r, Exception)], responses
    codes = sorted(response.status_code for response in responses)
    assert codes == [200, 409], [r.content for r in responses]
    winner = 0 if responses[0].status_code == 200 else 1
    loser = responses[1 - winner]
    assert loser.json()["code"] in {"stale_status", "illegal_transition"}
    final = {0: Referral.Status.ACCEPTED, 1: Referral.Status.WITHDRAWN}[winner]
    referral.refresh_from_db()
    assert referral.status == final
    # The history: created, then the winner's one change, by the winner.
    entries = list(referral.history.order_by("history_date", "history_id"))
    assert [entry.status for entry in entries] == [Referral.Status.SENT, final]
    assert entries[-1].history_user == (first.user if winner == 0 else second.user)
