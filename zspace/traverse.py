"""``zspace traverse RUN --axis I | --pc I``: a point varied along one axis or principal component, as a strip PNG.

The range is the data's observed 1st..99th percentile along that axis (or that
component's scores), so the seed's off-centre axes can be read as images.
"""

from __future__ import annotations

import argparse

import numpy as np

from zspace.strips import add_run_arguments, checked_row, checked_steps, decode, open_run, write_strip


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``zspace traverse``."""
    add_run_arguments(parser, default_steps=9)
    along = parser.add_mutually_exclusive_group(required=True)
    along.add_argument("--axis", type=int, help="original latent axis (0-based)")
    along.add_argument("--pc", type=int, help="principal component (0-based: 0 is PC 1)")
    parser.add_argument("--row", type=int, default=None, help="row id of the start point (default: the data mean)")


def run(args: argparse.Namespace) -> int:
    """Traverse the start point over the observed percentile range and write the strip."""
    from analysis.walks import percentile_range, scores, traversal
    from rundir.errors import ZspaceError

    folder, z = open_run(args.run, args.runs_root)
    steps = checked_steps(args.steps)
    z_dim = z.shape[1]
    if args.axis is not None:
        if not 0 <= args.axis < z_dim:
            raise ZspaceError(f"--axis must be between 0 and {z_dim - 1}, got {args.axis}")
        unit, origin, name = np.eye(z_dim)[args.axis], np.zeros(z_dim), f"axis {args.axis}"
        lo, hi = percentile_range(z[:, args.axis])
        mean = np.asarray(z.mean(axis=0), dtype=np.float64) if args.row is None else None
    else:
        from analysis import results

        fit = results.pca(folder)
        if not 0 <= args.pc < fit.n_components:
            raise ZspaceError(f"--pc must be between 0 and {fit.n_components - 1}, got {args.pc}")
        unit, origin, name = fit.components_[args.pc], fit.mean_, f"PC {args.pc + 1}"
        lo, hi = percentile_range(scores(z, unit, origin)[:, 0])
        mean = np.asarray(fit.mean_, dtype=np.float64)
    if args.row is None:
        start, label = mean, "the data mean"
    else:
        row = checked_row(args.row, z, "--row", folder)
        start, label = np.asarray(z[row], dtype=np.float64), f"point {row}"
    images = decode(folder, traversal(start, unit, np.linspace(lo, hi, steps), origin))
    out = write_strip(args.out, images, args.columns)
    print(f"wrote {out}: {label} of {folder.name} along {name} from {lo:.3f} to {hi:.3f} (1st..99th percentile)")
    return 0
