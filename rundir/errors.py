"""User-facing errors.

Every problem a user can fix (a missing folder, a corrupt run, a z_dim
mismatch) is raised as :class:`ZspaceError` with one line that says what is
wrong and what to do. The command line prints that line and exits non-zero;
it never shows a traceback for these.
"""


class ZspaceError(Exception):
    """A problem the user can fix, described in one line."""


class Refusal(ZspaceError):
    """Bad input refused with one line whose words are defined once, by the refusal's class.

    A subclass sets ``template`` (a :meth:`str.format` pattern) and is raised with
    its fields, ``raise SamePoints()`` or ``raise KeepsNoRows(run="ae", ...)``.
    The dashboard's views list the classes they may raise (``View.refusals``), and
    the callback fuzzer accepts exactly those: a message is never restated as a
    pattern that can drift from what is raised.
    """

    template = "{why}"

    def __init__(self, **fields):
        super().__init__(self.template.format(**fields))


class UnknownRun(Refusal):
    """A run name that names no run of the folder (or reaches outside it)."""

    template = "unknown run {name}"


class RunNotReadyError(ZspaceError):
    """A run directory is incomplete, still being written, or broken."""


class RunLockedError(ZspaceError):
    """Another live process is writing the same run directory."""


def run_reporting_errors(command: str, body) -> int:
    """Run a command-line ``body()`` and turn what it raises into one line on stderr and an exit status.

    A :class:`ZspaceError` (bad input the user can fix) exits 2, Ctrl-C 130, and
    anything else is a bug: one line naming it (exit 1), the traceback only with
    ``ZSPACE_DEBUG=1``. Every zspace command reports through here.
    """
    import os
    import sys
    import traceback

    try:
        return int(body() or 0)
    except ZspaceError as exc:
        print(f"zspace {command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"zspace {command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not bad input: one line unless asked for more
        if os.environ.get("ZSPACE_DEBUG"):
            traceback.print_exc()
        else:
            print(
                f"zspace {command}: internal error: {type(exc).__name__}: {exc} (set ZSPACE_DEBUG=1 for details)",
                file=sys.stderr,
            )
        return 1
