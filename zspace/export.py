"""``zspace export``: a run's points on a plane as CSV or Parquet, the same table the dashboard's export buttons write.

    zspace export RUN --plane pca:I,J|axis:I,J|tsne[:K]|umap[:K] [--filter EXPR] [--select EXPR]
                  [--colour radius|none|COLUMN] --out FILE.csv|FILE.parquet [--runs-root data/runs]
    zspace export RUN --projector DIR

The second form writes the files of TensorBoard's Embedding Projector (:mod:`zspace.projector_export`).

Columns (:mod:`analysis.tables`): ``row, id, x, y``, the colour column, ``selected``
(rows matching ``--select``), ``filtered``. With ``--filter`` only the matching
rows are written. PCA comes from the run's cached PCA (computed and cached on
first use, as ``zspace analyze`` does); t-SNE maps are the ones already cached
(``zspace analyze`` or the dashboard). Needs neither Dash nor TensorFlow.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np

import rundir
from rundir.atomic import atomic_write_bytes, output_file
from rundir.errors import ZspaceError
from rundir.layout import DEFAULT_RUNS

PLANE_HELP = "pca:I,J (principal components, from 0) | axis:I,J (latent axes) | tsne[:K] | umap[:K] (the K-th cached t-SNE or UMAP map, from 0, in the page's order)"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``zspace export``."""
    parser.add_argument("run", help="run folder, or a run name under --runs-root")
    parser.add_argument("--plane", help=PLANE_HELP)
    parser.add_argument(
        "--filter", default=None, help="keep only rows matching this metadata filter, e.g. 'smiling == 1'"
    )
    parser.add_argument("--select", default=None, help="mark rows matching this filter as selected")
    parser.add_argument(
        "--colour", default="radius", help="colour column: radius (default), none, or a numeric metadata column"
    )
    parser.add_argument("--out", help="output file, FILE.csv or FILE.parquet")
    parser.add_argument(
        "--projector",
        metavar="DIR",
        help="instead of a plane: write tensors.tsv, metadata.tsv, projector_config.pbtxt and a sprite of the "
        "originals into DIR, for TensorBoard's Embedding Projector (tensorboard --logdir DIR)",
    )
    parser.add_argument(
        "--runs-root", default=DEFAULT_RUNS, help=f"folder of runs for a bare run name (default {DEFAULT_RUNS})"
    )


def maps_of(run: Path, kind: str) -> list[dict]:
    """The run's cached maps of one kind (``tsne`` or ``umap``), in the dashboard's picker order."""
    from analysis import results

    return [found for found in results.available_maps(run) if found["kind"] == kind]


def plane_points(run: Path, plane: str) -> tuple[np.ndarray, np.ndarray]:
    """(row ids, xy) of the run's points on ``plane`` (see :data:`PLANE_HELP`)."""
    from analysis import results
    from analysis.planes import plane_coords

    z = rundir.load_zpoints(run)
    fit = None
    linear = re.fullmatch(r"(pca|axis):(\d+),(\d+)", plane)
    if linear:
        kind, i, j = linear.group(1), int(linear.group(2)), int(linear.group(3))
        limit = z.shape[1]
        if kind == "pca":
            fit = results.pca(run)
            limit = len(fit.explained_variance_ratio_)
        if not (i < limit and j < limit):
            raise ZspaceError(f"--plane {plane}: indices must be below {limit}")
        return np.arange(len(z)), plane_coords(z, kind, i, j, pca=fit)
    mapped = re.fullmatch(r"(tsne|umap)(?::(\d+))?", plane)
    if not mapped:
        raise ZspaceError(f"--plane must be {PLANE_HELP}; got {plane[:40]!r}")
    kind = mapped.group(1)
    maps = maps_of(run, kind)
    listing = "; ".join(f"{k} = {m['label']}" for k, m in enumerate(maps)) or "none (run `zspace analyze`)"
    index = int(mapped.group(2) or 0)
    if index >= len(maps):
        raise ZspaceError(f"--plane {plane}: no such {results.MAP_NAMES[kind]} map of {run.name}; maps: {listing}")
    stored = results.load_map(run, kind, maps[index]["params"])
    return np.asarray(stored.ids, dtype=np.int64), np.asarray(stored.embedding, dtype=np.float32)


def colour_column(run: Path, frame, z, colour: str):
    """(values, name) of the colour column, or (None, None) for ``none``."""
    if colour == "none":
        return None, None
    if colour == "radius":
        from analysis.radius import radii

        return radii(z), "radius"
    numeric = [str(c) for c in frame.columns if frame[c].dtype.kind in "biuf" and c != "row"]
    if colour not in numeric:
        raise ZspaceError(f"--colour must be radius, none or a numeric column of {run.name}: {', '.join(numeric[:12])}")
    return frame[colour].to_numpy(dtype=np.float64), colour


def export(run: Path, plane: str, out: Path, filter_text=None, select_text=None, colour: str = "radius") -> int:
    """Write the table of ``run``'s points on ``plane`` to ``out``; return the number of rows written."""
    from analysis import table_filter, tables

    try:
        fmt = tables.format_of(out.name)
    except ValueError as exc:
        raise ZspaceError(f"--out: {exc}") from None
    out = output_file(out)
    frame = rundir.load_metadata(run)
    z = rundir.load_zpoints(run)
    keep = np.ones(len(frame), bool) if filter_text is None else table_filter.row_mask(frame, filter_text)
    chosen = np.zeros(len(frame), bool) if select_text is None else table_filter.row_mask(frame, select_text)
    values, name = colour_column(run, frame, z, colour)
    rows, xy = plane_points(run, plane)
    inside = keep[rows]
    rows, xy = rows[inside], xy[inside]
    image_ids = frame["id"].to_numpy()[rows] if "id" in frame.columns else rows
    table = tables.points_table(
        rows,
        image_ids,
        xy,
        colour=None if values is None else values[rows],
        colour_name=name,
        selected=chosen[rows],
        filtered=keep[rows],
    )
    atomic_write_bytes(out, tables.table_bytes(table, fmt))
    return len(table)


def run(args) -> int:
    """Entry point of ``zspace export``."""
    from analysis.precompute import find_run

    folder = find_run(args.run, args.runs_root)
    if args.projector is not None:
        others = [f"--{name}" for name in ("plane", "out", "filter", "select") if getattr(args, name) is not None]
        if others:
            raise ZspaceError(f"--projector writes the whole run; drop {', '.join(others)}")
        from zspace.projector_export import export_projector

        written = export_projector(folder, Path(args.projector))
        sprite = f", a sprite of {written['sprite_side']} px thumbnails" if written["sprite_side"] else ""
        print(f"wrote {written['points']:,} points of {folder.name} for the Projector{sprite} to {args.projector}")
        return 0
    if args.plane is None or args.out is None:
        raise ZspaceError("give --plane PLANE and --out FILE (or --projector DIR)")
    out = Path(args.out)
    written = export(folder, args.plane, out, args.filter, args.select, args.colour)
    print(f"wrote {written:,} points of {folder.name} on {args.plane} to {out}")
    return 0
