"""The catalogue: organisations, services, the bus and venues of the programmes in the brief.

Organisations and places named in the seed documents keep their real names; every street
address and venue detail is invented. Phone numbers come from Ofcom's drama range
(07700 900000-900999), so a demo message can never reach a real person.
"""

from dataclasses import dataclass

ORGANISATIONS: dict[str, dict[str, str]] = {
    "light": {"name": "Light Project Peterborough", "kind": "voluntary", "ods_code": ""},
    "nwaft": {
        "name": "North West Anglia NHS Foundation Trust",
        "kind": "nhs_trust",
        "ods_code": "RGN",
    },
    "icb": {"name": "NHS Cambridgeshire and Peterborough ICB", "kind": "icb", "ods_code": "QUE"},
    "pcc": {"name": "Peterborough City Council", "kind": "council", "ods_code": ""},
    "wigan_gp": {"name": "Wigan Borough GP Federation", "kind": "pcn", "ods_code": ""},
    "wwl": {
        "name": "Wrightington, Wigan and Leigh Teaching Hospitals NHS Foundation Trust",
        "kind": "nhs_trust",
        "ods_code": "RRF",
    },
    "wakefield_ca": {"name": "Wakefield Citizens Advice", "kind": "voluntary", "ods_code": ""},
    "wolseley": {"name": "The Wolseley Trust", "kind": "voluntary", "ods_code": ""},
}


@dataclass(frozen=True)
class ServiceSpec:
    code: str
    name: str
    minutes: int
    description: str
    requires_competency: bool = False
    min_age: int | None = None
    max_age: int | None = None
    requires_cervix: bool = False
    sensitive: bool = False
    eligibility_notes: str = ""


SERVICES: list[ServiceSpec] = [
    ServiceSpec(
        "health-assessment",
        "Health and care assessment",
        30,
        "A first conversation about health, housing, medicines and what would help most.",
    ),
    ServiceSpec(
        "nhs-health-check",
        "NHS Health Check",
        30,
        "Blood pressure, cholesterol, BMI and diabetes risk for adults aged 40 to 74.",
        min_age=40,
        max_age=74,
        eligibility_notes="Adults aged 40 to 74 without a diagnosed cardiovascular condition.",
    ),
    ServiceSpec("blood-pressure", "Blood pressure check", 15, "A quick blood pressure reading."),
    ServiceSpec(
        "dry-blood-spot",
        "Dry blood spot test",
        15,
        "A finger-prick test for blood-borne viruses: hepatitis B, hepatitis C and HIV.",
        requires_competency=True,
        sensitive=True,
    ),
    ServiceSpec("eye-test", "Eye test", 30, "Vision check, with glasses ordered on the day."),
    ServiceSpec(
        "wound-care",
        "Wound and infection care",
        30,
        "Dressings, leg ulcers, abscesses and skin infections; antibiotics where needed.",
    ),
    ServiceSpec(
        "cervical-screening",
        "Cervical screening",
        30,
        "A smear test taken by a trained sample taker, in a women-led clinic.",
        requires_competency=True,
        min_age=25,
        max_age=64,
        requires_cervix=True,
        sensitive=True,
        eligibility_notes="People with a cervix aged 25 to 64.",
    ),
    ServiceSpec(
        "vaccination",
        "Vaccination",
        15,
        "Flu, COVID-19, pneumococcal, MMR and other routine vaccines.",
        requires_competency=True,
    ),
    ServiceSpec(
        "benefits-advice",
        "Benefits advice",
        45,
        "Free, confidential advice on benefits, grants and money worries.",
    ),
    ServiceSpec(
        "sexual-health-check",
        "Sexual health check",
        30,
        "Testing for sexually transmitted infections and contraception advice.",
        requires_competency=True,
        sensitive=True,
    ),
]

MOBILE_UNIT = {
    "organisation": "light",
    "name": "Homeless Health Hub bus",
    "registration": "PX19HHB",
    "capacity": 2,
    "services": ["health-assessment", "dry-blood-spot", "eye-test", "wound-care"],
    "notes": (
        "Two consulting rooms. Needs a level pitch 12 m long; runs on its own generator, "
        "so it can stop where there is no hook-up."
    ),
}

