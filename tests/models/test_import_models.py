"""``zspace import`` of a model trained elsewhere: plain Keras (.keras, .h5, SavedModel) and ONNX built here.

The models are the test's own (a ``keras.Sequential`` encoder and decoder trained
for one epoch, an ONNX graph written with the ``onnx`` helper API), never
zspace's architecture; each import is checked against the model applied by
hand (Keras ``predict``, numpy) to the same images.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

import rundir
from zspace import cli

pytestmark = pytest.mark.slow

SIDE, Z_DIM, N_IMAGES = 16, 8, 48  # 48: fewer than the 91 points a t-SNE of perplexity 30 needs (the report caps it)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A folder of 48 face PNGs (two sub-folders), a decoded-image cache of its own, and its images as uint8."""
    import os

    from PIL import Image

    from models.data import faces

    root = tmp_path_factory.mktemp("byom")
    images = faces.render_faces(3, np.arange(N_IMAGES), SIDE)
    for i, image in enumerate(images):
        folder = root / "faces" / ("left" if i % 2 else "right")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{i:03d}.png")
    saved = os.environ.get("ZSPACE_CACHE_DIR")
    os.environ["ZSPACE_CACHE_DIR"] = str(root / "cache")
    yield root
    if saved is None:
        os.environ.pop("ZSPACE_CACHE_DIR", None)
    else:
        os.environ["ZSPACE_CACHE_DIR"] = saved


def folder_images(root):
    """The folder source's images in its row order (sorted paths), as the import reads them."""
    from models.data import open_source

    source = open_source(f"folder:{root / 'faces'}", SIDE)
    return source.images(), source.metadata


@pytest.fixture(scope="module")
def keras_files(workspace):
    """A tiny AE in plain Keras, trained one epoch on the folder's faces, saved as .keras and .h5."""
    import keras

    keras.utils.set_random_seed(0)
    encoder = keras.Sequential(
        [
            keras.Input((SIDE, SIDE, 3)),
            keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(Z_DIM),
        ]
    )
    decoder = keras.Sequential(
        [
            keras.Input((Z_DIM,)),
            keras.layers.Dense(8 * 8 * 8, activation="relu"),
            keras.layers.Reshape((8, 8, 8)),
            keras.layers.Conv2DTranspose(3, 3, strides=2, padding="same", activation="sigmoid"),
        ]
    )
    autoencoder = keras.Sequential([encoder, decoder])
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    images, _ = folder_images(workspace)
    x = images.astype("float32") / 255.0
    autoencoder.fit(x, x, epochs=1, batch_size=8, verbose=0)
    files = {}
    for suffix in (".keras", ".h5"):
        files[suffix] = (workspace / f"encoder{suffix}", workspace / f"decoder{suffix}")
        encoder.save(files[suffix][0])
        decoder.save(files[suffix][1])
    return {"files": files, "encoder": encoder, "decoder": decoder, "x": x}


@pytest.fixture(scope="module")
def keras_runs(workspace, keras_files):
    """The .keras and the .h5 pair, each imported with --data folder:..."""
    runs = {}
    for suffix, (encoder, decoder) in keras_files["files"].items():
        out = workspace / "runs" / f"byom{suffix.replace('.', '-')}"
        argv = ["import", "--encoder", str(encoder), "--decoder", str(decoder), "--out", str(out)]
        assert cli.main([*argv, "--data", f"folder:{workspace / 'faces'}", "--batch-size", "16"]) == 0
        runs[suffix] = out
    return runs


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_keras_and_h5_imports_hold_the_users_encoding_and_say_where_it_came_from(keras_files, keras_runs):
    expected = keras_files["encoder"].predict(keras_files["x"], verbose=0)
    for suffix, run in keras_runs.items():
        info = rundir.inspect_run(run)
        assert info.usable and info.decoder, info.reason
        assert (info.n_points, info.z_dim) == (N_IMAGES, Z_DIM)
        np.testing.assert_allclose(np.load(run / rundir.ZPOINTS), expected, rtol=1e-5, atol=1e-5)
        config = rundir.read_config(run)
        encoder, decoder = keras_files["files"][suffix]
        assert config["imported"]["encoder"] == {
            "name": encoder.name,
            "format": suffix.lstrip("."),
            "sha256": sha256(encoder),
            "outputs": config["imported"]["encoder"]["outputs"],
        }
        assert config["imported"]["decoder"]["sha256"] == sha256(decoder)
        assert (config["model"], config["image_size"], config["pixel_range"]) == ("ae", SIDE, [0.0, 1.0])
        # The .h5 model is kept as .keras: every reader loads one native format with safe_mode.
        assert (config["encoder_file"], config["decoder_file"]) == ("encoder.keras", "decoder.keras")
        assert set(rundir.load_metadata(run)["split"]) == {"unseen"}, "zspace cannot know what the model trained on"
        assert not (run / rundir.ZLOGVAR).exists()
        parameters = config["imported"]["parameters"]
        assert parameters["encoder"] == keras_files["encoder"].count_params() and parameters["layers"]


