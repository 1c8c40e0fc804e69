"""CelebA's crop box and box-filter resize, checked against a crop computed by hand from a patterned image."""

import numpy as np
import pytest
from PIL import Image

from models.data import celeba, decode_file, open_source
from models.data.folder import split_of
from tests.fakes import make_fake_celeba

#: The documented crop of a 178 x 218 CelebA image: box (left 15, top 35, right 163, bottom 183).
LEFT, TOP, SIDE = 15, 35, 148


@pytest.fixture(scope="module")
def patterned(tmp_path_factory):
    """A one-image CelebA folder whose image is a lossless pattern: R = column, G = row, B = seeded noise."""
    root = make_fake_celeba(tmp_path_factory.mktemp("celeba"), n=1)
    columns, rows = np.meshgrid(np.arange(178), np.arange(218))
    noise = np.random.default_rng(0).integers(0, 256, (218, 178))
    pattern = np.stack([columns, rows, noise], axis=-1).astype(np.uint8)
    # PNG bytes under CelebA's .jpg name: Pillow reads by content, and the pixels survive exactly.
    Image.fromarray(pattern).save(root / "img_align_celeba" / "000001.jpg", format="PNG")
    return root, pattern


def _box_resize(square: np.ndarray, size: int) -> np.ndarray:
    """Mean of the source pixels whose centres fall in each output pixel's footprint (Pillow's BOX rule)."""
    scale = len(square) / size
    centres = np.arange(len(square)) + 0.5
    # A centre exactly on a boundary belongs to the pixel on its left, as in Pillow.
    owner = np.clip(np.ceil(centres / scale).astype(int) - 1, 0, size - 1)
    weights = (owner[None, :] == np.arange(size)[:, None]).astype(float)
    weights /= weights.sum(axis=1, keepdims=True)
    return np.einsum("iy,jx,yxc->ijc", weights, weights, square.astype(float))


def test_the_crop_is_the_documented_box(patterned):
    root, pattern = patterned
    cropped = decode_file(root / "img_align_celeba" / "000001.jpg", SIDE, celeba.CROP_FRACTION)
    np.testing.assert_array_equal(cropped, pattern[TOP : TOP + SIDE, LEFT : LEFT + SIDE])


def test_shrinking_averages_whole_blocks(patterned):
    root, pattern = patterned
    halved = decode_file(root / "img_align_celeba" / "000001.jpg", SIDE // 2, celeba.CROP_FRACTION)
    square = pattern[TOP : TOP + SIDE, LEFT : LEFT + SIDE].astype(float)
    block_means = square.reshape(SIDE // 2, 2, SIDE // 2, 2, 3).mean(axis=(1, 3))
    # Pillow resizes in two passes (rows, then columns), each rounded to uint8: at most 1 level off the exact mean.
    # Any other filter would be far off on the noise channel.
    assert np.abs(halved - block_means).max() <= 1


def test_a_celeba_source_serves_the_cropped_box_filtered_image(patterned, tmp_path):
    root, pattern = patterned
    image = open_source(f"celeba:{root}", 16, cache_dir=tmp_path / "cache").images()[0]
    expected = _box_resize(pattern[TOP : TOP + SIDE, LEFT : LEFT + SIDE], 16)
    assert np.abs(image - expected).max() <= 1


def test_folder_and_synthetic_splits_are_80_10_10_and_stable():
    keys = [f"person_{i}/photo_{i % 7}.jpg" for i in range(20_000)]
    splits = [split_of(key) for key in keys]
    shares = {name: splits.count(name) / len(keys) for name in ("train", "valid", "test")}
    assert shares == pytest.approx({"train": 0.8, "valid": 0.1, "test": 0.1}, abs=0.01)
    assert [split_of(key) for key in keys[:500]] == splits[:500], "the same file always lands in the same split"
    synthetic = open_source("synthetic:2000", 16).metadata["split"].value_counts(normalize=True)
    assert synthetic.to_dict() == pytest.approx({"train": 0.8, "valid": 0.1, "test": 0.1}, abs=0.03)
