"""The training worker in-process: a complete run, throughput, refusals with one line."""

import csv

import numpy as np
import pytest

import rundir
from zspace import cli

pytestmark = pytest.mark.slow

TINY = ["--model", "vae", "--image-size", "32", "--z-dim", "8", "--batch-size", "32"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One short VAE run on 200 fake images, shared by the tests that only read it."""
    import sys

    import fake_image_source

    saved = sys.modules.get("models.data")
    sys.modules["models.data"] = fake_image_source.fake_module()
    try:
        out = tmp_path_factory.mktemp("runs") / "vae"
        code = cli.main(["train", "--data", "fake:200", *TINY, "--epochs", "2", "--out", str(out)])
    finally:
        if saved is None:
            sys.modules.pop("models.data", None)
        else:
            sys.modules["models.data"] = saved
    return out, code


def test_short_train_leaves_a_complete_usable_run(trained):
    out, code = trained
    assert code == 0
    info = rundir.inspect_run(out)
    assert info.usable, info.reason
    assert (info.n_points, info.z_dim) == (200, 8)
    assert rundir.load_metadata(out)["smile"].notna().all()
    assert np.load(out / rundir.ZLOGVAR).shape == (200, 8)
    with (out / rundir.HISTORY).open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert {"loss", "reconstruction_loss", "kl_loss", "seconds", "images_per_sec"} <= set(rows[0])
    assert sorted(p.name for p in (out / rundir.CHECKPOINTS).iterdir()) == [
        "epoch_001.keras", "epoch_002.keras", "latest.json"
    ]  # fmt: skip
    assert any((out / rundir.TENSORBOARD).rglob("events.out.tfevents.*"))
    for name in (rundir.MODEL, rundir.ENCODER, rundir.DECODER):
        assert (out / name).is_file()
    config = rundir.read_config(out)
    assert config["versions"]["tensorflow"] and config["epochs"] == 2
    assert config["data"] == config["train_data"] == "fake:200"


def test_throughput_is_recorded_in_status_and_history(trained):
    out, _ = trained
    status = rundir.read_status(out)
    assert status["state"] == "complete"
    assert status["train_images_per_sec"] > 0 and status["images_per_sec"] > 0


def test_throughput_is_printed_at_the_end(fake_data, tmp_path, capsys):
    out = tmp_path / "ae"
    assert cli.main(["train", "--data", "fake:64", *TINY, "--model", "ae", "--epochs", "1", "--out", str(out)]) == 0
    assert "images/s" in capsys.readouterr().out
    assert rundir.inspect_run(out).usable
    assert not (out / rundir.ZLOGVAR).exists()


def test_a_second_writer_on_the_same_run_is_refused(fake_data, trained, capsys):
    out, _ = trained
    with rundir.run_lock(out):  # flock: a second open file description conflicts, even in this process
        code = cli.main(["train", "--out", str(out), "--resume"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "being written" in err


def test_resume_with_a_different_z_dim_is_refused(trained, capsys):
    out, _ = trained
    assert cli.main(["train", "--out", str(out), "--resume", "--z-dim", "16"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "z_dim: 8 -> 16" in err


def test_fresh_train_into_a_finished_run_is_refused_without_force(fake_data, trained, capsys):
    out, _ = trained
    assert cli.main(["train", "--data", "fake:200", *TINY, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "already holds a run (state complete)" in err and "--force" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--data", "fake:10", "--image-size", "50"], "not a multiple of 16"),
        (["--image-size", "32"], "--data is required"),
        (["--data", "nosuch:1", "--image-size", "32"], "unknown data source"),
        (["--data", "fake:10", "--epochs", "0"], "--epochs must be a positive integer"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(fake_data, tmp_path, capsys, argv, message):
    assert cli.main(["train", *argv, "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not (tmp_path / "bad" / rundir.CONFIG).exists()


def test_resume_without_a_run_is_refused(tmp_path, capsys):
    assert cli.main(["train", "--out", str(tmp_path / "none"), "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err


def test_encode_rewrites_zpoints_with_the_runs_encoder(fake_data, trained, capsys):
    out, _ = trained
    before = np.load(out / rundir.ZPOINTS)
    assert cli.main(["encode", str(out), "--batch-size", "7"]) == 0  # odd batch: the last one is partial
    after = rundir.load_zpoints(out, mmap=False)
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-5)
    assert rundir.read_status(out)["state"] == "complete"
    assert "encoded 200 images" in capsys.readouterr().out


def test_encode_refuses_a_source_of_another_image_size(trained, capsys):
    out, _ = trained
    import fake_image_source

    from models.encode import check_source_fits
    from rundir.errors import ZspaceError

    with pytest.raises(ZspaceError, match="gives 64x64 images but the run's model expects 32x32"):
        check_source_fits(rundir.read_config(out), fake_image_source.FakeSource(4, 64))


def test_train_on_the_built_in_synthetic_faces_then_split_says_what_training_did(tmp_path):
    from models.data import open_source

    out = tmp_path / "synthetic"
    argv = ["train", "--data", "synthetic:96", "--model", "ae", "--image-size", "32", "--z-dim", "8"]
    assert cli.main([*argv, "--batch-size", "16", "--epochs", "1", "--out", str(out)]) == 0
    info = rundir.inspect_run(out)
    assert info.usable and info.n_points == 96
    metadata = rundir.load_metadata(out)
    assert list(metadata["row"]) == list(range(96)) and len(metadata.columns) > 4  # ground-truth factors kept
    # Training learnt from the train split only: the source's valid / test faces were held out.
    partition = open_source("synthetic:160", 32).metadata["split"].to_numpy()
    trained = int((partition[:96] == "train").sum())
    assert 0 < trained < 96 and rundir.read_config(out)["n_train"] == trained
    assert rundir.read_status(out)["steps"] == -(-trained // 16)
    assert metadata["split"].tolist() == partition[:96].tolist()
    # Encoding more faces than were trained on: the 64 never-trained faces say unseen, whatever their hash says.
    assert cli.main(["encode", str(out), "--data", "synthetic:160"]) == 0
    split = rundir.load_metadata(out)["split"].to_numpy()
    assert split[:96].tolist() == partition[:96].tolist() and set(split[96:]) == {"unseen"}
    assert split[95] == partition[95] and split[96] == "unseen"  # the last trained row and the first beyond
    assert (partition[96:] == "train").sum() > 40, "the hash alone would have called most of them train"


def test_force_clears_the_old_runs_files_but_keeps_foreign_ones(tmp_path):
    from models.train import prepare_run_dir

    out = tmp_path / "old"
    (out / rundir.CHECKPOINTS).mkdir(parents=True)
    (out / rundir.ANALYSIS).mkdir()
    for name in (rundir.CONFIG, rundir.ZPOINTS, "notes.txt"):
        (out / name).write_text("x")
    with pytest.raises(Exception, match="--force"):
        prepare_run_dir(out, force=False, resume=False)
    prepare_run_dir(out, force=True, resume=False)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
