"""``zspace walk RUN --attribute COLUMN``: a point walked along an attribute direction, as one strip PNG.

The direction runs from the mean z of the column's low class to that of its
high class (a binary column by its two values, any other split at its median);
the walk goes ``--span`` class-mean distances either way from the start point
(``--row``, or the data mean).
"""

from __future__ import annotations

import argparse

import numpy as np

from zspace.strips import add_run_arguments, checked_row, checked_steps, decode, open_run, write_strip

#: Farthest a walk may go from its start, in class-mean distances (as in the dashboard).
MAX_SPAN = 5.0


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``zspace walk``."""
    add_run_arguments(parser, default_steps=9)
    parser.add_argument("--attribute", required=True, help="numeric metadata column, e.g. Smiling or glasses")
    parser.add_argument("--row", type=int, default=None, help="row id of the start point (default: the data mean)")
    parser.add_argument(
        "--span", type=float, default=1.0, help=f"class-mean distances either way (0..{MAX_SPAN:g}, default 1)"
    )


def run(args: argparse.Namespace) -> int:
    """Find the direction, walk the start point along it and write the strip."""
    import rundir
    from analysis.walks import attribute_direction, attribute_walk
    from rundir.errors import ZspaceError

    folder, z = open_run(args.run, args.runs_root)
    steps = checked_steps(args.steps)
    if not 0 < args.span <= MAX_SPAN:
        raise ZspaceError(f"--span must be above 0 and at most {MAX_SPAN:g}, got {args.span}")
    metadata = rundir.load_metadata(folder, len(z))
    numeric = [
        c for c in metadata.columns if c not in ("row", "id", "source", "split") and metadata[c].dtype.kind in "biuf"
    ]
    if args.attribute not in numeric:
        raise ZspaceError(f"--attribute must be a numeric metadata column of {folder.name}: {', '.join(numeric[:12])}")
    try:
        direction = attribute_direction(z, metadata[args.attribute].to_numpy(dtype=np.float64))
    except ValueError as exc:
        raise ZspaceError(f"no direction for {args.attribute}: {exc}") from None
    if args.row is None:
        start, label = np.asarray(z.mean(axis=0), dtype=np.float64), "the data mean"
    else:
        row = checked_row(args.row, z, "--row", folder)
        start, label = np.asarray(z[row], dtype=np.float64), f"point {row}"
    _, zs = attribute_walk(start, direction, args.span, steps)
    out = write_strip(args.out, decode(folder, zs), args.columns)
    print(
        f"wrote {out}: {label} of {folder.name} walked along {args.attribute} "
        f"({direction['low_label']} → {direction['high_label']}, class means {direction['distance']:.3f} apart) "
        f"from −{args.span:g} to +{args.span:g} class-mean distances in {steps} steps"
    )
    return 0
