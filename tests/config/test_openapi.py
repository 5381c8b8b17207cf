"""The committed OpenAPI schema (docs/openapi.yaml) is the one the code generates."""

from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_the_committed_schema_matches_the_code(tmp_path):
    generated = tmp_path / "openapi.yaml"

    call_command("spectacular", "--file", str(generated), "--validate", "--fail-on-warn")

    committed = (ROOT / "docs" / "openapi.yaml").read_text()
    assert generated.read_text() == committed, (
        "docs/openapi.yaml is out of date: run "
        "`.venv/bin/python manage.py spectacular --file docs/openapi.yaml`"
    )
