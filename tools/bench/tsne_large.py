"""One large t-SNE map, timed phase by phase: ``python -m tools.bench.tsne_large [--n 165000]``.

Runs :func:`analysis.tsne.run_tsne` with its defaults — the call ``zspace analyze
--tsne-n N`` makes for each of its maps — on the filament cloud of
``zspace bench analysis`` (N x 256), and prints wall and CPU seconds, the final
KL divergence and where the time went (affinities, early exaggeration, the rest).
The full ``zspace bench analysis`` also runs plain openTSNE on the same points
beside it; this is the map alone, for a quick figure. ``--sklearn-n 20000`` adds
speed at equal quality: our default map and scikit-learn's t-SNE of the same
20,000 points, each with its own final KL divergence.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from analysis import tsne
from tools import synthetic

#: Points per curve of the filament cloud (its number of curves follows from N).
PER_CURVE = 500


def _filaments(n: int) -> np.ndarray:
    return np.asarray(
        synthetic.filament_cloud(-(-n // PER_CURVE), PER_CURVE, 256, noise=0.01, random_state=0), dtype=np.float32
    )


def _timed(call) -> tuple[object, float, float]:
    cpu0, started = os.times(), time.perf_counter()
    value = call()
    cpu1 = os.times()
    return value, time.perf_counter() - started, (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)


def compare_with_sklearn(z: np.ndarray, n: int) -> dict:
    """Our default t-SNE and scikit-learn's on the same ``n`` points: seconds and final KL of each."""
    ours, wall, cpu = _timed(lambda: tsne.run_tsne(z, n_points=n))
    theirs, wall_s, cpu_s = _timed(lambda: tsne.run_tsne(z, n_points=n, backend="sklearn"))
    return {
        "n": n,
        "ours": {"backend": ours.backend, "wall_s": wall, "cpu_s": cpu, "kl": float(ours.kl_divergence)},
        "sklearn": {"wall_s": wall_s, "cpu_s": cpu_s, "kl": float(theirs.kl_divergence)},
    }


def time_large_map(n: int) -> dict:
    """Map ``n`` filament points with the default t-SNE; return the figures (seconds, KL, phases)."""
    z = _filaments(n)
    marks: dict[str, float] = {}

    def clock(_progress, message):
        now = time.perf_counter()
        if message == "affinities computed":
            marks.setdefault("affinities", now)
        elif message.startswith(f"iteration {tsne.EXAGGERATION_ITER}/"):
            marks.setdefault("exaggeration", now)
        return True

    cpu0, started = os.times(), time.perf_counter()
    fit = tsne.run_tsne(z, n_points=n, callback=clock)
    cpu1, ended = os.times(), time.perf_counter()
    return {
        "n": len(fit.ids),
        "backend": fit.backend,
        "wall_s": ended - started,
        "cpu_s": (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system),
        "kl": float(fit.kl_divergence),
        "affinities_s": marks["affinities"] - started,
        "exaggeration_s": marks["exaggeration"] - marks["affinities"],
        "rest_s": ended - marks["exaggeration"],
    }


def main(argv: list[str] | None = None) -> int:
    """Command line of ``python -m tools.bench.tsne_large``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=165_000, help="points to map (default 165000)")
    parser.add_argument(
        "--sklearn-n", type=int, default=0, help="also compare with scikit-learn on this many of the N points"
    )
    parser.add_argument("--skip-large", action="store_true", help="only the scikit-learn comparison")
    args = parser.parse_args(argv)
    if args.sklearn_n:
        pair = compare_with_sklearn(_filaments(args.n), args.sklearn_n)
        ours, theirs = pair["ours"], pair["sklearn"]
        print(
            f"t-SNE of {pair['n']:,} points: ours ({ours['backend']}) {ours['wall_s']:.1f} s wall, "
            f"{ours['cpu_s']:.1f} CPU-s, KL {ours['kl']:.3f}; scikit-learn {theirs['wall_s']:.1f} s wall, "
            f"{theirs['cpu_s']:.1f} CPU-s, KL {theirs['kl']:.3f}",
            flush=True,
        )
    if args.skip_large:
        return 0
    figures = time_large_map(args.n)
    print(
        f"t-SNE of {figures['n']:,} points ({figures['backend']}): {figures['wall_s']:.1f} s wall, "
        f"{figures['cpu_s']:.1f} CPU-s, KL {figures['kl']:.3f}; affinities {figures['affinities_s']:.0f} s, "
        f"early exaggeration {figures['exaggeration_s']:.0f} s, the rest {figures['rest_s']:.0f} s",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
