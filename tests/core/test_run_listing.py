"""Listing runs: each run's label and reason word for word, the decoder check without TensorFlow, the change key."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

import rundir
from rundir.listing import RunInfo, check_decoder_file, scrub_paths
from tests.core.runs import edit_config, make_run


def test_a_usable_run_is_labelled_with_its_kind_width_points_and_a_missing_decoder(tmp_path):
    run = make_run(tmp_path / "r", n=1234, z_dim=4, model="vae")
    info = rundir.inspect_run(run)
    assert (info.usable, info.state, info.reason, info.n_points, info.z_dim) == (True, "complete", "", 1234, 4)
    assert info.label() == "r (VAE, z_dim 4, 1,234 points)"
    edit_config(run, decoder_file=None)
    (run / rundir.DECODER).unlink()
    info = rundir.inspect_run(run)
    assert info.usable and info.decoder is False
    assert info.label() == "r (VAE, z_dim 4, 1,234 points, z-points only: no decoder)"
    assert RunInfo("x", run, "complete", True).label() == "x (?, z_dim 0, 0 points)"


def write_layers(path, layers):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps({"config": {"layers": layers}}))


def up(kind, factor, **settings):
    key = "strides" if kind == "Conv2DTranspose" else "size"
    return {"class_name": kind, "config": {key: factor, **settings}}


@pytest.mark.parametrize(
    ("layers", "side"),
    [
        ([up("Conv2DTranspose", [2, 2], padding="same")] * 4, 32),
        ([up("Conv2DTranspose", (4, 4), padding="same"), up("UpSampling2D", 4)], 32),
        ([up("UpSampling2D", [2, 2])] * 3 + [up("Conv2DTranspose", 2, padding="valid")], 16),
        ([{"class_name": "UpSampling2D", "config": {}}] * 2, 8),  # UpSampling2D doubles by default
        ([{"class_name": "Conv2DTranspose", "config": {"padding": "same"}}], 2),  # strides 1 by default
    ],
)
def test_the_decoders_image_side_is_followed_from_its_reshape_through_the_upsampling_after_it(tmp_path, layers, side):
    config = {"z_dim": 4, "image_size": side}
    path = tmp_path / "decoder.keras"
    head = [{"class_name": "InputLayer", "config": {"batch_shape": [None, 4]}}, "not a layer"]
    reshape = {"class_name": "Reshape", "config": {"target_shape": [2, 2, 8]}}
    before = [up("UpSampling2D", 8)]  # before the Reshape: no side yet, nothing to multiply
    write_layers(path, head + before + [reshape] + layers)
    check_decoder_file(path, config)
    with pytest.raises(rundir.errors.RunNotReadyError) as refused:
        check_decoder_file(path, {"z_dim": 4, "image_size": side * 2})
    assert str(refused.value) == f"decoder.keras makes {side}x{side} images but the config says {side * 2}"
    check_decoder_file(path, {"z_dim": 4, "image_size": side * 2}, follow_image_side=False)
    with pytest.raises(rundir.errors.RunNotReadyError) as refused:
        check_decoder_file(path, {"z_dim": 5, "image_size": side})
    assert str(refused.value) == "decoder.keras takes z_dim 4 but the config says 5"


@pytest.mark.parametrize(
    ("archive", "message"),
    [
        (None, "decoder.keras is missing; retrain or copy the weights back"),
        (b"weights", "decoder.keras is damaged (not a Keras archive); retrain the run"),
        ({"config": {}}, "decoder.keras is damaged (not a Keras archive); retrain the run"),
        (
            {"config": {"layers": [{"class_name": "Reshape", "config": {"target_shape": ["x"]}}]}},
            "decoder.keras has a malformed layer list; retrain the run",
        ),
        (
            {"config": {"layers": [{"class_name": "InputLayer", "config": {"batch_shape": []}}]}},
            "decoder.keras has a malformed layer list; retrain the run",
        ),
    ],
)
def test_a_decoder_archive_that_cannot_be_followed_is_refused_in_one_line(tmp_path, archive, message):
    path = tmp_path / "decoder.keras"
    if isinstance(archive, bytes):
        path.write_bytes(archive)
    elif archive is not None:
        with zipfile.ZipFile(path, "w") as written:
            written.writestr("config.json", json.dumps(archive))
    with pytest.raises(rundir.errors.RunNotReadyError) as refused:
        check_decoder_file(path, {"z_dim": 4, "image_size": 32})
    assert str(refused.value) == message


def test_the_image_side_is_the_reshapes_height_doubled_by_the_strides_along_it(tmp_path):
    path = tmp_path / "decoder.keras"
    reshape = {"class_name": "Reshape", "config": {"target_shape": [2, 4, 8]}}
    write_layers(path, [reshape, up("Conv2DTranspose", [4, 2], padding="same"), up("UpSampling2D", (2, 8))])
    check_decoder_file(path, {"z_dim": 4, "image_size": 16})


def test_layers_that_are_not_a_list_or_have_no_settings_are_passed_over(tmp_path):
    path = tmp_path / "decoder.keras"
    for layers in ({"not": "a list"}, 5, None):
        write_layers(path, layers)
        check_decoder_file(path, {"z_dim": 4, "image_size": 32})
    # An input layer that names its shape another way (Keras 2's batch_input_shape) is not read; a layer that
    # is not an input layer is never taken for one; the input width is the last axis of the input's shape.
    write_layers(
        path,
        [
            {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 9]}},
            {"class_name": "Dense", "config": {"batch_shape": [None, 9]}},
            {"class_name": "InputLayer", "config": {"batch_shape": [None, 1, 4]}},
        ],
    )
    check_decoder_file(path, {"z_dim": 4, "image_size": 32})
    write_layers(path, [{"class_name": "Reshape", "config": "text"}, {"class_name": "Reshape"}])
    check_decoder_file(path, {"z_dim": 4, "image_size": 32})


def test_an_imported_decoder_is_checked_for_presence_and_its_input_width_only(tmp_path):
    run = make_run(tmp_path / "r", z_dim=4)
    rundir.check_run_decoder(run, {**rundir.read_config(run), "imported": True, "image_size": 64})
    edit_config(run, decoder_file="decoder.onnx")
    with pytest.raises(rundir.errors.RunNotReadyError) as refused:
        rundir.check_run_decoder(run, rundir.read_config(run))
    assert str(refused.value) == "decoder.onnx is missing; import the model again"
    (run / "decoder.onnx").write_bytes(b"onnx")
    rundir.check_run_decoder(run, rundir.read_config(run))
    edit_config(run, decoder_file="decoder.savedmodel")
    (run / "decoder.savedmodel").mkdir()
    with pytest.raises(rundir.errors.RunNotReadyError, match="^decoder.savedmodel is missing; import the model again$"):
        rundir.check_run_decoder(run, rundir.read_config(run))
    (run / "decoder.savedmodel" / "saved_model.pb").write_bytes(b"pb")
    rundir.check_run_decoder(run, rundir.read_config(run))
    rundir.check_run_decoder(run, {"decoder_file": None})


@pytest.mark.parametrize(
    ("status", "imported", "state", "reason"),
    [
        ({"state": "training"}, False, "training", "not finished yet (state training)"),
        ({"state": "encoding", "message": "m" * 300}, False, "encoding", f"not finished yet ({'m' * 200})"),
        ({"state": "created"}, False, "created", "not finished yet (state created)"),
        (
            {"state": "interrupted"},
            False,
            "interrupted",
            "training was interrupted; continue it with `zspace train --out r --resume`",
        ),
        ({"state": "interrupted"}, True, "interrupted", "encoding was interrupted; continue it with `zspace encode r`"),
        ({"state": "failed"}, False, "failed", "training failed"),
        ({"state": "failed", "message": "f" * 400}, False, "failed", "f" * 300),
    ],
)
def test_a_run_that_is_not_complete_says_why_and_how_to_continue(tmp_path, status, imported, state, reason):
    run = make_run(tmp_path / "r")
    (run / rundir.STATUS).write_text(json.dumps(status))
    if imported:
        edit_config(run, imported=True)
    info = rundir.inspect_run(run)
    assert (info.usable, info.state, info.reason) == (False, state, reason)
    assert info.label() == f"r — {state}: {reason}"


def test_a_run_with_an_odd_state_is_used_with_the_state_shown_in_at_most_forty_characters(tmp_path):
    run = make_run(tmp_path / "r")
    (run / rundir.STATUS).write_text(json.dumps({"state": "s" * 60}))
    info = rundir.inspect_run(run)
    assert (info.usable, info.state) == (True, "s" * 40)
    (run / rundir.STATUS).write_text("{}")
    info = rundir.inspect_run(run)
    assert (info.usable, info.state) == (True, "unknown")
    (run / rundir.ZPOINTS).unlink()  # a run of unknown state that cannot be used is broken
    assert rundir.inspect_run(run).state == "broken"


def test_a_complete_run_that_breaks_is_listed_broken_with_its_reason(tmp_path):
    run = make_run(tmp_path / "r")
    (run / rundir.ZPOINTS).unlink()
    info = rundir.inspect_run(run)
    assert (info.usable, info.state, info.reason) == (False, "broken", "zpoints.npy is missing")
    (run / rundir.STATUS).unlink()
    assert rundir.inspect_run(run).state == "created"
    other = make_run(tmp_path / "other")
    (other / rundir.METADATA).unlink()
    (other / rundir.METADATA).mkdir()
    info = rundir.inspect_run(other)
    assert (info.state, info.reason) == (
        "broken",
        "metadata has 0 rows but there are 20 z-points; re-run `zspace encode`",
    )


def test_a_run_with_a_damaged_status_is_broken_and_keeps_its_folder(tmp_path):
    run = make_run(tmp_path / "r")
    (run / rundir.STATUS).write_text("{broken")
    info = rundir.inspect_run(run)
    assert (info.name, info.path, info.state, info.usable) == ("r", run, "broken", False)
    assert info.reason.startswith("run status is not valid JSON (status.json: ")


def test_a_run_whose_files_cannot_be_read_at_all_is_broken_with_the_error_named(tmp_path, monkeypatch):
    run = make_run(tmp_path / "r")

    def unreadable(*args, **kwargs):
        raise PermissionError("denied")

    monkeypatch.setattr(rundir.listing, "load_metadata", unreadable)
    info = rundir.inspect_run(run)
    assert (info.usable, info.state, info.reason) == (False, "broken", "cannot be read (PermissionError)")


def test_reasons_name_the_run_instead_of_any_of_its_server_paths(tmp_path):
    run = tmp_path / "runs" / "r"
    os.makedirs(run)
    text = f"at {run.resolve()}/x, {run.absolute()}/y and {run}/z"
    assert scrub_paths(text, run) == "at r/x, r/y and r/z"
    linked = tmp_path / "link"
    linked.symlink_to(run)
    assert scrub_paths(f"{linked.resolve()} and {linked}", linked) == "link and link"


def test_a_run_named_by_a_relative_path_through_a_link_has_all_three_of_its_paths_replaced(tmp_path, monkeypatch):
    os.makedirs(tmp_path / "real" / "runs" / "r")
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    run = Path("link") / "runs" / "r"  # resolved, absolute and as given: three different strings
    text = f"{run.resolve()}/a, {run.absolute()}/b, {run}/c"
    assert len({str(run.resolve()), str(run.absolute()), str(run)}) == 3
    # The longest first: the relative path is part of the absolute one, and replacing it first would leave
    # the server's folder in front of the name.
    assert scrub_paths(text, run) == "r/a, r/b, r/c"


def test_the_files_key_changes_with_every_file_a_reader_opens_and_only_with_those(tmp_path):
    run = make_run(tmp_path / "r")
    key = rundir.files_key(run)
    assert key.count("|") == len(rundir.READ_FILES) - 1 and key.split("|")[-1] == "-"
    (run / "notes.txt").write_text("not read")
    assert rundir.files_key(run) == key
    for name in (rundir.METADATA, rundir.DECODER, rundir.CONFIG):
        stat = (run / name).stat()
        os.utime(run / name, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
        assert rundir.files_key(run) != key
        key = rundir.files_key(run)
    (run / rundir.METADATA).unlink()
    assert rundir.files_key(run).split("|")[3] == "-"


def test_listing_uses_the_given_inspection_and_can_skip_the_nan_scan(tmp_path):
    import numpy as np

    root = tmp_path / "runs"
    run = make_run(root / "nan")
    z = np.load(run / rundir.ZPOINTS)
    z[0, 0] = np.nan
    np.save(run / rundir.ZPOINTS, z)
    (root / "status-only").mkdir()
    (root / "status-only" / rundir.STATUS).write_text('{"state": "training"}')
    (root / ".hidden").mkdir()
    (root / ".hidden" / rundir.CONFIG).write_text("{}")
    (root / "file.txt").write_text("")
    assert [(r.name, r.usable) for r in rundir.list_runs(root)] == [("nan", False), ("status-only", False)]
    assert [(r.name, r.usable) for r in rundir.list_runs(root, check_finite=False)][0] == ("nan", True)
    seen = []
    listed = rundir.list_runs(root, inspect=lambda child: seen.append(child.name) or RunInfo("?", child, "x", True))
    assert seen == ["nan", "status-only"] and [r.name for r in listed] == ["nan", "status-only"]


def test_a_bug_inspecting_one_run_lists_it_as_broken_and_keeps_the_others(tmp_path):
    root = tmp_path / "runs"
    make_run(root / "a")
    make_run(root / "b")

    def inspect(child):
        if child.name == "a":
            raise KeyError("bug")
        return rundir.inspect_run(child)

    a, b = rundir.list_runs(root, inspect=inspect)
    assert (a.name, a.path, a.state, a.usable, a.reason) == ("a", root / "a", "broken", False, "cannot be inspected")
    assert (b.name, b.usable) == ("b", True)
    assert rundir.list_runs(tmp_path / "nowhere") == []


def test_links_within_the_runs_folder_are_listed_and_links_out_refused_or_passed_over(tmp_path):
    root = tmp_path / "runs"
    make_run(root / "real")
    (root / "alias").symlink_to(root / "real", target_is_directory=True)
    (tmp_path / "outside.txt").write_text("")
    make_run(tmp_path / "elsewhere")
    (root / "0-to-file").symlink_to(tmp_path / "outside.txt")  # sorts first: the runs after it still listed
    (root / "1-out").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    listed = rundir.list_runs(root)
    assert [(r.name, r.usable) for r in listed] == [("1-out", False), ("alias", True), ("real", True)]
    out = listed[0]
    assert (out.path, out.state, out.usable, out.reason) == (
        root / "1-out",
        "refused",
        False,
        "links outside the runs folder; copy the run in instead of linking it",
    )


@pytest.mark.parametrize(
    "name",
    [
        None,
        7,
        "a/b/" + "c" * 100,  # more than two parts
        "x" * 100,  # no such run
        "r/" + "y" * 100,  # r is a run, not a sweep folder
        "x" * 300,  # longer than a file name may be
        "r/",
        "back\\slash",  # a folder of that name exists, but a backslash is never part of a run's name
    ],
)
def test_resolve_run_refuses_a_name_that_is_not_a_plain_one_quoting_at_most_eighty_characters(tmp_path, name):
    make_run(tmp_path / "runs" / "r")
    make_run(tmp_path / "runs" / "back\\slash")
    with pytest.raises(rundir.errors.UnknownRun) as refused:
        rundir.resolve_run(tmp_path / "runs", name)
    assert str(refused.value) == f"unknown run {str(name)[:80]!r}"
