"""Planning sessions: create, change, staff and cancel, never double-booking a bus or a nurse."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from clinics.domain import Conflict, DomainError, move_status
from clinics.models import MobileUnit, ServiceType, StaffMember
from outreach.messaging import reminders
from outreach.models import Booking, OutreachSession, StaffAssignment
from outreach.services.common import conflict_from, london

# Fields a coordinator may change on a session (status moves through move_session).
EDITABLE_FIELDS = {
    "name",
    "venue",
    "mobile_unit",
    "starts_at",
    "ends_at",
    "booking_mode",
    "slot_minutes",
    "lanes",
    "walk_in_share_percent",
    "minimum_notice_minutes",
    "audience",
    "notes",
}


def _describe(session: OutreachSession) -> str:
    start = session.starts_at.astimezone(london())
    end = session.ends_at.astimezone(london())
    return f"'{session.name}' on {start:%a %d %b %Y} {start:%H:%M}-{end:%H:%M}"


def unit_clash(
    unit_id: int | None, starts_at: datetime, ends_at: datetime, *, exclude: int | None = None
) -> OutreachSession | None:
    """The live session that already has this unit out at an overlapping time, if any."""
    if unit_id is None:
        return None
    return (
        OutreachSession.objects.live()
        .filter(mobile_unit_id=unit_id, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .exclude(pk=exclude)
        .order_by("starts_at")
        .first()
    )


def staff_clash(
    staff_ids: Iterable[int], starts_at: datetime, ends_at: datetime, *, exclude: int | None = None
) -> StaffAssignment | None:
    """A live assignment of one of these staff overlapping the time, if any."""
    return (
        StaffAssignment.objects.filter(
            staff_id__in=list(staff_ids), is_live=True, starts_at__lt=ends_at, ends_at__gt=starts_at
        )
        .exclude(session_id=exclude)
        .select_related("session", "staff__user")
        .order_by("starts_at")
        .first()
    )


def check_clashes(
    *,
    unit_id: int | None,
    staff_ids: Iterable[int],
    starts_at: datetime,
    ends_at: datetime,
    exclude: int | None = None,
) -> None:
    """Refuse, naming the clashing session, if the bus or any of the staff is already out."""
    clash = unit_clash(unit_id, starts_at, ends_at, exclude=exclude)
    if clash is not None:
        raise Conflict(
            f"The mobile unit is already booked for {_describe(clash)}.",
            code="unit_clash",
            clashing_session=clash.pk,
        )
    assignment = staff_clash(staff_ids, starts_at, ends_at, exclude=exclude)
    if assignment is not None:
        name = assignment.staff.user.get_full_name() or assignment.staff.user.get_username()
        raise Conflict(
            f"{name} is already working {_describe(assignment.session)}.",
            code="staff_clash",
            clashing_session=assignment.session_id,
        )


def _lock_staff(staff_ids: list[int]) -> None:
    list(
        StaffMember.objects.select_for_update()
        .filter(pk__in=staff_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _validate(session: OutreachSession) -> None:
    errors: dict[str, str] = {}
    if session.ends_at <= session.starts_at:
        errors["ends_at"] = "The session must end after it starts."
    if session.mobile_unit_id and session.lanes > session.mobile_unit.capacity:
        errors["lanes"] = (
            f"{session.mobile_unit.name} can see {session.mobile_unit.capacity} people at once."
        )
    if errors:
        raise DomainError("Check the session details.", code="invalid", fields=errors)


@transaction.atomic
def create_session(
    *,
    organisation: Any,
    by: Any,
    services: Iterable[ServiceType],
    staff: Iterable[StaffMember] = (),
    reason: str = "Planned",
    **fields: Any,
) -> OutreachSession:
    """Plan a one-off session, refusing a bus or a nurse who is already out then."""
    session = OutreachSession(organisation=organisation, **fields)
    _validate(session)
    staff = list(staff)
    # Lock the unit so two coordinators planning the same bus at once are serialised here,
    # and the exclusion constraint is the last word if they are not.
    if session.mobile_unit_id:
        MobileUnit.objects.select_for_update().get(pk=session.mobile_unit_id)
    # The same for each member of staff, always in id order so two plans never wait on each
    # other's locks.
    _lock_staff([member.pk for member in staff])
    check_clashes(
        unit_id=session.mobile_unit_id,
        staff_ids=[member.pk for member in staff],
        starts_at=session.starts_at,
        ends_at=session.ends_at,
    )
    session._history_user = by
    session._change_reason = reason
    try:
        with transaction.atomic():
            session.save()
            session.services.set(list(services))
            StaffAssignment.objects.bulk_create(
                StaffAssignment(
                    session=session,
                    staff=member,
                    starts_at=session.starts_at,
                    ends_at=session.ends_at,
                )
                for member in staff
            )
    except IntegrityError as error:
        raise conflict_from(error) from error
    return session


@transaction.atomic
def update_session(
    session: OutreachSession, *, by: Any, reason: str, detach: bool = True, **changes: Any
) -> OutreachSession:
    """Change a session's details; its bookings must still fit and nothing may clash."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise DomainError(f"These cannot be changed here: {', '.join(sorted(unknown))}.")
    session = OutreachSession.objects.select_for_update().get(pk=session.pk)
    if session.status in (OutreachSession.Status.CANCELLED, OutreachSession.Status.COMPLETED):
        raise Conflict(
            f"A {session.get_status_display().lower()} session cannot be changed.",
            code="session_closed",
        )
    for field, value in changes.items():
        setattr(session, field, value)
    _validate(session)
    staff_ids = list(session.assignments.values_list("staff_id", flat=True))
    check_clashes(
        unit_id=session.mobile_unit_id,
        staff_ids=staff_ids,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        exclude=session.pk,
    )
    outside = (
        session.bookings.active()
        .filter(lane__isnull=False)
        .exclude(starts_at__gte=session.starts_at, ends_at__lte=session.ends_at)
    )
    if outside.exists():
        raise Conflict(
            f"{outside.count()} booking(s) would fall outside the new hours: move them first.",
            code="bookings_outside_hours",
        )
    if session.lanes < (
        session.bookings.active().order_by("-lane").values_list("lane", flat=True).first() or 0
    ):
        raise Conflict(
            "Bookings use lanes that would no longer exist: move them first.",
            code="bookings_outside_lanes",
        )
    if detach and session.series_id:
        session.detached = True
    session._history_user = by
    session._change_reason = reason
    try:
        with transaction.atomic():
            session.save()
            StaffAssignment.objects.filter(session=session).update(
                starts_at=session.starts_at, ends_at=session.ends_at
            )
    except IntegrityError as error:
        raise conflict_from(error) from error
    return session


