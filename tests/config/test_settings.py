"""The settings fail fast: a malformed environment stops start-up with a message naming it.

Whole-settings tests run a fresh interpreter with an environment built from scratch (settings are
read once per process); the `Env` reader itself is tested directly against a dict, which is fast.
"""

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import Env

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOAD_SETTINGS = ("-c", "import django; from django.conf import settings; settings.INSTALLED_APPS")
DUMP_SETTINGS = (
    "-c",
    """
import json
from django.conf import settings
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "TIME_ZONE": settings.TIME_ZONE,
    "USE_TZ": settings.USE_TZ,
    "DATABASE": {k: str(v) for k, v in settings.DATABASES["default"].items()},
    "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    "CACHE_BACKEND": settings.CACHES["default"]["BACKEND"],
    "OUTREACH_SERIES_HORIZON_WEEKS": settings.OUTREACH_SERIES_HORIZON_WEEKS,
}))
""",
)
CHECK_DEPLOY = ("manage.py", "check", "--deploy")
A_POSTGRES_URL = "postgres://outreach@db.invalid:5432/outreach"
DEPLOY_ENVIRONMENT = {"SECRET_KEY": secrets.token_urlsafe(50), "DEBUG": "false"}
PASSWORD_IN_URL = {"SECRET_KEY": "x", "DATABASE_URL": "mysql://outreach:hunter2@db/outreach"}

MALFORMED = [
    ({"SECRET_KEY": "x", "DEBUG": "ture"}, "DEBUG='ture' is not a boolean"),
    ({}, "SECRET_KEY is not set"),
    ({"DEBUG": "false"}, "SECRET_KEY is not set"),
    ({"SECRET_KEY": "", "DEBUG": "no"}, "SECRET_KEY is not set"),
    ({"SECRET_KEY": "x", "DATABASE_URL": "mysql://x/y"}, "DATABASE_URL='mysql://x/y' is not"),
    ({"SECRET_KEY": "x", "DATABASE_URL": "nonsense"}, "DATABASE_URL='nonsense' is not"),
    ({"SECRET_KEY": "x", "DATABASE_URL": "postgres://db.invalid/"}, "names no database"),
    ({"SECRET_KEY": "x", "REDIS_URL": "http://x"}, "REDIS_URL='http://x' is not a Redis URL"),
    ({"SECRET_KEY": "x", "CELERY_BROKER_URL": "amqp://x"}, "CELERY_BROKER_URL='amqp://x' is not"),
    (
        {"SECRET_KEY": "x", "DATABASE_URL": A_POSTGRES_URL, "CONN_MAX_AGE": "-1"},
        "CONN_MAX_AGE=-1 is below the minimum of 0",
    ),
    (
        {"SECRET_KEY": "x", "DATABASE_URL": A_POSTGRES_URL, "CONN_MAX_AGE": "abc"},
        "CONN_MAX_AGE='abc' is not a whole number",
    ),
    (
        {"SECRET_KEY": "x", "OUTREACH_SERIES_HORIZON_WEEKS": "0"},
        "OUTREACH_SERIES_HORIZON_WEEKS=0 is below the minimum of 1",
    ),
    (
        {"SECRET_KEY": "x", "OUTREACH_SERIES_HORIZON_WEEKS": "53"},
        "OUTREACH_SERIES_HORIZON_WEEKS=53 is above the maximum of 52",
    ),
    ({"SECRET_KEY": "x", "SECURE_SSL_REDIRECT": "sure"}, "SECURE_SSL_REDIRECT='sure'"),
]
GOOD = {
    "defaults": {"SECRET_KEY": "x"},
    "debug": {"DEBUG": "true"},
    "redis": {"SECRET_KEY": "x", "REDIS_URL": "redis://127.0.0.1:6379/0"},
    "postgres": {"SECRET_KEY": "x", "DATABASE_URL": A_POSTGRES_URL, "CONN_MAX_AGE": "0"},
}
DEPLOY = {
    "sqlite": DEPLOY_ENVIRONMENT,
    "postgres": {**DEPLOY_ENVIRONMENT, "DATABASE_URL": A_POSTGRES_URL},
}


def _key(args: tuple[str, ...], variables: dict[str, str]) -> tuple:
    return args, tuple(sorted(variables.items()))


PLANNED = (
    [_key(LOAD_SETTINGS, variables) for variables, _ in MALFORMED]
    + [_key(LOAD_SETTINGS, PASSWORD_IN_URL)]
    + [_key(DUMP_SETTINGS, variables) for variables in GOOD.values()]
    + [_key(CHECK_DEPLOY, variables) for variables in DEPLOY.values()]
)


