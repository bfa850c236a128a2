"""Apps by bounded context: imports follow the arrows eligibility ← trials ← {ctgov, curation, screening} ← referrals;
the access log (`audit`) sits beneath them all and imports none of them.

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
    # The pure core: no app, and no Django either (it is tested without a database).
    "eligibility": {"django", "prescreen", "audit", "trials", "ctgov", "curation", "screening", "referrals"},
    # The access log sits beneath every app (each may record to it) and imports none of them.
    "audit": {"eligibility", "prescreen", "trials", "ctgov", "curation", "screening", "referrals"},
    "trials": {"ctgov", "curation", "screening", "referrals"},
    "ctgov": {"curation", "screening", "referrals"},
    "curation": {"ctgov", "screening", "referrals"},
    "screening": {"referrals"},
    "referrals": set(),
    "prescreen": set(),  # the project package may import anything
}

# Modules that are plain Python (tested without a database): no Django, and of the project only eligibility.
PURE = [
    "ctgov/archives.py",
    "ctgov/legacy.py",
    "ctgov/studies.py",
    "ctgov/split.py",
    "ctgov/drafts.py",
    "curation/rule_builder.py",
]
PROJECT = {"prescreen", *FORBIDDEN}
APPS = sorted(PROJECT)


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
    assert {"eligibility", "trials", "ctgov", "curation", "screening", "referrals"} <= set(PACKAGES)


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


# --------------------------------------------------------------------------------------------
# No import cycle between two modules, directly or through others (a deferred import is still a dependency).


def project_modules() -> dict[str, Path]:
    found = {}
    for package in APPS:
        for path in modules(package):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" not in parts:
                found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def module_imports(name: str, path: Path, known) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            target = node.module
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names}  # `from package import module`
    return {m for m in found if m in known and m != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = stack[stack.index(v) :]
            del stack[stack.index(v) :]
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_it_finds_a_cycle_when_there_is_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_it_reads_relative_imports():
    known = project_modules()
    assert "eligibility.engine" in module_imports("eligibility.compiled", known["eligibility.compiled"], known)


def test_no_module_imports_itself_through_others():
    known = project_modules()
    assert cycles({name: module_imports(name, path, known) for name, path in known.items()}) == []