@transaction.atomic
def assign_staff(session: OutreachSession, staff: StaffMember, *, by: Any) -> StaffAssignment:
    """Put a member of staff on a session's rota, unless they are working elsewhere then."""
    session = OutreachSession.objects.select_for_update().get(pk=session.pk)
    if session.status in (OutreachSession.Status.CANCELLED, OutreachSession.Status.COMPLETED):
        raise Conflict("Staff cannot be added to a closed session.", code="session_closed")
    existing = StaffAssignment.objects.filter(session=session, staff=staff).first()
    if existing:
        return existing
    _lock_staff([staff.pk])
    check_clashes(
        unit_id=None,
        staff_ids=[staff.pk],
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        exclude=session.pk,
    )
    try:
        with transaction.atomic():
            return StaffAssignment.objects.create(
                session=session, staff=staff, starts_at=session.starts_at, ends_at=session.ends_at
            )
    except IntegrityError as error:
        raise conflict_from(error) from error


def move_session(
    session: OutreachSession, to: str, *, by: Any, reason: str, **changes: Any
) -> OutreachSession:
    """Change a session's status by the transition table, keeping its staff rota in step."""
    with transaction.atomic():
        moved = move_status(
            session, to, table=OutreachSession.NEXT_STATUSES, by=by, reason=reason, changes=changes
        )
        if to == OutreachSession.Status.CANCELLED:
            # A cancelled session no longer holds its staff: they may be planned elsewhere.
            StaffAssignment.objects.filter(session=moved).update(is_live=False)
    return moved


@transaction.atomic
def cancel_session(session: OutreachSession, *, by: Any, reason: str) -> OutreachSession:
    """Cancel a session and every live booking in it (cancelled by the service)."""
    from outreach.services.bookings import cancel_booking

    if not reason.strip():
        raise DomainError(
            "Say why the session is cancelled.", code="invalid", fields={"reason": "Required."}
        )
    cancelled = move_session(
        session, OutreachSession.Status.CANCELLED, by=by, reason=reason, cancellation_reason=reason
    )
    booked = list(cancelled.bookings.filter(status=Booking.Status.BOOKED))
    for booking in booked:
        cancel_booking(
            booking,
            by=by,
            cancelled_by=Booking.CancelledBy.SERVICE,
            reason=f"Session cancelled: {reason}",
            offer_to_waitlist=False,
        )
    # One message to each person booked, all due now, in the cancellation's transaction.
    reminders.session_cancelled(cancelled, booked)
    return cancelled
