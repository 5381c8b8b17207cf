"""scripts/audit_dependencies.py: what pip-audit's answers mean for CI."""

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_dependencies.py"
spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
audit_dependencies = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit_dependencies)

AUDITED = {"name": "django", "version": "5.2.9", "vulns": []}
VULNERABLE = {
    "name": "celery",
    "version": "5.5.0",
    "vulns": [{"id": "PYSEC-2099-1", "fix_versions": ["5.5.1"]}],
}
NOT_FOUND = {"name": "vine", "version": "5.1.0", "skip_reason": "Dependency not found on PyPI"}


@pytest.fixture
def pip_audit_answers(monkeypatch):
    def answer(*dependencies):
        def run(*args, **kwargs):
            payload = json.dumps({"dependencies": list(dependencies), "fixes": []})
            return subprocess.CompletedProcess(args, 0, stdout=payload, stderr="")

        monkeypatch.setattr(audit_dependencies.subprocess, "run", run)

    return answer


def test_a_clean_audit_passes(pip_audit_answers, capsys):
    pip_audit_answers(AUDITED)

    assert audit_dependencies.main(["requirements.lock"]) == 0
    assert "1 packages audited, no known vulnerabilities" in capsys.readouterr().out


def test_a_known_vulnerability_fails_naming_it_and_its_fix(pip_audit_answers, capsys):
    pip_audit_answers(AUDITED, VULNERABLE)

    assert audit_dependencies.main(["requirements.lock"]) == 1
    assert "celery 5.5.0: PYSEC-2099-1 (fixed in 5.5.1)" in capsys.readouterr().out


def test_some_packages_not_audited_fails(pip_audit_answers, capsys):
    pip_audit_answers(AUDITED, NOT_FOUND)

    assert audit_dependencies.main(["requirements.lock"]) == 1
    assert "1 packages could not be audited: vine 5.1.0" in capsys.readouterr().out


def test_no_data_at_all_is_reported_as_not_audited_never_as_a_pass(
    pip_audit_answers, capsys, monkeypatch
):
    pip_audit_answers(NOT_FOUND)
    monkeypatch.delenv("OUTREACH_REQUIRE_AUDIT", raising=False)

    assert audit_dependencies.main(["requirements.lock"]) == 0
    out = capsys.readouterr().out
    assert "NOT AUDITED" in out
    assert "no known vulnerabilities" not in out

    monkeypatch.setenv("OUTREACH_REQUIRE_AUDIT", "true")
    assert audit_dependencies.main(["requirements.lock"]) == 1
