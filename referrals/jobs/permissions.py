"""Which background jobs a user may start and see: their organisation's, of kinds they may use.

A nurse may export the directory but not see a report export; another organisation's job is
not there at all (a 404).
"""

from typing import Any

from django.db.models import QuerySet

# DRF's get_object_or_404: an id that is not a number ("null,null") is a 404 too, not a 500.
from rest_framework.generics import get_object_or_404

from clinics.permissions import scope_to_organisation
from referrals.jobs.models import BackgroundJob
from referrals.reports.access import REPORTS_PERMISSION

KIND_PERMISSIONS = {
    BackgroundJob.Kind.REPORT_EXPORT: (REPORTS_PERMISSION,),
    BackgroundJob.Kind.DIRECTORY_EXPORT: ("referrals.view_destination",),
    BackgroundJob.Kind.DIRECTORY_IMPORT: (
        "referrals.add_destination",
        "referrals.change_destination",
    ),
}


def may_run(user: Any, kind: str) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_perms(KIND_PERMISSIONS[kind])


def jobs_for(user: Any) -> QuerySet[BackgroundJob]:
    kinds = [kind for kind in KIND_PERMISSIONS if may_run(user, kind)]
    queryset = BackgroundJob.objects.select_related("requested_by").filter(kind__in=kinds)
    return scope_to_organisation(queryset, user, person_level=False)


def get_job_for(user: Any, pk: Any) -> BackgroundJob:
    return get_object_or_404(jobs_for(user), pk=pk)
