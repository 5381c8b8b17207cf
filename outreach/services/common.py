"""Helpers shared by the outreach services: London time and constraint-error mapping."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, OperationalError

from clinics.domain import Conflict


def london() -> ZoneInfo:
    return ZoneInfo(settings.OUTREACH_TIME_ZONE)


def local_datetime(day: date, wall_clock: time) -> datetime:
    """Return the aware instant at which London clocks show `wall_clock` on `day`.

    Building the datetime from the local date and time (rather than adding 7 days to the last
    instant) is what keeps a 10:00 clinic at 10:00 on both sides of a clock change. A time that
    does not exist (01:30 on the last Sunday of March) is moved forward by the gap, as clocks do.
    """
    zone = london()
    candidate = datetime.combine(day, wall_clock, tzinfo=zone)
    round_trip = candidate.astimezone(ZoneInfo("UTC")).astimezone(zone)
    if round_trip.replace(tzinfo=None) != candidate.replace(tzinfo=None):
        return round_trip
    return candidate


# Constraint name -> (error code, message). PostgreSQL names the constraint that refused a row;
# SQLite only names the columns, so the services check first and this is the last word.
CONSTRAINT_CONFLICTS = {
    "booking_lane_no_overlap": ("lane_taken", "That slot has just been taken."),
    "booking_patient_no_overlap": (
        "patient_double_booked",
        "This person already has a booking at that time.",
    ),
    "booking_one_active_per_patient_per_session": (
        "already_booked",
        "This person is already booked into this session.",
    ),
    "outreachsession_unit_no_overlap": (
        "unit_clash",
        "This mobile unit is already out at another session then.",
    ),
    "staffassignment_staff_no_overlap": (
        "staff_clash",
        "A member of staff is already working another session then.",
    ),
}


def is_deadlock(error: OperationalError) -> bool:
    """PostgreSQL aborted one of two transactions that waited on each other (SQLSTATE 40P01)."""
    return getattr(error.__cause__, "sqlstate", None) == "40P01"


def busy_conflict() -> Conflict:
    return Conflict("Someone else changed this at the same moment; try again.", code="try_again")


def constraint_name(error: IntegrityError) -> str:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) or ""


def conflict_from(error: IntegrityError) -> Conflict:
    """Turn a constraint violation into the named 409 a client can act on."""
    name = constraint_name(error)
    if name in CONSTRAINT_CONFLICTS:
        code, message = CONSTRAINT_CONFLICTS[name]
        return Conflict(message, code=code)
    text = str(error)
    for candidate, (code, message) in CONSTRAINT_CONFLICTS.items():
        if candidate in text:
            return Conflict(message, code=code)
    if "outreach_booking.session_id, outreach_booking.patient_id" in text:
        code, message = CONSTRAINT_CONFLICTS["booking_one_active_per_patient_per_session"]
        return Conflict(message, code=code)
    return Conflict("The change clashes with another record; reload and try again.")
