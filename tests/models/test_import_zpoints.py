"""``zspace import --zpoints``: runs without a model; the Projector's files both ways; refused inputs.

The Projector round trip is checked with TensorBoard's own projector plugin: it
reads the exported folder as ``tensorboard --logdir DIR`` would and serves the
tensors, the metadata and the sprite.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rundir
from zspace import cli

N, D = 30, 5


def projector_files(folder, z, labels, header=True):
    """Write tensors.tsv and metadata.tsv the way the Projector's users write them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tensors.tsv").write_text("\n".join("\t".join(repr(float(v)) for v in row) for row in z) + "\n")
    lines = (["label\tgroup"] if header else []) + [
        f"{label}\t{i % 3}" if header else label for i, label in enumerate(labels)
    ]
    (folder / "metadata.tsv").write_text("\n".join(lines) + "\n")
    return folder / "tensors.tsv", folder / "metadata.tsv"


@pytest.fixture
def cloud():
    z = np.random.default_rng(5).normal(size=(N, D)).astype(np.float32)
    labels = [f"face {i}" for i in range(N)]
    return z, labels


def served(folder):
    """TensorBoard's projector plugin on ``folder``, as a werkzeug test client of its routes."""
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.projector.projector_plugin import ProjectorPlugin
    from werkzeug import Response, test
    from werkzeug.routing import Map, Rule

    plugin = ProjectorPlugin(base_plugin.TBContext(logdir=str(folder), data_provider=None))
    routes = plugin.get_plugin_apps()

    def app(environ, start_response):
        handler = routes.get(environ["PATH_INFO"])
        return (handler or Response("not found", 404))(environ, start_response)

    assert Map([Rule(path) for path in routes])  # the routes TensorBoard mounts
    return test.Client(app)


def test_projector_files_round_trip_through_a_run(tmp_path, cloud):
    z, labels = cloud
    tensors, metadata = projector_files(tmp_path / "in", z, labels)
    run, out = tmp_path / "runs" / "projected", tmp_path / "out"
    assert cli.main(["import", "--zpoints", str(tensors), "--metadata", str(metadata), "--out", str(run)]) == 0
    info = rundir.inspect_run(run)
    assert info.usable and not info.decoder and "no decoder" in info.label()
    np.testing.assert_array_equal(np.load(run / rundir.ZPOINTS), z)
    assert cli.main(["export", str(run), "--projector", str(out)]) == 0
    back = np.loadtxt(out / "tensors.tsv", delimiter="\t", dtype=np.float32, ndmin=2)
    np.testing.assert_array_equal(back, z)  # 9 significant digits: every float32 exactly
    table = pd.read_csv(out / "metadata.tsv", sep="\t")
    assert table["label"].tolist() == labels and table["group"].tolist() == [i % 3 for i in range(N)]
    assert table["split"].unique().tolist() == ["unseen"] and table["id"].tolist() == list(range(N))
    assert not (out / "sprite.png").exists(), "z-points alone have no originals"
    # TensorBoard's projector plugin opens the folder: same vectors, same labels.
    client = served(out)
    assert client.get("/runs").get_json() == ["."]
    (embedding,) = client.get("/info?run=.").get_json()["embeddings"]
    assert (embedding["tensorName"], embedding["tensorShape"]) == ("projected", [N, D])
    tensor = np.frombuffer(client.get("/tensor?run=.&name=projected").data, dtype=np.float32).reshape(N, D)
    np.testing.assert_array_equal(tensor, z)
    served_rows = client.get("/metadata?run=.&name=projected").get_data(as_text=True).splitlines()
    header = served_rows[0].split("\t")
    assert [row.split("\t")[header.index("label")] for row in served_rows[1:]] == labels


