"""Where people are referred on to, and the wording of every message template."""

from dataclasses import dataclass


@dataclass(frozen=True)
class DestinationSpec:
    key: str
    name: str
    category: str
    provider: str
    route: str
    area: str
    response_target_days: int
    description: str = ""
    email: str = ""
    phone: str = ""
    address: str = ""
    postcode: str = ""
    eligibility_notes: str = ""


DESTINATIONS: list[DestinationSpec] = [
    DestinationSpec(
        "gp_registration",
        "GP registration support",
        "gp_registration",
        "NHS Cambridgeshire and Peterborough ICB",
        "phone",
        "Peterborough",
        7,
        "Help to register with a practice. No proof of address or ID is needed to register.",
        phone="+447700900960",
    ),
    DestinationSpec(
        "icash",
        "iCaSH Peterborough",
        "sexual_health",
        "Cambridgeshire Community Services NHS Trust",
        "nhsmail",
        "Peterborough",
        7,
        "Integrated contraception and sexual health: testing, treatment, PrEP.",
        email="icash.referrals@demo.outreach.example",
    ),
    DestinationSpec(
        "colposcopy",
        "Colposcopy clinic, Peterborough City Hospital",
        "colposcopy",
        "North West Anglia NHS Foundation Trust",
        "ers",
        "Peterborough",
        14,
        "Follow-up of abnormal cervical screening results.",
        address="Peterborough City Hospital, Bretton Gate",
        postcode="PE3 9GZ",
        eligibility_notes="Referral from cervical screening results only.",
    ),
    DestinationSpec(
        "hep_c",
        "Hepatitis C treatment service",
        "hepatitis_c",
        "North West Anglia NHS Foundation Trust",
        "nhsmail",
        "Peterborough",
        14,
        "Confirmatory RNA test and direct-acting antiviral treatment, often in the community.",
        email="hcv.team@demo.outreach.example",
    ),
    DestinationSpec(
        "optometry",
        "Community optometry",
        "optometry",
        "Local optical practices",
        "phone",
        "Peterborough",
        14,
        "Full sight test and NHS-funded glasses for people on low incomes.",
        phone="+447700900961",
    ),
    DestinationSpec(
        "mental_health",
        "Adult mental health, Peterborough",
        "mental_health",
        "Cambridgeshire and Peterborough NHS Foundation Trust",
        "ers",
        "Peterborough",
        28,
        "Assessment and talking therapies; crisis support through NHS 111 option 2.",
    ),
    DestinationSpec(
        "aspire",
        "Aspire drug and alcohol service",
        "drug_alcohol",
        "Aspire",
        "phone",
        "Peterborough",
        7,
        "Opiate substitution, alcohol detox, needle exchange and naloxone.",
        phone="+447700900962",
        eligibility_notes="Self-referral welcome; same-week assessment for people sleeping rough.",
    ),
    DestinationSpec(
        "dental",
        "Urgent dental access",
        "dentistry",
        "NHS dental access line",
        "phone",
        "Peterborough",
        14,
        "Urgent treatment for people without a dentist.",
        phone="+447700900963",
    ),
    DestinationSpec(
        "maternity",
        "Maternity self-referral, Peterborough City Hospital",
        "maternity",
        "North West Anglia NHS Foundation Trust",
        "portal",
        "Peterborough",
        14,
        "Booking with a midwife; earlier booking for women with no fixed address.",
    ),
    DestinationSpec(
        "citizens_advice_hub",
        "Citizens Advice hub, Pinderfields Hospital",
        "citizens_advice",
        "Wakefield Citizens Advice",
        "walk_in",
        "Wakefield",
        10,
        "Free, confidential and impartial advice for patients, visitors, staff and local people.",
        phone="+447700900964",
        address="Level E, Pinderfields Hospital, Aberford Road, Wakefield",
        postcode="WF1 4DG",
    ),
    DestinationSpec(
        "housing",
        "Housing options, Peterborough City Council",
        "housing",
        "Peterborough City Council",
        "portal",
        "Peterborough",
        3,
        "Homelessness assessment and emergency accommodation (duty to refer).",
    ),
    DestinationSpec(
        "debt_advice",
        "Debt advice line",
        "debt_advice",
        "Citizens Advice",
        "phone",
        "Wigan",
        14,
        "Budgeting, debt relief orders and priority bills.",
        phone="+447700900965",
    ),
    DestinationSpec(
        "wigan_food_bank",
        "Food bank vouchers, Wigan",
        "food_bank",
        "Scholes Community Food Bank",
        "email",
        "Wigan",
        3,
        "Three-day emergency food parcels, with referral to money advice.",
        email="vouchers@demo.outreach.example",
    ),
    DestinationSpec(
        "employment",
        "Employment support, Wakefield",
        "employment",
        "Wakefield Council",
        "email",
        "Wakefield",
        21,
        "One-to-one help with CVs, applications and training.",
        email="employment.support@demo.outreach.example",
    ),
    DestinationSpec(
        "befriending",
        "Befriending and peer support, North Prospect",
        "befriending",
        "The Wolseley Trust",
        "phone",
        "Plymouth",
        21,
        "Weekly visits or calls from a trained volunteer; peer support groups.",
        phone="+447700900966",
    ),
    DestinationSpec(
        "wellbeing_hub",
        "Jan Cutting Healthy Living Centre wellbeing hub",
        "wellbeing_hub",
        "The Wolseley Trust",
        "phone",
        "Plymouth",
        14,
        "Linked to local GP practices: housing, legal, benefits and debt advice, counselling, "
        "befriending, employment and peer support.",
        phone="+447700900967",
        address="North Prospect, Plymouth",
        postcode="PL2 2PQ",
    ),
]


