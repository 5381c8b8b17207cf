"""The database refuses what the referrals models forbid, whatever the Python code above it does.

Rows are written with `queryset.update()` so no service or validator stands between the test and
the schema.
"""

from collections.abc import Callable
from typing import Any

import factory
import pytest
from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.db.models import F

from referrals.models import Destination, ReferralRule
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories give every user a password; the production hasher costs ~0.25 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


AT = factories.BASE_TIME

Values = dict[str, Any] | Callable[[models.Model], dict[str, Any]]


def _values(values: Values, obj: models.Model) -> dict[str, Any]:
    return values(obj) if callable(values) else values


class ReferralRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReferralRule

    service_code = factory.Sequence(lambda n: f"service-{n}")
    result = "reactive"
    destination_category = "hepatitis_c"
    reason = "Reactive test"


def _another_referral(referral: models.Model) -> dict[str, Any]:
    return {"previous_referral": factories.ReferralFactory(patient=referral.patient)}


SENT = {"sent_at": AT}
NO_CONSENT = {"consent_to_share": False, "consent_method": "", "consent_recorded_at": None}

# (constraint, factory, a row it refuses, a boundary row it accepts)
CHECK_CASES = [
    ("destination_category_valid", factories.DestinationFactory, {"category": "spa"},
     {"category": "other"}),
    ("destination_route_valid", factories.DestinationFactory, {"route": "fax"},
     {"route": "walk_in"}),
    ("destination_response_target_range", factories.DestinationFactory,
     {"response_target_days": 0}, {"response_target_days": 1}),
    ("destination_response_target_range", factories.DestinationFactory,
     {"response_target_days": 366}, {"response_target_days": 365}),
    ("referral_status_valid", factories.ReferralFactory, {"status": "pending"},
     {"status": "closed", **SENT}),
    ("referral_priority_valid", factories.ReferralFactory, {"priority": "asap"},
     {"priority": "two_week_wait"}),
    ("referral_rejection_has_reason", factories.ReferralFactory,
     {"status": "rejected", **SENT, "rejection_reason": ""},
     {"status": "rejected", **SENT, "rejection_reason": "no_capacity"}),
    ("referral_sent_has_consent", factories.ReferralFactory,
     {"status": "sent", **SENT, **NO_CONSENT}, {"status": "draft", **NO_CONSENT}),
    ("referral_sent_has_consent", factories.ReferralFactory,
     {"status": "sent", **SENT, "consent_to_share": True, "consent_recorded_at": None},
     {"status": "sent", **SENT, "consent_to_share": True, "consent_recorded_at": AT}),
    ("referral_sent_has_consent", factories.ReferralFactory,
     {"status": "withdrawn", **SENT, **NO_CONSENT},
     {"status": "withdrawn", "sent_at": None, **NO_CONSENT}),
    ("referral_sent_has_consent", factories.ReferralFactory,
     {"status": "lost_to_follow_up", **SENT, **NO_CONSENT},
     {"status": "lost_to_follow_up", **SENT}),
    ("referral_sent_has_time", factories.ReferralFactory, {"status": "sent", "sent_at": None},
     {"status": "withdrawn", "sent_at": None}),
    ("referral_sent_has_time", factories.ReferralFactory,
     {"status": "accepted", "sent_at": None}, {"status": "accepted", **SENT}),
    ("referral_sent_has_time", factories.ReferralFactory,
     {"status": "rejected", "rejection_reason": "duplicate", "sent_at": None},
     {"status": "rejected", "rejection_reason": "duplicate", **SENT}),
    ("referral_sent_has_time", factories.ReferralFactory, {"status": "booked", "sent_at": None},
     {"status": "booked", **SENT}),
    ("referral_sent_has_time", factories.ReferralFactory,
     {"status": "attended", "sent_at": None}, {"status": "attended", **SENT}),
    ("referral_sent_has_time", factories.ReferralFactory, {"status": "closed", "sent_at": None},
     {"status": "closed", **SENT}),
    ("referral_not_its_own_previous", factories.ReferralFactory,
     {"previous_referral_id": F("id")}, _another_referral),
    ("referralchase_channel_valid", factories.ReferralChaseFactory, {"channel": "fax"},
     {"channel": "in_person"}),
    ("referralchase_outcome_valid", factories.ReferralChaseFactory, {"outcome": "maybe"},
     {"outcome": "response"}),
    ("referralrule_result_valid", ReferralRuleFactory, {"result": "positive"},
     {"result": "abnormal"}),
    ("referralrule_category_valid", ReferralRuleFactory, {"destination_category": "spa"},
     {"destination_category": "colposcopy"}),
    ("referralrule_priority_valid", ReferralRuleFactory, {"priority": "asap"},
     {"priority": "two_week_wait"}),
    ("backgroundjob_kind_valid", factories.BackgroundJobFactory, {"kind": "bake"},
     {"kind": "directory_import"}),
    ("backgroundjob_status_valid", factories.BackgroundJobFactory, {"status": "paused"},
     {"status": "running"}),
    ("backgroundjob_progress_within_total", factories.BackgroundJobFactory,
     {"progress_done": 5, "progress_total": 4}, {"progress_done": 4, "progress_total": 4}),
    ("backgroundjob_failure_has_message", factories.BackgroundJobFactory,
     {"status": "failed", "finished_at": AT, "error_message": ""},
     {"status": "failed", "finished_at": AT, "error_message": "The file is not valid JSON."}),
    ("backgroundjob_finished_has_time", factories.BackgroundJobFactory,
     {"status": "done", "finished_at": None}, {"status": "done", "finished_at": AT}),
]  # fmt: skip

