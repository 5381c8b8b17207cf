"""Information governance records: data-sharing agreements and the append-only access log.

Imported by clinics.models so Django registers them in the clinics app; related models are
named by string to keep the import one way.
"""

from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords


class SharingRecords(models.TextChoices):
    PATIENTS = "patients", "Patient records and contact points"
    CARE = (
        "care",
        (
            "Patient records with their bookings, visit outcomes, waiting-list entries, messages "
            "and referrals"
        ),
    )


class DataSharingAgreementQuerySet(models.QuerySet["DataSharingAgreement"]):
    def in_force(self, on: date) -> "DataSharingAgreementQuerySet":
        """Agreements that apply on the London date `on`: started, and not yet ended."""
        return self.filter(starts_on__lte=on, ends_on__gt=on)


class DataSharingAgreement(models.Model):
    """The sharing organisation lets the receiving organisation's staff see its records.

    One way unless `reciprocal`: then each shares the same records with the other. In force
    from `starts_on` until the start of `ends_on` (London dates): access stops the day it ends.
    """

    Records = SharingRecords

    sharing_organisation = models.ForeignKey(
        "clinics.Organisation",
        on_delete=models.PROTECT,
        related_name="agreements_sharing",
        help_text="The organisation whose records are shared (the data controller).",
    )
    receiving_organisation = models.ForeignKey(
        "clinics.Organisation",
        on_delete=models.PROTECT,
        related_name="agreements_receiving",
        help_text="The organisation whose staff may see them.",
    )
    reciprocal = models.BooleanField(
        default=False,
        help_text="Both organisations share the same records with each other.",
    )
    records = models.CharField(max_length=20, choices=Records.choices, default=Records.CARE)
    purpose = models.TextField(help_text="Why the records are shared: the care it makes possible.")
    reference = models.CharField(
        max_length=100, blank=True, help_text="The signed agreement's reference, if it has one."
    )
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="Access stops at the start of this day (London time).")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    objects = DataSharingAgreementQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "id"]
        verbose_name = "data-sharing agreement"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=models.F("starts_on")),
                name="datasharingagreement_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(sharing_organisation=models.F("receiving_organisation")),
                name="datasharingagreement_not_with_itself",
            ),
            models.CheckConstraint(
                condition=Q(records__in=SharingRecords.values),
                name="datasharingagreement_records_valid",
            ),
        ]
        indexes = [models.Index(fields=["receiving_organisation", "starts_on", "ends_on"])]

    def __str__(self) -> str:
        arrow = "<->" if self.reciprocal else "->"
        return (
            f"{self.sharing_organisation} {arrow} {self.receiving_organisation} "
            f"({self.starts_on:%d %b %Y} to {self.ends_on:%d %b %Y})"
        )

    def clean(self) -> None:
        errors = {}
        if self.starts_on and self.ends_on and self.ends_on <= self.starts_on:
            errors["ends_on"] = "The end date must be after the start date."
        if (
            self.sharing_organisation_id
            and self.sharing_organisation_id == self.receiving_organisation_id
        ):
            errors["receiving_organisation"] = "An organisation cannot share with itself."
        if errors:
            raise ValidationError(errors)


class AccessAction(models.TextChoices):
    VIEW = "view", "Viewed a record"
    LIST = "list", "Listed records"
    SEARCH = "search", "Searched"
    HISTORY = "history", "Read the history"
    EXPORT = "export", "Exported (subject access)"


class AccessVia(models.TextChoices):
    API = "api", "API"
    WEB = "web", "Web app"
    ADMIN = "admin", "Admin"
    COMMAND = "command", "Management command"


class AppendOnly(Exception):
    """The access log is never changed or deleted, only added to."""


class AccessLogQuerySet(models.QuerySet["AccessLogEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("Access log entries cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("Access log entries cannot be deleted.")

    def _raw_delete(self, using: str) -> int:
        # The collector's fast path for cascades: refused like any other delete.
        raise AppendOnly("Access log entries cannot be deleted.")


class AccessLogEntry(models.Model):
    """One read of patient records: who, which, when, from where, how. Append-only.

    A list or a search is one entry naming every patient on the page, so a page of 50 costs
    one insert, not 50. `entry_hash` chains each entry to the one before (see access_log.py).
    """

    Action = AccessAction
    Via = AccessVia

    at = models.DateTimeField(default=timezone.now)
    # Kept without a database foreign key: a deleted user or patient must not take the
    # record of what they did or what was read of them with it (nor rewrite it to NULL).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    username = models.CharField(max_length=150, blank=True)
    organisation_id = models.IntegerField(
        null=True, help_text="The organisation the user worked for at the time."
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    via = models.CharField(max_length=10, choices=Via.choices)
    patient = models.ForeignKey(
        "clinics.Patient",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        help_text="The one record read (view, history, export); empty for lists.",
    )
    patient_ids = models.JSONField(default=list, help_text="Every patient whose data was read.")
    ip_address = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=200, blank=True)
    path = models.CharField(max_length=200, blank=True)
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = "access log entry"
        verbose_name_plural = "access log"
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=AccessAction.values), name="accesslogentry_action_valid"
            ),
            models.CheckConstraint(
                condition=Q(via__in=AccessVia.values), name="accesslogentry_via_valid"
            ),
            # The chain cannot fork: each entry has one successor at most, whatever writes it.
            models.UniqueConstraint(fields=["previous_hash"], name="accesslogentry_one_successor"),
        ]
        indexes = [
            models.Index(fields=["patient", "-id"]),
            models.Index(fields=["organisation_id", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.username or 'unknown'} {self.action} at {self.at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or kwargs.get("force_update"):
            raise AppendOnly("Access log entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("Access log entries cannot be deleted.")
