"""``zspace path RUN --from ROW --to ROW``: decode the path between two data points into one strip PNG.

The straight path by default, the spherical one with ``--slerp``. Per step it
prints the distance to the nearest data point in full z-space, the k-NN radius
and |z| (``--profile FILE.csv`` writes them), and, once ``zspace analyze`` has
cached the data's own nearest-neighbour distances, each distance as a
percentile of those, so a script sees where the path leaves the data.
"""

from __future__ import annotations

import argparse

import numpy as np

from zspace.strips import add_run_arguments, checked_row, checked_steps, decode, open_run, write_strip


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``zspace path``."""
    add_run_arguments(parser, default_steps=8)
    parser.add_argument("--from", dest="start", type=int, required=True, help="row id of the first point (A)")
    parser.add_argument("--to", dest="end", type=int, required=True, help="row id of the last point (B)")
    parser.add_argument("--slerp", action="store_true", help="the spherical path (keeps the norm) instead of a line")
    parser.add_argument("--profile", default=None, help="also write the per-step measures to this CSV file")


def run(args: argparse.Namespace) -> int:
    """Decode the path and write the strip (and the profile)."""
    from analysis.walks import DENSITY_K, path, path_profile
    from rundir.errors import ZspaceError

    if args.profile:
        from rundir.atomic import output_file

        output_file(args.profile, "--profile")  # before any work: only the file is created, never its folder
    folder, z = open_run(args.run, args.runs_root)
    a = checked_row(args.start, z, "--from", folder)
    b = checked_row(args.end, z, "--to", folder)
    steps = checked_steps(args.steps)
    kind = "spherical" if args.slerp else "linear"
    if a == b:
        raise ZspaceError("--from and --to name the same point; pick two different rows")
    try:
        zs = path(z[a], z[b], steps, kind)
    except ValueError as exc:  # slerp between opposite directions
        raise ZspaceError(f"no spherical path from {a} to {b}: {exc}") from None
    profile = path_profile(z, zs, exclude=(a, b), k=DENSITY_K)
    reference, percentiles = _nn_percentiles(folder, profile["nearest"])
    out = write_strip(args.out, decode(folder, zs), args.columns)
    if args.profile:
        _write_profile(args.profile, profile, percentiles, steps)
    middle = int(np.argmax(profile["nearest"]))
    print(
        f"wrote {out}: {kind} path from {a} to {b} in {steps} steps of {folder.name}; farthest from the data at "
        f"step {middle} ({profile['nearest'][middle]:.3f} to the nearest point, {DENSITY_K}-NN radius "
        f"{profile['knn_radius'][middle]:.3f}, |z| {profile['norm'][middle]:.3f})"
    )
    if reference is None:
        print("the data's own nearest-neighbour distances are not cached: `zspace analyze` adds them as percentiles")
    else:
        print(
            f"  that distance is the {percentiles[middle]:.1f}th percentile of the data's own nearest-neighbour "
            f"distances (median {reference['median']:.3f}, 99th percentile {reference['p99']:.3f}: beyond it, a void)"
        )
    return 0


def _nn_percentiles(folder, nearest):
    # The data's own NN distances as `zspace analyze` cached them (read, never computed here: a path is quick).
    from analysis import results
    from analysis.structure import distance_percentile

    reference = results.nn_reference.read(folder)
    if reference is None:
        return None, [None] * len(nearest)
    return reference, distance_percentile(nearest, reference["distances"])


def _write_profile(path, profile: dict, percentiles, steps: int) -> None:
    from rundir.atomic import atomic_write_text

    lines = ["step,t,nearest,knn_radius,norm,nearest_percentile"]
    for i, t in enumerate(np.linspace(0.0, 1.0, steps)):
        values = (profile[name][i] for name in ("nearest", "knn_radius", "norm"))
        pct = "" if percentiles[i] is None else f"{percentiles[i]:.6g}"
        lines.append(f"{i},{t:.6g}," + ",".join(f"{v:.6g}" for v in values) + f",{pct}")
    atomic_write_text(path, "\n".join(lines) + "\n")
