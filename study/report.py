"""``zspace report RUN [RUN ...] [--compare RUN2] --out DIR``: the seed's study of runs as one offline HTML file.

Writes ``DIR/report.html`` — self-contained: plotly.js embedded once, images
as ``data:`` URIs, no network request at all — and ``DIR/summary.json`` (the
numbers; keys in :func:`study.summary.summarize`). A RUN may be a sweep
folder: its runs join the report and its curve against β is drawn; a run
trained with ``--snapshot-every`` adds its curve over the epochs. Analyses
come from the runs' caches (``zspace analyze`` fills them); what is missing is
computed at quick sizes and the report says so.
"""

from __future__ import annotations

import argparse
import html
import math
import time
from pathlib import Path

import numpy as np

import rundir
from figures import style
from rundir.atomic import atomic_write_json, atomic_write_text
from rundir.errors import ZspaceError
from rundir.layout import DEFAULT_RUNS

#: Decoded samples shown per sampler and run.
GRID_SAMPLES = 8
#: Zoom levels of the PCA planes: the whole cloud, then central squares holding these shares of the points.
ZOOM_SHARES = (0.10, 0.01)

CSS = """
body{font:14px/1.45 Helvetica,Arial,sans-serif;margin:24px auto;max-width:1180px;color:#1f2328;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
.holds{color:#1a7f37;font-weight:bold}.fails{color:#cf222e;font-weight:bold}.na{color:#777}
.grid{display:flex;flex-wrap:wrap;gap:6px;margin:4px 0 12px}.tile{font-size:11px;text-align:center;width:92px}
.tile img{width:88px;height:88px;image-rendering:pixelated;border:2px solid #ccc}
.tile.ok img{border-color:#1a7f37}.tile.no img{border-color:#cf222e}.pair{display:grid;grid-template-columns:1fr 1fr;gap:8px}
.note{color:#555}
"""


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``zspace report``."""
    parser.add_argument(
        "run",
        nargs="+",
        help="run folders or run names under --runs-root (NAME or SWEEP/NAME), or sweep folders (all their runs, "
        f"and the curve against beta); at most {len(style.COLOURS)} runs in all",
    )
    parser.add_argument("--compare", default=None, help="one more run shown beside the others (e.g. the VAE)")
    parser.add_argument("--out", required=True, help="folder for report.html and summary.json (created)")
    parser.add_argument(
        "--runs-root", default=DEFAULT_RUNS, help=f"folder of runs for bare names (default {DEFAULT_RUNS})"
    )
    parser.add_argument(
        "--judge-samples",
        type=int,
        default=None,
        help="decodes per sampler the independent judge looks at (default 128; 0: no judge, faster)",
    )


def run(args: argparse.Namespace) -> int:
    """Write the report of the runs (and sweeps) named, side by side."""
    from study.scoring import N_JUDGE, N_RATE

    n_judge = N_JUDGE if args.judge_samples is None else args.judge_samples
    if not 0 <= n_judge <= N_RATE:
        raise ZspaceError(f"--judge-samples must be between 0 and {N_RATE}, got {n_judge}")
    runs, sweeps = expand_runs([*args.run, *([args.compare] if args.compare else [])], args.runs_root)
    started = time.perf_counter()
    page, summary = write_report(
        runs,
        Path(args.out),
        progress=lambda message: print(f"  {message}", flush=True),
        sweeps=sweeps,
        n_judge=n_judge,
    )
    print(f"wrote {page} and {summary} in {time.perf_counter() - started:.0f} s")
    return 0


def expand_runs(names: list[str], runs_root: str) -> tuple[list[Path], list[Path]]:
    """The run folders and the sweep folders a report's RUN arguments name (a sweep brings its runs along).

    Raises
    ------
    ZspaceError
        For a run given twice (also through a sweep), two runs with the same name, or more runs than
        :data:`figures.style.COLOURS` has colours.
    """
    from analysis.precompute import find_run
    from rundir.sweep import inspect_sweep, is_sweep

    runs: list[Path] = []
    sweeps: list[Path] = []
    for name in names:
        path = Path(name) if Path(name).is_dir() else None
        if path is None and "/" not in name and is_sweep(Path(runs_root) / name):
            path = rundir.resolve_run(runs_root, name)
        if path is not None and is_sweep(path):
            info = inspect_sweep(path)
            if not info.usable:
                raise ZspaceError(f"sweep {info.name} cannot be read: {info.reason}")
            sweeps.append(path)
            runs += [path / member["run"] for member in info.members]
        else:
            runs.append(find_run(name, runs_root))
    _check_distinct(runs)
    if len(runs) > len(style.COLOURS):
        raise ZspaceError(f"{len(runs)} runs given; a report shows at most {len(style.COLOURS)}")
    return runs, sweeps


def _check_distinct(runs: list[Path]) -> None:
    # Each run once, and no two runs of one name (a report tells runs apart by name).
    seen: dict[Path, str] = {}
    for run in runs:
        label = rundir.qualified_name(run)
        if run.resolve() in seen:
            raise ZspaceError(f"run {label} is given twice; name each run once")
        if label in seen.values():
            raise ZspaceError(f"two runs are named {label}; a report tells runs apart by name")
        seen[run.resolve()] = label


def _check_ready(run: Path) -> None:
    state = rundir.read_status(run).get("state")
    if state != "complete":
        name = rundir.qualified_name(run)
        raise ZspaceError(f"run {name} is not complete ({state}); a report needs a trained and encoded run")
    config = rundir.read_config(run)
    for part in ("encoder", "decoder"):
        name = rundir.model_file(config, part)
        if name is None:
            raise ZspaceError(
                f"run {rundir.qualified_name(run)} has no {part} (z-points imported alone); the report's sampler "
                "rates need its encoder and decoder"
            )
        if not (run / name).exists():
            raise ZspaceError(
                f"run {rundir.qualified_name(run)} has no {name}; the sampler rates need its encoder and decoder"
            )


def write_report(
    runs: list[Path], out: Path, progress=None, sweeps: list[Path] = (), n_judge: int | None = None
) -> tuple[Path, Path]:
    """Compute (or read) everything, then write ``report.html`` and ``summary.json`` into ``out`` atomically.

    ``sweeps`` are sweep folders whose curves the report draws (their runs belong in ``runs``);
    ``n_judge``: decodes per sampler the independent judge looks at (default
    :data:`study.scoring.N_JUDGE`; 0 leaves the judge out).
    """
    from study.scoring import N_JUDGE
    from study.summary import summarize

    note = progress or (lambda _message: None)
    for run in runs:
        _check_ready(Path(run))
    note("sampler rates and summary numbers (cached after the first report)")
    n_judge = N_JUDGE if n_judge is None else int(n_judge)
    summary = summarize(
        runs, progress=lambda fraction, message: note(f"{message} ({fraction:.0%})"), sweeps=sweeps, n_judge=n_judge
    )
    note("figures")
    body = _body(runs, summary, note)
    out.mkdir(parents=True, exist_ok=True)
    page, numbers = out / "report.html", out / "summary.json"
    atomic_write_text(page, _page(runs, body))
    atomic_write_json(numbers, _finite(summary))
    return page, numbers


def _finite(value):
    # JSON has no NaN: a number a run cannot give (e.g. no valid local dimension) becomes null.
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    return value


def _page(runs: list[Path], body: str) -> str:
    import plotly.offline

    title = "zspace report: " + " vs ".join(rundir.qualified_name(run) for run in runs)
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style><script>{plotly.offline.get_plotlyjs()}</script></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


class _Figures:
    """Turns figures into divs, numbering them (the browser test counts them)."""

    def __init__(self):
        self.count = 0

    def __call__(self, fig) -> str:
        import plotly.io as pio

        self.count += 1
        config = {"displaylogo": False, "responsive": True}
        return pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=f"fig{self.count}", config=config)


def _body(runs: list[Path], summary: dict, note) -> str:
    from study import report_lab as lab
    from study import report_sections as sections

    figure = _Figures()
    from study.report_series import series

    parts = [
        sections.overview(summary),
        sections.claims_table(summary),
        lab.rates(summary, figure),
        lab.verdict_and_judge(summary),
    ]
    parts.append(series(summary, figure))
    note("decoded sample grids")
    parts.append(lab.sample_grids(runs, GRID_SAMPLES, judged=summary["settings"]["judged_per_rate"] > 0))
    note("densities, radius, spectrum")
    parts.append(sections.distributions(runs, summary, figure))
    note("PCA planes and t-SNE maps")
    parts.append(sections.planes(runs, figure, ZOOM_SHARES))
    parts.append(sections.tsne_maps(runs, figure))
    note("structure")
    parts.append(sections.structure(runs, summary, figure))
    parts.append(lab.void_probes(runs, summary))
    parts.append(lab.method_notes(summary))
    return "\n".join(parts)
