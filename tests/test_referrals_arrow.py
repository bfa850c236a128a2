"""`referrals` stands on `screening` and `trials`; nothing below it imports it back."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BELOW = ("eligibility", "trials", "screening")


def imports_of(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


@pytest.mark.parametrize("package", BELOW)
def test_it_is_not_imported_by(package):
    bad = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / package).rglob("*.py"))
        if any(name.split(".")[0] == "referrals" for name in imports_of(path))
    ]
    assert bad == []
