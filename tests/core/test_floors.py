"""The house's floors: imports only run downward, never in a loop, and tooling stays out of the product.

Reads the imports of every module (also those made lazily inside functions and
those named by strings for ``importlib``), so a hidden upward arrow fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Package -> floor. A module may import its own floor's package and anything lower, never higher;
#: models and analysis share a floor but never import each other.
FLOORS = {"rundir": 0, "models": 1, "analysis": 1, "figures": 1, "study": 2, "app": 3, "tools": 4, "zspace": 5}
PRODUCT = ("rundir", "models", "analysis", "figures", "study", "app")
#: Packages of one floor that never import each other (figures: plotly and numpy only, for study and app alike).
SEPARATE_ON_ONE_FLOOR = {
    (a, b) for a in ("models", "analysis", "figures") for b in ("models", "analysis", "figures") if a != b
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in FLOORS:
        for path in sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []:
            found[module_name(path)] = path
    return found


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Our modules that ``path`` imports: import statements anywhere, and module names in strings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from pkg import submodule` imports the submodule; `from pkg import name` the package's face.
            for alias in node.names:
                names.add(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known else node.module)
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and "." in node.value and node.value in known
        ):
            names.add(node.value)  # e.g. importlib.import_module("app.serve") through a table of commands
    return {name for name in names if name in known}


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports_of(path, known) - {name} for name, path in found.items()}


def test_no_import_runs_from_a_lower_floor_to_a_higher_one():
    upward = []
    for name, targets in graph().items():
        source = name.split(".")[0]
        for target in targets:
            package = target.split(".")[0]
            if FLOORS[package] > FLOORS[source] or (source, package) in SEPARATE_ON_ONE_FLOOR:
                upward.append(f"{name} -> {target}")
    assert not upward, "imports against the floors:\n" + "\n".join(sorted(upward))


def test_there_is_no_import_loop():
    edges = graph()
    # Packages' __init__ files import their own submodules; a loop through a package face is still a loop.
    index, low, stack, on_stack, loops = {}, {}, [], set(), []

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert not loops, f"import loops: {loops}"


def test_the_product_packages_hold_no_tooling_and_never_import_it():
    tooling_files = [
        str(path.relative_to(ROOT))
        for package in PRODUCT
        for path in (ROOT / package).rglob("*.py")
        if path.stem.startswith("bench")
        or path.stem in ("screenshots", "throughput", "browser")
        or path.stem.startswith("fake")
    ]
    assert not tooling_files, tooling_files
    edges = graph()
    offenders = [
        f"{name} -> {target}"
        for name, targets in edges.items()
        if name.split(".")[0] in PRODUCT
        for target in targets
        if target.split(".")[0] in ("tools", "zspace") or target.rsplit(".", 1)[-1].startswith("bench")
    ]
    assert not offenders, offenders


def test_the_floor_reader_sees_lazy_and_string_imports(tmp_path):
    # The check above could pass by reading nothing: make sure it finds both kinds of hidden arrow.
    sample = tmp_path / "sample.py"
    sample.write_text('def f():\n    from app.page import build_layout\nCOMMANDS = {"x": ("app.serve", "help")}\n')
    assert imports_of(sample, {"app.page", "app.serve"}) == {"app.page", "app.serve"}
