"""Test-wide wiring: service markers that fail in CI instead of skipping."""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

# Fixtures and helpers the API tests of every app share (api_world: one of every record).
pytest_plugins = ["tests.api_support", "tests.api_world"]


@pytest.fixture
def client() -> Client:
    """pytest-django's client, but `force_login` also completes two-factor sign-in."""
    from tests.api_support import TwoFactorClient  # a plugin: imported after pytest's rewrite

    return TwoFactorClient()


@pytest.fixture
def admin_client(db, admin_user) -> Client:
    """pytest-django's superuser client, past two-factor sign-in like a real superuser."""
    from tests.api_support import TwoFactorClient

    client = TwoFactorClient()
    client.force_login(admin_user)
    return client


def _services_required() -> bool:
    return os.environ.get("OUTREACH_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes", "on"}


def _missing(service: str, why: str) -> None:
    message = f"This test needs {service}: {why}"
    if _services_required():
        pytest.fail(message + " (OUTREACH_REQUIRE_SERVICES is set, so this is a failure)")
    pytest.skip(message)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        action="store_true",
        help="browser tests save screenshots of the main screens to docs/screenshots/",
    )


def pytest_configure(config: pytest.Config) -> None:
    # WhiteNoise warns on every request when STATIC_ROOT does not exist yet (before collectstatic).
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """PBKDF2's deliberate slowness costs a quarter of a second per user the factories make."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _plain_static_storage(settings) -> None:
    """Serve static files without the collectstatic manifest that production builds."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres"):
        engine = settings.DATABASES["default"]["ENGINE"]
        if engine != "django.db.backends.postgresql":
            _missing("PostgreSQL", "set DATABASE_URL=postgres://... to run it")
    if item.get_closest_marker("redis"):
        if not settings.REDIS_URL:
            _missing("Redis", "set REDIS_URL=redis://... to run it")
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
        except redis.RedisError as error:
            _missing("Redis", f"{settings.REDIS_URL} did not answer ({error})")
