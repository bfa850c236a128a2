"""`eligibility` is plain Python: no module in it imports Django or one of the project's apps."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "eligibility"
FORBIDDEN = ("django", "prescreen", "trials", "screening", "referrals", "curation", "ctgov")


def imported_modules(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_it_finds_the_package_modules():
    assert {"engine.py", "compiled.py", "rules.py"} <= {p.name for p in MODULES}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_it_imports_nothing_from_django_or_the_apps(path):
    bad = [
        f"{path.name}:{line} imports {name}"
        for line, name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN
    ]
    assert bad == []