@dataclass(frozen=True)
class TemplateSpec:
    purpose: str
    channel: str
    discreet: bool
    name: str
    body: str
    subject: str = ""


_STOP = "Reply STOP to stop these texts."

# Discreet wording names no service, clinic or venue: the phone may be shared or checked.
TEMPLATES: list[TemplateSpec] = [
    TemplateSpec(
        "booking_confirmation",
        "sms",
        False,
        "Booking confirmation (text)",
        "Hi {{ first_name }}, you are booked for {{ service }} at {{ venue }} on {{ date }} at "
        "{{ time }}. Reply C to confirm or X to cancel. " + _STOP,
    ),
    TemplateSpec(
        "booking_confirmation",
        "sms",
        True,
        "Booking confirmation (text, discreet)",
        "Hi {{ first_name }}, your appointment is on {{ date }} at {{ time }}. "
        "Reply C to confirm or X to cancel. " + _STOP,
    ),
    TemplateSpec(
        "booking_confirmation",
        "email",
        False,
        "Booking confirmation (email)",
        "Hello {{ first_name }},\n\nYou are booked for {{ service }} at {{ venue }} on "
        "{{ date }} at {{ time }}.\n\nIf you cannot come, reply to this email or call us and we "
        "will offer the slot to someone else.",
        subject="Your appointment on {{ date }}",
    ),
    TemplateSpec(
        "booking_confirmation",
        "email",
        True,
        "Booking confirmation (email, discreet)",
        "Hello {{ first_name }},\n\nThis confirms your appointment on {{ date }} at {{ time }}."
        "\n\nIf you cannot come, reply to this email.",
        subject="Your appointment",
    ),
    TemplateSpec(
        "reminder",
        "sms",
        False,
        "Reminder (text)",
        "Reminder: {{ service }} at {{ venue }}, {{ date }} at {{ time }}. "
        "Reply C to confirm or X to cancel. " + _STOP,
    ),
    TemplateSpec(
        "reminder",
        "sms",
        True,
        "Reminder (text, discreet)",
        "Hi {{ first_name }}, a reminder of your appointment on {{ date }} at {{ time }}. "
        "Reply C to confirm or X to cancel.",
    ),
    TemplateSpec(
        "cancellation",
        "sms",
        False,
        "Booking cancelled (text)",
        "Hi {{ first_name }}, your {{ service }} appointment on {{ date }} at {{ time }} is "
        "cancelled. Reply or call us to book another time.",
    ),
    TemplateSpec(
        "cancellation",
        "sms",
        True,
        "Booking cancelled (text, discreet)",
        "Hi {{ first_name }}, your appointment on {{ date }} at {{ time }} is cancelled. "
        "Reply to book another time.",
    ),
    TemplateSpec(
        "session_cancelled",
        "sms",
        False,
        "Session cancelled (text)",
        "Sorry {{ first_name }}, the clinic at {{ venue }} on {{ date }} cannot go ahead. "
        "We will text you a new time.",
    ),
    TemplateSpec(
        "session_cancelled",
        "sms",
        True,
        "Session cancelled (text, discreet)",
        "Sorry {{ first_name }}, your appointment on {{ date }} cannot go ahead. "
        "We will text you a new time.",
    ),
    TemplateSpec(
        "waitlist_offer",
        "sms",
        False,
        "Waiting list offer (text)",
        "Hi {{ first_name }}, a place has come up on {{ date }} at {{ time }}. "
        "Reply C within 2 hours to take it.",
    ),
    TemplateSpec(
        "referral_update",
        "sms",
        False,
        "Referral update (text)",
        "Hi {{ first_name }}, news about the referral we made for you: {{ update }} "
        "Reply or call us if you have questions.",
    ),
    TemplateSpec(
        "referral_digest",
        "sms",
        False,
        "Overdue referrals digest (text)",
        "{{ count }} referrals are past their response date. Open Outreach to chase them.",
    ),
    TemplateSpec(
        "referral_digest",
        "email",
        False,
        "Overdue referrals digest (email)",
        "Hello {{ first_name }},\n\n{{ count }} referrals are past their response date and "
        "have had no reply. Open the overdue worklist in Outreach to chase them.",
        subject="{{ count }} referrals need chasing",
    ),
]
