"""Reports for coordinators and analysts: aggregates only, small numbers suppressed.

`get_report(name).table(user, period, split)` answers one report split one way; the pages, the
CSV export, the API and the background jobs all go through it.
"""

from referrals.reports.measures import REPORTS, Report, UnknownReport, get_report
from referrals.reports.period import Period, PeriodError

__all__ = ["REPORTS", "Period", "PeriodError", "Report", "UnknownReport", "get_report"]
