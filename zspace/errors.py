"""User-facing errors.

Every problem a user can fix (a missing folder, a corrupt run, a z_dim
mismatch) is raised as :class:`ZspaceError` with one line that says what is
wrong and what to do. The command line prints that line and exits non-zero;
it never shows a traceback for these.
"""


class ZspaceError(Exception):
    """A problem the user can fix, described in one line."""


class RunNotReadyError(ZspaceError):
    """A run directory is incomplete, still being written, or broken."""


class RunLockedError(ZspaceError):
    """Another live process is writing the same run directory."""
