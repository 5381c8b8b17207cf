"""Every write to series, sessions, bookings and the waiting list goes through a function here."""

from outreach.services.bookings import (
    UnknownRecord,
    add_walk_in,
    book_slot,
    cancel_booking,
    move_booking,
    reschedule_booking,
)
from outreach.services.common import local_datetime, london
from outreach.services.confirmations import ConfirmationRefused, confirm_booking
from outreach.services.day import (
    check_in,
    mark_missed_bookings,
    mark_no_show,
    record_visit,
    walk_in_queue,
)
from outreach.services.series import (
    Scope,
    create_series,
    fill_series_horizon,
    fill_series_horizons,
    series_dates,
    update_series,
)
from outreach.services.sessions import (
    assign_staff,
    cancel_session,
    check_clashes,
    create_session,
    move_session,
    update_session,
)
from outreach.services.waitlist import (
    accept_offer,
    decline_offer,
    join_waitlist,
    leave_waitlist,
    offer_freed_slot,
)

__all__ = [
    "ConfirmationRefused",
    "Scope",
    "UnknownRecord",
    "accept_offer",
    "add_walk_in",
    "assign_staff",
    "book_slot",
    "cancel_booking",
    "cancel_session",
    "check_clashes",
    "check_in",
    "confirm_booking",
    "create_series",
    "create_session",
    "decline_offer",
    "fill_series_horizon",
    "fill_series_horizons",
    "join_waitlist",
    "leave_waitlist",
    "local_datetime",
    "london",
    "mark_missed_bookings",
    "mark_no_show",
    "move_booking",
    "move_session",
    "offer_freed_slot",
    "record_visit",
    "reschedule_booking",
    "series_dates",
    "update_series",
    "update_session",
    "walk_in_queue",
]
