"""Mutation testing of the modules the tests must guard: ``make mutate [PKG=analysis] [MODULE=analysis.density]``.

mutmut changes one thing at a time in a module (a flipped comparison, an
off-by-one, a changed constant or argument) and runs the tests that call the
changed function; a mutant the tests do not notice *survived*. The score is the
share of mutants the tests kill, leaving out the survivors listed as equivalent
(they change nothing a user could notice) in ``docs/TESTING.md``.

mutmut reads its settings from the ``pyproject.toml`` of the folder it runs
in, and keeps its results there in ``mutants/``. Each package therefore gets
its own copy of the repository under ``build/mutate/<package>`` with a
``[tool.mutmut]`` section naming that package's modules and tests: its
results and the record of which test calls which function (collected once,
then only for new tests) stay between runs, and one package's run never
invalidates another's.

``python -m tools.mutate analysis`` runs every target module of a package;
``python -m tools.mutate analysis.density`` one module (quick iteration);
``--survivors`` retries only what survived last time; no argument runs every
package in turn. The run prints, per module, killed / total / equivalent and
the score.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "mutate"
TESTING_DOC = ROOT / "docs" / "TESTING.md"


#: What the tests of each package must guard, the tests that guard it, and which of them run.
#: Browser tests stay out (they need Chromium and seconds per test), and so do the tests marked slow where
#: the package has fast unit tests: a slow test trains a model or runs the code in a subprocess, which
#: imports the unmutated copy (mutmut switches mutants inside its own process only), so it costs minutes
#: per mutant and kills none. study is only exercised by such tests, so its slow tests run.
#: Per mutant, mutmut runs only the selected tests that called the mutated function, fastest first.
@dataclass(frozen=True)
class Target:
    """One package's mutation settings."""

    modules: tuple[str, ...]
    tests: tuple[str, ...]
    markers: str = "not browser and not slow"


TARGETS = {
    "rundir": Target(("rundir/*.py",), ("tests/core",)),
    "analysis": Target(("analysis/*.py",), ("tests/analysis", "tests/reliability/test_analysis_properties.py")),
    "study": Target(("study/*.py",), ("tests/study",), "not browser"),
    "app": Target(
        tuple(f"app/{name}.py" for name in ("url_state", "auth", "request_guard", "jobs", "subsets", "plane_space")),
        ("tests/app", "tests/reliability"),
    ),
    "models": Target(("models/encode.py", "models/checkpoints.py", "models/config.py"), ("tests/models",)),
}

#: Tests left out of every mutation run: they read the product's source files as text, and in mutmut's copy
#: those files hold its trampolines (every function several times over), so they fail before any mutant is
#: made and mutmut cannot even collect which test calls which function.
NOT_RUN = ("tests/core/test_complexity.py::test_the_product_keeps_the_limits",)

#: Lines not mutated: log messages (what a server log line says) and command-line options (their help=
#: text is documentation, like a docstring; the defaults on those lines are pinned by tests that parse
#: the command line instead, e.g. tests/analysis/test_precompute_plan.py).
NOT_MUTATED = [r"^\s*log\.(debug|info|warning|error|exception)\(", r"\bhelp="]

