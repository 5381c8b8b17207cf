"""Referrals in every status, each walked through the state machine so it has a timeline."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from clinics.models import Organisation, Patient
from outreach.models import Booking, VisitOutcome
from outreach.services import local_datetime, london
from referrals.demo.cohorts import COHORTS
from referrals.demo.messages import Outbox, build_referral_update
from referrals.demo.programmes import SERIES_BY_KEY
from referrals.demo.records import Demo, PlannedBooking, move, save_new
from referrals.demo.stories import REFERRALS, ReferralSpec
from referrals.models import Referral, ReferralChase
from referrals.services import move_referral

RS = Referral.Status


# Results that lead straight to a referral: (service, result): (destination, priority, reason).
_FROM_RESULTS = {
    ("dry-blood-spot", VisitOutcome.Result.REACTIVE): (
        "hep_c",
        Referral.Priority.URGENT,
        "Reactive dry blood spot test for hepatitis C antibodies on {day}; needs an RNA test "
        "and treatment.",
    ),
    ("cervical-screening", VisitOutcome.Result.ABNORMAL): (
        "colposcopy",
        Referral.Priority.TWO_WEEK_WAIT,
        "Cervical screening on {day}: HPV positive with abnormal cytology.",
    ),
    ("eye-test", VisitOutcome.Result.ABNORMAL): (
        "optometry",
        Referral.Priority.ROUTINE,
        "Eye test on the bus on {day} found reduced vision; needs a full sight test and glasses.",
    ),
}


@dataclass
class _Planned:
    spec: ReferralSpec
    patient: Patient
    organisation: Organisation
    item: PlannedBooking | None


def build_referrals(demo: Demo, outbox: Outbox) -> None:
    """Draft each referral with consent recorded, then move it along its path."""
    planned: list[_Planned] = []
    taken: set[tuple[int, str]] = set()
    for spec in REFERRALS:
        patient = next(
            (p for p in demo.cohorts[spec.cohort] if p.preferred_name == spec.person), None
        )
        if patient is None:
            continue
        organisation = demo.orgs[COHORTS[spec.cohort].organisation]
        planned.append(_Planned(spec, patient, organisation, _last_visit(demo, patient)))
        taken.add((patient.pk, spec.destination))
    for item in demo.plan:
        rule = _FROM_RESULTS.get((item.service.code, item.result))
        if item.status != Booking.Status.FULFILLED or rule is None:
            continue
        if (item.patient.pk, rule[0]) in taken:
            continue
        taken.add((item.patient.pk, rule[0]))
        day = item.session.occurrence_date
        spec = ReferralSpec(
            SERIES_BY_KEY[item.series_key].cohort,
            item.patient.preferred_name,
            rule[0],
            "",
            _path_for_age((demo.today - day).days),
            (demo.today - day).days - 1,
            rule[2].format(day=f"{day.day} {day:%B}"),
            priority=rule[1],
            outcome_notes="Treatment started." if rule[0] == "hep_c" else "",
        )
        planned.append(_Planned(spec, item.patient, item.session.organisation, item))
    for entry in planned:
        _ensure_referral(demo, outbox, entry)


def _path_for_age(days: int) -> tuple[str, ...]:
    """How far a referral made `days` ago has got: results referrals move briskly."""
    if days <= 3:
        return ()
    if days <= 9:
        return (RS.SENT,)
    if days <= 15:
        return (RS.SENT, RS.ACCEPTED)
    if days <= 21:
        return (RS.SENT, RS.ACCEPTED, RS.BOOKED)
    return (RS.SENT, RS.ACCEPTED, RS.BOOKED, RS.ATTENDED)


def _last_visit(demo: Demo, patient: Patient) -> PlannedBooking | None:
    seen = [
        item
        for item in demo.plan
        if item.patient.pk == patient.pk
        and item.status == Booking.Status.FULFILLED
        and item.key in demo.bookings
    ]
    return max(seen, key=lambda item: item.starts_at) if seen else None


def _ensure_referral(demo: Demo, outbox: Outbox, entry: _Planned) -> None:
    spec = entry.spec
    destination = demo.destinations[spec.destination]
    existing = Referral.objects.filter(
        organisation=entry.organisation,
        patient=entry.patient,
        destination=destination,
        reason=spec.reason,
    ).first()
    if existing is not None:
        return
    visit = entry.item
    drafted_on = demo.today - timedelta(days=max(spec.days_ago, 0))
    if spec.referrer:
        referrer = demo.users[spec.referrer]
        drafted_at = demo.at(drafted_on, time(12, 0))
        if visit is not None and visit.settled_at and visit.settled_at > drafted_at:
            visit = None  # the visit came after the referral, so it was not the source
    else:
        # A result referral is made by the clinician as the person leaves: two taps.
        referrer = visit.clinician
        drafted_at = demo.past(visit.settled_at + timedelta(minutes=10))
    booking = demo.bookings.get(visit.key) if visit else None
    outcome = VisitOutcome.objects.filter(booking=booking).first() if booking else None
    referral = save_new(
        Referral(
            organisation=entry.organisation,
            patient=entry.patient,
            destination=destination,
            source_session=visit.session if visit else None,
            source_booking=booking,
            source_outcome=outcome,
            referrer=referrer,
            reason=spec.reason,
            priority=spec.priority,
            consent_to_share=True,
            consent_method=_consent_method(spec),
            consent_recorded_by=referrer,
            consent_recorded_at=drafted_at,
        ),
        by=referrer,
        reason="Referral drafted; consent to share recorded",
        when=drafted_at,
    )
    sent_at = demo.past(drafted_at + timedelta(minutes=30))
    moment = sent_at
    for step in spec.path:
        changes, moment, note = _step(demo, referral, step, sent_at, moment, spec)
        referral = move(
            move_referral, referral, step, by=referrer, reason=note, when=moment, **changes
        )
        if step == RS.BOOKED:
            build_referral_update(outbox, referral, moment)
    if referral.status == RS.SENT and referral.due_date:
        _chase(demo, referral, spec.chases, after=referral.due_date)
    elif spec.chases:
        _chase(demo, referral, spec.chases, after=drafted_on + timedelta(days=2))


def _consent_method(spec: ReferralSpec) -> str:
    if spec.cohort == "wakefield":
        return Referral.ConsentMethod.WRITTEN
    return Referral.ConsentMethod.VERBAL


def _step(
    demo: Demo,
    referral: Referral,
    step: str,
    sent_at: datetime,
    previous: datetime,
    spec: ReferralSpec,
) -> tuple[dict[str, object], datetime, str]:
    """The changes, time and reason for one move; every time is in the past."""
    sent_on = sent_at.astimezone(london()).date()
    appointment = local_datetime(sent_on + timedelta(days=12), time(10, 30))
    if step == RS.SENT:
        due = referral.compute_due_date(sent_on)
        return {"sent_at": sent_at, "due_date": due}, sent_at, "Sent to the service"
    if step == RS.ACCEPTED:
        when = demo.past(sent_at + timedelta(days=2))
        return {"responded_at": when}, when, "The service accepted the referral"
    if step == RS.REJECTED:
        when = demo.past(sent_at + timedelta(days=3))
        changes = {
            "responded_at": when,
            "rejection_reason": spec.rejection_reason,
            "outcome_notes": spec.outcome_notes,
        }
        return changes, when, "The service turned the referral down"
    if step == RS.BOOKED:
        when = demo.past(sent_at + timedelta(days=4))
        return {"appointment_at": appointment}, when, "The service booked an appointment"
    if step == RS.ATTENDED:
        when = demo.past(appointment)
        return {"attended_at": when}, when, "Attended the appointment"
    if step == RS.CLOSED:
        when = demo.past(appointment + timedelta(days=2))
        changes = {"closed_at": when, "outcome_notes": spec.outcome_notes}
        return changes, when, "Outcome received; referral closed"
    when = demo.past(previous + timedelta(days=1 if step == RS.WITHDRAWN else 14))
    changes = {"closed_at": when, "outcome_notes": spec.outcome_notes}
    note = "Withdrawn at the person's request" if step == RS.WITHDRAWN else "Lost to follow-up"
    return changes, when, note


def _chase(demo: Demo, referral: Referral, count: int, *, after: date) -> None:
    outcomes = [
        ReferralChase.Outcome.NO_ANSWER,
        ReferralChase.Outcome.LEFT_MESSAGE,
        ReferralChase.Outcome.AWAITING,
    ]
    for number in range(count):
        chased_at = demo.at(after + timedelta(days=1 + 3 * number), time(14, 0))
        ReferralChase.objects.get_or_create(
            referral=referral,
            chased_at=chased_at,
            defaults={
                "chased_by": referral.referrer,
                "channel": ReferralChase.Channel.PHONE,
                "outcome": outcomes[number % len(outcomes)],
                "notes": "Chased for a decision; will try again in three days.",
            },
        )