UNIQUE_TESTED = {"destination_unique_name_area", "referralrule_unique"}


def _case_id(case: tuple) -> str:
    name, _, refused, _ = case
    return name + ":" + ",".join(f"{field}={value}" for field, value in refused.items())


CASE_IDS = [_case_id(case) for case in CHECK_CASES]


@pytest.mark.parametrize(("name", "factory", "refused", "accepted"), CHECK_CASES, ids=CASE_IDS)
def test_check_constraint_refuses_a_violating_row(name, factory, refused, accepted):
    obj = factory()
    with pytest.raises(IntegrityError, match=name), transaction.atomic():
        type(obj).objects.filter(pk=obj.pk).update(**_values(refused, obj))


@pytest.mark.parametrize(("name", "factory", "refused", "accepted"), CHECK_CASES, ids=CASE_IDS)
def test_check_constraint_accepts_the_boundary_row(name, factory, refused, accepted):
    obj = factory()
    values = _values(accepted, obj)
    assert type(obj).objects.filter(pk=obj.pk).update(**values) == 1
    obj.refresh_from_db()
    for field, value in values.items():
        assert getattr(obj, field) == value, field


def test_every_referrals_constraint_has_a_test():
    declared = {
        constraint.name
        for model in apps.get_app_config("referrals").get_models()
        for constraint in model._meta.constraints
    }
    assert declared == {case[0] for case in CHECK_CASES} | UNIQUE_TESTED


def test_a_destination_name_is_unique_within_its_area():
    factories.DestinationFactory(name="Hep C service", area="Peterborough")
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        factories.DestinationFactory(name="Hep C service", area="Peterborough")


def test_a_destination_name_is_unique_among_those_with_no_area():
    factories.DestinationFactory(name="Hep C service", area="")
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        factories.DestinationFactory(name="Hep C service", area="")


def test_the_same_destination_name_may_serve_different_areas():
    factories.DestinationFactory(name="Hep C service", area="Peterborough")
    factories.DestinationFactory(name="Hep C service", area="Fenland")
    factories.DestinationFactory(name="Hep C service", area="")
    assert Destination.objects.filter(name="Hep C service").count() == 3


def test_a_result_suggests_a_destination_category_only_once():
    rule = {"service_code": "eye-test", "result": "abnormal"}
    ReferralRuleFactory(**rule, destination_category="optometry")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferralRuleFactory(
            service_code="eye-test", result="abnormal", destination_category="optometry"
        )
