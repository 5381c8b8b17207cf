"""Report and background job pages. Thin: read the form, call the report or job service.

Coordinators, admins and analysts see reports (aggregates of their organisation, small
numbers suppressed); anyone signed in sees the jobs of kinds they may run.
"""

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from clinics.domain import DomainError
from config.forms import DayMonthYearField, NHSForm, add_domain_error
from referrals.jobs import services as jobs
from referrals.jobs.models import BackgroundJob
from referrals.jobs.permissions import get_job_for, jobs_for, may_run
from referrals.reports import REPORTS, Period, PeriodError, Report, UnknownReport, get_report
from referrals.reports.access import can_see_reports
from referrals.reports.charts import cell_text, charts_for
from referrals.reports.export import filename, report_rows, stream_csv


class PeriodForm(NHSForm):
    """The period of a report page: two dates typed as day, month and year."""

    start = DayMonthYearField(label="From", help_text="For example, 1 4 2026")
    end = DayMonthYearField(label="To", help_text="The last day, included")
    # The page's links carry ?from=YYYY-MM-DD&to=...; the form's boxes are start_0 to end_2.
    by = forms.CharField(widget=forms.HiddenInput, required=False)


def _period_from(request: HttpRequest) -> tuple[PeriodForm, Period | None]:
    """The period asked for: typed in the form, or carried by a link, or the default."""
    query = request.GET
    typed = any(key.startswith(("start_", "end_")) for key in query)
    if not typed:
        try:
            period = Period.parse(query.get("from"), query.get("to"))
        except PeriodError:
            period = Period.default()
        form = PeriodForm(
            initial={"start": period.first_day, "end": period.last_day, "by": query.get("by")}
        )
        return form, period
    form = PeriodForm(query)
    if not form.is_valid():
        return form, None
    try:
        period = Period.parse(
            form.cleaned_data["start"].isoformat() if form.cleaned_data["start"] else None,
            form.cleaned_data["end"].isoformat() if form.cleaned_data["end"] else None,
        )
    except PeriodError as error:
        add_domain_error(form, error, fields={"from": "start", "to": "end"})
        return form, None
    return form, period


def _require_reports(request: HttpRequest) -> None:
    if not can_see_reports(request.user):
        raise PermissionDenied


def _query(period: Period, **extra: Any) -> str:
    return urlencode({**period.as_params(), **{k: v for k, v in extra.items() if v}})


def _rows_for_template(table: Any, report: Report) -> list[dict[str, Any]]:
    return [
        {
            "label": row.label,
            "cells": [(column, cell_text(row.values[column.key])) for column in report.columns],
        }
        for row in table.rows
    ]


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Every report's headline figures over the period, with a link to each report."""
    _require_reports(request)
    form, period = _period_from(request)
    cards = []
    if period is not None:
        for report in REPORTS.values():
            table = report.table(request.user, period, report.default_split)
            cards.append(
                {
                    "report": report,
                    "url": reverse("reports_web:report", args=[report.name]) + "?" + _query(period),
                    "figures": [
                        (column.label, cell_text(table.total.values[column.key]))
                        for column in report.columns
                        if column.charted or column.key == report.columns[0].key
                    ],
                    "notes": table.notes,
                }
            )
    return render(
        request,
        "referrals/reports/overview.html",
        {"form": form, "period": period, "cards": cards},
    )


@login_required
@require_GET
def report_page(request: HttpRequest, name: str) -> HttpResponse:
    """One report over the period, split one way: charts, the full table and the exports."""
    _require_reports(request)
    report = _report_or_404(name)
    try:
        split = report.split(request.GET.get("by"))
    except UnknownReport:
        split = report.split(None)
    form, period = _period_from(request)
    context: dict[str, Any] = {"report": report, "form": form, "period": period, "split": split}
    if period is not None:
        table = report.table(request.user, period, split.key)
        context.update(
            table=table,
            charts=charts_for(table),
            rows=_rows_for_template(table, report),
            total=[(c, cell_text(table.total.values[c.key])) for c in report.columns],
            splits=[
                {
                    "split": option,
                    "url": "?" + _query(period, by=option.key),
                    "current": option.key == split.key,
                }
                for option in report.splits()
            ],
            csv_url=reverse("reports_web:report_csv", args=[report.name]) + "?" + _query(period),
        )
    return render(request, "referrals/reports/report.html", context)


