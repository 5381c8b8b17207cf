"""Thin Celery wrappers: ids in, one service call, the retry policy here."""

from celery import shared_task

from outreach import services


@shared_task(acks_late=True)
def fill_series_horizons_task() -> int:
    """Keep every active series' sessions created ahead (run hourly by beat)."""
    return services.fill_series_horizons()


@shared_task(acks_late=True)
def mark_missed_bookings_task() -> int:
    """Mark unattended bookings as not attended after their session (run by beat)."""
    return services.mark_missed_bookings()
