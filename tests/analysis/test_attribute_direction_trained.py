"""An attribute direction found in a real (tiny) AE's z-space predicts its ground-truth factor on held-out faces."""

import os

import numpy as np
import pytest

import rundir
from analysis.walks import attribute_direction

pytestmark = pytest.mark.slow

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A tiny AE trained on 800 synthetic faces (about 20 s of CPU); the metadata holds their true factors."""
    from zspace import cli

    out = tmp_path_factory.mktemp("attribute") / "tiny-ae"
    argv = ["train", "--data", "synthetic:800", "--model", "ae", "--image-size", "32", "--z-dim", "16"]
    argv += ["--epochs", "4", "--batch-size", "16", "--seed", "0", "--out", str(out)]
    assert cli.main(argv) == 0
    return out


def test_the_direction_of_a_face_factor_correlates_with_it_on_held_out_faces(trained_run):
    z = rundir.load_zpoints(trained_run)
    metadata = rundir.load_metadata(trained_run, len(z))
    fitted = np.flatnonzero(metadata["split"].to_numpy() == "train")
    held_out = np.flatnonzero(metadata["split"].to_numpy() != "train")
    assert len(held_out) >= 100
    # The background's lightness: a continuous factor, split at its median on the training faces only.
    factor = metadata["bg_lightness"].to_numpy(dtype=np.float64)
    direction = attribute_direction(z, factor, rows=fitted)
    assert not direction["binary"]
    position = (np.asarray(z[held_out], dtype=np.float64) - direction["mean_low"]) @ direction["unit"]
    r = np.corrcoef(position, factor[held_out])[0, 1]
    assert abs(r) >= 0.8, f"the direction explains too little of the factor on held-out faces (r = {r:.2f})"
    # A factor the faces do not show at all (a shuffled copy) gets no such direction.
    shuffled = np.random.default_rng(0).permutation(factor)
    noise = attribute_direction(z, shuffled, rows=fitted)
    position = (np.asarray(z[held_out], dtype=np.float64) - noise["mean_low"]) @ noise["unit"]
    assert abs(np.corrcoef(position, shuffled[held_out])[0, 1]) < 0.5
