"""The invented people each programme sees: ordinary first names, never real people's."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PersonSpec:
    preferred_name: str
    sex: str
    legal_first_name: str = ""
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class CohortSpec:
    organisation: str
    registered_by: str
    people: list[PersonSpec]
    housing: dict[str, int]
    ethnicity: dict[str, int]
    postcodes: tuple[str, ...]
    practices: tuple[str, ...]
    birth_years: tuple[int, int]


_SHARED_PHONE = "Phone is shared. Text only, never name the clinic, no voicemail."

COHORTS: dict[str, CohortSpec] = {
    "peterborough": CohortSpec(
        "light",
        "outreach",
        [
            PersonSpec("Dawn", "female", "", {"housing_status": "rough_sleeping", "sms": False}),
            PersonSpec("Jade", "female", "", {"safe_contact_notes": _SHARED_PHONE}),
            PersonSpec("Kerry", "female", "Kerry-Ann"),
            PersonSpec("Leanne", "female"),
            PersonSpec("Marta", "female", "Marta", {"interpreter_language": "Polish"}),
            PersonSpec("Sadia", "female", "Sadia", {"year_of_birth": 1996}),
            PersonSpec("Tina", "female", "Christina", {"safe_contact_notes": _SHARED_PHONE}),
            PersonSpec("Wendy", "female"),
            PersonSpec("Amy", "female", "Amelia"),
            PersonSpec("Chloe", "female"),
            PersonSpec("Gemma", "female", "Gemma", {"sms_consent": False}),
            PersonSpec("Nicola", "female", "Nicola"),
            PersonSpec("Paula", "female"),
            PersonSpec("Rosa", "female", "Rosa", {"interpreter_language": "Romanian"}),
            PersonSpec("Shell", "female", "Michelle", {"safe_contact_notes": _SHARED_PHONE}),
            PersonSpec("Ola", "female", "Aleksandra", {"interpreter_language": "Polish"}),
            PersonSpec(
                "Stevie",
                "male",
                "Steven",
                {"housing_status": "rough_sleeping", "sms": True, "opted_out": True},
            ),
            PersonSpec("Kev", "male", "Kevin", {"housing_status": "rough_sleeping"}),
            PersonSpec("Lee", "male"),
            PersonSpec("Tom", "male", "Thomas"),
            PersonSpec("Errol", "male", "Errol", {"access_needs": "Reading glasses lost."}),
            PersonSpec("Darius", "male", "Darius", {"interpreter_language": "Lithuanian"}),
            PersonSpec("Mick", "male", "Michael", {"access_needs": "Uses a wheelchair."}),
            PersonSpec("Jonno", "male", "Jonathan"),
            PersonSpec("Pawel", "male", "Pawel", {"interpreter_language": "Polish"}),
            PersonSpec("Tomas", "male"),
            PersonSpec("Yusuf", "male", "Yusuf", {"interpreter_language": "Kurdish (Sorani)"}),
            PersonSpec("Ade", "male", "Adebayo"),
            PersonSpec("Robbie", "male"),
            PersonSpec("Sean", "male", "Sean", {"sms_consent": False}),
            PersonSpec("Wes", "male", "Wesley", {"access_needs": "Hard of hearing."}),
            PersonSpec("Dom", "male"),
            PersonSpec("Frankie", "unknown"),
            PersonSpec(
                "Alex",
                "other",
                "",
                {"gender_identity": "Non-binary", "has_cervix": True, "housing_status": "hostel"},
            ),
        ],
        housing={
            "rough_sleeping": 25,
            "hostel": 20,
            "sofa_surfing": 15,
            "temporary": 15,
            "supported": 10,
            "settled": 5,
            "unknown": 10,
        },
        ethnicity={
            "A": 35,
            "C": 25,
            "J": 8,
            "N": 8,
            "M": 4,
            "D": 4,
            "H": 3,
            "L": 3,
            "Z": 5,
            "": 5,
        },
        postcodes=("PE1 2SN", "PE1 3BU", "PE1 5DD", "PE1 4QH", "PE2 8TF", "PE3 6AG", "PE1 1LF"),
        practices=("Cathedral Gate Surgery", "Millfield Health Centre", "Eastfield Road Practice"),
        birth_years=(1962, 2003),
    ),
    "wigan": CohortSpec(
        "wigan_gp",
        "bev.holden",
        [
            PersonSpec("Carol", "female", "Carol"),
            PersonSpec("Janet", "female", "Janet"),
            PersonSpec("Lisa", "female"),
            PersonSpec("Mandy", "female", "Amanda"),
            PersonSpec("Sharon", "female", "Sharon"),
            PersonSpec("Tracy", "female"),
            PersonSpec("Hayley", "female", "Hayley"),
            PersonSpec("Kelly", "female"),
            PersonSpec("Gary", "male", "Gary"),
            PersonSpec("Neil", "male"),
            PersonSpec("Paul", "male", "Paul"),
            PersonSpec("Dean", "male"),
            PersonSpec("Ryan", "male", "Ryan"),
            PersonSpec("Kieran", "male"),
            PersonSpec("Graham", "male", "Graham"),
            PersonSpec("Phil", "male", "Philip"),
        ],
        housing={"settled": 60, "temporary": 15, "sofa_surfing": 5, "other": 5, "unknown": 10},
        ethnicity={"A": 80, "C": 6, "N": 3, "J": 3, "Z": 4, "": 4},
        postcodes=("WN1 3BX", "WN2 2DF", "WN5 9LB", "WN3 5AZ", "WN6 7QR"),
        practices=("Scholes Medical Practice", "Ince Green Surgery"),
        birth_years=(1950, 1998),
    ),
    "wakefield": CohortSpec(
        "wakefield_ca",
        "tariq.naylor",
        [
            PersonSpec("Aisha", "female", "Aisha"),
            PersonSpec("Bushra", "female", "Bushra", {"interpreter_language": "Urdu"}),
            PersonSpec("Irene", "female", "Irene"),
            PersonSpec("Peggy", "female", "Margaret"),
            PersonSpec("Emma", "female"),
            PersonSpec("Craig", "male", "Craig"),
            PersonSpec("Imran", "male", "Imran"),
            PersonSpec("Terry", "male", "Terence"),
            PersonSpec("Mo", "male", "Mohammed"),
            PersonSpec("Dave", "male", "David"),
        ],
        housing={"settled": 55, "temporary": 20, "sofa_surfing": 10, "hostel": 5, "unknown": 10},
        ethnicity={"A": 55, "J": 20, "C": 8, "N": 5, "M": 3, "Z": 4, "": 5},
        postcodes=("WF2 8RE", "WF1 3DJ", "WF2 9LW", "WF4 5PB", "WF1 4SE"),
        practices=("Lupset Lane Surgery", "Northgate Medical Centre"),
        birth_years=(1948, 2000),
    ),
}

# Invented surnames for the legal names some people give.
SURNAMES = (
    "Alder",
    "Birchall",
    "Copeland",
    "Dunmore",
    "Ellery",
    "Fenwick",
    "Garside",
    "Hartigan",
    "Ibbotson",
    "Jessop",
    "Kettering",
    "Lomax",
    "Mellor",
    "Noakes",
    "Oddie",
    "Pendle",
    "Quarmby",
    "Rudd",
    "Sowerby",
    "Tunstall",
)
