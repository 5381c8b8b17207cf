"""The same code sent twice at once is accepted once (PostgreSQL, real threads)."""

import pytest
import time_machine
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinics import two_factor
from tests import factories
from tests.api_support import NOW, current_code
from tests.referrals.test_races import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("round_number", range(3))
def test_one_authenticator_code_sent_twice_at_once_is_accepted_once(round_number):
    user = factories.StaffMemberFactory(role="coordinator").user
    device = TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)

    with time_machine.travel(NOW, tick=False):
        code = current_code(device)
        results = run_at_once([lambda: two_factor.verify_code(user, code)] * 2)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(result is not None for result in results) == 1


@pytest.mark.parametrize("round_number", range(3))
def test_one_backup_code_used_twice_at_once_lets_in_once(round_number):
    user = factories.StaffMemberFactory(role="coordinator").user
    code = two_factor.replace_backup_codes(user)[0]

    results = run_at_once([lambda: two_factor.verify_code(user, code)] * 2)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(result is not None for result in results) == 1
    assert two_factor.backup_codes_left(user) == 9
