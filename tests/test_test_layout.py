"""No test module imports another test module: what several share lives in conftest.py (fixtures) and
tests/factories.py (builders and sample data), so a test file can be moved, split or deleted on its own.

Pure: reads the source with `ast`, imports nothing it checks.
"""

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def imported_names(source: str) -> list[str]:
    """Every module an import statement names (and, for `from x import y`, x.y too, since y may be a module);
    relative imports keep their leading dots."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.append(base)
            names += [f"{base}.{alias.name}" if node.module else base + alias.name for alias in node.names]
    return names


def is_test_module(name: str) -> bool:
    """`tests.test_x`, `tests.browser.test_y`, a relative `.test_x` or a bare `test_x`: a test module, not a
    helper. Other packages' modules (`django.test`) are none of our business."""
    parts = name.lstrip(".").split(".")
    if not (name.startswith(".") or parts[0] == "tests" or parts[0].startswith("test_")):
        return False
    return any(part.startswith("test_") for part in parts)


def imports_of_test_modules(source: str) -> list[str]:
    return sorted({name for name in imported_names(source) if is_test_module(name)})


@pytest.mark.parametrize(
    "source, forbidden",
    [
        ("from tests.test_engine import CATALOGUE", ["tests.test_engine", "tests.test_engine.CATALOGUE"]),
        ("import tests.test_api", ["tests.test_api"]),
        ("from tests import test_api", ["tests.test_api"]),
        (
            "from tests.browser.test_clinician import verdict",
            ["tests.browser.test_clinician", "tests.browser.test_clinician.verdict"],
        ),
        ("from .test_engine import q", [".test_engine", ".test_engine.q"]),
        ("from . import test_engine", [".test_engine"]),
        ("from ..test_engine import q", ["..test_engine", "..test_engine.q"]),
        (
            "def f():\n    from tests.test_ctgov_legacy import zip_of",
            ["tests.test_ctgov_legacy", "tests.test_ctgov_legacy.zip_of"],
        ),
        ("from tests.factories import BASE, refer", []),
        ("from tests.conftest import make_user", []),
        ("from tests.browser import log_in, screenshot", []),
        ("from . import factories", []),
        ("import test_engine", ["test_engine"]),
        ("from django.test import TestCase\nimport unittest", []),
    ],
)
def test_it_spots_imports_of_test_modules(source, forbidden):
    assert imports_of_test_modules(source) == forbidden


def test_no_test_module_imports_another():
    offenders = {
        str(path.relative_to(TESTS.parent)): names
        for path in sorted(TESTS.rglob("*.py"))
        if (names := imports_of_test_modules(path.read_text()))
    }
    assert offenders == {}, "move what is shared to tests/conftest.py or tests/factories.py"