#: Mutants mutmut cannot make (it leaves decorated functions alone: context managers, properties,
#: request hooks), made by hand: package -> (file, text, replacement, what it breaks, tests that must fail).
BY_HAND = {
    "rundir": [
        (
            "rundir/atomic.py",
            "        _fsync_file(tmp)\n",
            "",
            "no fsync of the file",
            "tests/core/test_atomic_writes.py",
        ),
        (
            "rundir/atomic.py",
            "        _fsync_dir(final.parent)\n",
            "",
            "no fsync of the folder",
            "tests/core/test_atomic_writes.py",
        ),
        (
            "rundir/atomic.py",
            "        _fsync_file(tmp)\n        os.replace(tmp, final)\n",
            "        os.replace(tmp, final)\n        _fsync_file(final)\n",
            "fsync after the rename",
            "tests/core/test_atomic_writes.py",
        ),
        (
            "rundir/atomic.py",
            "parents=True, exist_ok=True",
            "exist_ok=True",
            "no parent folders",
            "tests/core/test_atomic_writes.py",
        ),
        (
            "rundir/atomic.py",
            "final.suffix if suffix is None else suffix",
            "final.suffix",
            "suffix ignored",
            "tests/core/test_atomic_writes.py",
        ),
        ("rundir/atomic.py", "prefix=TMP_PREFIX + ", "prefix=", "no .tmp- prefix", "tests/core/test_atomic_writes.py"),
        (
            "rundir/atomic.py",
            "dir=final.parent)",
            "dir=None)",
            "temporary in another folder",
            "tests/core/test_atomic_writes.py",
        ),
        (
            "rundir/atomic.py",
            "except BaseException:",
            "except Exception:",
            "Ctrl-C keeps the temporary",
            "tests/core/test_atomic_writes.py",
        ),
        (
            "rundir/atomic.py",
            "            tmp.unlink()\n",
            "            pass\n",
            "temporary kept",
            "tests/core/test_atomic_writes.py",
        ),
        ("rundir/lock.py", "fcntl.LOCK_EX | ", "fcntl.LOCK_SH | ", "shared lock", "tests/core/test_atomic_writes.py"),
        (
            "rundir/lock.py",
            "(errno.EAGAIN, errno.EACCES)",
            "(errno.EAGAIN,)",
            "EACCES not a conflict",
            "tests/core/test_atomic_writes.py",
        ),
        (
            "rundir/lock.py",
            "            if exc.errno not in",
            "            if False and exc.errno not in",
            "every error read as locked",
            "tests/core/test_atomic_writes.py",
        ),
        ("rundir/lock.py", 'or "another process"', 'or ""', "no holder named", "tests/core/test_atomic_writes.py"),
        (
            "rundir/lock.py",
            "        handle.truncate()\n",
            "",
            "old holder text kept",
            "tests/core/test_atomic_writes.py",
        ),
        ("rundir/lock.py", "os.getpid()", "os.getppid()", "wrong holder", "tests/core/test_atomic_writes.py"),
    ],
    "analysis": [
        (
            "analysis/pca.py",
            "int(self.components_.shape[0])",
            "int(self.components_.shape[1])",
            "n_components",
            "tests/analysis/test_pca_reference.py",
        ),
        (
            "analysis/planes.py",
            "return self.raster is not None",
            "return self.raster is None",
            "over_budget",
            "tests/analysis/test_pca_reference.py",
        ),
        (
            "analysis/filter_syntax.py",
            "while len(self.tokens) <= self.at:",
            "while len(self.tokens) < self.at:",
            "token buffer",
            "tests/analysis/test_table_filter.py",
        ),
    ],
    "app": [
        (
            "app/auth.py",
            "if offered is None or not hmac",
            "if offered is None and not hmac",
            "any header passes",
            "tests/app/test_request_checks.py",
        ),
        (
            "app/auth.py",
            '"authentication required", 401',
            '"authentication required", 403',
            "403 instead of 401",
            "tests/app/test_request_checks.py",
        ),
        ("app/auth.py", "'Basic realm=\"zspace\"'", "'Basic'", "no realm", "tests/app/test_request_checks.py"),
        (
            "app/request_guard.py",
            'request.method != "POST" or ',
            "",
            "GET checked too",
            "tests/app/test_request_checks.py",
        ),
        (
            "app/request_guard.py",
            "not request.path.endswith(ENDPOINT_SUFFIX)",
            "False",
            "every path checked",
            "tests/app/test_request_checks.py",
        ),
        (
            "app/request_guard.py",
            "except RecursionError:",
            "except ValueError:",
            "deep JSON crashes",
            "tests/app/test_request_checks.py",
        ),
        (
            "app/request_guard.py",
            ", 400, mimetype",
            ", 500, mimetype",
            "500 instead of 400",
            "tests/app/test_request_checks.py",
        ),
    ],
}

#: mutmut's outcomes (mutmut.stats.status_by_exit_code) that count as killed. A timeout counts (a hang
#: fails a test run too) but is shown apart, and ``--survivors`` tries it again.
KILLED = ("killed", "timeout", "caught by type check")

