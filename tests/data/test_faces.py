"""The procedural face generator: reproducible faces that carry their ground-truth factors."""

import numpy as np

from models.data import faces, open_source


def test_each_face_is_reproducible_on_its_own():
    batch = faces.render_faces(3, np.arange(10), 64)
    alone = faces.render_faces(3, np.array([7]), 64)[0]
    np.testing.assert_array_equal(batch[7], alone)
    np.testing.assert_array_equal(batch, faces.render_faces(3, np.arange(10), 64))
    assert not np.array_equal(batch, faces.render_faces(4, np.arange(10), 64)), "another seed gives other faces"


def test_faces_differ_and_use_the_whole_colour_range():
    images = faces.render_faces(0, np.arange(16), 64)
    assert images.dtype == np.uint8 and images.shape == (16, 64, 64, 3)
    assert len({image.tobytes() for image in images}) == 16
    assert images.min() < 40 and images.max() > 200


def test_metadata_carries_continuous_and_binary_factors():
    source = open_source("synthetic:400", 32, seed=1)
    meta = source.metadata
    assert list(meta.columns[:4]) == ["row", "id", "source", "split"]
    for name in faces.CONTINUOUS_FACTORS:
        assert meta[name].std() > 0, name
    for name in faces.BINARY_FACTORS:
        assert set(meta[name].unique()) == {0, 1}, name
    assert not any(column.startswith("_") for column in meta.columns)
    assert set(meta["split"]) == {"train", "valid", "test"}
    assert (meta["long_hair"] & meta["bald"]).sum() == 0, "a bald face has no long hair"
    assert meta["source"].iloc[5] == "synthetic:1:5"


def test_factors_change_the_picture_where_expected():
    # Glasses draw dark frames around the eyes: the faces with glasses are darker there on average.
    meta = open_source("synthetic:300", 64).metadata
    images = faces.render_faces(0, np.arange(300), 64).astype(np.float32)
    band = images[:, 20:36, 12:52].mean(axis=(1, 2, 3))
    with_glasses = band[meta["glasses"].to_numpy() == 1].mean()
    without = band[meta["glasses"].to_numpy() == 0].mean()
    assert with_glasses < without


def test_threads_render_the_same_faces_as_one_worker():
    # The thread pool only splits the work: each face depends on (seed, index) alone.
    indices = np.arange(5, 140)
    pooled = faces.render_faces(2, indices, 32, workers=2)
    np.testing.assert_array_equal(pooled, faces.render_faces(2, indices, 32, workers=1))
