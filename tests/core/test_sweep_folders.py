"""Sweep folders: the manifest, the β list, and how the runs folder names and resolves a sweep's runs."""

import datetime as dt
import json

import numpy as np
import pytest

import rundir
from rundir import sweep
from rundir.errors import RunNotReadyError, ZspaceError
from tests.core.runs import make_run


def make_sweep(folder, betas=(0.0, 0.1, 4.0), runs=True):
    """A sweep folder with a manifest and (optionally) a complete stand-in run per β."""
    folder.mkdir(parents=True, exist_ok=True)
    sweep.write_sweep(folder, sweep.new_manifest({"data": "synthetic:600", "z_dim": 4}, list(betas)))
    if runs:
        for beta in betas:
            make_run(folder / sweep.member_name(beta), model=sweep.model_of(beta))
    return folder


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0,0.1,1,4", [0.0, 0.1, 1.0, 4.0]), (" 4 , 1e-3 ", [4.0, 0.001]), ("0", [0.0]), ("2.5", [2.5])],
)
def test_beta_lists_parse_in_the_order_given(text, expected):
    assert sweep.parse_betas(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0,-1", "beta -1 is negative"),
        ("0,abc", "beta 'abc' is not a number"),
        ("0,1,1.0", "beta 1 is given twice"),
        ("0,,1", "has an empty entry"),
        ("nan", "not a finite number"),
        ("0,inf", "not a finite number"),
        ("2e6", "above 1,000,000"),
        (",".join(str(i) for i in range(33)), "at most 32 runs"),
    ],
)
def test_bad_beta_lists_are_refused_in_one_line(text, message):
    with pytest.raises(ZspaceError, match=message) as refused:
        sweep.parse_betas(text)
    assert "\n" not in str(refused.value)


def test_exactly_the_most_members_are_accepted():
    assert len(sweep.parse_betas(",".join(str(i) for i in range(sweep.MAX_MEMBERS)))) == sweep.MAX_MEMBERS


@pytest.mark.parametrize(
    ("beta", "name"), [(0.0, "beta-0"), (0.1, "beta-0.1"), (4.0, "beta-4"), (1e-5, "beta-0.00001")]
)
def test_member_names_write_beta_exactly_and_zero_is_the_ae(beta, name):
    assert sweep.member_name(beta) == name
    assert sweep.model_of(beta) == ("ae" if beta == 0 else "vae")


def test_the_manifest_round_trips_and_lists_members_by_beta(tmp_path):
    folder = make_sweep(tmp_path / "runs" / "betas", betas=(4.0, 0.0, 0.1), runs=False)
    manifest = sweep.read_sweep(folder)
    assert [m["run"] for m in manifest["members"]] == ["beta-4", "beta-0", "beta-0.1"]
    assert {m["state"] for m in manifest["members"]} == {"pending"}
    assert manifest["train"] == {"data": "synthetic:600", "z_dim": 4}
    assert manifest["schema_version"] == sweep.SWEEP_VERSION == 1
    for stamp in ("created", "updated"):
        assert abs(dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(manifest[stamp])) < dt.timedelta(seconds=30)
    (info,) = sweep.list_sweeps(tmp_path / "runs")
    assert info.usable and info.runs() == ["betas/beta-0", "betas/beta-0.1", "betas/beta-4"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.update(schema_version=9), "newer zspace"),
        (lambda m: m["members"][0].update(run="../x"), "must be beta-0"),
        (lambda m: m["members"][1].update(beta=0.0, run="beta-0"), "given twice"),
        (lambda m: m["members"][0].update(state="exploded"), "unknown model or state"),
        (lambda m: m.update(members=[]), "1 to 32 members"),
        (lambda m: m.pop("train"), "no train options"),
    ],
)
def test_a_damaged_manifest_is_refused_with_a_reason(tmp_path, edit, message):
    folder = make_sweep(tmp_path / "betas", runs=False)
    manifest = json.loads((folder / rundir.SWEEP).read_text())
    edit(manifest)
    (folder / rundir.SWEEP).write_text(json.dumps(manifest))
    with pytest.raises(RunNotReadyError, match=message):
        sweep.read_sweep(folder)
    info = sweep.inspect_sweep(folder)
    assert not info.usable and message.split()[0] in info.reason


