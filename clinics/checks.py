"""System checks on settings that would otherwise fail late, or quietly."""

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def check_production_services(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Warn when a deployment runs on the development database or broker."""
    problems = []
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        problems.append(
            Warning(
                "The database is SQLite.",
                hint="Set DATABASE_URL to PostgreSQL: double-booking protection and the "
                "exclusion constraints are only enforced there.",
                id="outreach.W001",
            )
        )
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        problems.append(
            Warning(
                "Celery is using the embedded filesystem broker.",
                hint="Set REDIS_URL: the filesystem broker serves one machine only.",
                id="outreach.W002",
            )
        )
    return problems
