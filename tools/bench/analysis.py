"""``zspace bench analysis``: each analysis figure beside its baseline, measured in the same run.

Data: a synthetic filament cloud of 200k x 256 (``--quick``: 20k x 256), the
shape of the seed's CelebA z-points. Every row gives wall seconds and process
CPU seconds (all threads): on a shared machine the CPU figure is the steadier
one, and the long rows note the load average. Results are recorded in
``docs/BENCHMARKS.md``.
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np

from analysis import density, pca, planes, structure, tsne, umap_inverse, umap_maps
from tools import synthetic

#: Points per t-SNE map at large N, measured end to end (the issue's 165k-point run).
LARGE_N = 165_000
#: Subsample on which neighbourhood preservation (trustworthiness) of a map is scored.
TRUST_SAMPLE = 3000


def _timed(func, *args, **kwargs):
    cpu0, wall0 = os.times(), time.perf_counter()
    value = func(*args, **kwargs)
    cpu1 = os.times()
    return value, time.perf_counter() - wall0, (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)


def _load() -> str:
    try:
        with open("/proc/loadavg") as handle:
            return "load " + handle.read().split()[0]
    except OSError:
        return "load ?"


def _seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.1f} s"


class Table:
    """Rows of (figure, ours, baseline) printed as they come."""

    def __init__(self):
        self.rows: list[dict] = []
        print(f"{'figure':<44} {'ours':>32} {'baseline':>32} {'speed-up':>9}", flush=True)

    def add(self, figure: str, ours: tuple, baseline: tuple | None = None, note: str = "") -> None:
        """Record a row; ``ours`` and ``baseline`` are (label, wall_s, cpu_s)."""
        row = {"figure": figure, "ours": list(ours), "baseline": list(baseline) if baseline else None, "note": note}
        self.rows.append(row)
        ratio = f"{baseline[1] / ours[1]:.1f}x" if baseline and ours[1] > 0 else ""
        fmt = lambda t: f"{t[0]} {_seconds(t[1])} ({t[2]:.1f} cpu)" if t else ""  # noqa: E731
        print(f"{figure:<44} {fmt(ours):>32} {fmt(baseline):>32} {ratio:>9} {note}", flush=True)


def bench_histograms(table: Table, z: np.ndarray) -> None:
    """Vectorised common-grid histograms vs a per-column np.histogram loop."""
    (edges, _), wall, cpu = _timed(density.axis_histograms, z, 0.25)
    _, wall_loop, cpu_loop = _timed(lambda: [np.histogram(z[:, a], bins=edges) for a in range(z.shape[1])])
    table.add("axis histograms (bin 0.25)", ("vectorised", wall, cpu), ("per-column loop", wall_loop, cpu_loop))


def bench_pca(table: Table, z: np.ndarray) -> None:
    """Chosen solver (covariance eigh) vs scikit-learn randomized, all components."""
    from sklearn.decomposition import PCA

    _, wall, cpu = _timed(pca.fit_pca, z)
    _, wall_r, cpu_r = _timed(lambda: PCA(svd_solver="randomized", random_state=0).fit(z))
    table.add("PCA, all components", ("covariance_eigh", wall, cpu), ("sklearn randomized", wall_r, cpu_r))


def bench_viewport(table: Table, z: np.ndarray) -> None:
    """Viewport query (mask) and raster on 200k plane coordinates, vs a Python-level filter."""
    coords = planes.plane_coords(z, "axis", 0, 1)
    centre = np.median(coords, axis=0)
    box = ((centre[0] - 0.25, centre[0] + 0.25), (centre[1] - 0.25, centre[1] + 0.25))
    reps = 20
    _, wall, cpu = _timed(lambda: [planes.viewport_query(coords, *box) for _ in range(reps)])
    table.add("viewport query 0.5 x 0.5 (per query)", ("numpy mask", wall / reps, cpu / reps))
    _, wall, cpu = _timed(lambda: [planes.viewport_query(coords, (-50, 50), (-50, 50), budget=1000) for _ in range(5)])
    _, wall_h, cpu_h = _timed(lambda: [np.histogram2d(coords[:, 0], coords[:, 1], bins=256) for _ in range(5)])
    table.add(
        "viewport raster, all points (per query)",
        ("bincount", wall / 5, cpu / 5),
        ("histogram2d", wall_h / 5, cpu_h / 5),
    )


def bench_tsne(table: Table, z: np.ndarray, sizes: list[int], big: int | None) -> dict:
    """openTSNE (size-chosen backend) vs scikit-learn, raw and after PCA-10; openTSNE alone at ``big``."""
    fit = pca.fit_pca(z)
    fft_times = {}
    for n in sizes:
        for k in (None, 10):
            label = f"t-SNE {n // 1000}k {'raw' if k is None else 'PCA-10'}"
            ours, wall, cpu = _timed(tsne.run_tsne, z, n_points=n, pca_components=k, pca=fit)
            sk, wall_s, cpu_s = _timed(tsne.run_tsne, z, n_points=n, pca_components=k, pca=fit, backend="sklearn")
            # Speed at equal quality: each library's own final KL of the same points.
            kl = f"KL {ours.kl_divergence:.3f} vs sklearn {sk.kl_divergence:.3f}"
            table.add(label, (ours.backend, wall, cpu), ("sklearn", wall_s, cpu_s), note=kl)
            if k is None:
                other = "opentsne-fft" if ours.backend == "opentsne-bh" else "opentsne-bh"
                _, wall_o, cpu_o = _timed(tsne.run_tsne, z, n_points=n, pca=fit, backend=other)
                table.add(
                    f"t-SNE {n // 1000}k raw, other openTSNE gradient",
                    (ours.backend, wall, cpu),
                    (other, wall_o, cpu_o),
                )
                times = {ours.backend: wall, other: wall_o}
                fft_times[n] = times["opentsne-fft"]
    if big:
        fft_times[big] = bench_tsne_large(table, z, big)
    return fft_times


def bench_tsne_large(table: Table, z: np.ndarray, n: int) -> float:
    """run_tsne at large N with the default parameters, phase by phase, beside plain openTSNE on the same points."""
    import openTSNE

    marks: dict[str, float] = {}
    exaggerated = f"iteration {tsne.EXAGGERATION_ITER}/"

    def clock(_progress, message):
        now = time.perf_counter()
        if message == "affinities computed":
            marks.setdefault("affinities", now)
        elif message.startswith(exaggerated):
            marks.setdefault("exaggeration", now)
        return True

    started = time.perf_counter()
    ours, wall, cpu = _timed(tsne.run_tsne, z, n_points=n, callback=clock)
    ended = started + wall
    phases = (
        f"affinities {marks['affinities'] - started:.0f}s, early exaggeration "
        f"{marks['exaggeration'] - marks['affinities']:.0f}s, the rest {ended - marks['exaggeration']:.0f}s"
    )
    x = np.asarray(z[ours.ids], dtype=np.float64)
    # openTSNE's TSNE with every default except the threads, which run_tsne also uses (all cores).
    plain, wall_p, cpu_p = _timed(lambda: openTSNE.TSNE(n_jobs=-1, random_state=0).fit(x))
    table.add(
        f"t-SNE {n // 1000}k raw, defaults",
        (ours.backend, wall, cpu),
        ("plain openTSNE", wall_p, cpu_p),
        note=f"KL {ours.kl_divergence:.3f} vs {plain.kl_divergence:.3f}; {phases}; {_load()}",
    )
    return wall


def bench_maps(table: Table, z: np.ndarray, sizes: list[int]) -> None:
    """UMAP (seeded, umap-learn defaults) vs t-SNE (size-chosen backend) on the same points: time and trustworthiness."""
    from sklearn.manifold import trustworthiness

    _, wall, cpu = _timed(umap_inverse.warm_up)
    table.add("UMAP numba warm-up (first-fit stall)", ("warm_up()", wall, cpu), note=_load())
    for n in sizes:
        fit_u, wall_u, cpu_u = _timed(umap_maps.run_umap, z, n_points=n)
        fit_t, wall_t, cpu_t = _timed(tsne.run_tsne, z, n_points=n)
        assert np.array_equal(fit_u.ids, fit_t.ids), "both maps draw the same points"
        sample = np.sort(np.random.default_rng(0).choice(n, size=min(TRUST_SAMPLE, n), replace=False))
        x = np.asarray(z[fit_u.ids[sample]], dtype=np.float64)
        trust = {
            kind: trustworthiness(x, emb[sample], n_neighbors=15)
            for kind, emb in (("UMAP", fit_u.embedding), ("t-SNE", fit_t.embedding))
        }
        table.add(
            f"UMAP vs t-SNE {n // 1000}k raw",
            ("umap-learn", wall_u, cpu_u),
            (fit_t.backend, wall_t, cpu_t),
            note=f"trustworthiness@15 on {len(sample):,}: UMAP {trust['UMAP']:.3f}, t-SNE {trust['t-SNE']:.3f}; {_load()}",
        )
    picked = np.asarray(fit_u.embedding[:2]).mean(axis=0, keepdims=True)
    data = umap_maps.map_input(z, fit_u.ids)
    _, wall, cpu = _timed(umap_inverse.inverse_transform, fit_u, data, picked)
    table.add(f"UMAP inverse of one click ({n // 1000}k map)", ("inverse_transform", wall, cpu))


def bench_knn(table: Table, z: np.ndarray, n_queries: int) -> None:
    """Exact scikit-learn brute force vs pynndescent (index build incl. numba compile, then query)."""
    queries = structure.make_probes("normal", n_queries, z, random_state=1)
    _, wall, cpu = _timed(structure.nn_distances, z, queries)
    try:
        import pynndescent
    except ImportError:
        table.add(
            f"kNN {n_queries} probes -> {len(z) // 1000}k", ("sklearn exact", wall, cpu), note="pynndescent missing"
        )
        return
    index, wall_b, cpu_b = _timed(lambda: pynndescent.NNDescent(z, n_neighbors=15, random_state=0))
    _, wall_q, cpu_q = _timed(index.query, queries, k=1)
    table.add(
        f"kNN {n_queries} probes -> {len(z) // 1000}k",
        ("sklearn exact", wall, cpu),
        ("pynndescent", wall_b + wall_q, cpu_b + cpu_q),
        note=f"(pynndescent build {wall_b:.1f}s + query {wall_q:.2f}s)",
    )


def main(args) -> int:
    """Run the analysis benchmark; ``args.quick`` for smaller sizes, ``args.out`` for a JSON copy."""
    quick = bool(getattr(args, "quick", False))
    n_curves, per_curve = (40, 500) if quick else (400, 500)
    z = synthetic.filament_cloud(n_curves, per_curve, 256, noise=0.01, random_state=0)
    print(
        f"data: filament cloud {z.shape[0]:,} x {z.shape[1]}, {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}"
    )
    table = Table()
    bench_histograms(table, z)
    bench_pca(table, z)
    bench_viewport(table, z)
    bench_tsne(table, z, [2000, 5000] if quick else [5000, 10000, 20000], 20000 if quick else LARGE_N)
    bench_maps(table, z, [5000] if quick else [20000, 50000])
    bench_knn(table, z, 200 if quick else 2000)
    if getattr(args, "out", None):
        from rundir.atomic import atomic_write_json

        atomic_write_json(args.out, {"suite": "analysis", "quick": quick, "n": int(z.shape[0]), "rows": table.rows})
    return 0