def _report_or_404(name: str) -> Report:
    try:
        return get_report(name)
    except UnknownReport:
        raise Http404("There is no such report.") from None


@login_required
@require_GET
def report_csv(request: HttpRequest, name: str) -> StreamingHttpResponse:
    """The report, every split, as CSV: streamed a split at a time as each query finishes."""
    _require_reports(request)
    report = _report_or_404(name)
    try:
        period = Period.parse(request.GET.get("from"), request.GET.get("to"))
    except PeriodError as error:
        return HttpResponse(error.detail, status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(
        stream_csv(report_rows(report, request.user, period)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename(report, period)}"'
    return response


@login_required
@require_POST
def report_export(request: HttpRequest, name: str) -> HttpResponse:
    """Start a background CSV export of the report, then show its progress."""
    _require_reports(request)
    report = _report_or_404(name)
    try:
        period = Period.parse(request.POST.get("from"), request.POST.get("to"))
        job = jobs.request_report_export(
            request.user, report=report.name, first_day=period.first_day, last_day=period.last_day
        )
    except DomainError as error:
        return _refused(request, error)
    return redirect("reports_web:job", pk=job.pk)


def _refused(request: HttpRequest, error: DomainError) -> HttpResponse:
    return render(request, "referrals/reports/refused.html", {"message": error.detail}, status=400)


class DirectoryImportForm(NHSForm):
    file = forms.FileField(
        label="Open Referral UK file",
        help_text="A JSON file of services (HSDS 3), such as another directory's export.",
    )


@login_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    """Recent jobs of the organisation, and the directory's import and export."""
    return _job_list(request, DirectoryImportForm(), status=200)


def _job_list(request: HttpRequest, form: DirectoryImportForm, *, status: int) -> HttpResponse:
    user = request.user
    context = {
        "jobs": jobs_for(user)[:20],
        "import_form": form,
        "may_import": may_run(user, BackgroundJob.Kind.DIRECTORY_IMPORT),
        "may_export": may_run(user, BackgroundJob.Kind.DIRECTORY_EXPORT),
        "may_see_reports": can_see_reports(user),
    }
    return render(request, "referrals/reports/jobs.html", context, status=status)


@login_required
@require_POST
def directory_export(request: HttpRequest) -> HttpResponse:
    if not may_run(request.user, BackgroundJob.Kind.DIRECTORY_EXPORT):
        raise PermissionDenied
    try:
        job = jobs.request_directory_export(request.user)
    except DomainError as error:
        return _refused(request, error)
    return redirect("reports_web:job", pk=job.pk)


@login_required
@require_POST
def directory_import(request: HttpRequest) -> HttpResponse:
    if not may_run(request.user, BackgroundJob.Kind.DIRECTORY_IMPORT):
        raise PermissionDenied
    form = DirectoryImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _job_list(request, form, status=400)
    try:
        job = jobs.request_directory_import(request.user, form.cleaned_data["file"].read())
    except DomainError as error:
        add_domain_error(form, error)
        return _job_list(request, form, status=400)
    return redirect("reports_web:job", pk=job.pk)


def _job_context(job: BackgroundJob) -> dict[str, Any]:
    report = REPORTS.get(job.parameters.get("report", ""))
    period = None
    if "from" in job.parameters:
        period = Period.parse(job.parameters["from"], job.parameters.get("to"))
    return {
        "job": job,
        "period": period,
        "report": report,
        "title": f"{job.get_kind_display()}" + (f": {report.title}" if report else ""),
        "progress_url": reverse("reports_web:job_progress", args=[job.pk]),
        "download_url": reverse("reports_web:job_download", args=[job.pk]),
    }


@login_required
@require_GET
def job_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A job's progress; the page asks again every two seconds until it is done."""
    job = get_job_for(request.user, pk)
    return render(request, "referrals/reports/job.html", _job_context(job))


@login_required
@require_GET
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress panel alone, for htmx to swap in."""
    job = get_job_for(request.user, pk)
    return render(request, "referrals/reports/_job_progress.html", _job_context(job))


@login_required
@require_GET
def job_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_job_for(request.user, pk)
    if not job.has_download:
        raise Http404("This job has no file to download.")
    response = HttpResponse(job.result_data.encode("utf-8"), content_type=job.result_content_type)
    response["Content-Disposition"] = f'attachment; filename="{job.result_filename}"'
    return response