VENUES: dict[str, dict[str, object]] = {
    "cathedral_square": {
        "organisation": "light",
        "name": "Cathedral Square",
        "kind": "street_site",
        "address": "Cathedral Square (north side, by the Guildhall)",
        "town": "Peterborough",
        "postcode": "PE1 1XH",
        "latitude": "52.572600",
        "longitude": "-0.242200",
        "access_notes": "The bus parks on the north side; step-free entry by the left-hand door.",
        "host_contact_name": "City centre services team",
        "host_contact_phone": "+447700900950",
        "imd_decile": 2,
    },
    "bridge_street": {
        "organisation": "light",
        "name": "Bridge Street Day Centre",
        "kind": "day_centre",
        "address": "14 Riverside Walk",
        "town": "Peterborough",
        "postcode": "PE1 1EW",
        "latitude": "52.569300",
        "longitude": "-0.240800",
        "access_notes": "Breakfast from 8:30. The bus parks in the service yard behind.",
        "host_contact_name": "Day centre manager",
        "host_contact_phone": "+447700900951",
        "imd_decile": 1,
    },
    "lincoln_road": {
        "organisation": "light",
        "name": "Lincoln Road Hostel",
        "kind": "hostel",
        "address": "212 Lincoln Road",
        "town": "Peterborough",
        "postcode": "PE1 2NW",
        "latitude": "52.585100",
        "longitude": "-0.247300",
        "access_notes": "Sign in at reception; residents hear the day before that the bus is due.",
        "host_contact_name": "Duty support worker",
        "host_contact_phone": "+447700900952",
        "imd_decile": 1,
    },
    "millfield_womens_centre": {
        "organisation": "light",
        "name": "Millfield Women's Centre",
        "kind": "community_centre",
        "address": "Unit 3, Cobden Yard",
        "town": "Peterborough",
        "postcode": "PE1 2QD",
        "latitude": "52.583900",
        "longitude": "-0.253600",
        "access_notes": (
            "Women only. Unmarked side door; a volunteer meets people at the gate. "
            "Never give this address in a text message."
        ),
        "host_contact_name": "Wildflowers lead worker",
        "host_contact_phone": "+447700900953",
        "imd_decile": 1,
    },
    "scholes_food_bank": {
        "organisation": "wigan_gp",
        "name": "Scholes Community Food Bank",
        "kind": "food_bank",
        "address": "Church hall, 40 Hardybutts",
        "town": "Wigan",
        "postcode": "WN1 3RB",
        "latitude": "53.545900",
        "longitude": "-2.622600",
        "access_notes": "Health checks in the side room while people wait for their parcels.",
        "host_contact_name": "Food bank coordinator",
        "host_contact_phone": "+447700900954",
        "imd_decile": 1,
    },
    "kitt_green_factory": {
        "organisation": "wigan_gp",
        "name": "Food factory canteen, Kitt Green",
        "kind": "workplace",
        "address": "Staff canteen, Gate 2, Spring Road",
        "town": "Wigan",
        "postcode": "WN5 0BQ",
        "latitude": "53.547700",
        "longitude": "-2.682100",
        "access_notes": "Visitor passes from Gate 2 security. Shift changes at 06:00 and 22:00.",
        "host_contact_name": "Occupational health lead",
        "host_contact_phone": "+447700900955",
        "imd_decile": 3,
    },
    "ince_community_centre": {
        "organisation": "wigan_gp",
        "name": "Ince Community Centre",
        "kind": "community_centre",
        "address": "2 Ince Green Lane",
        "town": "Wigan",
        "postcode": "WN2 2DF",
        "latitude": "53.538800",
        "longitude": "-2.612000",
        "access_notes": "Main hall; fridge for vaccines in the kitchen, with a data logger.",
        "host_contact_name": "Centre manager",
        "host_contact_phone": "+447700900956",
        "imd_decile": 1,
    },
    "pinderfields_hub": {
        "organisation": "wakefield_ca",
        "name": "Citizens Advice hub, Pinderfields Hospital",
        "kind": "hospital_hub",
        "address": "Level E, Pinderfields Hospital, Aberford Road",
        "town": "Wakefield",
        "postcode": "WF1 4DG",
        "latitude": "53.693300",
        "longitude": "-1.488600",
        "access_notes": "Follow signs for Level E from the main entrance; lifts by the shop.",
        "host_contact_name": "Hub adviser",
        "host_contact_phone": "+447700900957",
        "imd_decile": 3,
    },
    "lupset_hub": {
        "organisation": "wakefield_ca",
        "name": "Lupset Neighbourhood Hub",
        "kind": "community_centre",
        "address": "Room 2, 9 Broadway",
        "town": "Wakefield",
        "postcode": "WF2 8RE",
        "latitude": "53.679900",
        "longitude": "-1.526100",
        "access_notes": "Ground floor, step-free. Creche on Tuesday mornings.",
        "host_contact_name": "Community worker",
        "host_contact_phone": "+447700900958",
        "imd_decile": 1,
    },
}
