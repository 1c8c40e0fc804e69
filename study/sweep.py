"""The β sweep's curve: per run of a sweep folder, the numbers whose AE and VAE values the seed compared.

For each run (β = 0 is the AE), in β order:

* the sampler lab's meaningful rate per sampler with its 95 % interval
  (:func:`study.scoring.rate_row`, the rate table's cached rows);
* void fraction per probe kind and median local intrinsic dimension, each with
  its 95 % interval and its covariance-matched Gaussian null
  (:data:`analysis.results.structure_measures` at ``zspace analyze --quick`` sizes);
* reconstruction error, KL of the posteriors from N(0, I) and active units
  (:data:`fit_numbers`, cached here).

Every piece is a cached declaration of its run, so :func:`sweep_curve` with
``compute=False`` only reads (a view draws the curve at once, with gaps where a
piece is missing) and ``compute=True`` fills the gaps once (``zspace sweep``
does that as a run's last step).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import rundir
from analysis import results, structure
from analysis.latent_usage import active_units, mean_kl
from analysis.results import Declaration
from analysis.sizes import QUICK
from rundir.errors import ZspaceError
from rundir.sweep import inspect_sweep
from study import reference as reference_mod
from study import scoring
from study.codec import load_codec

#: Images whose reconstruction error is measured (the same rows in every run of a sweep on the same data).
N_RECON = 256
#: The structure measures the curve reads: the ones ``zspace sweep`` caches with ``zspace analyze --quick``.
STRUCTURE = {"n_points": QUICK["structure_n"], "n_probes": QUICK["probes"], "random_state": 0}
#: The rate rows the curve reads: the sampler table's defaults.
RATES = {"n": scoring.N_RATE, "seed": 0, "gmm_k": scoring.GMM_K}
#: Numbers of :data:`fit_numbers`, one list each in the curve.
FIT_NUMBERS = ("recon_mse", "kl", "active_units")


@dataclass(frozen=True)
class FitParams:
    """Images whose reconstruction is measured, and the seed of their rows."""

    n_images: int = N_RECON
    seed: int = 0

    def __post_init__(self):
        for name, low in (("n_images", 1), ("seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < low:
                raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
            object.__setattr__(self, name, int(value))


def _zlogvar(run: Path, shape: tuple) -> np.ndarray:
    found, dtype = rundir.npy_header(run / rundir.ZLOGVAR)
    if found != tuple(shape) or dtype != np.float32:
        raise ZspaceError(f"run {run.name}: zlogvar.npy is {dtype} {found}, not float32 {tuple(shape)}; re-encode")
    return np.load(run / rundir.ZLOGVAR, mmap_mode="r", allow_pickle=False)


def _fit_numbers(run, p: FitParams, _callback) -> dict:
    run = Path(run)
    z = rundir.load_zpoints(run)
    # Rows drawn from the row count alone: runs of one sweep (same data) measure the same images.
    pick = np.random.default_rng([p.seed, 0x5EE]).choice(len(z), size=min(p.n_images, len(z)), replace=False)
    rows = np.sort(pick)
    # Originals that can no longer be loaded are left out (training_images says which; most must load).
    originals, rows, _skipped = reference_mod.training_images(run, rows)
    decoded = load_codec(run).decode(np.asarray(z[rows]))
    kl = float("nan")
    if rundir.read_config(run)["model"] == "vae":
        kl = mean_kl(z, _zlogvar(run, z.shape))[0]
    return {
        "recon_mse": float(np.mean((decoded - originals.astype(np.float32) / 255.0) ** 2)),
        "kl": kl,
        "active_units": active_units(z),
        "n_images": len(rows),
        "rows": rows,
    }


#: ``recon_mse`` (mean squared pixel error in [0, 1] of ``n_images`` decoded data points against their
#: originals), ``kl`` (mean KL(q(z|x) || N(0, I)) in nats, summed over axes; NaN for an AE),
#: ``active_units`` (:func:`analysis.latent_usage.active_units`), ``n_images`` and ``rows`` (the images measured).
fit_numbers = Declaration(f"fit_numbers.v{reference_mod.MEASURES_VERSION}", FitParams, _fit_numbers)


def member_numbers(run: str | os.PathLike, compute: bool = False) -> dict:
    """One point of the curve: rates, structure and fit numbers of a run (None where not cached and not computed).

    Returns
    -------
    dict
        ``rates``: sampler -> ``(rate, lo, hi)`` or None; ``structure``: the
        :data:`~analysis.results.structure_measures` entry or None; ``fit``: the
        :data:`fit_numbers` entry or None.
    """
    run = Path(run)

    def get(declaration, **params):
        return declaration(run, **params) if compute else declaration.read(run, **params)

    rates = {}
    for sampler in scoring.ROWS:
        row = get(scoring.rate_row, sampler=sampler, **RATES)
        rates[sampler] = None if row is None else (float(row["rate"]), float(row["rate_lo"]), float(row["rate_hi"]))
    return {"rates": rates, "structure": get(results.structure_measures, **STRUCTURE), "fit": get(fit_numbers)}


def sweep_curve(
    folder: str | os.PathLike,
    compute: bool = False,
    folder_of: Callable[[str], os.PathLike] | None = None,
    progress: Callable[[float, str], object] | None = None,
) -> dict:
    """The curve of a sweep folder: every number of the module's list, per run in β order.

    Parameters
    ----------
    folder : path-like
        A sweep folder (``sweep.json``, :mod:`rundir.sweep`).
    compute : bool
        Compute what is not cached (decodes: heavy); False only reads.
    folder_of : callable(run name) -> path, optional
        An extra cache folder per run (``NAME/beta-0``), read and written besides the run's own
        (the dashboard's request folders, see :func:`analysis.cache.storing_in`).
    progress : callable(fraction, message), optional
        Called before each run.

    Returns
    -------
    dict
        ``sweep`` (its name), ``betas``, ``runs`` (``NAME/beta-0`` ...), ``models``, ``usable`` (bool per run) and
        ``reasons`` (why not, else ""); ``rates``: sampler -> ``{"rate", "lo", "hi"}`` lists;
        ``void_fraction``: probe kind -> ``{"value", "lo", "hi", "null"}`` lists and ``lid_median``: the same
        (``null``: the Gaussian null's number); ``recon_mse``, ``kl``, ``active_units``: lists.
        A value a run lacks (unusable, not computed, an AE's KL) is None.

    Raises
    ------
    ZspaceError
        When ``folder`` is not a readable sweep folder.
    """
    info = inspect_sweep(folder)
    if not info.usable:
        raise ZspaceError(f"sweep {info.name} cannot be read: {info.reason}")
    n = len(info.members)
    curve: dict = {"sweep": info.name, "betas": [float(m["beta"]) for m in info.members], "runs": info.runs()}
    curve.update(models=[m["model"] for m in info.members], usable=[False] * n, reasons=[""] * n)
    curve["rates"] = {sampler: {"rate": [None] * n, "lo": [None] * n, "hi": [None] * n} for sampler in scoring.ROWS}
    curve["void_fraction"] = {kind: _with_null(n) for kind in structure.PROBE_KINDS}
    curve["lid_median"] = _with_null(n)
    for name in FIT_NUMBERS:
        curve[name] = [None] * n
    for i, member in enumerate(info.members):
        name = curve["runs"][i]
        if progress is not None:
            progress(i / n, name)
        checked = rundir.inspect_run(Path(folder) / member["run"])
        curve["usable"][i], curve["reasons"][i] = checked.usable, checked.reason
        if not checked.usable:
            continue
        extra = folder_of(name) if folder_of is not None else None
        with storing_in_if(extra):
            numbers = member_numbers(Path(folder) / member["run"], compute=compute)
        _fill(curve, i, numbers)
    if progress is not None:
        progress(1.0, "done")
    return curve


def storing_in_if(folder):
    """:func:`analysis.cache.storing_in` ``folder``, or nothing when it is None."""
    from analysis.cache import storing_in

    return storing_in(folder) if folder is not None else contextlib.nullcontext()


def _with_null(n: int) -> dict[str, list]:
    return {part: [None] * n for part in ("value", "lo", "hi", "null")}


def _number(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _fill(curve: dict, i: int, numbers: dict) -> None:
    for sampler, found in numbers["rates"].items():
        if found is not None:
            for key, value in zip(("rate", "lo", "hi"), found, strict=True):
                curve["rates"][sampler][key][i] = value
    found = numbers["structure"]
    if found is not None:
        for name, target in (("lid_median", curve["lid_median"]),) + tuple(
            (f"void_{kind}", series) for kind, series in curve["void_fraction"].items()
        ):
            for part, key in (("value", name), ("lo", f"{name}_lo"), ("hi", f"{name}_hi"), ("null", f"null_{name}")):
                target[part][i] = _number(found[key])
    if numbers["fit"] is not None:
        for name in FIT_NUMBERS:
            curve[name][i] = _number(numbers["fit"][name])
