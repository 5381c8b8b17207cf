"""The referrals the demo follows: between them they walk every status of the state machine."""

from dataclasses import dataclass

from referrals.models import Referral

RS = Referral.Status
_TO_CLOSE = (RS.SENT, RS.ACCEPTED, RS.BOOKED, RS.ATTENDED, RS.CLOSED)


@dataclass(frozen=True)
class ReferralSpec:
    cohort: str
    person: str
    destination: str
    referrer: str
    path: tuple[str, ...]
    days_ago: int
    reason: str
    priority: str = Referral.Priority.ROUTINE
    rejection_reason: str = ""
    outcome_notes: str = ""
    chases: int = 0


# Between them these walk every status; the worklists (overdue, accepted but not booked,
# attended but not closed) each have something in them.
REFERRALS: list[ReferralSpec] = [
    ReferralSpec(
        "peterborough",
        "Marta",
        "dental",
        "outreach",
        (),
        1,
        "Broken tooth, in pain for two weeks; not registered with a dentist.",
    ),
    ReferralSpec(
        "peterborough",
        "Lee",
        "mental_health",
        "nurse",
        (RS.SENT,),
        40,
        "Low mood and poor sleep since losing his flat; wants to talk to someone.",
        chases=2,
    ),
    ReferralSpec(
        "wigan",
        "Gary",
        "debt_advice",
        "kath.ashworth",
        (RS.SENT,),
        21,
        "Council tax and energy arrears; has had a bailiff's letter.",
        chases=1,
    ),
    ReferralSpec(
        "wakefield",
        "Aisha",
        "employment",
        "tariq.naylor",
        (RS.SENT,),
        3,
        "Wants help with a CV and applications after redundancy.",
    ),
    ReferralSpec(
        "peterborough",
        "Alex",
        "icash",
        "nurse",
        (RS.SENT,),
        2,
        "Asked for a sexual health screen and PrEP.",
    ),
    ReferralSpec(
        "peterborough",
        "Jade",
        "aspire",
        "outreach",
        (RS.SENT, RS.ACCEPTED),
        6,
        "Using heroin daily; asking for a script and naloxone.",
        priority=Referral.Priority.URGENT,
        chases=1,
    ),
    ReferralSpec(
        "peterborough",
        "Nicola",
        "wellbeing_hub",
        "outreach",
        (RS.SENT, RS.ACCEPTED),
        9,
        "Moving to stay with her sister in North Prospect, Plymouth; wants support with "
        "benefits and housing there.",
    ),
    ReferralSpec(
        "wakefield",
        "Mo",
        "employment",
        "tariq.naylor",
        (RS.SENT, RS.ACCEPTED),
        8,
        "Forklift licence expired; wants funded training to get back to warehouse work.",
    ),
    ReferralSpec(
        "peterborough",
        "Tom",
        "dental",
        "nurse",
        (RS.SENT, RS.REJECTED),
        12,
        "Toothache and a swollen jaw for a week.",
        rejection_reason=Referral.RejectionReason.NO_CAPACITY,
        outcome_notes="No urgent slots this month; advised to call the access line each morning.",
    ),
    ReferralSpec(
        "wakefield",
        "Craig",
        "employment",
        "tariq.naylor",
        (RS.SENT, RS.REJECTED),
        15,
        "Looking for work after leaving the army.",
        rejection_reason=Referral.RejectionReason.NOT_ELIGIBLE,
        outcome_notes="Lives outside the district; passed to the veterans' employment scheme.",
    ),
    ReferralSpec(
        "peterborough",
        "Sadia",
        "maternity",
        "nurse",
        (RS.SENT, RS.ACCEPTED, RS.BOOKED),
        10,
        "About ten weeks pregnant and not registered with a GP; needs booking with a midwife.",
        priority=Referral.Priority.URGENT,
    ),
    ReferralSpec(
        "peterborough",
        "Ola",
        "mental_health",
        "nurse",
        (RS.SENT, RS.ACCEPTED, RS.BOOKED),
        5,
        "Panic attacks since a violent relationship ended; wants counselling in Polish.",
    ),
    ReferralSpec(
        "wakefield",
        "Terry",
        "citizens_advice_hub",
        "tariq.naylor",
        (RS.SENT, RS.ACCEPTED, RS.BOOKED),
        8,
        "PIP stopped after a review; needs help with a mandatory reconsideration.",
    ),
    ReferralSpec(
        "peterborough",
        "Errol",
        "optometry",
        "hca",
        (RS.SENT, RS.ACCEPTED, RS.BOOKED, RS.ATTENDED),
        30,
        "Lost his glasses; cannot read his letters.",
    ),
    ReferralSpec(
        "peterborough",
        "Stevie",
        "gp_registration",
        "outreach",
        _TO_CLOSE,
        35,
        "Not registered with a GP since leaving prison.",
        outcome_notes="Registered with a practice; first appointment attended.",
    ),
    ReferralSpec(
        "wakefield",
        "Peggy",
        "citizens_advice_hub",
        "tariq.naylor",
        _TO_CLOSE,
        26,
        "Has never claimed Attendance Allowance; needs help with the form.",
        outcome_notes="Claim made and awarded at the higher rate.",
    ),
    ReferralSpec(
        "wigan",
        "Carol",
        "wigan_food_bank",
        "kath.ashworth",
        _TO_CLOSE,
        16,
        "No money until her Universal Credit payment; needs a three-day parcel.",
        priority=Referral.Priority.URGENT,
        outcome_notes="Parcel collected; booked in with the money adviser.",
    ),
    ReferralSpec(
        "peterborough",
        "Wendy",
        "housing",
        "outreach",
        (RS.WITHDRAWN,),
        8,
        "Asked for a housing assessment.",
        outcome_notes="Changed her mind before it was sent: staying with her daughter.",
    ),
    ReferralSpec(
        "peterborough",
        "Robbie",
        "housing",
        "outreach",
        (RS.SENT, RS.WITHDRAWN),
        14,
        "Sleeping in a tent by the river; wants emergency accommodation.",
        priority=Referral.Priority.URGENT,
        outcome_notes="Found a room with a friend; no longer wants the assessment.",
    ),
    ReferralSpec(
        "peterborough",
        "Dawn",
        "icash",
        "nurse",
        (RS.SENT, RS.ACCEPTED, RS.LOST),
        30,
        "Asked for a sexual health screen and contraception.",
        outcome_notes="Three appointments offered, none attended; no contact for two weeks.",
    ),
    ReferralSpec(
        "peterborough",
        "Kev",
        "housing",
        "outreach",
        (RS.SENT, RS.LOST),
        25,
        "Sleeping rough in the city centre; wants a housing assessment.",
        priority=Referral.Priority.URGENT,
        outcome_notes="Left the area; not seen by the bus or the day centre since.",
    ),
    ReferralSpec(
        "wigan",
        "Neil",
        "debt_advice",
        "kath.ashworth",
        (),
        0,
        "Payday loan debts; wants to talk to someone about a debt relief order.",
    ),
]
