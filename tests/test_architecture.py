"""The apps depend one way: clinics <- outreach <- referrals. Nothing imports "upwards"."""

import ast
from pathlib import Path

import pytest
from django.db.migrations.loader import MigrationLoader

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Each app and the apps it must never import from.
FORBIDDEN = {
    "clinics": {"outreach", "referrals"},
    "outreach": {"referrals"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module `source` imports, anywhere in it (functions included), as absolute names."""
    return {name for _, name in _imports(source, module, is_package=is_package)}


def _imports(source: str, module: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.append((node.lineno, target))
    return found


def _python_files(app: str) -> list[Path]:
    return sorted((PROJECT_ROOT / app).rglob("*.py"))


def _top_level(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize("app", FORBIDDEN)
def test_an_app_imports_nothing_from_the_apps_that_build_on_it(app):
    files = _python_files(app)
    assert len(files) > 3, f"found no sources for {app}"
    offences = []
    for path in files:
        module = _module_name(path)
        imports = _imports(path.read_text(), module, is_package=path.name == "__init__.py")
        offences += [
            f"{path.relative_to(PROJECT_ROOT)}:{line} imports {name}"
            for line, name in sorted(imports)
            if _top_level(name) in FORBIDDEN[app]
        ]
    assert not offences, "\n".join(offences)


@pytest.mark.parametrize("app", FORBIDDEN)
def test_an_apps_migrations_depend_on_nothing_that_builds_on_it(app):
    loader = MigrationLoader(None, ignore_no_migrations=True)
    offences = [
        f"{key[1]} depends on {parent}"
        for key, migration in loader.disk_migrations.items()
        if key[0] == app
        for parent in migration.dependencies
        if parent[0] in FORBIDDEN[app]
    ]
    assert not offences, "\n".join(offences)


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("import referrals.models", "clinics.models", "referrals.models"),
        ("from outreach.models import Booking", "clinics.models", "outreach.models"),
        ("def f():\n    from referrals import services\n", "outreach.x", "referrals"),
        (
            "class A:\n    def f(self):\n        import outreach.tasks as t\n",
            "clinics.admin",
            "outreach.tasks",
        ),
        ("if True:\n    from referrals.models import Referral\n", "outreach.x", "referrals.models"),
        ("from ..models import Booking", "outreach.api.views", "outreach.models"),
        ("from . import services", "outreach.tasks", "outreach"),
        ("from .services import series", "outreach.tasks", "outreach.services"),
    ],
)
def test_the_import_finder_sees_every_kind_of_import(source, module, expected):
    assert expected in imported_modules(source, module)


def test_the_import_finder_resolves_imports_relative_to_a_package():
    found = imported_modules("from .services import series", "outreach", is_package=True)
    assert found == {"outreach.services"}
