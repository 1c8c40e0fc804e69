"""The procedural face generator: reproducible faces that carry their ground-truth factors."""

import time

import numpy as np
from PIL import Image

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


def test_contact_sheet_for_a_human_look(tmp_path):
    # Writes what a reviewer opens to check that the faces read as faces.
    for size in (64, 96):
        images = faces.render_faces(0, np.arange(16), size)
        sheet = np.concatenate([np.concatenate(list(images[r * 8 : r * 8 + 8]), axis=1) for r in range(2)])
        Image.fromarray(sheet).save(tmp_path / f"faces{size}.png")
        assert Image.open(tmp_path / f"faces{size}.png").size == (8 * size, 2 * size)


def test_generation_speed_benchmark(capsys):
    # A printed figure, not an assertion: the shared test machine's speed varies.
    count = 1000
    start = time.perf_counter()
    faces.render_faces(0, np.arange(count), 64)
    seconds = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n[bench] {count} synthetic faces at 64x64 in {seconds:.2f} s ({count / seconds:.0f} faces/s)")
