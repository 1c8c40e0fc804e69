"""Reading a run's files: every refusal word for word, each limit exactly at its bound and one past it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rundir
from rundir import private_copies
from rundir.atomic import atomic_save_npy
from rundir.errors import RunNotReadyError
from tests.core.runs import edit_config, make_run


def refusal(call, *args, **kwargs) -> str:
    with pytest.raises(RunNotReadyError) as refused:
        call(*args, **kwargs)
    return str(refused.value)


@pytest.fixture
def run(tmp_path):
    return make_run(tmp_path / "r", n=6, z_dim=3)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "run config is missing (config.json)"),
        (b'{"a": "\xff"}', "run config cannot be read (config.json: UnicodeDecodeError)"),
        (b"{broken", "run config is not valid JSON (config.json: Expecting property name enclosed in double quotes)"),
        (b"[" * 100_000 + b"]" * 100_000, "run config is not valid JSON (config.json: nested too deeply)"),
        (b"[1, 2]", "run config must hold a JSON object (config.json)"),
    ],
)
def test_an_unusable_json_file_is_refused_naming_what_it_is_and_why(tmp_path, content, message):
    if content is not None:
        (tmp_path / "config.json").write_bytes(content)
    assert refusal(rundir.read_json, tmp_path / "config.json", "run config") == message


def test_a_folder_where_a_json_file_should_be_cannot_be_read(tmp_path):
    (tmp_path / "config.json").mkdir()
    assert refusal(rundir.read_json, tmp_path / "config.json", "run config") == (
        "run config cannot be read (config.json: IsADirectoryError)"
    )


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (0, "run config has no valid schema_version"),
        (True, "run config has no valid schema_version"),
        ("1", "run config has no valid schema_version"),
        (None, "run config has no valid schema_version"),
        (2, "run was written by a newer zspace (schema 2 > 1); upgrade zspace to read it"),
    ],
)
def test_only_schema_versions_from_one_to_this_one_are_read(run, version, message):
    edit_config(run, schema_version=version)
    assert refusal(rundir.read_config, run) == message
    edit_config(run, schema_version=rundir.SCHEMA_VERSION)
    assert rundir.read_config(run)["schema_version"] == 1


def test_an_unknown_model_kind_or_model_file_is_refused_quoting_at_most_forty_characters(run):
    edit_config(run, model="g" * 100)
    assert refusal(rundir.read_config, run) == f"run config names unknown model kind {'g' * 40!r}; expected ae or vae"
    edit_config(run, model="vae", decoder_file="decoder.pt")
    assert refusal(rundir.read_config, run) == (
        "run config: decoder_file must be one of decoder.keras, decoder.onnx, decoder.savedmodel or null"
    )
    edit_config(run, decoder_file="decoder.onnx", encoder_file="encoder.h5")
    assert refusal(rundir.read_config, run) == (
        "run config: encoder_file must be one of encoder.keras, encoder.onnx, encoder.savedmodel or null"
    )
    edit_config(run, encoder_file="encoder.savedmodel")
    assert rundir.model_file(rundir.read_config(run), "encoder") == "encoder.savedmodel"


@pytest.mark.parametrize(("key", "low", "high"), [("z_dim", 1, 65536), ("image_size", 1, 4096), ("channels", 1, 4)])
def test_config_counts_are_taken_exactly_at_their_bounds_and_refused_one_past(run, key, low, high):
    for value in (low, high):
        edit_config(run, **{key: value})
        assert rundir.read_config(run)[key] == value
    for value in (low - 1, high + 1, 2.0, True, "x" * 60):
        edit_config(run, **{key: value})
        shown = repr(str(value)[:40])
        assert refusal(rundir.read_config, run) == (
            f"run config: {key} must be a whole number from {low} to {high}, got {shown}"
        )
    edit_config(run, **{key: ...})
    assert (
        refusal(rundir.read_config, run)
        == f"run config: {key} must be a whole number from {low} to {high}, got missing"
    )


def test_z_points_imported_alone_need_a_z_dim_but_no_image_size_or_channels(run):
    edit_config(run, decoder_file=None, encoder_file=None, image_size=..., channels=...)
    config = rundir.read_config(run)
    assert not rundir.has_decoder(config) and rundir.model_file(config, "encoder") is None
    # Left out, they are not asked for; given, they are still checked (the channels after a missing image size too).
    edit_config(run, image_size=0)
    assert refusal(rundir.read_config, run) == "run config: image_size must be a whole number from 1 to 4096, got '0'"
    edit_config(run, image_size=..., channels=5)
    assert refusal(rundir.read_config, run) == "run config: channels must be a whole number from 1 to 4, got '5'"
    edit_config(run, channels=..., z_dim=...)
    assert refusal(rundir.read_config, run) == "run config: z_dim must be a whole number from 1 to 65536, got missing"
    # With an encoder or a decoder, the image side is needed again.
    edit_config(run, z_dim=3, encoder_file="encoder.onnx")
    assert "image_size must be a whole number" in refusal(rundir.read_config, run)
    edit_config(run, encoder_file=None, decoder_file="decoder.onnx")
    assert "image_size must be a whole number" in refusal(rundir.read_config, run)


def test_a_trained_run_names_the_keras_files_by_default():
    assert rundir.model_file({}, "decoder") == "decoder.keras" and rundir.model_file({}, "encoder") == "encoder.keras"
    assert rundir.has_decoder({}) and not rundir.has_decoder({"decoder_file": None})


def test_status_without_a_file_reads_as_created_and_unknown_states_are_never_written(tmp_path):
    assert rundir.read_status(tmp_path) == {"state": "created"}
    with pytest.raises(ValueError, match="^unknown run state 'done'$"):
        rundir.write_status(tmp_path, "done")
    assert not (tmp_path / rundir.STATUS).exists()
    written = rundir.write_status(tmp_path, "training", epoch=2)
    assert rundir.read_status(tmp_path) == written and (written["state"], written["epoch"]) == ("training", 2)
    (tmp_path / rundir.STATUS).write_text("[]")
    assert refusal(rundir.read_status, tmp_path) == "run status must hold a JSON object (status.json)"


def test_npy_headers_of_both_versions_are_read_and_a_file_one_byte_short_is_truncated(tmp_path):
    z = np.arange(300, dtype=np.float32).reshape(100, 3)
    path = tmp_path / "z.npy"
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_2_0(handle, {"descr": "<f4", "fortran_order": True, "shape": (100, 3)})
        handle.write(np.asfortranarray(z).tobytes(order="F"))
    shape, dtype, fortran, offset = rundir.files.npy_layout(path)
    assert (shape, dtype, fortran) == ((100, 3), np.dtype("<f4"), True) and offset == path.stat().st_size - 1200
    np.save(path, z)
    assert rundir.npy_header(path) == ((100, 3), np.dtype("<f4"))
    data = path.read_bytes()
    path.write_bytes(data[:-1])
    assert refusal(rundir.npy_header, path) == (
        f"z.npy is truncated ({len(data) - 1:,} bytes, its header needs {len(data):,}); re-encode"
    )
    assert refusal(rundir.npy_header, tmp_path / "gone.npy") == "gone.npy is missing"
    (tmp_path / "text.npy").write_text("not numpy")
    assert refusal(rundir.npy_header, tmp_path / "text.npy") == "text.npy is not a valid .npy file (ValueError)"


@pytest.mark.parametrize(
    ("z", "message"),
    [
        (np.zeros(6, np.float32), "zpoints.npy must be 2-D (N x z_dim), found shape (6,)"),
        (np.zeros((6, 3), np.float64), "zpoints.npy must be float32, found float64; re-run `zspace encode`"),
        (np.zeros((6, 4), np.float32), "zpoints.npy has z_dim 4 but the config says 3"),
        (np.zeros((0, 3), np.float32), "zpoints.npy holds no points; re-run `zspace encode`"),
    ],
)
def test_z_points_of_the_wrong_shape_type_or_width_are_refused(run, z, message):
    atomic_save_npy(run / rundir.ZPOINTS, z)
    assert refusal(rundir.load_zpoints, run) == message


def test_z_points_load_memory_mapped_by_default_or_into_memory(run, monkeypatch):
    monkeypatch.setattr(private_copies, "_budget", None)  # a command-line process (a served app turns copies on)
    mapped = rundir.load_zpoints(run)
    assert isinstance(mapped, np.memmap) and mapped.shape == (6, 3)
    loaded = rundir.load_zpoints(run, mmap=False)
    assert not isinstance(loaded, np.memmap)
    np.testing.assert_array_equal(loaded, np.load(run / rundir.ZPOINTS))


ROWS = 2 * 65536 + 10  # three chunks of the scan, the last one short


@pytest.mark.parametrize("row", [0, 65535, 65536, ROWS - 1])
def test_nan_in_any_row_is_found_across_the_chunks_the_scan_reads(tmp_path, row):
    run = make_run(tmp_path / "r", n=2, z_dim=1)
    z = np.zeros((ROWS, 1), np.float32)
    z[row] = np.nan
    atomic_save_npy(run / rundir.ZPOINTS, z)
    assert refusal(rundir.load_zpoints, run) == (
        "zpoints.npy contains NaN or inf values; the model diverged — retrain or re-encode"
    )
    assert rundir.load_zpoints(run, check_finite=False).shape == (ROWS, 1)


def test_the_nan_scan_reads_the_points_in_chunks_of_65536_rows_each_once(tmp_path, monkeypatch):
    run = make_run(tmp_path / "r", n=2, z_dim=1)
    atomic_save_npy(run / rundir.ZPOINTS, np.zeros((ROWS, 1), np.float32))
    scanned, real = [], np.isfinite
    monkeypatch.setattr(np, "isfinite", lambda rows: scanned.append(len(rows)) or real(rows))
    rundir.load_zpoints(run)
    assert scanned == [65536, 65536, 10]  # a memory-mapped 200k x 256 file is never copied whole


def test_a_run_of_exactly_one_point_is_read(tmp_path):
    run = make_run(tmp_path / "r", n=1, z_dim=3)
    assert rundir.load_zpoints(run).shape == (1, 3)


def test_metadata_is_missing_unreadable_or_of_another_length_in_one_line(run):
    assert len(rundir.load_metadata(run, 6)) == 6 and len(rundir.load_metadata(run)) == 6
    assert refusal(rundir.load_metadata, run, 7) == (
        "metadata has 6 rows but there are 7 z-points; re-run `zspace encode`"
    )
    (run / rundir.METADATA).write_bytes(b"PAR1 damaged")
    assert refusal(rundir.load_metadata, run) == (
        "metadata.parquet is unreadable (ArrowInvalid); re-run `zspace encode`"
    )
    (run / rundir.METADATA).unlink()
    assert refusal(rundir.load_metadata, run) == "metadata.parquet is missing; re-run `zspace encode`"
    pd.DataFrame({"row": [0]}).to_parquet(run / rundir.METADATA)
    assert list(rundir.load_metadata(run).columns) == ["row"]
