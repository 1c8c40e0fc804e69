"""``zspace analyze RUN``: precompute and cache the default analyses of a run.

The default set is the seed study's: per-axis histograms and summary,
radius histograms (bin widths 0.5 and 0.05), PCA, t-SNE on 20k raw z-points
with the seed's parameters and on the leading 2, 4 and 10 principal
components, UMAP maps of the same points (raw z and PCA-10, umap-learn's
defaults), and the filament / void measures; for a run trained with
``--snapshot-every``, each snapshot's structure numbers and one PCA basis for
all snapshots (:mod:`analysis.snapshots`). Each result lands in the run's
``analysis/`` cache, so a second call only reads (and says "cached").
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import rundir
from analysis.sizes import FULL, QUICK
from rundir.errors import ZspaceError
from rundir.layout import DEFAULT_RUNS

#: The seed's t-SNE of raw z-points; the PCA-reduced maps use t-SNE's defaults, as the seed did: those of
#: :class:`analysis.tsne.TsneParams`, the one list of t-SNE's parameters (so they are not restated here).
SEED_TSNE = {"perplexity": 10, "early_exaggeration": 16, "n_iter": 1000}
TSNE_PCA_COMPONENTS = (2, 4, 10)
#: UMAP maps beside the t-SNE ones: raw z and PCA-10, the largest of the seed's reductions (a UMAP
#: of PCA-2 scores only re-warps the PCA plane the dashboard already draws). A 20k-point UMAP map
#: took 16.5 s of CPU against 130 s for the t-SNE map of the same points (docs/BENCHMARKS.md), so
#: two of them add little to the four t-SNE maps.
UMAP_PCA_COMPONENTS = (None, 10)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``zspace analyze``."""
    parser.add_argument("run", help="run directory, or the name of a run under --runs-root")
    parser.add_argument(
        "--runs-root", default=DEFAULT_RUNS, help=f"folder of runs for a bare run name (default {DEFAULT_RUNS})"
    )
    parser.add_argument("--quick", action="store_true", help=f"smaller samples (t-SNE on {QUICK['tsne_n']} points)")
    parser.add_argument(
        "--tsne-n", type=int, default=None, help="points per t-SNE map (default 20000; 2000 with --quick)"
    )
    parser.add_argument(
        "--umap-n", type=int, default=None, help="points per UMAP map (default: as many as --tsne-n, the same points)"
    )
    parser.add_argument("--skip-tsne", action="store_true", help="skip the t-SNE maps")
    parser.add_argument("--skip-umap", action="store_true", help="skip the UMAP maps")
    parser.add_argument(
        "--skip-maps", action="store_true", help="skip every 2-D map, t-SNE and UMAP (the slowest part)"
    )
    parser.add_argument("--structure-n", type=int, default=None, help="points for the filament / void measures")
    parser.add_argument(
        "--fits",
        action="store_true",
        help="also fit the sampler lab's densities (GMM with k = 10, KDE) that its gmm and kde samplers draw from",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of every subsample (default 0)")


def find_run(run: str, runs_root: str) -> Path:
    """Return the folder for a path, or for a run name under ``runs_root`` (``NAME`` or ``SWEEP/NAME``)."""
    path = Path(run)
    if path.is_dir():
        return path
    try:
        return rundir.resolve_run(runs_root, run)
    except ZspaceError:
        if run.count("/") > 1 or "\\" in run or path.is_absolute():
            raise ZspaceError(f"run folder {run} does not exist") from None
        raise ZspaceError(f"no run named {run!r} in {runs_root}; pass a run folder or set --runs-root") from None


@dataclass(frozen=True)
class AnalyzeOptions:
    """What ``zspace analyze`` is asked for: sizes (None: the ``--quick`` or full default), seed, and what to skip."""

    quick: bool = False
    tsne_n: int | None = None
    umap_n: int | None = None
    structure_n: int | None = None
    seed: int = 0
    skip_tsne: bool = False
    skip_umap: bool = False
    fits: bool = False


def plan(run: Path, options: AnalyzeOptions) -> list:
    """The default analyses as (label, declaration, parameters), in the order they run.

    Each declaration is one of :mod:`analysis.results`; ``declaration(run, **parameters)``
    computes (or reads) it.
    """
    from analysis import results, samplers

    sizes = QUICK if options.quick else FULL
    seed, fits, skip_tsne, skip_umap = options.seed, options.fits, options.skip_tsne, options.skip_umap
    tsne_n = options.tsne_n or sizes["tsne_n"]
    # Same size and seed as the t-SNE maps: the same points, so the two kinds compare point for point.
    umap_n = options.umap_n or tsne_n
    structure_n = options.structure_n or sizes["structure_n"]
    steps = [
        *results.ANALYZED,
        (
            f"filaments and voids ({structure_n:,} points)",
            results.structure_measures,
            {"n_points": structure_n, "n_probes": sizes["probes"], "random_state": seed},
        ),
    ]
    steps.append(("data nearest-neighbour reference", results.nn_reference, {"random_state": seed}))
    if fits:
        # On their own, not only inside the rate job: a GMM on real z-points needs ~26 EM iterations where
        # the benchmark's filament cloud needs 4 (docs/MEASURES.md), minutes on a busy machine.
        for kind in samplers.FITTED_KINDS:
            steps.append((f"{kind.upper()} fit (sampler lab)", results.sampler_fit, {"kind": kind}))
    z_dim = int(rundir.read_config(run)["z_dim"])
    if not skip_tsne:
        steps += _tsne_steps(tsne_n, seed, z_dim)
    if not skip_umap:
        steps += _umap_steps(umap_n, seed, z_dim)
    return steps + snapshot_steps(run)


def _tsne_steps(tsne_n: int, seed: int, z_dim: int) -> list:
    from analysis import results

    steps = [
        (f"t-SNE raw z ({tsne_n:,} points)", results.tsne, {"n_points": tsne_n, "random_state": seed, **SEED_TSNE})
    ]
    # A PCA reduction to k >= z_dim components reduces nothing; small test models skip it.
    for k in (k for k in TSNE_PCA_COMPONENTS if k < z_dim):
        params = {"n_points": tsne_n, "pca_components": k, "random_state": seed}
        steps.append((f"t-SNE after PCA-{k} ({tsne_n:,} points)", results.tsne, params))
    return steps


def _umap_steps(umap_n: int, seed: int, z_dim: int) -> list:
    from analysis import results

    steps = []
    for k in (k for k in UMAP_PCA_COMPONENTS if k is None or k < z_dim):
        name = "raw z" if k is None else f"after PCA-{k}"
        params = {"n_points": umap_n, "pca_components": k, "random_state": seed}
        steps.append((f"UMAP {name} ({umap_n:,} points)", results.umap, params))
    return steps


def snapshot_steps(run: Path) -> list:
    """The analyses of a run's snapshots (none without): each epoch's structure numbers, then the common PCA basis.

    Always at ``--quick`` sizes, the ones :func:`analysis.snapshots.epoch_curve` reads by default.
    """
    from analysis import snapshots
    from rundir.snapshots import snapshot_epochs

    epochs = snapshot_epochs(run)
    steps = [
        (f"structure after epoch {epoch} (snapshot)", snapshots.epoch_structure, {"epoch": epoch}) for epoch in epochs
    ]
    if epochs:
        steps.append((f"PCA basis of {len(epochs)} snapshots", snapshots.snapshot_pca, {}))
    return steps


def _check_ready(run: Path) -> None:
    state = rundir.read_status(run).get("state")
    if state in ("training", "encoding", "created"):
        raise ZspaceError(f"run {run.name} is not finished ({state}); wait for `zspace train`/`encode` to complete")
    rundir.load_zpoints(run)  # validates config, shape, dtype and values with a one-line reason


def run(args: argparse.Namespace) -> int:
    """Compute (or read from the cache) every default analysis of one run."""
    from tqdm import tqdm

    from analysis.tsne import MapCancelled
    from analysis.umap_maps import UmapResult

    folder = find_run(args.run, args.runs_root)
    _check_ready(folder)
    skip_maps = getattr(args, "skip_maps", False)
    options = AnalyzeOptions(
        quick=args.quick,
        tsne_n=args.tsne_n,
        umap_n=getattr(args, "umap_n", None),
        structure_n=args.structure_n,
        seed=args.seed,
        skip_tsne=args.skip_tsne or skip_maps,
        skip_umap=getattr(args, "skip_umap", False) or skip_maps,
        fits=getattr(args, "fits", False),
    )
    steps = plan(folder, options)
    started = time.perf_counter()
    hits = 0
    for label, declaration, params in steps:
        if declaration.is_cached(folder, **params):
            hits += 1
            print(f"  {label}: cached", flush=True)
            continue
        t0 = time.perf_counter()
        # No bar off a terminal (disable=None); long steps (t-SNE) report their progress into it.
        with tqdm(total=100, desc=f"  {label}", unit="%", leave=False, disable=None) as bar:

            def report(progress, message, bar=bar):
                bar.n = int(progress * 100)
                bar.set_postfix_str(message, refresh=True)
                return True

            try:
                outcome = declaration(folder, callback=report, **params)
            except ValueError as exc:
                raise ZspaceError(f"{label} failed on run {folder.name}: {exc}") from None
            except MapCancelled as exc:
                raise ZspaceError(str(exc)) from None
        backend = getattr(outcome, "backend", None) or ("umap-learn" if isinstance(outcome, UmapResult) else None)
        detail = f"{backend}, {outcome.seconds:.1f} s" if backend else f"{time.perf_counter() - t0:.1f} s"
        print(f"  {label}: computed ({detail})", flush=True)
    total = time.perf_counter() - started
    if hits == len(steps):
        print(f"all {len(steps)} analyses of {folder.name} cached ({total:.1f} s)")
    else:
        print(f"{len(steps) - hits} analyses computed, {hits} cached, in {total:.1f} s -> {folder / rundir.ANALYSIS}")
    return 0
