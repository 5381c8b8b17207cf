"""The programmes: demo logins, the other staff, and the session series each one runs.

Every member of staff is invented; email addresses use a reserved example domain.
"""

from dataclasses import dataclass
from datetime import time

# Every demo login shares this password; load_demo refuses to run with DEBUG off for that reason.
DEMO_PASSWORD = "outreach-demo"  # noqa: S105 - a published demo password  # nosec B105
# The demo's authenticator key for the roles that need two-factor (coordinator, admin,
# superuser): published like the password, so anyone trying the demo can sign in. Hex, as
# django-otp stores it; `demo_logins` prints it in base32 for an authenticator app.
DEMO_TOTP_KEY = "4f7574726561636820646d656f2074776f2d666163"
SEED = 20230808
# Demo booking idempotency keys start with this, which is how a second run finds its rows.
BOOKING_KEY_PREFIX = "demo:"
EMAIL_DOMAIN = "demo.outreach.example"


@dataclass(frozen=True)
class StaffSpec:
    username: str
    first_name: str
    last_name: str
    role: str
    organisation: str
    competencies: tuple[str, ...] = ()
    login: bool = False
    phone: str = ""


# One demo login per role, all at Light Project Peterborough: records are scoped to the
# user's organisation, and that is where the bus, Wildflowers and their patients live.
DEMO_LOGINS: list[StaffSpec] = [
    StaffSpec(
        "nurse",
        "Joanne",
        "Tilbury",
        "nurse",
        "light",
        ("cervical-screening", "dry-blood-spot", "sexual-health-check", "vaccination"),
        login=True,
        phone="+447700900901",
    ),
    StaffSpec("hca", "Amira", "Selby", "hca", "light", ("dry-blood-spot",), True, "+447700900902"),
    StaffSpec("outreach", "Dan", "Okoro", "outreach_worker", "light", (), True, "+447700900903"),
    StaffSpec("coordinator", "Ruth", "Kendal", "coordinator", "light", (), True, "+447700900904"),
    StaffSpec("admin", "Marcus", "Penhale", "admin", "light", (), True),
    StaffSpec("analyst", "Lena", "Varga", "analyst", "light", (), True),
    StaffSpec("auditor", "Priya", "Holt", "auditor", "light", (), True),
]
SUPERUSER = StaffSpec("superuser", "Demo", "Superuser", "admin", "light", login=True)

# Staff of the other programmes: they exist so sessions have a rota, but cannot log in.
OTHER_STAFF: list[StaffSpec] = [
    StaffSpec(
        "bev.holden",
        "Bev",
        "Holden",
        "nurse",
        "wigan_gp",
        ("vaccination", "dry-blood-spot"),
        phone="+447700900911",
    ),
    StaffSpec("kath.ashworth", "Kath", "Ashworth", "nurse", "wigan_gp", phone="+447700900912"),
    StaffSpec("liam.fairhurst", "Liam", "Fairhurst", "nurse", "wwl", phone="+447700900913"),
    StaffSpec("nadia.marsden", "Nadia", "Marsden", "coordinator", "wigan_gp"),
    StaffSpec(
        "tariq.naylor", "Tariq", "Naylor", "outreach_worker", "wakefield_ca", phone="+447700900914"
    ),
    StaffSpec("cerys.trewin", "Cerys", "Trewin", "outreach_worker", "wolseley"),
    StaffSpec("sam.odell", "Sam", "O'Dell", "coordinator", "nwaft"),
    StaffSpec("rhys.gwilt", "Rhys", "Gwilt", "analyst", "icb"),
]


@dataclass(frozen=True)
class SeriesSpec:
    key: str
    name: str
    organisation: str
    venue: str
    weekdays: tuple[int, ...]
    start: time
    end: time
    services: dict[str, int]  # service code: how often it is booked, relative to the others
    staff: tuple[str, ...]
    cohort: str  # whose patients come
    booker: str  # who books appointments ahead
    clinician: str  # who checks people in and records outcomes
    uses_bus: bool = False
    interval_weeks: int = 1
    booking_mode: str = "mixed"
    walk_in_share: int = 0
    slot_minutes: int = 15
    lanes: int = 1
    audience: str = "everyone"
    per_session: tuple[int, int] = (3, 5)  # bookings in a past or today's session


_BUS_SERVICES = {"health-assessment": 3, "dry-blood-spot": 3, "wound-care": 2, "eye-test": 2}

