"""What a run's training did with each image: the metadata's ``split`` column.

Training learns from the rows its source puts in ``train`` (CelebA's
published partition; an 80/10/10 hash of the path for folders and the
built-in faces) and holds ``valid`` and ``test`` out. It records every
training image's ``source`` and split in ``training_split.parquet``, and
``zspace encode`` labels each encoded row from that record: its training
split, or ``unseen`` when the image was not part of the training data (images
encoded beyond the training set, another dataset). An imported model's
training is unknown to zspace, so its rows are ``unseen`` unless the user says
the model was trained on the source's own ``train`` rows (``zspace import --source-split``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import rundir
from rundir.atomic import atomic_write_parquet
from rundir.errors import ZspaceError


def dataset_identity(spec: str | None) -> str | None:
    """Which image collection a ``--data`` spec reads, so two specs of one dataset compare equal.

    ``synthetic:4000`` and ``synthetic:50000`` are one collection (each row's ``source`` names its seed
    and index); a folder or CelebA is its scheme plus the resolved folder.
    """
    if not spec:
        return None
    from models.data.spec import parse_spec

    try:
        parsed = parse_spec(spec)
    except ZspaceError:  # not one of the built-in schemes (a test's stand-in source): the spec names it
        return spec
    if parsed.scheme == "synthetic":
        return "synthetic"
    return f"{parsed.scheme}:{Path(parsed.path).expanduser().resolve()}"


def training_rows(source) -> np.ndarray:
    """Row numbers of ``source`` that training learns from (its ``train`` split), sorted.

    Raises
    ------
    ZspaceError
        If no row is in the train split.
    """
    split = source.metadata["split"].astype(str).to_numpy() if "split" in source.metadata else None
    if split is None:
        return np.arange(len(source), dtype=np.int64)
    rows = np.flatnonzero(split == rundir.TRAIN_SPLIT).astype(np.int64)
    if not len(rows):
        raise ZspaceError(
            f"none of the {len(source):,} images of {source.spec} is in the train split (all are held out as "
            "valid or test); give the source more images"
        )
    return rows


def record_training_split(run: str | os.PathLike, source) -> None:
    """Write ``training_split.parquet``: ``source`` and ``split`` of every image training was given."""
    frame = source.metadata
    split = frame["split"].astype(str) if "split" in frame else pd.Series(rundir.TRAIN_SPLIT, index=frame.index)
    record = pd.DataFrame({"source": frame["source"].astype(str).to_numpy(), "split": split.to_numpy()})
    atomic_write_parquet(Path(run) / rundir.TRAINING_SPLIT, record)


def encoded_splits(run: str | os.PathLike, config: dict[str, Any], source) -> np.ndarray:
    """The ``split`` of every row of ``source`` as the run's training saw it (see the module notes)."""
    n = len(source)
    imported = config.get("imported")
    if imported:
        if imported.get("source_split") and "split" in source.metadata:
            return source.metadata["split"].astype(str).to_numpy()
        return np.full(n, rundir.UNSEEN_SPLIT, dtype=object)
    record = _training_record(Path(run), config)
    if record is None or dataset_identity(source.spec) != config.get("train_dataset", _legacy_identity(config)):
        return np.full(n, rundir.UNSEEN_SPLIT, dtype=object)
    lookup = dict(zip(record["source"].astype(str), record["split"].astype(str), strict=True))
    return np.array([lookup.get(str(s), rundir.UNSEEN_SPLIT) for s in source.metadata["source"]], dtype=object)


def _legacy_identity(config: dict[str, Any]) -> str | None:
    from models.config import training_source

    return dataset_identity(training_source(config))


def _training_record(run: Path, config: dict[str, Any]) -> pd.DataFrame | None:
    """The run's record of its training images; for a run trained before the record existed, its whole source."""
    path = run / rundir.TRAINING_SPLIT
    if path.exists():
        try:
            return pd.read_parquet(path, columns=["source", "split"])
        except Exception as exc:  # pyarrow raises many types for a damaged file
            raise ZspaceError(
                f"{rundir.TRAINING_SPLIT} of run {run.name} is unreadable ({type(exc).__name__}); retrain the run"
            ) from None
    from models.config import training_source
    from models.data import open_source

    spec = training_source(config)
    if not spec:
        return None
    # Trained before training held rows out: it learnt from every image of its source.
    trained = open_source(spec, image_size=int(config["image_size"]), seed=int(config.get("seed", 0) or 0))
    return pd.DataFrame({"source": trained.metadata["source"].astype(str), "split": rundir.TRAIN_SPLIT})
