"""Thin Celery wrappers for clinics: one service call each, acting as the named system user."""

from celery import shared_task

from clinics.data_protection import anonymise_past_retention
from clinics.services import system_user


@shared_task(acks_late=True)
def anonymise_past_retention_task() -> dict[str, int]:
    """Anonymise patients past the retention period (run nightly by beat; idempotent)."""
    result = anonymise_past_retention(by=system_user())
    return {"anonymised": result.anonymised, "kept_for_open_care": result.kept_for_open_care}
