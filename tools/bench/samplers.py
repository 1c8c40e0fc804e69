"""``zspace bench samplers``: fitting and sampling the ex-post densities (GMM, KDE) on 200k x 256.

Data: the filament cloud of ``zspace bench analysis`` (200k x 256; ``--quick``
20k x 256). Each fit uses at most ``analysis.density_fit.DEFAULT_MAX_POINTS``
random points (the bounded-time rule); its baseline is one EM iteration of
scikit-learn's GaussianMixture on *all* points, the cost the subsample avoids
per iteration. Results are recorded in ``docs/BENCHMARKS.md``.
"""

from __future__ import annotations

import os
import platform

from analysis import density_fit, samplers
from tools import synthetic
from tools.bench.analysis import Table, _timed


def bench_gmm(table: Table, z) -> None:
    """The cached GMM fit (k = 10, subsampled) vs one full-data EM iteration."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    fit, wall, cpu = _timed(samplers.fit, "gmm", z, k=density_fit.DEFAULT_COMPONENTS)

    def one_iteration():
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            GaussianMixture(density_fit.DEFAULT_COMPONENTS, covariance_type="full", max_iter=1, random_state=0).fit(z)

    _, wall_b, cpu_b = _timed(one_iteration)
    note = f"{fit['n_fit']:,} of {fit['n_total']:,} points, {fit['n_iter']} EM iterations"
    table.add(
        "GMM fit, k=10 full covariance", ("subsampled", wall, cpu), ("1 EM iter, all points", wall_b, cpu_b), note
    )
    _, wall_s, cpu_s = _timed(samplers.sample, "gmm", 256, z, random_state=0, fit=fit)
    table.add("GMM: draw 256 samples", ("from cached fit", wall_s, cpu_s))


def bench_kde(table: Table, z) -> None:
    """The cached KDE fit (bandwidth by held-out likelihood) and drawing from it."""
    fit, wall, cpu = _timed(samplers.fit, "kde", z)
    note = f"{fit['n_fit']:,} centres, h={fit['bandwidth']:.3g} (Scott {fit['scott']:.3g})"
    table.add("KDE fit (bandwidth search)", ("held-out likelihood", wall, cpu), note=note)
    _, wall_s, cpu_s = _timed(samplers.sample, "kde", 256, z, random_state=0, fit=fit)
    table.add("KDE: draw 256 samples", ("from cached fit", wall_s, cpu_s))


def main(args) -> int:
    """Run the sampler benchmark; ``args.quick`` for 20k points, ``args.out`` for a JSON copy."""
    quick = bool(getattr(args, "quick", False))
    n_curves, per_curve = (40, 500) if quick else (400, 500)
    z = synthetic.filament_cloud(n_curves, per_curve, 256, noise=0.01, random_state=0)
    print(
        f"data: filament cloud {z.shape[0]:,} x {z.shape[1]}, {os.cpu_count()} CPUs, "
        f"{platform.processor() or platform.machine()}; load average {os.getloadavg()[0]:.2f}"
    )
    table = Table()
    bench_gmm(table, z)
    bench_kde(table, z)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if getattr(args, "out", None):
        from rundir.atomic import atomic_write_json

        atomic_write_json(args.out, {"suite": "samplers", "quick": quick, "n": int(z.shape[0]), "rows": table.rows})
    return 0