def test_the_decoder_service_decodes_with_the_users_decoder(keras_files, keras_runs):
    from app.decoder import DecoderService

    z = np.load(keras_runs[".keras"] / rundir.ZPOINTS)[[0, N_IMAGES - 1]]
    images = DecoderService().decode(keras_runs[".keras"], "fp", z)
    reference = np.rint(keras_files["decoder"].predict(z, verbose=0) * 255).astype(np.uint8)
    assert images.shape == (2, SIDE, SIDE, 3) and np.abs(images.astype(int) - reference).max() <= 1


def test_report_on_an_imported_run_writes_its_summary(keras_runs, tmp_path):
    run = keras_runs[".keras"]
    assert cli.main(["report", str(run), "--out", str(tmp_path / "report"), "--judge-samples", "0"]) == 0
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    (entry,) = summary["runs"]
    assert (entry["run"], entry["model"], entry["z_dim"], entry["n_points"]) == (run.name, "ae", Z_DIM, N_IMAGES)
    assert entry["rates"], "the sampler lab decoded with the imported decoder"
    page = (tmp_path / "report" / "report.html").read_text()
    assert "<html" in page[:200].lower()
    # 48 points: the report's own t-SNE map caps its perplexity at (48 - 1) / 3 and says so.
    assert f"perplexity is 15.7, not 30: t-SNE needs more than 3 x perplexity points and the run has {N_IMAGES}" in page
    assert "t-SNE raw z, perplexity 15.7" in page


def test_a_savedmodel_folder_imports_through_tfsmlayer(workspace, keras_files, monkeypatch):
    export = workspace / "decoder-savedmodel"
    keras_files["decoder"].export(str(export), verbose=False)
    out = workspace / "runs" / "byom-savedmodel"
    argv = ["import", "--encoder", str(keras_files["files"][".keras"][0]), "--decoder", str(export)]
    assert cli.main([*argv, "--data", f"folder:{workspace / 'faces'}", "--out", str(out)]) == 0
    assert rundir.read_config(out)["decoder_file"] == "decoder.savedmodel"
    assert rundir.inspect_run(out).usable
    from models.codecs import TRUST_SAVEDMODEL_ENV, load_decoder_function
    from rundir.errors import RunNotReadyError

    z = np.load(out / rundir.ZPOINTS)[:3]
    # A SavedModel's graph may read and write files: a run's copy loads only when the operator says so.
    monkeypatch.delenv(TRUST_SAVEDMODEL_ENV, raising=False)
    with pytest.raises(RunNotReadyError, match=f"only with {TRUST_SAVEDMODEL_ENV}=1"):
        load_decoder_function(out)
    monkeypatch.setenv(TRUST_SAVEDMODEL_ENV, "1")
    decoded = load_decoder_function(out)(z)
    np.testing.assert_allclose(decoded, keras_files["decoder"].predict(z, verbose=0), atol=1e-5)