# Every day of the week has a session somewhere, so "today" always has one in progress.
SERIES: list[SeriesSpec] = [
    SeriesSpec(
        key="cathedral",
        name="Homeless Health Hub: Cathedral Square",
        organisation="light",
        venue="cathedral_square",
        weekdays=(0, 3),
        start=time(10, 0),
        end=time(14, 0),
        services=_BUS_SERVICES,
        staff=("nurse", "hca", "outreach"),
        cohort="peterborough",
        booker="coordinator",
        clinician="nurse",
        uses_bus=True,
        walk_in_share=25,
        lanes=2,
        per_session=(5, 8),
    ),
    SeriesSpec(
        key="daycentre",
        name="Homeless Health Hub: Bridge Street Day Centre",
        organisation="light",
        venue="bridge_street",
        weekdays=(2,),
        start=time(9, 30),
        end=time(12, 0),
        services={"health-assessment": 3, "wound-care": 3, "dry-blood-spot": 1},
        staff=("nurse", "outreach"),
        cohort="peterborough",
        booker="outreach",
        clinician="nurse",
        uses_bus=True,
        booking_mode="walk_in",
        walk_in_share=100,
        lanes=2,
    ),
    SeriesSpec(
        key="hostel",
        name="Homeless Health Hub: Lincoln Road Hostel",
        organisation="light",
        venue="lincoln_road",
        weekdays=(4,),
        start=time(10, 0),
        end=time(13, 0),
        services={"health-assessment": 2, "dry-blood-spot": 3, "wound-care": 2},
        staff=("hca", "outreach"),
        cohort="peterborough",
        booker="outreach",
        clinician="hca",
        uses_bus=True,
        walk_in_share=25,
        lanes=2,
    ),
    SeriesSpec(
        key="sunday",
        name="Sunday breakfast drop-in, Bridge Street",
        organisation="light",
        venue="bridge_street",
        weekdays=(6,),
        start=time(9, 0),
        end=time(11, 30),
        services={"health-assessment": 2, "wound-care": 2, "blood-pressure": 1},
        staff=("hca", "outreach"),
        cohort="peterborough",
        booker="outreach",
        clinician="hca",
        booking_mode="walk_in",
        walk_in_share=100,
        per_session=(2, 4),
    ),
    SeriesSpec(
        key="wildflowers",
        name="Wildflowers women's clinic",
        organisation="light",
        venue="millfield_womens_centre",
        weekdays=(2,),
        start=time(13, 30),
        end=time(16, 30),
        services={"cervical-screening": 4, "sexual-health-check": 2, "health-assessment": 1},
        staff=("nurse", "hca"),
        cohort="peterborough",
        booker="coordinator",
        clinician="nurse",
        interval_weeks=2,
        booking_mode="appointments",
        slot_minutes=30,
        lanes=2,
        audience="women",
        per_session=(4, 6),
    ),
    # Wigan: nurse health checks where people who work unsociable hours already are.
    SeriesSpec(
        key="foodbank",
        name="Evening health checks, Scholes food bank",
        organisation="wigan_gp",
        venue="scholes_food_bank",
        weekdays=(3,),
        start=time(17, 0),
        end=time(19, 30),
        services={"nhs-health-check": 3, "blood-pressure": 3},
        staff=("kath.ashworth",),
        cohort="wigan",
        booker="nadia.marsden",
        clinician="kath.ashworth",
        walk_in_share=50,
        per_session=(4, 6),
    ),
    SeriesSpec(
        key="factory",
        name="Early-shift health checks, Kitt Green food factory",
        organisation="wigan_gp",
        venue="kitt_green_factory",
        weekdays=(1,),
        start=time(6, 0),
        end=time(8, 30),
        services={"nhs-health-check": 3, "blood-pressure": 2},
        staff=("liam.fairhurst", "kath.ashworth"),
        cohort="wigan",
        booker="nadia.marsden",
        clinician="liam.fairhurst",
        interval_weeks=4,
        booking_mode="appointments",
        lanes=2,
        per_session=(5, 7),
    ),
    SeriesSpec(
        key="vaccination",
        name="GP outreach vaccination clinic, Ince",
        organisation="wigan_gp",
        venue="ince_community_centre",
        weekdays=(5,),
        start=time(9, 0),
        end=time(12, 0),
        services={"vaccination": 4, "nhs-health-check": 1},
        staff=("bev.holden",),
        cohort="wigan",
        booker="nadia.marsden",
        clinician="bev.holden",
        booking_mode="appointments",
    ),
    SeriesSpec(
        key="wakefield",
        name="More Money in My Pocket drop-in, Lupset",
        organisation="wakefield_ca",
        venue="lupset_hub",
        weekdays=(1,),
        start=time(10, 0),
        end=time(13, 0),
        services={"benefits-advice": 1},
        staff=("tariq.naylor",),
        cohort="wakefield",
        booker="tariq.naylor",
        clinician="tariq.naylor",
        walk_in_share=50,
        lanes=2,
        per_session=(3, 4),
    ),
]
SERIES_BY_KEY = {spec.key: spec for spec in SERIES}
