"""``python -m tools.complexity`` (part of ``make lint``): the product's functions stay small enough to read.

Every function and method of the product packages (the code a user runs:
:data:`PACKAGES`; the tooling in ``tools/`` is not part of it) has a cyclomatic
complexity of at most :data:`MAX_COMPLEXITY` (radon's measure) and at most
:data:`MAX_PARAMETERS` parameters (``self`` / ``cls`` not counted; ``*args`` and
``**kwargs`` count one each), and no product file is longer than
:data:`MAX_LINES` lines. Prints the worst figures and every offender; exits 1
when there is one.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The product packages checked (floors 0 to 3 and the command line, see docs/ARCHITECTURE.md).
PACKAGES = ("rundir", "models", "analysis", "figures", "study", "app", "zspace")
MAX_COMPLEXITY = 12
MAX_PARAMETERS = 8
MAX_LINES = 400


@dataclass(frozen=True)
class Measure:
    """One function's (or file's) figure: where, what, how much."""

    path: str
    line: int
    name: str
    value: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.name}: {self.value}"


def complexities(path: Path, source: str) -> list[Measure]:
    """Cyclomatic complexity (radon) of every function, method and nested function in ``source``."""
    from radon.complexity import cc_visit
    from radon.visitors import Class

    found, seen, stack = [], set(), list(cc_visit(source))
    while stack:
        block = stack.pop()
        if (block.lineno, block.name) in seen:  # radon lists a method both alone and in its class
            continue
        seen.add((block.lineno, block.name))
        if isinstance(block, Class):
            stack.extend(block.methods)
            stack.extend(block.inner_classes)
            continue
        stack.extend(block.closures)
        name = f"{block.classname}.{block.name}" if block.classname else block.name
        found.append(Measure(str(path), block.lineno, name, block.complexity))
    return found


def parameter_counts(path: Path, source: str) -> list[Measure]:
    """Parameters of every function, method and lambda in ``source`` (``self`` / ``cls`` left out)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            args = node.args
            names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
            if names and names[0] in ("self", "cls"):
                names = names[1:]
            count = len(names) + (args.vararg is not None) + (args.kwarg is not None)
            found.append(Measure(str(path), node.lineno, getattr(node, "name", "<lambda>"), count))
    return found


def product_files(root: Path = ROOT, packages=PACKAGES) -> list[Path]:
    """Every Python file of the product packages under ``root``."""
    return sorted(path for package in packages for path in (root / package).rglob("*.py"))


def measure(files: list[Path], root: Path = ROOT) -> dict[str, list[Measure]]:
    """Complexities, parameter counts and line counts of ``files`` (paths relative to ``root``)."""
    figures: dict[str, list[Measure]] = {"complexity": [], "parameters": [], "lines": []}
    for path in files:
        source = path.read_text(encoding="utf-8")
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        figures["complexity"] += complexities(shown, source)
        figures["parameters"] += parameter_counts(shown, source)
        figures["lines"].append(Measure(str(shown), 1, "lines", len(source.splitlines())))
    return figures


def offenders(figures: dict[str, list[Measure]]) -> list[str]:
    """One line per function or file beyond its limit."""
    limits = {"complexity": MAX_COMPLEXITY, "parameters": MAX_PARAMETERS, "lines": MAX_LINES}
    return [
        f"{kind} above {limits[kind]}: {found}"
        for kind, measures in figures.items()
        for found in sorted(measures, key=lambda m: (-m.value, m.path, m.line))
        if found.value > limits[kind]
    ]


def main(argv: list[str] | None = None) -> int:
    """Measure the product (or the given files), print the worst figures and every offender."""
    parser = argparse.ArgumentParser(prog="python -m tools.complexity", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="files to check (default: the product packages)")
    args = parser.parse_args(argv)
    figures = measure([path.resolve() for path in args.files] or product_files())
    for kind, measures in figures.items():
        worst = max(measures, key=lambda m: m.value, default=None)
        print(f"worst {kind}: {worst}" if worst else f"no {kind} measured")
    found = offenders(figures)
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
