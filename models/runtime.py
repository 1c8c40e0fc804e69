"""Start TensorFlow once, without the C++ start-up log lines it writes straight to file descriptor 2.

TensorFlow's C++ runtime logs before absl logging is initialised (``WARNING: All
log messages before absl::InitializeLog() ...``, ``I0000 ... cudart_stub.cc ...
Could not find cuda drivers``, ``E0000 ... failed call to cuInit``); those lines
ignore ``TF_CPP_MIN_LOG_LEVEL`` and bypass ``sys.stderr``. :func:`start_tensorflow`
therefore points descriptor 2 at a temporary file while TensorFlow is imported
and its devices are listed, then writes back every captured line that is not a
TensorFlow C++ log line (Python warnings stay visible). If the import fails,
everything captured is written back before the error propagates.

Every path in ``models/`` that imports TensorFlow or Keras calls
:func:`start_tensorflow` first (the dashboard's decoder service does too).
``ZSPACE_TF_LOG=1`` turns the filtering off and leaves TensorFlow's own log level alone.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Iterator

#: Set to 1 to see TensorFlow's C++ log lines again (start-up and later).
TF_LOG_ENV = "ZSPACE_TF_LOG"

#: The start of an absl / TensorFlow C++ log line: severity letter, MMDD, time, thread id, file:line].
_CPP_LOG_START = r"[IWEF]\d{4} [\d:.]+\s+\d+ \S+:\d+\]"
_CPP_LOG_LINE = re.compile("^" + _CPP_LOG_START)
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"


def tensorflow_logs_wanted() -> bool:
    """True when ``ZSPACE_TF_LOG`` asks for TensorFlow's own logging."""
    return os.environ.get(TF_LOG_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def is_tensorflow_log_line(line: str) -> bool:
    """Whether ``line`` is one of TensorFlow's C++ log lines (or absl's preamble to them)."""
    line = line.strip()
    return line.startswith(_ABSL_PREAMBLE) or bool(_CPP_LOG_LINE.match(line))


def without_tensorflow_logs(text: str) -> str:
    """``text`` with TensorFlow's C++ log lines removed (a line may lack its newline)."""
    # The C++ logger sometimes omits the newline between lines: split before every log-line start.
    pieces = re.split(f"(?={_CPP_LOG_START})|(?<=\\n)", text)
    return "".join(piece for piece in pieces if piece and not is_tensorflow_log_line(piece))


@contextlib.contextmanager
def _tensorflow_logs_filtered() -> Iterator[None]:
    """Send descriptor 2 to a temporary file; afterwards replay what was not a TensorFlow log line."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", errors="replace")
            # On a failed import every line may explain it, so nothing is filtered then.
            replay = text if failed else without_tensorflow_logs(text)
            if replay.strip():
                sys.stderr.write(replay if replay.endswith("\n") else replay + "\n")
                sys.stderr.flush()


@functools.cache
def start_tensorflow():
    """Import TensorFlow and list its devices with the C++ start-up logs filtered out.

    Call this before the first ``import tensorflow`` or ``import keras`` of a
    code path; later calls return at once. Listing the devices here is what
    makes CUDA initialise (``cuInit``) inside the filtered window.
    Unless ``ZSPACE_TF_LOG=1``, ``TF_CPP_MIN_LOG_LEVEL`` defaults to 2, so later
    C++ messages show only at ERROR level.

    Returns
    -------
    module or None
        The ``tensorflow`` module, or None when TensorFlow is not installed
        (Keras on another backend); a broken installation raises its own error.
    """
    if importlib.util.find_spec("tensorflow") is None:
        return None
    if tensorflow_logs_wanted():
        import tensorflow as tf

        tf.config.list_physical_devices()
        return tf
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _tensorflow_logs_filtered():
        import tensorflow as tf

        tf.config.list_physical_devices()
    return tf
