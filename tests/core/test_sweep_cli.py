"""``zspace sweep`` refuses bad input with one line before anything is trained or written."""

import pytest

import rundir
from rundir import sweep
from tests.core.runs import make_run
from zspace import cli

SMALL = ["--data", "synthetic:600", "--image-size", "32", "--z-dim", "8", "--epochs", "1"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--beta", "0,-0.5,1"], "beta -0.5 is negative"),
        (["--beta", "0,abc"], "beta 'abc' is not a number"),
        (["--beta", "0,1,1"], "beta 1 is given twice"),
        (["--beta", "0,nan"], "not a finite number"),
        (["--beta", "0,1", "--snapshot-every", "1", "--snapshot-n", "601"], "--snapshot-n 601 is larger than the data"),
        (["--beta", "0,1", "--image-size", "40"], "not a multiple of 16"),
        (["--beta", "0,1", "--strategy", "multiworker"], "spreads runs over `zspace worker`s"),
        ([], "--beta is required for a new sweep"),
    ],
)
def test_bad_input_is_one_line_and_nothing_is_written(tmp_path, capsys, argv, message):
    out = tmp_path / "runs" / "betas"
    assert cli.main(["sweep", *SMALL, *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("zspace sweep: error:") and message in err, err
    assert not out.exists()


def test_a_sweep_needs_its_data_and_a_folder_of_its_own(tmp_path, capsys):
    run = make_run(tmp_path / "runs" / "a-run")
    assert cli.main(["sweep", "--beta", "0,1", "--out", str(tmp_path / "new")]) == 2
    assert "--data is required" in capsys.readouterr().err
    assert cli.main(["sweep", *SMALL, "--beta", "0,1", "--out", str(run)]) == 2
    assert "holds a run, not a sweep" in capsys.readouterr().err
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    assert cli.main(["sweep", *SMALL, "--beta", "0,1", "--out", str(tmp_path / "busy")]) == 2
    assert "is not a sweep folder" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["notes.txt"]


def test_an_existing_sweep_refuses_options_that_would_make_its_runs_incomparable(tmp_path, capsys):
    folder = tmp_path / "betas"
    folder.mkdir()
    options = {"data": "synthetic:600", "image_size": 32, "z_dim": 8, "epochs": 1, "strategy": "auto"}
    sweep.write_sweep(folder, sweep.new_manifest(options, [0.0, 1.0]))
    before = (folder / rundir.SWEEP).read_bytes()
    assert cli.main(["sweep", "--z-dim", "16", "--beta", "4", "--out", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "z_dim: 8 -> 16" in err and "another --out" in err
    assert cli.main(["sweep", "--beta", "0,1,0", "--out", str(folder)]) == 2
    assert "beta 0 is given twice" in capsys.readouterr().err
    assert (folder / rundir.SWEEP).read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == [rundir.SWEEP]


def test_train_refuses_a_sweep_folder_as_its_run(tmp_path, capsys):
    folder = tmp_path / "betas"
    folder.mkdir()
    sweep.write_sweep(folder, sweep.new_manifest({"data": "synthetic:600"}, [0.0]))
    assert cli.main(["train", *SMALL, "--out", str(folder)]) == 2
    assert "is a sweep folder" in capsys.readouterr().err
    assert not (folder / rundir.CONFIG).exists()


@pytest.fixture
def started_sweep(tmp_path):
    """A sweep folder of beta 0 and 1 (one epoch each) whose runs were never trained."""
    folder = tmp_path / "runs" / "betas"
    folder.mkdir(parents=True)
    options = {"data": "synthetic:600", "image_size": 32, "z_dim": 8, "epochs": 1, "strategy": "auto"}
    sweep.write_sweep(folder, sweep.new_manifest(options, [0.0, 1.0]))
    return folder


def _fake_members(monkeypatch, outcomes: dict[float, str]):
    """Replace the real training and analysis of each run; record (beta, options) per call."""
    import zspace.sweep as command

    calls = []

    def run_member(run, beta, options, analyses="all", on_state=None):
        calls.append((beta, dict(options), analyses))
        on_state("training")
        state = outcomes.get(beta, "complete")
        return {"state": state, "message": "diverged" if state == "failed" else ""}

    monkeypatch.setattr(command, "run_member", run_member)
    return calls


def test_a_second_run_adds_new_betas_keeps_the_options_and_may_train_longer(started_sweep, monkeypatch, capsys):
    calls = _fake_members(monkeypatch, {})
    assert cli.main(["sweep", "--beta", "4", "--epochs", "2", "--analyses", "none", "--out", str(started_sweep)]) == 0
    assert [(beta, options["epochs"], options["z_dim"], analyses) for beta, options, analyses in calls] == [
        (0.0, 2, 8, "none"), (1.0, 2, 8, "none"), (4.0, 2, 8, "none"),
    ]  # fmt: skip
    manifest = sweep.read_sweep(started_sweep)
    assert [(m["run"], m["model"], m["state"]) for m in manifest["members"]] == [
        ("beta-0", "ae", "complete"), ("beta-1", "vae", "complete"), ("beta-4", "vae", "complete"),
    ]  # fmt: skip
    assert manifest["train"]["epochs"] == 2 and manifest["train"]["data"] == "synthetic:600"
    assert "sweep complete" in capsys.readouterr().out


def test_a_failed_run_does_not_stop_the_others_and_an_interrupted_one_stops_the_sweep(started_sweep, monkeypatch):
    _fake_members(monkeypatch, {0.0: "failed"})
    assert cli.main(["sweep", "--out", str(started_sweep)]) == 1
    members = sweep.read_sweep(started_sweep)["members"]
    assert [(m["state"], m["message"]) for m in members] == [("failed", "diverged"), ("complete", "")]
    calls = _fake_members(monkeypatch, {0.0: "interrupted"})
    assert cli.main(["sweep", "--out", str(started_sweep)]) == 130
    assert [beta for beta, _, _ in calls] == [0.0]
    assert [m["state"] for m in sweep.read_sweep(started_sweep)["members"]] == ["interrupted", "complete"]


def test_a_run_is_resumed_when_it_has_a_config_skipped_when_finished_and_waited_for_when_locked(
    started_sweep, monkeypatch
):
    import models.train
    from rundir.errors import RunLockedError
    from zspace import sweep_jobs

    seen, locked = [], [True]

    def train(args):
        if args.beta == 4.0 and locked[0]:
            locked[0] = False  # another worker holds the run once (a redelivered task), then lets go
            raise RunLockedError("run beta-4 is being written by pid 1")
        seen.append((args.beta, args.model, args.resume, args.epochs, args.out))
        return 0

    monkeypatch.setattr(models.train, "run", train)
    monkeypatch.setattr(sweep_jobs, "LOCK_POLL_S", 0.0)
    options = {"data": "synthetic:600", "epochs": 2}
    done = make_run(started_sweep / "beta-0", state="complete")
    rundir.update_status(done, epochs_finished=2)
    half = make_run(started_sweep / "beta-1", state="interrupted")
    for run, beta in ((done, 0.0), (half, 1.0), (started_sweep / "beta-4", 4.0)):
        assert sweep_jobs.train_member(run, beta, options) == 0
    assert seen == [(1.0, "vae", True, 2, str(half)), (4.0, "vae", False, 2, str(started_sweep / "beta-4"))]
    assert sweep_jobs.train_member(done, 0.0, {**options, "epochs": 3}) == 0  # more epochs: trained on
    assert seen[-1] == (0.0, "ae", True, 3, str(done))
    assert sweep_jobs.run_member(half, 1.0, options, analyses="none") == {"state": "complete", "message": ""}