# -- ONNX ------------------------------------------------------------------------------------------------------
def onnx_pair(folder, seed=1):
    """A linear encoder and a tanh decoder with NCHW output, written with the onnx helper API, as a PyTorch
    export would look: images in [-1, 1], channels first. Returns (encoder path, decoder path, W_enc, W_dec)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    pixels = 3 * SIDE * SIDE
    w_enc = (rng.normal(size=(pixels, Z_DIM)) / np.sqrt(pixels)).astype(np.float32)
    w_dec = (rng.normal(size=(Z_DIM, pixels)) / np.sqrt(Z_DIM)).astype(np.float32)
    flat = numpy_helper.from_array(np.array([-1, pixels], np.int64), "flat")
    image = numpy_helper.from_array(np.array([-1, 3, SIDE, SIDE], np.int64), "image")
    encoder = helper.make_graph(
        [helper.make_node("Reshape", ["x", "flat"], ["v"]), helper.make_node("MatMul", ["v", "W"], ["z"])],
        "encoder",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, SIDE, SIDE])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", Z_DIM])],
        [numpy_helper.from_array(w_enc, "W"), flat],
    )
    decoder = helper.make_graph(
        [
            helper.make_node("MatMul", ["z", "W"], ["h"]),
            helper.make_node("Tanh", ["h"], ["t"]),
            helper.make_node("Reshape", ["t", "image"], ["y"]),
        ],
        "decoder",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", Z_DIM])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3, SIDE, SIDE])],
        [numpy_helper.from_array(w_dec, "W"), image],
    )
    paths = []
    folder.mkdir(parents=True, exist_ok=True)
    for name, graph in (("encoder", encoder), ("decoder", decoder)):
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        onnx.checker.check_model(model)
        paths.append(folder / f"{name}.onnx")
        onnx.save(model, paths[-1])
    return paths[0], paths[1], w_enc, w_dec


def numpy_decode(z, w_dec):
    """The ONNX decoder by hand: tanh(z W) in [-1, 1], NCHW -> NHWC, mapped to [0, 1]."""
    images = np.tanh(np.asarray(z, np.float64) @ w_dec).reshape(-1, 3, SIDE, SIDE).transpose(0, 2, 3, 1)
    return (images + 1) / 2


@pytest.fixture(scope="module")
def onnx_run(workspace):
    encoder, decoder, w_enc, w_dec = onnx_pair(workspace)
    out = workspace / "runs" / "byom-onnx"
    argv = ["import", "--encoder", str(encoder), "--decoder", str(decoder), "--pixel-range", "tanh"]
    assert cli.main([*argv, "--data", f"folder:{workspace / 'faces'}", "--out", str(out)]) == 0
    return out, w_enc, w_dec


def test_an_onnx_import_encodes_channels_first_in_its_own_pixel_range(workspace, onnx_run):
    run, w_enc, _ = onnx_run
    images, _ = folder_images(workspace)
    x = images.astype(np.float64) / 255 * 2 - 1  # [-1, 1], as --pixel-range -1,1 says
    expected = x.transpose(0, 3, 1, 2).reshape(N_IMAGES, -1) @ w_enc
    np.testing.assert_allclose(np.load(run / rundir.ZPOINTS), expected, rtol=1e-4, atol=1e-4)
    config = rundir.read_config(run)
    assert config["layout"] == {"encoder": "nchw", "decoder": "nchw"} and config["decoder_file"] == "decoder.onnx"
    assert rundir.inspect_run(run).usable


def test_zspace_path_decodes_a_path_with_the_onnx_decoder(onnx_run, tmp_path):
    from PIL import Image

    run, _, w_dec = onnx_run
    strip, profile = tmp_path / "path.png", tmp_path / "profile.csv"
    argv = ["path", str(run), "--from", "0", "--to", str(N_IMAGES - 1), "--steps", "5"]
    assert cli.main([*argv, "--out", str(strip), "--profile", str(profile)]) == 0
    z = np.load(run / rundir.ZPOINTS)
    t = np.linspace(0, 1, 5)[:, None]
    expected = np.rint(numpy_decode((1 - t) * z[0] + t * z[-1], w_dec) * 255).astype(int)
    picture = np.asarray(Image.open(strip).convert("RGB")).astype(int)
    gap = 2  # app.images.strip: one row, 2 px between and around the images
    assert picture.shape == (SIDE + 2 * gap, 5 * (SIDE + gap) + gap, 3)
    for step, want in enumerate(expected):
        left = gap + step * (SIDE + gap)
        assert np.abs(picture[gap : gap + SIDE, left : left + SIDE] - want).max() <= 1, f"step {step}"
    assert profile.read_text().count("\n") == 6  # a header and one line per step


def test_the_sampler_lab_scores_samples_decoded_by_onnx(onnx_run):
    from study.codec import load_codec
    from study.scoring import scored_samples

    run, _, w_dec = onnx_run
    scored = scored_samples(run, "normal", k=8, seed=3)
    assert scored.images.shape == (8, SIDE, SIDE, 3)
    expected = np.rint(numpy_decode(scored.z, w_dec) * 255)
    assert np.abs(scored.images.astype(int) - expected).max() <= 1
    assert set(scored.scores) >= {"realism", "meaningful"} and load_codec(run).encode(scored.images).shape == (8, Z_DIM)


def test_projector_export_of_an_imported_run_has_a_sprite_of_its_originals(workspace, keras_runs, tmp_path):
    from PIL import Image

    run, out = keras_runs[".keras"], tmp_path / "projector"
    assert cli.main(["export", str(run), "--projector", str(out)]) == 0
    sprite = np.asarray(Image.open(out / "sprite.png").convert("RGB"))
    columns = int(np.ceil(np.sqrt(N_IMAGES)))
    assert sprite.shape == (columns * SIDE, columns * SIDE, 3)  # square, thumbnails at the images' own size
    images, metadata = folder_images(workspace)
    for row in (0, columns, N_IMAGES - 1):  # first, first of the second line, last
        top, left = (row // columns) * SIDE, (row % columns) * SIDE
        np.testing.assert_array_equal(sprite[top : top + SIDE, left : left + SIDE], images[row])
    assert "single_image_dim: 16" in (out / "projector_config.pbtxt").read_text()
    exported = pd.read_csv(out / "metadata.tsv", sep="\t")
    assert exported["source"].tolist() == metadata["source"].tolist()


def test_an_interrupted_import_continues_with_zspace_encode(workspace, monkeypatch):
    import models.encode

    encoder, decoder, w_enc, _ = onnx_pair(workspace / "interrupted-models", seed=2)
    out = workspace / "runs" / "byom-interrupted"
    argv = ["import", "--encoder", str(encoder), "--decoder", str(decoder), "--pixel-range", "tanh"]
    argv += ["--data", f"folder:{workspace / 'faces'}", "--out", str(out), "--source-split"]
    real = models.encode.encode_batches

    def interrupted(encoder_function, batches, z_out, *args, **kwargs):
        real(encoder_function, [next(iter(batches))], z_out, *args, **kwargs)  # one batch, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(models.encode, "encode_batches", interrupted)
    assert cli.main(argv) == 130
    info = rundir.inspect_run(out)
    assert not info.usable and info.reason == f"encoding was interrupted; continue it with `zspace encode {out.name}`"
    assert not (out / rundir.ZPOINTS).exists(), "no half-written z-points"
    monkeypatch.setattr(models.encode, "encode_batches", real)
    assert cli.main(["encode", str(out)]) == 0
    images, metadata = folder_images(workspace)
    expected = (images.astype(np.float64) / 255 * 2 - 1).transpose(0, 3, 1, 2).reshape(N_IMAGES, -1) @ w_enc
    np.testing.assert_allclose(np.load(out / rundir.ZPOINTS), expected, rtol=1e-4, atol=1e-4)
    # --source-split: the model was trained on the source's train split, so its partition is kept.
    assert rundir.load_metadata(out)["split"].tolist() == metadata["split"].tolist()
    assert set(metadata["split"]) == {"train", "valid", "test"}


def test_a_vae_encoders_mu_is_the_first_of_two_outputs_or_the_one_named(workspace, keras_files, capsys):
    import keras

    inputs = keras.Input((SIDE, SIDE, 3))
    hidden = keras.layers.Flatten()(inputs)
    mu, logvar = keras.layers.Dense(Z_DIM, name="mu")(hidden), keras.layers.Dense(Z_DIM, name="logvar")(hidden)
    two, three = workspace / "vae2.keras", workspace / "vae3.keras"
    keras.Model(inputs, [mu, logvar]).save(two)
    keras.Model(inputs, [keras.layers.Dense(Z_DIM, name="extra")(hidden), logvar, mu]).save(three)
    decoder, data = keras_files["files"][".keras"][1], f"folder:{workspace / 'faces'}"
    x = keras_files["x"]
    out = workspace / "runs" / "vae-two"
    assert (
        cli.main(["import", "--encoder", str(two), "--decoder", str(decoder), "--data", data, "--out", str(out)]) == 0
    )
    expected_mu, expected_logvar = keras.saving.load_model(two).predict(x, verbose=0)
    config = rundir.read_config(out)
    assert (config["model"], config["mu_output"], config["logvar_output"]) == ("vae", 0, 1)
    np.testing.assert_allclose(np.load(out / rundir.ZPOINTS), expected_mu, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.load(out / rundir.ZLOGVAR), expected_logvar, rtol=1e-5, atol=1e-5)
    base = ["import", "--encoder", str(three), "--decoder", str(decoder), "--data", data]
    capsys.readouterr()
    assert cli.main([*base, "--out", str(workspace / "runs" / "vae-three")]) == 2
    assert (
        "has 3 outputs (0: extra (None, 8), 1: logvar (None, 8), 2: mu (None, 8)); say which is mu"
        in capsys.readouterr().err
    )
    for choice in ("mu", "2"):
        out = workspace / "runs" / f"vae-three-{choice}"
        assert cli.main([*base, "--mu-output", choice, "--model", "vae", "--out", str(out)]) == 0
        np.testing.assert_allclose(np.load(out / rundir.ZPOINTS), expected_mu, rtol=1e-5, atol=1e-5)
        assert rundir.read_config(out)["logvar_output"] is None and not (out / rundir.ZLOGVAR).exists()


@pytest.mark.browser
def test_the_dashboard_decodes_a_click_with_the_users_decoder_and_says_once_that_z_points_alone_have_none(
    keras_files, keras_runs, tmp_path
):
    """Served: a click on the imported run shows the user's decoder's image; the same z-points imported alone
    (as Projector files) show the clicked points' facts, and the decode view says "no decoder" once."""
    import base64
    import io
    import re
    import shutil

    from PIL import Image

    from tools.browser import BackgroundServer, choose_option, chrome_driver, click_plot, points, require_chromium

    require_chromium()
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from app.factory import create_app
    from app.views import decode, planes
    from app.views.parts import RUN

    served = tmp_path / "runs"
    shutil.copytree(keras_runs[".keras"], served / "byom")
    z = np.load(served / "byom" / rundir.ZPOINTS)
    projector = tmp_path / "projector"
    projector.mkdir()
    (projector / "tensors.tsv").write_text("\n".join("\t".join(repr(float(v)) for v in row) for row in z) + "\n")
    (projector / "metadata.tsv").write_text("\n".join(f"face {i}" for i in range(len(z))) + "\n")
    argv = ["import", "--zpoints", str(projector / "tensors.tsv"), "--metadata", str(projector / "metadata.tsv")]
    assert cli.main([*argv, "--out", str(served / "alone")]) == 0
    server = BackgroundServer(create_app(served, cache_dir=tmp_path / "cache").server)
    driver = chrome_driver(1280, 800)
    graph, panel = planes.GRAPH["a"], decode.PANEL["a"]

    def clicked_title(index, previous=None):
        """Click the index-th shown point and return the decode panel's new title (a click the plot loses while
        it redraws for a newly picked run is made again)."""

        def changed(d):
            heading = d.find_elements(By.CSS_SELECTOR, f"#{panel} h4")
            text = heading[0].text if heading else ""
            return text if re.match(r"^point \d+", text) and text != previous else False

        for attempt in range(3):
            click_plot(driver, graph, *points(driver, graph, index, 1)[0])
            try:
                wait = WebDriverWait(driver, 40, ignored_exceptions=(StaleElementReferenceException,))
                return wait.until(changed)
            except TimeoutException:
                if attempt == 2:
                    raise

    def view_text():
        return driver.find_element(By.ID, "view-decode").text

    try:
        driver.get(server.url)
        WebDriverWait(driver, 60).until(lambda d: "of 48 points" in d.find_element(By.ID, planes.COUNT["a"]).text)
        choose_option(driver, RUN["a"], "alone (")
        WebDriverWait(driver, 60).until(lambda d: "no decoder" in d.find_element(By.ID, decode.DECODER_STATUS).text)
        title = None
        for shown_point in (5, 30):  # two clicks: each shows the point's facts, and the line stays one
            title = clicked_title(shown_point, title)
            assert driver.find_elements(By.CSS_SELECTOR, f"#{panel} img") == []
            errors = [
                e.get_attribute("textContent") for e in driver.find_elements(By.CSS_SELECTOR, "#view-decode .error")
            ]
            assert errors == [], errors
            assert view_text().count("no decoder") == 1, view_text()
            assert re.search(r"label\s+face \d+", driver.find_element(By.ID, panel).text)

        choose_option(driver, RUN["a"], "byom (")
        WebDriverWait(driver, 120, ignored_exceptions=(StaleElementReferenceException,)).until(
            lambda d: d.find_element(By.ID, decode.DECODER_STATUS).text == decode.READY_TEXT
        )
        row = int(re.match(r"^point (\d+)", clicked_title(3, title)).group(1))
        figures = driver.find_elements(By.CSS_SELECTOR, f"#{panel} figure")
        assert [f.text for f in figures] == ["original", "decoded (reconstruction)"]
        tile = figures[1].find_element(By.TAG_NAME, "img")
        shown = np.asarray(Image.open(io.BytesIO(base64.b64decode(tile.get_attribute("src").split(",", 1)[1]))))
        expected = np.rint(keras_files["decoder"].predict(z[row : row + 1], verbose=0)[0] * 255)
        assert shown.shape == (SIDE, SIDE, 3) and np.abs(shown.astype(int) - expected).max() <= 1
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
    finally:
        driver.quit()
        server.stop()