def test_runs_of_a_sweep_folder_are_listed_and_resolved_as_sweep_slash_run(tmp_path):
    root = tmp_path / "runs"
    make_run(root / "alone")
    make_sweep(root / "betas")
    listed = rundir.list_runs(root)
    assert [r.name for r in listed] == ["alone", "betas/beta-0", "betas/beta-0.1", "betas/beta-4"]
    assert all(r.usable for r in listed)
    assert rundir.resolve_run(root, "betas/beta-0.1") == (root / "betas" / "beta-0.1").resolve()
    assert rundir.qualified_name(root / "betas" / "beta-4") == "betas/beta-4"
    assert rundir.qualified_name(root / "alone") == "alone"


def test_a_broken_manifest_does_not_hide_the_sweeps_runs(tmp_path):
    root = tmp_path / "runs"
    folder = make_sweep(root / "betas", betas=(0.0, 1.0))
    (folder / rundir.SWEEP).write_text("{broken")
    assert [r.name for r in rundir.list_runs(root)] == ["betas/beta-0", "betas/beta-1"]


@pytest.mark.parametrize(
    "name",
    [
        "alone/beta-0",  # a run is not a sweep folder
        "plain/inner",  # neither is an ordinary folder
        "betas/deeper/beta-0",  # one level only
        "betas/../alone",
        "betas/",
        "/betas/beta-0",
        "betas/.",
        "betas\\beta-0",
        "betas/linked",
        "betas/nested/inner",
    ],
)
def test_resolve_run_refuses_names_that_leave_the_rule(tmp_path, name):
    root = tmp_path / "runs"
    make_run(root / "alone")
    make_run(root / "plain" / "inner")
    folder = make_sweep(root / "betas", betas=(0.0,))
    make_run(tmp_path / "outside")
    (folder / "linked").symlink_to(tmp_path / "outside", target_is_directory=True)
    make_sweep(folder / "nested", betas=(1.0,))
    make_run(folder / "nested" / "inner")
    with pytest.raises(ZspaceError, match="unknown run"):
        rundir.resolve_run(root, name)


def test_listing_refuses_links_out_of_a_sweep_folder_and_ignores_deeper_sweeps(tmp_path):
    root = tmp_path / "runs"
    folder = make_sweep(root / "betas", betas=(0.0,))
    make_run(tmp_path / "outside")
    (folder / "linked").symlink_to(tmp_path / "outside", target_is_directory=True)
    make_sweep(folder / "nested", betas=(1.0,))
    listed = {r.name: r for r in rundir.list_runs(root)}
    assert sorted(listed) == ["betas/beta-0", "betas/linked"]
    assert not listed["betas/linked"].usable and "outside the runs folder" in listed["betas/linked"].reason


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([True], "beta 'True' is not a number"),
        ([0.0, "1"], "beta '1' is not a number"),
        (["x" * 100], "beta '" + "x" * 40 + "' is not a number"),
        ([float("nan")], "beta nan is not a finite number"),
        ([1.0, float("-inf")], "beta -inf is not a finite number"),
        ([sweep.MAX_BETA * 1.000001], "beta 1e+06 is above 1,000,000, the largest a sweep accepts"),
        ([], "no beta given; e.g. --beta 0,0.1,1,4"),
    ],
)
def test_beta_values_from_a_program_are_checked_with_the_value_quoted_at_most_forty_characters(values, message):
    with pytest.raises(ZspaceError) as refused:
        sweep.check_betas(values)
    assert str(refused.value) == message


