"""The container files agree with the Procfile, the settings and .env.example.

There is no Docker engine in CI, so Dockerfile and docker-compose.yml are checked as text: the
Procfile is the single source of truth for the web, worker and beat commands, and .env.example
must document every variable that compose sets or the settings read. Nothing here needs Docker,
a database or the network.
"""

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "beat")
ALL_APP_SERVICES = (*APP_SERVICES, "migrate")

_ENV_EXAMPLE_KEY = re.compile(r"^#?([A-Z][A-Z0-9_]*)=", re.MULTILINE)
_SETTINGS_READ = re.compile(
    r"\benv\.(?:str|bool|int|list|choice|database|broker_url)\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']"
)
_SHELL_VARIABLE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)")


def _procfile() -> dict[str, str]:
    processes = {}
    for line in (BASE_DIR / "Procfile").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, command = line.partition(":")
        processes[name.strip()] = command.strip()
    return processes


def _compose() -> dict[str, Any]:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def _documented() -> set[str]:
    """Keys in .env.example, set (KEY=) or shown commented out (#KEY=)."""
    return set(_ENV_EXAMPLE_KEY.findall((BASE_DIR / ".env.example").read_text()))


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (BASE_DIR / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), " ".join(arguments.split())))
        pending = ""
    return instructions


def _unwrap_shell(argv: list[str]) -> str:
    """The script of `sh -c "exec <script>"`: what the container's shell actually runs."""
    assert argv[:2] == ["sh", "-c"], f"{argv!r} is not run through sh -c"
    assert len(argv) == 3, f"{argv!r} should pass sh -c exactly one script"
    return argv[2].removeprefix("exec ")


def _compose_command(service: dict[str, Any]) -> str:
    """The command as the container receives it, after compose's own interpolation."""
    command = service["command"]
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    script = argv[-1]
    # A lone `$` would be interpolated by compose on the host (with the host's environment),
    # not by the container's shell: every `$` in the script must be written `$$`.
    assert "$" not in script.replace("$$", ""), f"unescaped $ in {script!r}"
    return _unwrap_shell([*argv[:-1], script.replace("$$", "$")])


def test_procfile_has_the_three_processes():
    assert set(_procfile()) == set(APP_SERVICES)


def test_compose_has_every_service_and_no_version_key():
    compose = _compose()
    assert "version" not in compose
    assert set(compose["services"]) >= {*ALL_APP_SERVICES, "postgres", "redis"}


@pytest.mark.parametrize("process", APP_SERVICES)
def test_compose_command_is_the_procfile_line(process):
    service = _compose()["services"][process]
    assert _compose_command(service) == _procfile()[process]


def test_migrate_runs_migrate_once():
    migrate = _compose()["services"]["migrate"]
    command = migrate["command"]
    argv = shlex.split(command) if isinstance(command, str) else command
    assert argv == ["python", "manage.py", "migrate", "--no-input"]
    assert migrate.get("restart", "no") == "no"


@pytest.mark.parametrize("name", ["web", "postgres", "redis"])
def test_service_has_a_health_check(name):
    healthcheck = _compose()["services"][name].get("healthcheck")
    assert healthcheck, f"{name} has no health check"
    assert not healthcheck.get("disable", False)
    assert healthcheck["test"]


def test_health_checks_ask_the_right_thing():
    services = _compose()["services"]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert " ".join(services["redis"]["healthcheck"]["test"]).endswith("redis-cli ping")
    assert "http://127.0.0.1:8000/healthz/" in " ".join(services["web"]["healthcheck"]["test"])


@pytest.mark.parametrize("process", APP_SERVICES)
def test_app_service_waits_for_migrate_and_healthy_servers(process):
    depends_on = _compose()["services"][process]["depends_on"]
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    assert depends_on["postgres"]["condition"] == "service_healthy"
    assert depends_on["redis"]["condition"] == "service_healthy"


def test_migrate_waits_for_postgres():
    depends_on = _compose()["services"]["migrate"]["depends_on"]
    assert depends_on["postgres"]["condition"] == "service_healthy"


def test_app_services_share_one_environment_anchor():
    compose = _compose()
    app_env = compose["x-app-env"]
    for name in ALL_APP_SERVICES:
        # An alias loads as the very same object; a copied mapping would not.
        assert compose["services"][name]["environment"] is app_env, name
    assert app_env["DATABASE_URL"] == "postgres://outreach:outreach@postgres:5432/outreach"
    assert app_env["REDIS_URL"] == "redis://redis:6379/0"
    assert app_env["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"
    assert app_env["DEBUG"] == "false"
    assert app_env["BIND_ADDRESS"] == "0.0.0.0"  # noqa: S104


def test_only_one_beat():
    beat = _compose()["services"]["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1


def test_redis_keeps_the_broker_queue_on_disk():
    command = _compose()["services"]["redis"]["command"]
    argv = shlex.split(command) if isinstance(command, str) else command
    assert "--appendonly" in argv
    assert argv[argv.index("--appendonly") + 1] == "yes"


def test_compose_environment_is_documented_in_env_example():
    missing = set(_compose()["x-app-env"]) - _documented()
    assert not missing, f".env.example does not document {sorted(missing)}"


def test_procfile_variables_are_documented_in_env_example():
    variables = set(_SHELL_VARIABLE.findall((BASE_DIR / "Procfile").read_text()))
    missing = variables - _documented()
    assert not missing, f".env.example does not document {sorted(missing)}"


def test_settings_variables_are_documented_in_env_example():
    read = set(_SETTINGS_READ.findall((BASE_DIR / "config" / "settings.py").read_text()))
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= read, "the pattern finds nothing"
    missing = read - _documented()
    assert not missing, f".env.example does not document {sorted(missing)}"


def test_dockerfile_installs_from_the_lock_with_hashes():
    runs = [args for keyword, args in _dockerfile_instructions() if keyword == "RUN"]
    installs = [args for args in runs if "pip install" in args]
    assert installs, "the Dockerfile installs nothing with pip"
    for args in installs:
        assert "--require-hashes" in args, args
        assert re.search(r"-r \S*requirements\.lock\b", args), args


def test_dockerfile_does_not_run_as_root():
    users = [args for keyword, args in _dockerfile_instructions() if keyword == "USER"]
    assert users, "the Dockerfile has no USER line, so it runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_dockerfile_keeps_the_secret_key_out_of_the_image():
    for keyword, args in _dockerfile_instructions():
        if keyword in {"ENV", "ARG"}:
            assert "SECRET_KEY" not in args, f"{keyword} {args}"
    collectstatic = [
        args
        for keyword, args in _dockerfile_instructions()
        if keyword == "RUN" and "collectstatic" in args
    ]
    assert len(collectstatic) == 1
    assert "SECRET_KEY=" in collectstatic[0]
    assert "-u DEBUG" in collectstatic[0]


def test_dockerfile_default_command_is_the_procfile_web_line():
    commands = [args for keyword, args in _dockerfile_instructions() if keyword == "CMD"]
    assert commands, "the Dockerfile has no CMD"
    assert _unwrap_shell(json.loads(commands[-1])) == _procfile()["web"]


def test_dockerfile_is_based_on_python_311_slim():
    text = (BASE_DIR / "Dockerfile").read_text()
    assert "python:3.11-slim" in text
    assert "EXPOSE 8000" in text