def test_a_single_column_metadata_file_without_header_is_the_label(tmp_path, cloud):
    z, labels = cloud
    tensors, metadata = projector_files(tmp_path / "in", z, labels, header=False)
    run = tmp_path / "runs" / "single"
    assert cli.main(["import", "--zpoints", str(tensors), "--metadata", str(metadata), "--out", str(run)]) == 0
    frame = rundir.load_metadata(run)
    assert list(frame.columns) == ["row", "id", "source", "split", "label"] and frame["label"].tolist() == labels


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".parquet"])
def test_npy_csv_and_parquet_zpoints_with_a_metadata_table(tmp_path, cloud, suffix):
    z, labels = cloud
    path = tmp_path / f"z{suffix}"
    columns = [f"z{i}" for i in range(D)]
    if suffix == ".npy":
        np.save(path, z.astype(np.float64))
    elif suffix == ".csv":
        pd.DataFrame(z, columns=columns).to_csv(path, index=False, float_format="%.9g")
    else:
        pd.DataFrame(z, columns=columns).to_parquet(path)
    meta = tmp_path / "meta.parquet"
    pd.DataFrame({"id": [f"img{i:03d}" for i in range(N)], "smiling": np.arange(N) % 2, "split": "test"}).to_parquet(
        meta
    )
    run = tmp_path / "runs" / suffix.strip(".")
    assert (
        cli.main(["import", "--zpoints", str(path), "--metadata", str(meta), "--out", str(run), "--model", "vae"]) == 0
    )
    np.testing.assert_array_equal(np.load(run / rundir.ZPOINTS), z)
    frame = rundir.load_metadata(run)
    assert frame["id"].iloc[[0, -1]].tolist() == ["img000", f"img{N - 1:03d}"]
    assert set(frame["split"]) == {"test"}, "the user's own split is kept"
    assert rundir.read_config(run)["model"] == "vae" and rundir.read_config(run)["decoder_file"] is None


