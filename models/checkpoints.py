"""Per-epoch checkpoints, ``latest.json`` and ``history.csv`` of a run: the state ``--resume`` continues from.

Write order after each epoch (each step atomic): checkpoint file, then
``history.csv``, then ``latest.json``. A process killed between two steps
therefore leaves a ``latest.json`` that names a complete checkpoint, and
resuming trims the history to that epoch, so no epoch is duplicated or lost.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any

import rundir
from models.pause import pause_point
from rundir.atomic import atomic_path, atomic_write_json, atomic_write_text
from rundir.errors import RunNotReadyError

LATEST = "latest.json"

#: How many epoch checkpoints to keep; older ones are deleted (a 96x96 VAE checkpoint is ~90 MB).
KEEP_CHECKPOINTS = 3


def checkpoint_name(epoch: int) -> str:
    """File name of the checkpoint written after ``epoch`` (1-based) finished."""
    return f"epoch_{epoch:03d}.keras"


def save_model_atomically(model, final: str | os.PathLike) -> None:
    """``model.save`` to a temporary ``.keras`` name next to ``final``, then rename."""
    with atomic_path(final, suffix=".keras") as tmp:
        model.save(tmp, overwrite=True)
        pause_point(f"save:{Path(final).name}")


def write_checkpoint(run: str | os.PathLike, model, epoch: int, history: list[dict[str, Any]]) -> None:
    """Save the model after ``epoch``, rewrite ``history.csv`` and point ``latest.json`` at the checkpoint."""
    run = Path(run)
    folder = run / rundir.CHECKPOINTS
    folder.mkdir(parents=True, exist_ok=True)
    save_model_atomically(model, folder / checkpoint_name(epoch))
    write_history(run, history)
    atomic_write_json(
        folder / LATEST, {"epoch": epoch, "checkpoint": checkpoint_name(epoch), "updated": rundir.now_iso()}
    )
    for old in sorted(_numbered_checkpoints(folder), key=_epoch_of)[:-KEEP_CHECKPOINTS]:
        old.unlink(missing_ok=True)  # someone may have deleted it since the listing


def _numbered_checkpoints(folder: Path) -> list[Path]:
    # Only the files this module names: a user's "epoch_best.keras" beside them is not pruned.
    # ASCII digits only: "²".isdigit() holds, yet int("²") fails.
    return [path for path in folder.glob("epoch_*.keras") if re.fullmatch(r"[0-9]+", path.stem.removeprefix("epoch_"))]


def _epoch_of(checkpoint: Path) -> int:
    # By number, not by name: "epoch_1000" sorts before "epoch_999" as text.
    return int(checkpoint.stem.removeprefix("epoch_"))


def read_latest(run: str | os.PathLike) -> dict[str, Any] | None:
    """Return ``latest.json`` (``epoch``, ``checkpoint``) or ``None`` if no epoch has finished yet."""
    path = Path(run) / rundir.CHECKPOINTS / LATEST
    if not path.exists():
        return None
    latest = rundir.read_json(path, "checkpoints/latest.json")
    epoch = latest.get("epoch")
    if not isinstance(epoch, int) or epoch < 1 or not isinstance(latest.get("checkpoint"), str):
        raise RunNotReadyError(
            "checkpoints/latest.json is malformed (it needs an epoch from 1 and a checkpoint file name); "
            "start again without --resume"
        )
    checkpoint = Path(run) / rundir.CHECKPOINTS / Path(latest["checkpoint"]).name
    if not checkpoint.is_file():
        raise RunNotReadyError(
            f"checkpoint {checkpoint.name} named by latest.json is missing; start again with --force"
        )
    latest["path"] = checkpoint
    return latest


def write_history(run: str | os.PathLike, history: list[dict[str, Any]]) -> None:
    """Atomically rewrite ``history.csv`` with one row per finished epoch."""
    columns: list[str] = []
    for row in history:
        columns += [key for key in row if key not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    atomic_write_text(Path(run) / rundir.HISTORY, buffer.getvalue())


def read_history(run: str | os.PathLike, up_to_epoch: int | None = None) -> list[dict[str, Any]]:
    """Read ``history.csv`` rows (numbers as float, ``epoch`` as int), keeping epochs <= ``up_to_epoch``."""
    path = Path(run) / rundir.HISTORY
    if not path.exists():
        return []
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        for raw in csv.DictReader(handle):
            row: dict[str, Any] = {}
            for key, value in raw.items():
                try:
                    row[key] = int(value) if key == "epoch" else float(value)
                except (TypeError, ValueError):
                    row[key] = value
            rows.append(row)
    if up_to_epoch is not None:
        rows = [row for row in rows if isinstance(row.get("epoch"), int) and row["epoch"] <= up_to_epoch]
    # One row per epoch even if an older writer appended twice: the last one wins.
    return list({row["epoch"]: row for row in rows}.values())
