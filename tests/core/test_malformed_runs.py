"""One malformed run never takes the page or a command down (hardening issue, item 1).

A run whose ``config.json`` or ``zpoints.npy`` header is malformed is listed as
unusable with a one-line reason that names no server path; the page still
answers with every other run usable; ``zspace analyze``, ``encode`` and
``train --resume`` on it exit 2 with one line.
"""

from __future__ import annotations

import json

import pytest

import rundir
from rundir.errors import ZspaceError
from tests.core.runs import edit_config, make_run, write_npy_header
from zspace.cli import main

#: Damage done to ``config.json`` -> a part of the reason the user must see.
CONFIG_DAMAGE = {
    "z_dim is text": (lambda run: edit_config(run, z_dim="abc"), "z_dim must be a whole number"),
    "z_dim is null": (lambda run: edit_config(run, z_dim=None), "z_dim must be a whole number"),
    "z_dim is negative": (lambda run: edit_config(run, z_dim=-4), "z_dim must be a whole number from 1"),
    "image_size is text": (lambda run: edit_config(run, image_size="x"), "image_size must be a whole number"),
    "channels missing": (lambda run: edit_config(run, channels=...), "channels must be a whole number"),
    "model is gan": (lambda run: edit_config(run, model="gan"), "unknown model kind 'gan'"),
    "schema_version is text": (lambda run: edit_config(run, schema_version="1"), "no valid schema_version"),
    "config is a list": (lambda run: (run / rundir.CONFIG).write_text("[1, 2]"), "must hold a JSON object"),
    "config nested deeply": (
        lambda run: (run / rundir.CONFIG).write_text("[" * 100_000 + "]" * 100_000),
        "nested too deeply",
    ),
}
#: Damage done to the header of ``zpoints.npy``.
NPY_DAMAGE = {
    # 2**62 x 4 elements wrap to 0 in int64 (as the audit's 2**60 x 256 do): no "complete" size, no np.load.
    "huge npy header": (lambda run: write_npy_header(run / rundir.ZPOINTS, (2**62, 4)), "truncated"),
    "negative npy dimension": (lambda run: write_npy_header(run / rundir.ZPOINTS, (-1, 4)), "impossible shape"),
}
DAMAGE = CONFIG_DAMAGE | NPY_DAMAGE


def runs_with_one_broken(root, damage):
    """``root/good`` (complete) and ``root/broken`` (complete, then damaged)."""
    make_run(root / "good")
    # A data source, so `encode` / `train --resume` would get past "no data source" to the damage.
    broken = make_run(root / "broken", data="synthetic:20", seed=0)
    damage(broken)
    return root


def assert_one_line_without_paths(text: str, tmp_path) -> None:
    assert text and "\n" not in text, text
    assert str(tmp_path) not in text and str(tmp_path.resolve()) not in text, text


@pytest.mark.parametrize("case", DAMAGE)
def test_a_malformed_run_is_listed_with_a_one_line_reason_and_the_others_stay_usable(tmp_path, case):
    damage, reason_part = DAMAGE[case]
    root = runs_with_one_broken(tmp_path / "runs", damage)
    broken, good = rundir.list_runs(root)
    assert (good.name, good.usable) == ("good", True), good.reason
    assert (broken.name, broken.usable, broken.state) == ("broken", False, "broken")
    assert reason_part in broken.reason
    assert_one_line_without_paths(broken.reason, tmp_path)
    assert rundir.inspect_run(root / "broken").reason == broken.reason


@pytest.mark.parametrize("case", DAMAGE)
def test_the_page_still_answers_and_shows_why_a_malformed_run_cannot_be_used(tmp_path, case):
    from app.factory import create_app

    damage, reason_part = DAMAGE[case]
    root = runs_with_one_broken(tmp_path / "runs", damage)
    app = create_app(root, cache_dir=tmp_path / "cache", auth=None)
    answer = app.server.test_client().get("/_dash-layout")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    page = json.dumps(answer.get_json(), ensure_ascii=False)
    assert rundir.inspect_run(root / "good").label() in page  # the usable form: "good (AE, z_dim 4, 20 points)"
    reason = rundir.inspect_run(root / "broken").reason
    assert reason_part in reason and reason in page
    assert str(tmp_path) not in page
    # The good run is not only listed: the store serves it, and refuses the broken one with its reason.
    listed = {run["name"]: run["usable"] for run in app.zspace_store.runs()}
    assert listed == {"good": True, "broken": False}
    assert app.zspace_store.open("good").z().shape == (20, 4)
    with pytest.raises(ZspaceError, match="cannot be shown"):
        app.zspace_store.open("broken")


def run_command(argv, capsys) -> tuple[int, list[str]]:
    status = main(argv)
    err = capsys.readouterr().err
    return status, [line for line in err.splitlines() if line.strip()]


@pytest.mark.parametrize("case", DAMAGE)
def test_analyze_on_a_malformed_run_exits_2_with_one_line(tmp_path, case, capsys):
    damage, reason_part = DAMAGE[case]
    broken = runs_with_one_broken(tmp_path / "runs", damage) / "broken"
    status, lines = run_command(["analyze", str(broken), "--skip-tsne"], capsys)
    assert status == 2, lines
    assert len(lines) == 1 and lines[0].startswith("zspace analyze: error:") and reason_part in lines[0], lines
    assert not (broken / rundir.ANALYSIS).exists()  # nothing half-computed was cached


@pytest.mark.parametrize("command", ["encode", "train --resume"])
@pytest.mark.parametrize("case", CONFIG_DAMAGE)
def test_encode_and_resume_on_a_malformed_config_exit_2_with_one_line(tmp_path, case, command, capsys):
    damage, reason_part = CONFIG_DAMAGE[case]
    broken = runs_with_one_broken(tmp_path / "runs", damage) / "broken"
    argv = ["encode", str(broken)] if command == "encode" else ["train", "--out", str(broken), "--resume"]
    before = {p.name: p.read_bytes() for p in broken.iterdir() if p.is_file() and p.name != rundir.LOCK}
    status, lines = run_command(argv, capsys)
    assert status == 2, lines
    assert len(lines) == 1 and lines[0].startswith(f"zspace {argv[0]}: error:") and reason_part in lines[0], lines
    assert {p.name: p.read_bytes() for p in broken.iterdir() if p.is_file() and p.name != rundir.LOCK} == before
