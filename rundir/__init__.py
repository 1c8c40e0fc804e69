"""The run directory: the one contract between training, analysis and the app (the ground floor).

A run directory (``data/runs/<name>/``) is written only by the training /
encoding worker and read by everyone else. This package knows its file names
(:mod:`rundir.layout`), reads and checks them (:mod:`rundir.files`), lists and
resolves runs (:mod:`rundir.listing`), identifies the z-points by content
(:mod:`rundir.digest`), reads sweep folders (:mod:`rundir.sweep`) and snapshots
(:mod:`rundir.snapshots`), locks a run while it is written
(:mod:`rundir.lock`), writes atomically (:mod:`rundir.atomic`) and defines the
user-facing errors (:mod:`rundir.errors`). It imports nothing else of zspace
and never imports TensorFlow.
"""

from rundir.digest import keep_digests_in, record_zpoints_digest, zpoints_fingerprint
from rundir.files import (
    load_metadata,
    load_zpoints,
    npy_header,
    read_config,
    read_json,
    read_status,
    update_status,
    write_status,
)
from rundir.layout import (
    ANALYSIS,
    BUSY_STATES,
    CHECKPOINTS,
    CONFIG,
    DECODER,
    ENCODER,
    HISTORY,
    LOCK,
    METADATA,
    MODEL,
    MODEL_KINDS,
    READ_FILES,
    SCHEMA_VERSION,
    SNAPSHOT_ROWS,
    SNAPSHOTS,
    STATES,
    STATUS,
    SWEEP,
    TENSORBOARD,
    ZLOGVAR,
    ZPOINTS,
    ZPOINTS_DIGEST,
    now_iso,
)
from rundir.listing import (
    RunInfo,
    check_decoder_file,
    files_key,
    inspect_run,
    list_runs,
    qualified_name,
    resolve_run,
)
from rundir.lock import run_lock
from rundir.private_copies import serve_private_copies

__all__ = [
    "ANALYSIS",
    "BUSY_STATES",
    "CHECKPOINTS",
    "CONFIG",
    "DECODER",
    "ENCODER",
    "HISTORY",
    "LOCK",
    "METADATA",
    "MODEL",
    "MODEL_KINDS",
    "READ_FILES",
    "SCHEMA_VERSION",
    "SNAPSHOT_ROWS",
    "SNAPSHOTS",
    "STATES",
    "STATUS",
    "SWEEP",
    "TENSORBOARD",
    "ZLOGVAR",
    "ZPOINTS",
    "ZPOINTS_DIGEST",
    "now_iso",
    "RunInfo",
    "check_decoder_file",
    "files_key",
    "inspect_run",
    "keep_digests_in",
    "list_runs",
    "load_metadata",
    "load_zpoints",
    "npy_header",
    "qualified_name",
    "read_config",
    "read_json",
    "read_status",
    "record_zpoints_digest",
    "resolve_run",
    "run_lock",
    "serve_private_copies",
    "update_status",
    "write_status",
    "zpoints_fingerprint",
]
