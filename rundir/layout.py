"""The names of a run directory's files and the states a run goes through (one definition each).

See ``docs/ARCHITECTURE.md`` for what each file holds and who writes it.
"""

from __future__ import annotations

import datetime as _dt

#: The runs folder every command and the server use unless told otherwise (a folder of run folders).
DEFAULT_RUNS = "data/runs"
#: Version of the layout below; a run with a newer one is refused, not guessed at.
SCHEMA_VERSION = 1

CONFIG = "config.json"
STATUS = "status.json"
HISTORY = "history.csv"
MODEL = "model.keras"
ENCODER = "encoder.keras"
DECODER = "decoder.keras"
CHECKPOINTS = "checkpoints"
TENSORBOARD = "tensorboard"
#: Where an imported run keeps a model of another format (``config.json`` names the file, see below).
ENCODER_ONNX, DECODER_ONNX = "encoder.onnx", "decoder.onnx"
ENCODER_SAVEDMODEL, DECODER_SAVEDMODEL = "encoder.savedmodel", "decoder.savedmodel"
#: The files a run's encoder / decoder may be (config ``encoder_file`` / ``decoder_file``; absent: the
#: ``.keras`` file training writes; ``null``: the run has none, e.g. z-points imported alone).
MODEL_FILES = {
    "encoder": (ENCODER, ENCODER_ONNX, ENCODER_SAVEDMODEL),
    "decoder": (DECODER, DECODER_ONNX, DECODER_SAVEDMODEL),
}
ZPOINTS = "zpoints.npy"
#: The content digest of zpoints.npy with the size and time it was taken at (rundir.digest).
ZPOINTS_DIGEST = "zpoints.digest.json"
ZLOGVAR = "zlogvar.npy"
METADATA = "metadata.parquet"
#: ``source`` and ``split`` of every image of the training source: which rows training used (``train``) and
#: held out (``valid``, ``test``); ``zspace encode`` reads it to say what training did with each encoded row.
TRAINING_SPLIT = "training_split.parquet"
ANALYSIS = "analysis"
LOCK = ".lock"
#: Folder of a run's per-epoch encodings of a fixed set of rows (``zspace train --snapshot-every``).
SNAPSHOTS = "snapshots"
#: The rows every snapshot encodes, recorded once (int64, inside ``snapshots/``).
SNAPSHOT_ROWS = "rows.npy"
#: The manifest that makes a folder of runs a sweep folder (``zspace sweep``); never inside a run.
SWEEP = "sweep.json"

#: Every file a reader of a finished run opens; a change to any of them changes what the app shows.
READ_FILES = (
    CONFIG,
    STATUS,
    ZPOINTS,
    METADATA,
    DECODER,
    HISTORY,
    DECODER_ONNX,
    f"{DECODER_SAVEDMODEL}/saved_model.pb",
)

STATES = ("created", "training", "encoding", "complete", "failed", "interrupted")
#: States in which a writer is still at work: readers wait.
BUSY_STATES = ("created", "training", "encoding")

#: The model kinds a run can hold.
MODEL_KINDS = ("ae", "vae")

#: Values of the metadata's ``split``: what the run's training did with each row (``unseen``: outside its
#: training data, e.g. images encoded beyond the training set, or every row of an imported run).
SPLITS = ("train", "valid", "test", "unseen")
#: The split training learns from; ``valid`` and ``test`` rows are held out.
TRAIN_SPLIT = "train"
UNSEEN_SPLIT = "unseen"


def now_iso() -> str:
    """Return the current UTC time as an ISO-8601 string."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
