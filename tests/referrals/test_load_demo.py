"""load_demo builds a coherent demo, and running it again changes nothing."""

from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinics.models import ContactPoint, Patient, StaffMember
from clinics.validators import nhs_number_is_valid
from outreach.models import (
    Audience,
    Booking,
    Message,
    OutreachSession,
    StaffAssignment,
    VisitOutcome,
)
from referrals.demo import DEMO_LOGINS, DEMO_PASSWORD, SUPERUSER
from referrals.management.commands.demo_logins import demo_key_base32
from referrals.models import Referral, ReferralChase

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# A Wednesday in June, and the Thursday before the clocks go forward on 29 March 2026.
SUMMER_DAY = datetime(2026, 6, 10, 9, 30, tzinfo=LONDON)
CLOCK_CHANGE_WEEK = datetime(2026, 3, 26, 16, 45, tzinfo=LONDON)
USERNAMES = [spec.username for spec in [*DEMO_LOGINS, SUPERUSER]]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", force=True, stdout=out)
    return out.getvalue()


def fingerprint() -> dict[str, list[dict[str, Any]]]:
    """Every row of the three apps (history and many-to-many tables included) and of auth."""
    user_model = get_user_model()
    models = [
        model
        for label in ("clinics", "outreach", "referrals")
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    ]
    models += [user_model, user_model.groups.through, Group]
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values()) for model in models
    }


def assert_second_run_changes_nothing() -> None:
    first_output = load_demo()
    first = fingerprint()
    second_output = load_demo()
    second = fingerprint()
    assert "Demo data loaded." in first_output
    assert "nothing to change" in second_output
    assert {label: len(rows) for label, rows in second.items()} == {
        label: len(rows) for label, rows in first.items()
    }
    for label, rows in first.items():
        assert second[label] == rows, f"{label} changed on the second run"
    history_tables = [label for label in first if ".Historical" in label]
    assert history_tables, "the fingerprint should include the history tables"


def assert_every_status_appears() -> None:
    for model, statuses in [
        (Booking, Booking.Status),
        (Referral, Referral.Status),
        (Message, Message.Status),
        (OutreachSession, OutreachSession.Status),
    ]:
        present = set(model.objects.values_list("status", flat=True))
        assert present == set(statuses.values), model.__name__
    assert set(Booking.objects.values_list("source", flat=True)) == set(Booking.Source.values)


def assert_bookings_keep_the_invariants() -> None:
    active = list(Booking.objects.active().select_related("session", "patient", "service_type"))
    for booking in Booking.objects.select_related("session", "patient", "service_type"):
        session = booking.session
        slot = timedelta(minutes=session.slot_minutes)
        assert 1 <= booking.lane <= session.lanes
        assert session.starts_at <= booking.starts_at < booking.ends_at <= session.ends_at
        assert (booking.starts_at - session.starts_at) % slot == timedelta(0)
        assert (booking.ends_at - booking.starts_at) % slot == timedelta(0)
        assert session.services.filter(pk=booking.service_type_id).exists()
        on = timezone.localdate(session.starts_at)
        assert booking.service_type.eligibility_problem(booking.patient, on) is None
        if session.audience == Audience.WOMEN:
            assert booking.patient.sex == Patient.Sex.FEMALE
    for index, booking in enumerate(active):
        for other in active[index + 1 :]:
            overlaps = booking.starts_at < other.ends_at and other.starts_at < booking.ends_at
            same_lane = booking.session_id == other.session_id and booking.lane == other.lane
            assert not (overlaps and same_lane), f"{booking.pk} and {other.pk} share a lane"
            assert not (overlaps and booking.patient_id == other.patient_id)
            if booking.session_id == other.session_id:
                assert booking.patient_id != other.patient_id
    fulfilled = Booking.objects.filter(status=Booking.Status.FULFILLED)
    assert VisitOutcome.objects.count() == fulfilled.count()
    assert not fulfilled.filter(outcome__isnull=True).exists()
    results = set(VisitOutcome.objects.values_list("result", flat=True))
    assert {VisitOutcome.Result.REACTIVE, VisitOutcome.Result.ABNORMAL} <= results


def assert_sessions_keep_wall_clock_times() -> None:
    sessions = OutreachSession.objects.select_related("series")
    assert sessions.exists()
    for session in sessions:
        series = session.series
        starts = timezone.localtime(session.starts_at, LONDON)
        ends = timezone.localtime(session.ends_at, LONDON)
        assert starts.date() == session.occurrence_date
        assert (starts.time(), ends.time()) == (series.start_time, series.end_time)
        for assignment in session.assignments.all():
            assert (assignment.starts_at, assignment.ends_at) == (
                session.starts_at,
                session.ends_at,
            )
            assert assignment.is_live == (session.status != OutreachSession.Status.CANCELLED)
    today = timezone.localdate()
    assert (
        not sessions.filter(occurrence_date__lt=today)
        .exclude(status=OutreachSession.Status.COMPLETED)
        .exists()
    )
    cancelled = sessions.get(status=OutreachSession.Status.CANCELLED)
    assert cancelled.occurrence_date > today
    assert cancelled.cancellation_reason
    assert not StaffAssignment.objects.filter(session=cancelled, is_live=True).exists()


