"""Apps by bounded context: imports follow the arrows eligibility ← trials ← {ctgov, curation, screening} ← referrals.

Each package may import those to its left, never one to its right or beside it (a sibling); nothing points back up.
Read from the source with `ast`, so an import inside a function counts as much as one at the top. A package that
does not exist (yet) in this checkout is skipped; a new app must be added to the table before it is installed.
"""

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent

# package → the project's packages it must not import
FORBIDDEN = {
    "eligibility": {"prescreen", "trials", "ctgov", "curation", "screening", "referrals"},
    "trials": {"ctgov", "curation", "screening", "referrals"},
    "ctgov": {"curation", "screening", "referrals"},
    "curation": {"ctgov", "screening", "referrals"},
    "screening": {"referrals"},
    "referrals": set(),
}

# Modules that are plain Python (tested without a database): no Django, and of the project only eligibility.
PURE = ["ctgov/archives.py", "ctgov/legacy.py", "ctgov/studies.py", "ctgov/split.py", "ctgov/drafts.py",
        "curation/rule_builder.py"]
PROJECT = {"prescreen", *FORBIDDEN}


def imported_modules(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module  # relative imports stay inside their own package


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


PACKAGES = [p for p in FORBIDDEN if (ROOT / p / "__init__.py").exists()]


def test_it_knows_every_app_of_the_project():
    local = {app.split(".")[0] for app in settings.INSTALLED_APPS if (ROOT / app.split(".")[0]).is_dir()}
    assert local <= set(FORBIDDEN), f"add {sorted(local - set(FORBIDDEN))} to FORBIDDEN"
    assert {"eligibility", "trials", "ctgov", "curation"} <= set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_it_imports_only_along_the_arrows(package):
    bad = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in modules(package)
        for line, name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN[package]
    ]
    assert bad == []


@pytest.mark.parametrize("name", PURE)
def test_its_pure_modules_import_no_django(name):
    bad = [
        f"{name}:{line} imports {imported}"
        for line, imported in imported_modules(ROOT / name)
        if imported.split(".")[0] in ({"django"} | PROJECT) - {"eligibility"}
    ]
    assert bad == []