def _run(args: tuple[str, ...], variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {
        "PATH": os.environ["PATH"],
        "OUTREACH_READ_DOTENV": "false",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **variables,
    }
    return subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class Interpreters:
    """Fresh interpreters for the planned commands, started together up front.

    Each one spends ~0.4 s importing Django, so running them side by side makes this file take
    about as long as the slowest few rather than the sum of them all.
    """

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self._pool = pool
        self._started: dict[tuple, Future] = {
            key: pool.submit(_run, key[0], dict(key[1])) for key in PLANNED
        }

    def run(self, args: tuple[str, ...], variables: dict[str, str]):
        key = _key(args, variables)
        if key not in self._started:
            self._started[key] = self._pool.submit(_run, args, variables)
        return self._started[key].result()


@pytest.fixture(scope="module")
def interpreters() -> Iterator[Interpreters]:
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        yield Interpreters(pool)


def _settings_with(interpreters: Interpreters, name: str) -> dict:
    result = interpreters.run(DUMP_SETTINGS, GOOD[name])
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("variables", "expected"),
    MALFORMED,
    ids=[
        ",".join(f"{k}={v}" for k, v in variables.items()) or "empty" for variables, _ in MALFORMED
    ],
)
def test_a_malformed_environment_stops_start_up_naming_the_variable(
    interpreters, variables, expected
):
    result = interpreters.run(LOAD_SETTINGS, variables)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert expected in result.stderr


def test_a_database_password_never_appears_in_the_error(interpreters):
    result = interpreters.run(LOAD_SETTINGS, PASSWORD_IN_URL)
    assert result.returncode != 0
    assert "mysql://outreach:***@db/outreach" in result.stderr
    assert "hunter2" not in result.stderr