#: mutmut's wall-time limit for one mutant: (sum of its tests' call durations + constant) x multiplier.
#: mutmut times the calls only, not the fixtures, and the machine is shared (the run is niced): generous
#: limits keep a slow fixture from passing for a hang.
TIMEOUT_CONSTANT = 60.0
TIMEOUT_MULTIPLIER = 20.0


@dataclass
class ModuleScore:
    """The outcome of one module's mutants."""

    module: str
    killed: int = 0
    timeout: int = 0
    survived: int = 0
    untested: int = 0
    equivalent: int = 0
    other: int = 0

    @property
    def total(self) -> int:
        return self.killed + self.survived + self.untested + self.equivalent + self.other

    @property
    def score(self) -> float:
        counted = self.total - self.equivalent
        return 100.0 * self.killed / counted if counted else 100.0


def package_of(target: str) -> str:
    """The package a target (``analysis`` or ``analysis.density``) belongs to."""
    package = target.split(".", 1)[0]
    if package not in TARGETS:
        raise SystemExit(f"mutate: {target!r} is not in the mutation targets; choose one of {', '.join(TARGETS)}")
    if "." in target:
        path = target.replace(".", "/") + ".py"
        if (
            not any(fnmatch.fnmatch(path, pattern) for pattern in TARGETS[package].modules)
            or not (ROOT / path).is_file()
        ):
            raise SystemExit(f"mutate: {path} is not a target module of {package}")
    return package


def project_files() -> list[str]:
    """The repository's files as git sees them (tracked, and new files that are not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted(name for name in listed.split("\0") if name and (ROOT / name).is_file())


def sync_copy(folder: Path) -> list[str]:
    """Bring ``folder`` up to date with the repository (changed files only, times kept); return the top-level names."""
    files = project_files()
    wanted = set(files)
    for name in files:
        source, target = ROOT / name, folder / name
        stat = source.stat()
        if target.is_file() and target.stat().st_size == stat.st_size and target.stat().st_mtime == stat.st_mtime:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    for top in ("analysis", "app", "models", "rundir", "study", "tests", "tools", "zspace"):
        for stale in (folder / top).rglob("*.py") if (folder / top).is_dir() else ():
            if str(stale.relative_to(folder)) not in wanted:
                stale.unlink()
    return sorted({name.split("/", 1)[0] for name in files})


def toml_list(values) -> str:
    """A list of strings as TOML (JSON's string escapes are TOML's)."""
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


def write_settings(folder: Path, package: str, top_level: list[str]) -> None:
    """The copy's ``pyproject.toml``: the project's, plus a ``[tool.mutmut]`` section for ``package``."""
    target = TARGETS[package]
    also_copy = [name for name in top_level if name not in (package, "tests", "pyproject.toml")]
    section = "\n".join(
        [
            "",
            "[tool.mutmut]",
            f"source_paths = {toml_list([package])}",
            f"only_mutate = {toml_list(target.modules)}",
            f"also_copy = {toml_list(also_copy)}",
            f"do_not_mutate_patterns = {toml_list(NOT_MUTATED)}",
            "pytest_add_cli_args_test_selection = "
            + toml_list([*target.tests, "-m", target.markers, *(f"--deselect={test}" for test in NOT_RUN)]),
            f"pytest_add_cli_args = {toml_list(['-p', 'no:cacheprovider'])}",
            # The tests start threads (the dashboard's, diskcache's); a process forked from one that ran them
            # can hang on a lock a vanished thread held. Mutants are forked from a server that only imports.
            'process_isolation = "forkserver"',
            f"timeout_constant = {TIMEOUT_CONSTANT}",
            f"timeout_multiplier = {TIMEOUT_MULTIPLIER}",
            "",
        ]
    )
    project = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (folder / "pyproject.toml").write_text(project + section, encoding="utf-8")


def equivalent_mutants() -> set[str]:
    """The mutants ``docs/TESTING.md`` lists as equivalent (first column of its equivalent-mutants table)."""
    if not TESTING_DOC.is_file():
        return set()
    return set(re.findall(r"^\|\s*`([\w.ǁ]+__mutmut_\d+)`", TESTING_DOC.read_text(encoding="utf-8"), flags=re.M))


def results(folder: Path, package: str) -> dict[str, str]:
    """mutant name -> status of the last run, for every mutant of ``package`` in the copy."""
    from mutmut.stats import status_by_exit_code

    found = {}
    for meta in sorted((folder / "mutants" / package).rglob("*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        found.update({name: status_by_exit_code[code] for name, code in codes.items()})
    return found


def module_of(mutant: str) -> str:
    """``analysis.density.x_f__mutmut_3`` -> ``analysis.density``."""
    return mutant.rsplit(".", 1)[0]


def scores(statuses: dict[str, str], equivalent: set[str], only: set[str] | None) -> list[ModuleScore]:
    """Per-module counts of ``statuses``; ``only`` limits them to those modules."""
    by_module: dict[str, ModuleScore] = {}
    for mutant, status in sorted(statuses.items()):
        module = module_of(mutant)
        if only and module not in only:
            continue
        score = by_module.setdefault(module, ModuleScore(module))
        if status in KILLED:
            score.killed += 1
            score.timeout += status == "timeout"
        elif status == "survived" and mutant in equivalent:
            score.equivalent += 1
        elif status == "survived":
            score.survived += 1
        elif status == "no tests":
            score.untested += 1
        else:  # not checked (interrupted), suspicious, segfault: counted as not killed
            score.other += 1
    return list(by_module.values())


def add(total: ModuleScore, row: ModuleScore) -> None:
    """Add ``row``'s counts to ``total``."""
    for name in ("killed", "timeout", "survived", "untested", "equivalent", "other"):
        setattr(total, name, getattr(total, name) + getattr(row, name))


