"""Pages for reports and background jobs (URL names in the `reports_web` namespace)."""

from django.urls import path

from referrals.web import reports

app_name = "reports_web"

urlpatterns = [
    path("reports/", reports.overview, name="reports"),
    path("reports/<slug:name>/", reports.report_page, name="report"),
    path("reports/<slug:name>/export.csv", reports.report_csv, name="report_csv"),
    path("reports/<slug:name>/export/", reports.report_export, name="report_export"),
    path("jobs/", reports.job_list, name="jobs"),
    path("jobs/directory-export/", reports.directory_export, name="directory_export"),
    path("jobs/directory-import/", reports.directory_import, name="directory_import"),
    path("jobs/<int:pk>/", reports.job_page, name="job"),
    path("jobs/<int:pk>/progress/", reports.job_progress, name="job_progress"),
    path("jobs/<int:pk>/download/", reports.job_download, name="job_download"),
]
