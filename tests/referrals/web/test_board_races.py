"""Two coordinators pressing a button on the same referral at once, through the web pages.

Transactional tests on PostgreSQL with real threads, each with its own signed-in client: the
one who commits second is shown the "someone else moved it" page, and nothing is overwritten.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from clinics.governance import AccessLogEntry
from referrals.models import Referral
from tests import factories
from tests.api_support import TwoFactorClient
from tests.referrals.conftest import NOW
from tests.referrals.test_races import _coordinator, run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_accept_and_withdraw_at_once_one_wins_and_the_other_is_told():
    organisation = factories.OrganisationFactory()
    referral = factories.ReferralFactory(
        organisation=organisation,
        status=Referral.Status.SENT,
        sent_at=NOW - timedelta(days=3),
        due_date=(NOW + timedelta(days=10)).date(),
    )
    clients = []
    for _ in range(2):
        # Coordinators sign in with two factors: past both, as after the first day.
        client = TwoFactorClient()
        client.force_login(_coordinator(organisation).user)
        clients.append(client)

    def press(client: Client, to: str, **fields: str):
        def call():
            data = {f"move-{to}-expected_status": "sent"}
            data.update({f"move-{to}-{name}": value for name, value in fields.items()})
            return client.post(reverse("board-referral-move", args=[referral.pk, to]), data)

        return call

    accept, withdraw = run_at_once(
        [
            press(clients[0], Referral.Status.ACCEPTED),
            press(clients[1], Referral.Status.WITHDRAWN, reason="Moved out of the area"),
        ]
    )
    codes = sorted([accept.status_code, withdraw.status_code])
    assert codes == [302, 409], (accept, withdraw)
    loser = accept if accept.status_code == 409 else withdraw
    assert "Someone else moved this referral" in loser.content.decode()
    referral.refresh_from_db()
    winner_status = (
        Referral.Status.ACCEPTED if accept.status_code == 302 else Referral.Status.WITHDRAWN
    )
    assert referral.status == winner_status
    moves = referral.history.exclude(status=Referral.Status.SENT).count()
    assert moves == 1
    # The page shown to the one who lost is a read of the person, logged in the same chain.
    assert list(AccessLogEntry.objects.values_list("action", "patient_id")) == [
        (AccessLogEntry.Action.VIEW, referral.patient_id)
    ]
