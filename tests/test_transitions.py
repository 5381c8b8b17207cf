"""Every (from, to) status pair, walked through the services against each model's table.

An allowed move succeeds and leaves a history row saying who and why; any other move raises
IllegalTransition listing the moves that are allowed, and leaves the row as it was.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import product
from typing import Any

import pytest
import time_machine
from django.db import models
from django.forms.models import model_to_dict

from clinics.domain import DomainError, IllegalTransition, move_status
from outreach.models import Booking, Message, OutreachSession
from outreach.services import move_booking, move_session
from referrals.models import Referral
from referrals.services import move_referral
from tests import factories

pytestmark = pytest.mark.django_db

AT = factories.BASE_TIME
REASON = "Table-driven transition test"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories give every user a password; the production hasher costs ~0.25 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# What a row needs to be in each status (the check constraints), and what a move into a status
# must bring with it.
BOOKING_IN = {
    Booking.Status.ARRIVED: {"arrived_at": AT},
    Booking.Status.FULFILLED: {"arrived_at": AT},
    Booking.Status.CANCELLED: {"cancelled_by": "patient", "cancellation_reason": "Unwell."},
}
BOOKING_TO = {Booking.Status.CANCELLED: {"cancelled_by": "patient", "cancellation_reason": "Ill."}}
SESSION_IN = {OutreachSession.Status.CANCELLED: {"cancellation_reason": "Flat tyre."}}
SESSION_TO = SESSION_IN
_SENT = {"sent_at": AT}
REFERRAL_IN = {
    Referral.Status.SENT: _SENT,
    Referral.Status.ACCEPTED: _SENT,
    Referral.Status.REJECTED: {**_SENT, "rejection_reason": "no_capacity"},
    Referral.Status.BOOKED: _SENT,
    Referral.Status.ATTENDED: _SENT,
    Referral.Status.CLOSED: _SENT,
    Referral.Status.LOST: _SENT,
}
REFERRAL_TO = {Referral.Status.REJECTED: {"rejection_reason": "not_eligible"}}
MESSAGE_IN = {
    Message.Status.SENT: {"sent_at": AT},
    Message.Status.DELIVERED: {"sent_at": AT, "delivered_at": AT},
    Message.Status.SUPPRESSED: {"suppressed_reason": "opted_out"},
}
MESSAGE_TO = MESSAGE_IN


def _move_message(message: Message, to: str, *, by: Any, reason: str, **changes: Any) -> Message:
    # Messages have no status service of their own yet; the shared helper is what moves them.
    return move_status(
        message, to, table=Message.NEXT_STATUSES, by=by, reason=reason, changes=changes
    )


MODELS: dict[str, tuple[type[models.Model], Callable, Callable, dict, dict]] = {
    "booking": (Booking, factories.BookingFactory, move_booking, BOOKING_IN, BOOKING_TO),
    "session": (OutreachSession, factories.OutreachSessionFactory, move_session, SESSION_IN,
                SESSION_TO),
    "referral": (Referral, factories.ReferralFactory, move_referral, REFERRAL_IN, REFERRAL_TO),
    "message": (Message, factories.MessageFactory, _move_message, MESSAGE_IN, MESSAGE_TO),
}  # fmt: skip
HISTORY_KEPT = {"booking", "session", "referral"}

PAIRS = [
    pytest.param(name, start, to, id=f"{name}:{start}->{to}")
    for name, (model, *_) in MODELS.items()
    for start, to in product(model.Status.values, repeat=2)
    if to in model.NEXT_STATUSES[start]
]
REFUSED_PAIRS = [
    pytest.param(name, start, to, id=f"{name}:{start}->{to}")
    for name, (model, *_) in MODELS.items()
    for start, to in product(model.Status.values, repeat=2)
    if to not in model.NEXT_STATUSES[start]
]


def _in_status(name: str, status: str) -> models.Model:
    _, factory, _, needs, _ = MODELS[name]
    return factory(status=status, **needs.get(status, {}))


def _row(obj: models.Model) -> dict[str, Any]:
    fresh = type(obj).objects.get(pk=obj.pk)
    return {**model_to_dict(fresh), "updated_at": getattr(fresh, "updated_at", None)}


@pytest.mark.parametrize(("name", "start", "to"), PAIRS)
def test_an_allowed_move_succeeds_with_history_of_who_and_why(name, start, to):
    model, _, move, _, brings = MODELS[name]
    obj = _in_status(name, start)
    user = factories.UserFactory()
    history_before = obj.history.count() if name in HISTORY_KEPT else 0

    moved = move(obj, to, by=user, reason=REASON, **brings.get(to, {}))

    assert moved.status == to
    assert model.objects.get(pk=obj.pk).status == to
    if name in HISTORY_KEPT:
        assert obj.history.count() == history_before + 1
        latest = obj.history.first()
        assert (latest.status, latest.history_change_reason) == (to, REASON)
        assert latest.history_user == user


@pytest.mark.parametrize(("name", "start", "to"), REFUSED_PAIRS)
def test_a_move_not_in_the_table_is_refused_and_changes_nothing(name, start, to):
    model, _, move, _, brings = MODELS[name]
    obj = _in_status(name, start)
    before = _row(obj)
    history_before = obj.history.count() if name in HISTORY_KEPT else 0

    with pytest.raises(IllegalTransition) as error:
        move(obj, to, by=factories.UserFactory(), reason=REASON, **brings.get(to, {}))

    assert error.value.code == "illegal_transition"
    assert error.value.status_code == 409
    assert error.value.extra == {
        "current": start,
        "requested": to,
        "allowed": sorted(model.NEXT_STATUSES[start]),
    }
    assert _row(obj) == before
    if name in HISTORY_KEPT:
        assert obj.history.count() == history_before


@pytest.mark.parametrize("name", MODELS)
def test_an_unknown_status_is_refused(name):
    obj = _in_status(name, MODELS[name][0].Status.values[0])
    with pytest.raises(IllegalTransition):
        MODELS[name][2](obj, "bogus", by=None, reason=REASON)


def test_the_refusal_message_names_the_allowed_moves():
    booking = _in_status("booking", Booking.Status.FULFILLED)
    with pytest.raises(IllegalTransition, match="it can move to: entered-in-error"):
        move_booking(booking, Booking.Status.BOOKED, by=None, reason=REASON)
    final = _in_status("booking", Booking.Status.ENTERED_IN_ERROR)
    with pytest.raises(IllegalTransition, match="'entered-in-error' is final"):
        move_booking(final, Booking.Status.BOOKED, by=None, reason=REASON)


# --- The tables as data -------------------------------------------------------------------


FINAL = {
    Booking: {Booking.Status.ENTERED_IN_ERROR},
    OutreachSession: {OutreachSession.Status.COMPLETED, OutreachSession.Status.CANCELLED},
    Referral: {
        Referral.Status.REJECTED,
        Referral.Status.CLOSED,
        Referral.Status.WITHDRAWN,
        Referral.Status.LOST,
    },
    Message: {
        Message.Status.DELIVERED,
        Message.Status.CANCELLED,
        Message.Status.SUPPRESSED,
        Message.Status.EXPIRED,
    },
}


@pytest.mark.parametrize("model", FINAL, ids=lambda model: model.__name__)
def test_every_status_has_a_row_and_every_target_is_a_status(model):
    statuses = set(model.Status.values)
    assert set(model.NEXT_STATUSES) == statuses
    for targets in model.NEXT_STATUSES.values():
        assert targets <= statuses


@pytest.mark.parametrize("model", FINAL, ids=lambda model: model.__name__)
def test_only_the_final_statuses_lead_nowhere(model):
    assert {status for status, targets in model.NEXT_STATUSES.items() if not targets} == FINAL[
        model
    ]


@pytest.mark.parametrize("model", FINAL, ids=lambda model: model.__name__)
def test_every_status_can_be_reached_from_the_one_a_row_starts_in(model):
    start = model._meta.get_field("status").default
    reached, frontier = {start}, [start]
    while frontier:
        for target in model.NEXT_STATUSES[frontier.pop()]:
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(model.Status.values)


def test_only_a_scheduled_message_may_be_rescheduled_in_place():
    assert [s for s, targets in Message.NEXT_STATUSES.items() if s in targets] == [
        Message.Status.SCHEDULED
    ]
    for model in (Booking, OutreachSession, Referral):
        assert not any(s in targets for s, targets in model.NEXT_STATUSES.items())


# --- Referrals: consent and due dates -------------------------------------------------------


@pytest.mark.parametrize(
    "no_consent",
    [
        {"consent_to_share": False, "consent_method": "", "consent_recorded_at": None},
        {"consent_to_share": True, "consent_recorded_at": None},
        {"consent_to_share": False, "consent_recorded_at": AT},
    ],
    ids=["never-asked", "consent-not-recorded", "refused"],
)
def test_a_referral_cannot_be_sent_without_recorded_consent(no_consent):
    referral = factories.ReferralFactory(**no_consent)
    before = _row(referral)
    with pytest.raises(DomainError) as error:
        move_referral(referral, Referral.Status.SENT, by=factories.UserFactory(), reason="Send")
    assert error.value.code == "consent_required"
    assert _row(referral) == before


@pytest.mark.parametrize(
    ("priority", "target_days", "due_in_days"),
    [
        (Referral.Priority.ROUTINE, 14, 14),
        (Referral.Priority.ROUTINE, 30, 30),
        (Referral.Priority.URGENT, 14, 2),
        (Referral.Priority.URGENT, 1, 1),
        (Referral.Priority.TWO_WEEK_WAIT, 30, 14),
        (Referral.Priority.TWO_WEEK_WAIT, 7, 7),
    ],
)
def test_sending_a_referral_stamps_the_time_and_the_due_date(priority, target_days, due_in_days):
    referral = factories.ReferralFactory(
        priority=priority,
        destination=factories.DestinationFactory(response_target_days=target_days),
    )
    with time_machine.travel(AT, tick=False):
        sent = move_referral(referral, Referral.Status.SENT, by=None, reason="Sent by NHSmail")
    sent.refresh_from_db()
    assert sent.sent_at == AT
    assert sent.due_date == AT.date() + timedelta(days=due_in_days)


def test_the_due_date_counts_from_the_day_in_london():
    referral = factories.ReferralFactory(priority=Referral.Priority.URGENT)
    # 23:30 UTC on 31 May is 00:30 on 1 June in London: the referral went on 1 June.
    with time_machine.travel(datetime(2026, 5, 31, 23, 30, tzinfo=UTC), tick=False):
        sent = move_referral(referral, Referral.Status.SENT, by=None, reason="Sent")
    assert sent.due_date == date(2026, 6, 3)


@pytest.mark.parametrize(
    ("start", "to", "stamped"),
    [
        (Referral.Status.SENT, Referral.Status.ACCEPTED, "responded_at"),
        (Referral.Status.SENT, Referral.Status.REJECTED, "responded_at"),
        (Referral.Status.BOOKED, Referral.Status.ATTENDED, "attended_at"),
        (Referral.Status.ATTENDED, Referral.Status.CLOSED, "closed_at"),
        (Referral.Status.DRAFT, Referral.Status.WITHDRAWN, "closed_at"),
        (Referral.Status.SENT, Referral.Status.LOST, "closed_at"),
    ],
)
def test_each_referral_move_stamps_its_time(start, to, stamped):
    referral = _in_status("referral", start)
    later = AT + timedelta(days=3)
    with time_machine.travel(later, tick=False):
        moved = move_referral(referral, to, by=None, reason=REASON, **REFERRAL_TO.get(to, {}))
    moved.refresh_from_db()
    assert getattr(moved, stamped) == later


def test_checking_in_stamps_the_arrival_once():
    booking = _in_status("booking", Booking.Status.BOOKED)
    with time_machine.travel(AT, tick=False):
        arrived = move_booking(booking, Booking.Status.ARRIVED, by=None, reason="Checked in")
    with time_machine.travel(AT + timedelta(minutes=20), tick=False):
        seen = move_booking(arrived, Booking.Status.FULFILLED, by=None, reason="Seen")
    seen.refresh_from_db()
    assert seen.arrived_at == AT