def test_a_zpoints_run_exports_planes_and_refuses_decoding_in_one_line(tmp_path, cloud, capsys):
    from analysis.pca import fit_pca

    z, labels = cloud
    tensors, metadata = projector_files(tmp_path / "in", z, labels)
    run = tmp_path / "runs" / "alone"
    assert cli.main(["import", "--zpoints", str(tensors), "--metadata", str(metadata), "--out", str(run)]) == 0
    table = tmp_path / "plane.csv"
    assert cli.main(["export", str(run), "--plane", "pca:0,1", "--filter", "group == 1", "--out", str(table)]) == 0
    exported = pd.read_csv(table)
    reference = fit_pca(z.astype(np.float64)).transform(z.astype(np.float64))[:, :2]
    rows = exported["row"].to_numpy()
    assert rows.tolist() == [i for i in range(N) if i % 3 == 1]
    np.testing.assert_allclose(np.abs(exported[["x", "y"]].to_numpy()), np.abs(reference[rows]), atol=1e-4)
    capsys.readouterr()
    assert cli.main(["path", str(run), "--from", "0", "--to", "1", "--out", str(tmp_path / "p.png")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "has no decoder" in error and not (tmp_path / "p.png").exists()


# -- refused inputs: one line, exit status 2, nothing written ---------------------------------------------
def refused(argv, capsys, out) -> str:
    capsys.readouterr()
    assert cli.main([*argv, "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "Traceback" not in error, error
    assert not out.exists(), "nothing written"
    return error


def test_bad_zpoints_files_are_refused_in_one_line(tmp_path, cloud, capsys):
    z, labels = cloud
    out = tmp_path / "runs" / "never"
    nan = z.copy()
    nan[7, 2] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    error = refused(["import", "--zpoints", str(tmp_path / "nan.npy")], capsys, out)
    assert "NaN or inf" in error and "row 7, column 2" in error
    np.save(tmp_path / "inf.npy", np.where(np.arange(D) == 4, np.inf, z))
    assert "NaN or inf" in refused(["import", "--zpoints", str(tmp_path / "inf.npy")], capsys, out)
    lines = ["\t".join(str(v) for v in row) for row in z]
    lines[4] = "\t".join(str(v) for v in z[4][:-1])
    (tmp_path / "ragged.tsv").write_text("\n".join(lines) + "\n")
    error = refused(["import", "--zpoints", str(tmp_path / "ragged.tsv")], capsys, out)
    assert "line 5 has 4 values where the lines before have 5" in error
    frame = pd.DataFrame(z, columns=[f"z{i}" for i in range(D)]).astype(object)
    frame.loc[3, "z2"] = "n/a"
    frame.to_csv(tmp_path / "text.csv", index=False)
    error = refused(["import", "--zpoints", str(tmp_path / "text.csv")], capsys, out)
    assert "column 'z2' is not numeric (row 3: 'n/a')" in error
    tensors, metadata = projector_files(tmp_path / "in", z, labels[:-1])
    error = refused(["import", "--zpoints", str(tensors), "--metadata", str(metadata)], capsys, out)
    assert f"has {N - 1} rows but there are {N} z-points" in error
    bad_meta = tmp_path / "ragged-meta.tsv"
    bad_meta.write_text("label\tgroup\n" + "\n".join(f"a\t{i}" if i != 9 else "a\t1\textra" for i in range(N)) + "\n")
    error = refused(["import", "--zpoints", str(tensors), "--metadata", str(bad_meta)], capsys, out)
    assert "line 11 has 3 fields where the header has 2" in error


def test_bad_models_are_refused_in_one_line_before_anything_is_written(tmp_path, capsys):
    import keras

    from tools.fixtures import tiny_decoder, tiny_encoder

    out, data = tmp_path / "runs" / "never", "synthetic:8"
    encoder, decoder = tmp_path / "enc.keras", tmp_path / "dec.keras"
    tiny_encoder(8, 16, "ae").save(encoder)
    tiny_decoder(8, 16).save(decoder)
    lam = keras.Sequential([keras.Input((8,)), keras.layers.Lambda(lambda v: v * 2), keras.layers.Dense(16 * 16 * 3)])
    lam.save(tmp_path / "lambda.keras")
    base = ["import", "--encoder", str(encoder), "--data", data]
    error = refused([*base, "--decoder", str(tmp_path / "lambda.keras")], capsys, out)
    assert "Lambda layer (Python code), which safe mode refuses" in error

    @keras.saving.register_keras_serializable(package="test_import")
    class Doubling(keras.layers.Layer):
        def call(self, v):
            return v * 2

    custom = keras.Sequential([keras.Input((8,)), Doubling(), keras.layers.Dense(4)])
    custom.save(tmp_path / "custom.keras")
    keras.saving.get_custom_objects().pop("test_import>Doubling")
    error = refused([*base, "--decoder", str(tmp_path / "custom.keras")], capsys, out)
    assert "custom layer or object" in error and "Doubling" in error
    tiny_decoder(4, 16).save(tmp_path / "z4.keras")
    error = refused([*base, "--decoder", str(tmp_path / "z4.keras")], capsys, out)
    assert error.endswith("decoder expects z of 4, encoder gives 8")
    tiny_decoder(8, 32).save(tmp_path / "big.keras")
    error = refused([*base, "--decoder", str(tmp_path / "big.keras")], capsys, out)
    assert error.endswith("decoder makes 32x32 images, encoder takes 16x16")
    keras.Sequential([keras.Input((8,)), keras.layers.Dense(10)]).save(tmp_path / "flat.keras")
    error = refused([*base, "--decoder", str(tmp_path / "flat.keras")], capsys, out)
    assert "output is (None, 10), not a batch of images" in error
    (tmp_path / "noise.onnx").write_bytes(b"not a graph")
    assert "not an ONNX model" in refused([*base, "--decoder", str(tmp_path / "noise.onnx")], capsys, out)


def test_the_sprite_grid_stays_within_the_projectors_8192_pixels():
    from models.projector import MAX_SPRITE_SIDE, sprite_grid

    assert sprite_grid(1, 64) == (1, 64)
    assert sprite_grid(16384, 64) == (128, 64)  # exactly 8,192 px
    assert sprite_grid(16385, 64) == (129, 63)  # one more point: smaller thumbnails, 8,127 px
    assert sprite_grid(50_000, 64) == (224, 36)
    for n in (2, 99, 4097, 200_000, 1_000_000):
        columns, side = sprite_grid(n, 96)
        assert columns * columns >= n and 0 < columns * side <= MAX_SPRITE_SIDE
    assert sprite_grid(20_000_000, 64)[1] == 0, "thumbnails under 2 px: no sprite"


def test_a_config_naming_a_model_file_outside_the_known_names_is_refused(tmp_path, cloud):
    import json

    z, labels = cloud
    tensors, metadata = projector_files(tmp_path / "in", z, labels)
    run = tmp_path / "runs" / "named"
    assert cli.main(["import", "--zpoints", str(tensors), "--out", str(run)]) == 0
    config = json.loads((run / rundir.CONFIG).read_text())
    for bad in ("../decoder.keras", "/etc/passwd", "decoder.pkl"):
        (run / rundir.CONFIG).write_text(json.dumps({**config, "decoder_file": bad}))
        info = rundir.inspect_run(run)
        assert not info.usable and info.reason.startswith("run config: decoder_file must be one of decoder.keras")
    (run / rundir.CONFIG).write_text(
        json.dumps({**config, "decoder_file": "decoder.onnx", "image_size": 16, "channels": 3})
    )
    assert rundir.inspect_run(run).reason == "decoder.onnx is missing; import the model again"


def test_the_decoder_warm_up_passes_over_a_run_without_a_decoder(tmp_path, cloud, caplog):
    from app.decoder import DecoderService

    z, labels = cloud
    tensors, _ = projector_files(tmp_path / "in", z, labels)
    run = tmp_path / "runs" / "alone"
    assert cli.main(["import", "--zpoints", str(tensors), "--out", str(run)]) == 0
    service = DecoderService()
    service.warm([(run, rundir.files_key(run))]).join(timeout=60)
    assert service.loaded == 0 and not service.warming
    assert not [r for r in caplog.records if "could not pre-load" in r.getMessage()], "nothing to warn about"