def assert_histories_tell_the_story() -> None:
    for referral in Referral.objects.exclude(status=Referral.Status.DRAFT):
        rows = list(referral.history.order_by("history_id"))
        assert len(rows) > 1, referral
        for row in rows:
            assert row.history_user is not None
            assert row.history_change_reason
    for model in (Referral, Booking, OutreachSession):
        for obj in model.objects.all():
            dates = list(obj.history.order_by("history_id").values_list("history_date", flat=True))
            assert dates == sorted(dates), f"{obj} has a timeline out of order"
            assert dates[-1] <= timezone.now()
    assert Referral.objects.overdue(timezone.localdate()).exists()
    assert ReferralChase.objects.exists()
    assert (
        not Referral.objects.exclude(status=Referral.Status.DRAFT)
        .filter(consent_to_share=False)
        .exists()
    )
    rejected = Referral.objects.filter(status=Referral.Status.REJECTED)
    assert rejected.exists()
    assert not rejected.filter(rejection_reason="").exists()


def assert_people_are_plausible() -> None:
    patients = Patient.objects.all()
    assert 50 <= patients.count() <= 70
    numbers = list(patients.exclude(nhs_number="").values_list("nhs_number", flat=True))
    assert numbers
    assert all(nhs_number_is_valid(number) and number.startswith("999") for number in numbers)
    assert not patients.filter(no_fixed_abode=True).exclude(postcode="").exists()
    assert patients.filter(housing_status=Patient.Housing.ROUGH_SLEEPING).exists()
    assert patients.filter(legal_name="").exists()
    assert len(set(patients.values_list("ethnicity", flat=True))) >= 5
    assert set(patients.values_list("gp_registration", flat=True)) == set(
        Patient.GPRegistration.values
    )
    points = ContactPoint.objects.all()
    assert points.filter(consent_given=True, opted_out_at__isnull=True).exists()
    assert points.filter(consent_given=False).exists()
    assert points.filter(opted_out_at__isnull=False).count() == 1
    discreet = Message.objects.filter(template__discreet=True)
    assert discreet.exists()
    for message in discreet.select_related("booking__session__venue", "booking__service_type"):
        assert message.booking.service_type.name.lower() not in message.body.lower()
        assert message.booking.session.venue.name not in message.body


def assert_logins_work(client: Any) -> None:
    user_model = get_user_model()
    expected_groups = {
        "nurse": "nurse",
        "hca": "nurse",
        "outreach": "nurse",
        "coordinator": "coordinator",
        "admin": "admin",
        "analyst": "analyst",
        "auditor": "auditor",
    }
    for username, group in expected_groups.items():
        user = user_model.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [group]
        assert user.is_staff
        assert not user.is_superuser
        assert user.staff.group_name == group
    assert user_model.objects.get(username="superuser").is_superuser
    for username in USERNAMES:
        assert client.login(username=username, password=DEMO_PASSWORD), username
        client.logout()
    # The screening nurse may see the sensitive clinics she runs; the outreach worker may not.
    assert user_model.objects.get(username="nurse").has_perm("clinics.view_sensitive_services")
    assert not user_model.objects.get(username="outreach").has_perm(
        "clinics.view_sensitive_services"
    )
    screeners = StaffMember.objects.filter(competencies__code="cervical-screening")
    assert [staff.user.username for staff in screeners] == ["nurse"]


def test_load_demo_twice_changes_nothing_and_covers_every_status(client: Any) -> None:
    with time_machine.travel(SUMMER_DAY, tick=False):
        assert_second_run_changes_nothing()
        assert_every_status_appears()
        assert_bookings_keep_the_invariants()
        assert_sessions_keep_wall_clock_times()
        assert_histories_tell_the_story()
        assert_people_are_plausible()
    assert_logins_work(client)
    out = StringIO()
    call_command("demo_logins", url="http://localhost:8123/", stdout=out)
    printed = out.getvalue()
    for username in USERNAMES:
        assert username in printed
    assert DEMO_PASSWORD in printed
    assert "http://localhost:8123/admin/" in printed
    assert_two_factor_logins_work(printed)


def assert_two_factor_logins_work(printed: str) -> None:
    """The roles that need two-factor have the demo authenticator, and its code is printed."""
    devices = TOTPDevice.objects.filter(confirmed=True)
    assert sorted(devices.values_list("user__username", flat=True)) == [
        "admin",
        "auditor",
        "coordinator",
        "superuser",
    ]
    assert demo_key_base32() in printed
    out = StringIO()
    call_command("demo_logins", code=True, stdout=out)
    code = out.getvalue().strip()
    assert len(code) == 6
    assert code.isdigit()
    assert devices.get(user__username="coordinator").verify_token(code)


def test_load_demo_in_the_clock_change_week() -> None:
    with time_machine.travel(CLOCK_CHANGE_WEEK, tick=False):
        assert_second_run_changes_nothing()
        assert_every_status_appears()
        assert_bookings_keep_the_invariants()
        assert_sessions_keep_wall_clock_times()
        assert_histories_tell_the_story()
        # 10:00 in London is 10:00 UTC before the clocks go forward and 09:00 UTC after.
        bus_stops = OutreachSession.objects.filter(series__name__endswith="Cathedral Square")
        assert {session.starts_at.astimezone(UTC).hour for session in bus_stops} == {9, 10}


def test_load_demo_refuses_without_force_when_debug_is_off(settings: Any) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("load_demo", stdout=StringIO())
    assert not get_user_model().objects.filter(username__in=USERNAMES).exists()


def test_demo_logins_says_so_when_the_demo_is_not_loaded() -> None:
    out = StringIO()
    call_command("demo_logins", stdout=out)
    assert "not loaded" in out.getvalue()
    assert "load_demo" in out.getvalue()