def score_line(row: ModuleScore) -> str:
    """One line of the score table."""
    return (
        f"{row.module:28} {row.killed:6} {row.timeout:7} {row.survived:6} {row.untested:8} {row.other:5} "
        f"{row.equivalent:6} {row.total:6} {row.score:6.1f}%"
    )


def print_scores(package: str, rows: list[ModuleScore], seconds: float) -> ModuleScore:
    """The score table of one package (or module); returns its total."""
    total = ModuleScore(f"{package} (all)")
    header = ("module", "killed", "timeout", "surv.", "untested", "other", "equiv.", "total", "score")
    widths = (28, 6, 7, 6, 8, 5, 6, 6, 7)
    print("\n" + " ".join(f"{h:{'<' if w == 28 else '>'}{w}}" for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print(score_line(row))
        add(total, row)
    if len(rows) > 1:
        print(score_line(total))
    took = f"; this run took {seconds / 60:.1f} min" if seconds else " (as of the last runs)"
    print(f"score = killed (timeouts included) / (total - equivalent){took}")
    return total


def survivors(statuses: dict[str, str], equivalent: set[str], only: set[str] | None) -> list[str]:
    """The mutants to look at again: not killed, or killed only by a timeout (equivalent ones left out)."""
    return sorted(
        name
        for name, status in statuses.items()
        if (status not in KILLED or status == "timeout")
        and name not in equivalent
        and (not only or module_of(name) in only)
    )


def run_mutmut(folder: Path, names: list[str], jobs: int, log: Path) -> float:
    """Run ``mutmut run`` in ``folder`` (niced, its own process group, output to ``log``); return the seconds taken."""
    env = dict(os.environ)
    # Commands the tests start (zspace ..., python -m ...) import the unmutated copy of the same sources:
    # mutmut's trampolines cannot run outside its own process (they look for its settings in the working
    # folder), so only tests that call the code in-process can kill a mutant. The mutants folder must
    # exist before mutmut starts: Python remembers a missing path entry and would never look in it again.
    (folder / "mutants").mkdir(exist_ok=True)
    env["PYTHONPATH"] = str(folder)
    env.pop("MUTANT_UNDER_TEST", None)
    mutmut = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or "mutmut"
    command = ["nice", "-n", "19", mutmut, "run", "--max-children", str(jobs), *names]
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            command, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            returncode = proc.wait()
        except KeyboardInterrupt:
            os.killpg(proc.pid, signal.SIGKILL)  # mutmut and the test processes it forked
            proc.wait()
            raise
    if returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").replace("\r", "\n").splitlines()[-40:]
        print("\n".join(tail))
        raise SystemExit(f"mutate: mutmut failed (exit {returncode}); see {log}")
    return time.monotonic() - started


def run_package(package: str, modules: set[str] | None, jobs: int, only_survivors: bool, report: bool) -> ModuleScore:
    """Copy, configure and run mutmut for one package (or some of its modules); print and return the score.

    With ``report``, nothing runs: the scores of the last runs are printed.
    """
    folder = WORK / package
    seconds = 0.0
    if not report:
        folder.mkdir(parents=True, exist_ok=True)
        write_settings(folder, package, sync_copy(folder))
        names = [f"{module}.*" for module in sorted(modules)] if modules else [f"{package}.*"]
        if only_survivors:
            names = survivors(results(folder, package), equivalent_mutants(), modules) or names
        log = folder / "mutmut.log"
        print(f"mutate {', '.join(sorted(modules or [package]))}: log in {log.relative_to(ROOT)}", flush=True)
        seconds = run_mutmut(folder, names, jobs, log)
    statuses = results(folder, package)
    equivalent = equivalent_mutants()
    total = print_scores(package, scores(statuses, equivalent, modules), seconds)
    left = survivors(statuses, equivalent, modules)
    if left:
        print(f"\nto look at ({len(left)}); show one with: cd {folder.relative_to(ROOT)} && mutmut show NAME")
        for name in left:
            print(f"  {name}: {statuses[name]}")
    return total


def run_by_hand(package: str) -> tuple[int, int]:
    """Apply each of :data:`BY_HAND`'s mutants of ``package`` in turn to the copy and run its tests; (killed, total)."""
    folder = WORK / f"{package}-by-hand"  # not mutmut's copy: a mutmut run may be using that one
    folder.mkdir(parents=True, exist_ok=True)
    sync_copy(folder)
    env = {**os.environ, "PYTHONPATH": str(folder)}
    killed = 0
    print(f"\nmutants made by hand in {package} (mutmut leaves decorated functions alone):", flush=True)
    for path, text, replacement, what, tests in BY_HAND.get(package, []):
        source = folder / path
        original = source.read_text(encoding="utf-8")
        if text not in original:
            raise SystemExit(f"mutate: {path} no longer holds {text!r}; update BY_HAND")
        source.write_text(original.replace(text, replacement, 1), encoding="utf-8")
        try:
            command = ["nice", "-n", "19", sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", tests]
            failed = subprocess.run(command, cwd=folder, env=env, capture_output=True).returncode != 0
        finally:
            source.write_text(original, encoding="utf-8")
        killed += failed
        print(f"  {'killed  ' if failed else 'SURVIVED'} {path}: {what}", flush=True)
    return killed, len(BY_HAND.get(package, []))


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.mutate [TARGET ...]``: run mutation testing and print the scores."""
    parser = argparse.ArgumentParser(prog="python -m tools.mutate", description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", help=f"packages ({', '.join(TARGETS)}) or modules (analysis.density)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--survivors", action="store_true", help="retry only what was not killed last time")
    parser.add_argument("--report", action="store_true", help="print the scores of the last runs; run nothing")
    parser.add_argument("--by-hand", action="store_true", help="only the mutants made by hand (decorated functions)")
    args = parser.parse_args(argv)
    chosen: dict[str, set[str] | None] = {}
    for target in args.targets or list(TARGETS):
        package = package_of(target)
        if "." not in target:
            chosen[package] = None
        elif chosen.get(package, set()) is not None:
            chosen.setdefault(package, set()).add(target)
    if args.by_hand:
        for package in chosen:
            killed, total = run_by_hand(package)
            print(f"{package}: {killed} of {total} killed", flush=True)
        return 0
    totals = [
        run_package(package, modules, args.jobs, args.survivors, args.report) for package, modules in chosen.items()
    ]
    if len(totals) > 1:
        print("\npackage scores: " + ", ".join(f"{t.module} {t.score:.1f}%" for t in totals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
