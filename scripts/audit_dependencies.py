"""pip-audit over the lock files: fail on any known vulnerability.

pip-audit asks PyPI's vulnerability data about each pinned release. Where that data cannot be
reached (an index mirror that serves packages but not the per-release JSON, say), every package
comes back "could not be audited": that is not a pass, so this says so loudly, and fails when
OUTREACH_REQUIRE_AUDIT is set (a CI with full access to PyPI should set it). A partial answer,
some packages audited and some not, fails: it means the lookups are failing one by one.

    python scripts/audit_dependencies.py requirements.lock requirements-dev.lock
"""

import json
import os
import subprocess
import sys
from pathlib import Path

PIP_AUDIT = Path(sys.executable).with_name("pip-audit")
TRUE = {"1", "true", "yes", "on"}


def audit(lock_file: str) -> tuple[list[str], list[str], int]:
    """Return (findings, packages not audited, packages audited) for one lock file."""
    result = subprocess.run(  # noqa: S603 - our own venv's pip-audit, fixed arguments
        [
            str(PIP_AUDIT),
            "--requirement",
            lock_file,
            "--require-hashes",
            "--disable-pip",
            "--progress-spinner",
            "off",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        sys.exit(f"pip-audit failed on {lock_file}:\n{result.stderr or result.stdout}")
    findings, skipped, audited = [], [], 0
    for dependency in report.get("dependencies", []):
        name = f"{dependency['name']} {dependency.get('version', '')}".strip()
        if "skip_reason" in dependency:
            skipped.append(name)
            continue
        audited += 1
        for vuln in dependency.get("vulns", []):
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed release yet"
            findings.append(f"{name}: {vuln['id']} (fixed in {fixed})")
    return findings, skipped, audited


def main(lock_files: list[str]) -> int:
    required = os.environ.get("OUTREACH_REQUIRE_AUDIT", "").lower() in TRUE
    failed = False
    for lock_file in lock_files:
        findings, skipped, audited = audit(lock_file)
        if findings:
            failed = True
            print(f"{lock_file}: {len(findings)} known vulnerabilities:")
            print("\n".join(f"  {finding}" for finding in findings))
        if skipped and audited:
            failed = True
            print(
                f"{lock_file}: {len(skipped)} packages could not be audited: {', '.join(skipped)}"
            )
        elif skipped:
            print(
                f"{lock_file}: NOT AUDITED - PyPI's vulnerability data answered for none of its "
                f"{len(skipped)} packages from this machine."
            )
            failed = failed or required
        elif not findings:
            print(f"{lock_file}: {audited} packages audited, no known vulnerabilities.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["requirements.lock", "requirements-dev.lock"]))