def test_a_good_environment_loads_with_safe_defaults(interpreters):
    loaded = _settings_with(interpreters, "defaults")
    assert loaded["DEBUG"] is False
    assert loaded["TIME_ZONE"] == "Europe/London"
    assert loaded["USE_TZ"] is True
    assert loaded["DATABASE"]["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(loaded["DATABASE"]["NAME"]).parent == PROJECT_ROOT / "var"
    assert loaded["CELERY_BROKER_URL"] == "filesystem://"
    assert loaded["CACHE_BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert loaded["OUTREACH_SERIES_HORIZON_WEEKS"] == 8


def test_debug_may_run_without_a_secret_key(interpreters):
    assert _settings_with(interpreters, "debug")["DEBUG"] is True


def test_redis_url_switches_the_broker_and_the_cache_to_redis(interpreters):
    loaded = _settings_with(interpreters, "redis")
    assert loaded["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/0"
    assert loaded["CACHE_BACKEND"] == "django.core.cache.backends.redis.RedisCache"


def test_database_url_switches_to_postgresql(interpreters):
    loaded = _settings_with(interpreters, "postgres")
    assert loaded["DATABASE"]["ENGINE"] == "django.db.backends.postgresql"
    assert loaded["DATABASE"]["NAME"] == "outreach"
    assert loaded["DATABASE"]["CONN_MAX_AGE"] == "0"


def test_check_deploy_warns_that_sqlite_is_no_production_database(interpreters):
    result = interpreters.run(CHECK_DEPLOY, DEPLOY["sqlite"])
    warnings = result.stderr.partition("WARNINGS:")[2]
    assert "(outreach.W001) The database is SQLite." in warnings


def test_check_deploy_does_not_warn_about_sqlite_on_postgresql(interpreters):
    result = interpreters.run(CHECK_DEPLOY, DEPLOY["postgres"])
    assert "outreach.W002" in result.stderr
    assert "outreach.W001" not in result.stderr


# --- config.env.Env against a plain mapping --------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "True", "YES", "on", " true "])
def test_env_bool_reads_true(raw):
    assert Env({"FLAG": raw}).bool("FLAG") is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "OFF"])
def test_env_bool_reads_false(raw):
    assert Env({"FLAG": raw}).bool("FLAG", default=True) is False


@pytest.mark.parametrize("environ_map", [{}, {"FLAG": ""}, {"FLAG": "  "}])
def test_env_bool_falls_back_to_the_default_when_unset_or_blank(environ_map):
    assert Env(environ_map).bool("FLAG", default=True) is True
    assert Env(environ_map).bool("FLAG", default=False) is False


@pytest.mark.parametrize("raw", ["ture", "2", "enabled", "y"])
def test_env_bool_refuses_anything_else_naming_the_variable(raw):
    with pytest.raises(ImproperlyConfigured, match=f"FLAG='{raw}' is not a boolean"):
        Env({"FLAG": raw}).bool("FLAG")


def test_env_int_reads_a_whole_number_within_bounds():
    env = Env({"N": " 8 ", "LOW": "1", "HIGH": "52"})
    assert env.int("N", 3, minimum=1, maximum=52) == 8
    assert env.int("LOW", 3, minimum=1, maximum=52) == 1
    assert env.int("HIGH", 3, minimum=1, maximum=52) == 52
    assert env.int("UNSET", 3, minimum=1) == 3
    assert Env({"N": ""}).int("N", 3) == 3


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "N='abc' is not a whole number"),
        ("1.5", "N='1.5' is not a whole number"),
        ("0", "N=0 is below the minimum of 1"),
        ("53", "N=53 is above the maximum of 52"),
    ],
)
def test_env_int_refuses_a_bad_number_naming_the_variable(raw, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        Env({"N": raw}).int("N", 8, minimum=1, maximum=52)


def test_env_list_splits_on_commas_and_drops_blanks():
    env = Env({"HOSTS": " a.example , b.example,,"})
    assert env.list("HOSTS") == ["a.example", "b.example"]
    assert env.list("UNSET", default=["localhost"]) == ["localhost"]


def test_env_choice_accepts_only_the_listed_values():
    assert Env({"LEVEL": "INFO"}).choice("LEVEL", "WARNING", {"INFO", "WARNING"}) == "INFO"
    assert Env({}).choice("LEVEL", "WARNING", {"INFO", "WARNING"}) == "WARNING"
    with pytest.raises(ImproperlyConfigured, match="LEVEL='LOUD' is not one of: INFO, WARNING"):
        Env({"LEVEL": "LOUD"}).choice("LEVEL", "WARNING", {"INFO", "WARNING"})


@pytest.mark.parametrize(
    ("url", "engine", "name"),
    [
        ("postgres://u:p@db:5432/outreach", "django.db.backends.postgresql", "outreach"),
        ("postgresql://u@db/outreach", "django.db.backends.postgresql", "outreach"),
        (
            "sqlite:////srv/outreach/outreach.sqlite3",
            "django.db.backends.sqlite3",
            "/srv/outreach/outreach.sqlite3",
        ),
    ],
)
def test_env_database_reads_postgres_and_sqlite_urls(url, engine, name):
    config = Env({"DATABASE_URL": url}).database("DATABASE_URL", default="sqlite:///x")
    assert (config["ENGINE"], config["NAME"]) == (engine, name)


def test_env_database_uses_the_default_when_unset_or_blank():
    for environ_map in ({}, {"DATABASE_URL": ""}):
        config = Env(environ_map).database(
            "DATABASE_URL", default="sqlite:////srv/outreach/default.db"
        )
        assert config["NAME"] == "/srv/outreach/default.db"


@pytest.mark.parametrize(
    "url", ["mysql://x/y", "nonsense", "http://db/outreach", "oracle://u:p@db/x"]
)
def test_env_database_refuses_other_urls_naming_the_variable(url):
    with pytest.raises(ImproperlyConfigured, match=r"DATABASE_URL=.* is not a database URL"):
        Env({"DATABASE_URL": url}).database("DATABASE_URL", default="sqlite:///x")


def test_env_database_refuses_a_url_naming_no_database():
    with pytest.raises(ImproperlyConfigured, match="names no database"):
        Env({"DATABASE_URL": "postgres://db/"}).database("DATABASE_URL", default="sqlite:///x")


def test_env_database_hides_the_password_in_its_error():
    with pytest.raises(ImproperlyConfigured) as error:
        Env({"DATABASE_URL": "mysql://u:hunter2@db/x"}).database("DATABASE_URL", default="")
    assert "u:***@db" in str(error.value)
    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize(
    "url", ["redis://localhost:6379/0", "rediss://cache.example:6380/1", "filesystem://"]
)
def test_env_broker_url_accepts_redis_and_the_filesystem_broker(url):
    assert Env({"REDIS_URL": url}).broker_url("REDIS_URL", default="") == url


@pytest.mark.parametrize("url", ["http://x", "amqp://guest@rabbit//", "localhost:6379"])
def test_env_broker_url_refuses_other_urls_naming_the_variable(url):
    with pytest.raises(ImproperlyConfigured, match=r"REDIS_URL=.* is not a Redis URL"):
        Env({"REDIS_URL": url}).broker_url("REDIS_URL", default="")
