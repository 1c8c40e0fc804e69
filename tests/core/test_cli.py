"""The ``zspace`` command line: one entry point, help everywhere, one-line errors."""

import subprocess
import sys

import pytest

from zspace import cli


def test_every_subcommand_has_help(capsys):
    for name in cli.COMMANDS:
        with pytest.raises(SystemExit) as exit_info:
            cli.main([name, "--help"])
        assert exit_info.value.code == 0
        assert "usage: zspace " + name in capsys.readouterr().out


def test_no_command_prints_usage_and_fails(capsys):
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_user_errors_are_one_line_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "zspace", "analyze", str(tmp_path / "no-such-run")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.startswith("zspace")]
    assert len(lines) == 1 and "error" in lines[0]
    assert "Traceback" not in proc.stderr
