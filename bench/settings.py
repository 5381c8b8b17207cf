"""Benchmark settings: the real settings plus a bare baseline view to compare against."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# Measure the application, not request logging.
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