def test_numpy_numbers_and_exactly_the_largest_beta_are_accepted():
    assert sweep.check_betas([np.int64(0), np.float32(0.5), sweep.MAX_BETA]) == [0.0, 0.5, 1e6]
    assert sweep.parse_betas("1000000") == [1e6]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1," * 50 + ",", "--beta " + repr(("1," * 50)[:80]) + " has an empty entry; write e.g. --beta 0,0.1,1,4"),
        ("y" * 60, "beta " + repr("y" * 40) + " is not a number; write e.g. --beta 0,0.1,1,4"),
        ("1" + "0" * 400, "beta " + repr("1" + "0" * 39) + " is not a finite number"),
    ],
)
def test_a_long_beta_list_is_quoted_only_in_part(text, message):
    with pytest.raises(ZspaceError) as refused:
        sweep.parse_betas(text)
    assert str(refused.value) == message


def manifest_with(folder, **changes):
    """Write a sweep folder whose manifest has ``changes`` applied; return the folder."""
    make_sweep(folder, runs=False)
    manifest = json.loads((folder / rundir.SWEEP).read_text())
    manifest.update(changes)
    (folder / rundir.SWEEP).write_text(json.dumps(manifest))
    return folder


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"schema_version": 0}, "sweep manifest has no valid schema_version"),
        ({"schema_version": "1"}, "sweep manifest has no valid schema_version"),
        ({"schema_version": True}, "sweep manifest has no valid schema_version"),
        ({"schema_version": None}, "sweep manifest has no valid schema_version"),
        ({"train": "synthetic"}, "sweep manifest has no train options"),
        ({"members": ["beta-0"]}, "sweep manifest: every member must be an object"),
        ({"members": [{"run": "beta-0", "beta": "0", "model": "ae", "state": "pending"}]}, "no numeric beta"),
        ({"members": [{"run": "beta-1", "beta": True, "model": "vae", "state": "pending"}]}, "no numeric beta"),
    ],
)
def test_a_manifest_with_a_bad_field_is_refused_naming_the_field(tmp_path, changes, message):
    folder = manifest_with(tmp_path / "betas", **changes)
    expected = message if message.startswith("sweep") else f"sweep manifest: a member has {message}"
    with pytest.raises(RunNotReadyError) as refused:
        sweep.read_sweep(folder)
    assert str(refused.value) == expected
    info = sweep.inspect_sweep(folder)
    assert (info.name, info.path, info.usable, info.reason) == ("betas", folder, False, expected)


def test_a_missing_or_unreadable_manifest_reads_as_the_sweep_manifest(tmp_path):
    folder = tmp_path / "betas"
    folder.mkdir()
    with pytest.raises(RunNotReadyError, match=r"^sweep manifest is missing \(sweep.json\)$"):
        sweep.read_sweep(folder)
    (folder / rundir.SWEEP).write_text("[1, 2")
    with pytest.raises(RunNotReadyError, match=r"^sweep manifest is not valid JSON \(sweep.json: "):
        sweep.read_sweep(folder)


def test_a_sweep_holds_one_to_exactly_thirty_two_members(tmp_path):
    def members(count):
        return [
            {"run": f"beta-{k}", "beta": k, "model": "ae" if k == 0 else "vae", "state": "pending"}
            for k in range(count)
        ]

    for count in (1, sweep.MAX_MEMBERS):
        info = sweep.inspect_sweep(manifest_with(tmp_path / f"m{count}", members=members(count)))
        assert info.usable and len(info.runs()) == count and info.path == tmp_path / f"m{count}"
    with pytest.raises(RunNotReadyError, match="^sweep manifest must list 1 to 32 members$"):
        sweep.read_sweep(manifest_with(tmp_path / "m33", members=members(33)))


def test_listing_sweeps_skips_hidden_folders_runs_and_links_out_but_keeps_links_within(tmp_path):
    root = tmp_path / "runs"
    make_sweep(root / ".hidden", runs=False)  # sorts first: the folders after it are still looked at
    make_sweep(root / "betas", runs=False)
    make_run(root / "alone")
    (root / "notes.txt").write_text("")
    make_sweep(tmp_path / "outside", runs=False)
    (root / "linked-out").symlink_to(tmp_path / "outside", target_is_directory=True)
    (root / "same").symlink_to(root / "betas", target_is_directory=True)
    assert [(info.name, info.usable) for info in sweep.list_sweeps(root)] == [("betas", True), ("same", True)]
    assert sweep.list_sweeps(tmp_path / "nowhere") == []
