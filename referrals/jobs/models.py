"""A long action run by a worker, with the progress a page can show while it runs."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from clinics.models import Organisation, choices_check


class BackgroundJobKind(models.TextChoices):
    REPORT_EXPORT = "report_export", "Report export (CSV)"
    DIRECTORY_EXPORT = "directory_export", "Directory export (Open Referral UK)"
    DIRECTORY_IMPORT = "directory_import", "Directory import (Open Referral UK)"


class BackgroundJobStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class BackgroundJob(models.Model):
    """One request for a long action: who asked, how far it has got, and what came of it."""

    Kind = BackgroundJobKind
    Status = BackgroundJobStatus

    NEXT_STATUSES = {
        Status.QUEUED: {Status.RUNNING, Status.FAILED},
        # Running to running: a worker that died left the job; another takes it over once
        # its heartbeat is older than the lease, and starts again from the beginning.
        Status.RUNNING: {Status.RUNNING, Status.DONE, Status.FAILED},
        Status.DONE: set(),
        Status.FAILED: set(),
    }

    kind = models.CharField(max_length=30, choices=Kind.choices)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="background_jobs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="background_jobs"
    )
    parameters = models.JSONField(default=dict, blank=True)
    input_data = models.TextField(
        blank=True, help_text="The uploaded file of an import, kept until the job is done."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_note = models.CharField(max_length=200, blank=True)
    result_data = models.TextField(blank=True, help_text="The file the job made.")
    result_filename = models.CharField(max_length=200, blank=True)
    result_content_type = models.CharField(max_length=100, blank=True)
    result_summary = models.JSONField(default=dict, blank=True)
    error_message = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "background job"
        # Reports are not a model of their own; the permission lives here, in this app.
        permissions = [("view_reports", "Can see reports and export them")]
        constraints = [
            choices_check("kind", BackgroundJobKind, "backgroundjob_kind_valid"),
            choices_check("status", BackgroundJobStatus, "backgroundjob_status_valid"),
            models.CheckConstraint(
                condition=Q(progress_done__lte=models.F("progress_total")) | Q(progress_total=0),
                name="backgroundjob_progress_within_total",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(error_message=""),
                name="backgroundjob_failure_has_message",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["done", "failed"]) | Q(finished_at__isnull=False),
                name="backgroundjob_finished_has_time",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)

    @property
    def has_download(self) -> bool:
        return self.status == self.Status.DONE and bool(self.result_filename)
