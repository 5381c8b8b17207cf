"""Who may see reports, and the rows each report counts, scoped to the user's organisation.

Reports count rows that analysts may never see one by one, so the querysets here start from
the shared `scope_to_organisation` helper with `person_level=False`: the organisation rules
other parts add apply, while only aggregates (suppressed by `suppression`) ever leave.
"""

from typing import Any

from django.db.models import QuerySet

from clinics.models import Patient
from clinics.permissions import scope_to_organisation
from outreach.models import Booking
from referrals.models import Referral

# Granted to coordinators, admins and analysts in clinics/roles.py (a Meta permission of
# BackgroundJob, so it lives in this app).
REPORTS_PERMISSION = "referrals.view_reports"


def can_see_reports(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(REPORTS_PERMISSION))


def report_bookings_for(user: Any) -> QuerySet[Booking]:
    return scope_to_organisation(
        Booking.objects.all(), user, field="session__organisation", person_level=False
    )


def report_referrals_for(user: Any) -> QuerySet[Referral]:
    return scope_to_organisation(Referral.objects.all(), user, person_level=False)


def report_patients_for(user: Any) -> QuerySet[Patient]:
    return scope_to_organisation(Patient.objects.current(), user, person_level=False)
