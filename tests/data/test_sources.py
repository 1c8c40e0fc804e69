"""Opening data sources: specs, CelebA parsing, folder labels, the decode cache and the tf.data pipeline."""

import numpy as np
import pytest
from PIL import Image

from models.data import load_original_image, make_dataset, open_source
from models.data import source as source_module
from rundir.errors import ZspaceError
from tests.data.conftest import CORRUPT_INDEX
from tests.fakes import CELEBA_ATTRIBUTES, celeba_name


@pytest.mark.parametrize(
    ("spec", "size", "message"),
    [
        ("imagenet:/x", 64, "unknown data source"),
        ("", 64, "empty data source"),
        ("synthetic:abc", 64, "whole number"),
        ("synthetic:0", 64, "whole number"),
        ("celeba:", 64, "needs a path"),
        ("synthetic:10", 60, "multiple of 16"),
        ("synthetic:10", 64.0, "multiple of 16"),
        ("synthetic:10", 0, "multiple of 16"),
        ("folder:/no/such/folder", 64, "does not exist"),
    ],
)
def test_bad_specs_are_one_line_errors(spec, size, message):
    with pytest.raises(ZspaceError, match=message) as info:
        open_source(spec, size)
    assert "\n" not in str(info.value)


def test_synthetic_rows_match_their_images():
    source = open_source("synthetic:50", np.int64(32), seed=2)  # sizes read from a config may be numpy integers
    assert len(source) == 50 and source.skipped == 0 and source.skip_summary() is None
    assert source.spec == "synthetic:50" and source.image_size == 32
    alone = source.load_image(17)  # before images(): rendered on its own
    np.testing.assert_array_equal(alone, source.images()[17])
    original = load_original_image("synthetic:50", source.metadata["source"].iloc[17], 32)
    np.testing.assert_array_equal(original, alone)


def test_celeba_attributes_split_and_skip(fake_celeba, tmp_path):
    source = open_source(f"celeba:{fake_celeba}", 64, cache_dir=tmp_path)
    meta = source.metadata
    assert len(source) == 40 and source.skipped == 1
    assert source.skip_summary() == "skipped 1 of 41 files (1 corrupt: img_align_celeba/000007.jpg)"
    assert celeba_name(CORRUPT_INDEX) not in set(meta["id"])
    assert list(meta.columns) == ["row", "id", "source", "split", *CELEBA_ATTRIBUTES]
    assert meta["row"].tolist() == list(range(40))
    assert set(np.unique(meta[CELEBA_ATTRIBUTES].to_numpy())) == {0, 1}, "attributes stored as 0/1"
    assert meta["split"].value_counts().to_dict() == {"train": 32, "valid": 4, "test": 4}
    assert source.images().shape == (40, 64, 64, 3) and source.images().dtype == np.uint8


def test_celeba_values_follow_the_attribute_file(fake_celeba, tmp_path):
    meta = open_source(f"celeba:{fake_celeba}", 32, cache_dir=tmp_path).metadata
    line = (fake_celeba / "list_attr_celeba.txt").read_text().splitlines()[2 + 3].split()
    row = meta.set_index("id").loc[line[0]]
    assert [int(row[name]) for name in CELEBA_ATTRIBUTES] == [1 if v == "1" else 0 for v in line[1:]]


def test_second_open_reads_the_cache_without_decoding(fake_celeba, tmp_path, monkeypatch):
    calls = []
    real_decode = source_module.decode_file

    def counting_decode(*args, **kwargs):
        calls.append(args[0])
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(source_module, "decode_file", counting_decode)
    first = open_source(f"celeba:{fake_celeba}", 32, cache_dir=tmp_path)
    assert len(calls) == 41
    second = open_source(f"celeba:{fake_celeba}", 32, cache_dir=tmp_path)
    assert len(calls) == 41, "the second open must not decode any JPEG"
    np.testing.assert_array_equal(first.images(), second.images())
    assert second.skip_summary() == first.skip_summary()
    open_source(f"celeba:{fake_celeba}", 48, cache_dir=tmp_path)
    assert len(calls) == 82, "another image size is another cache entry"


def test_a_changed_file_invalidates_the_cache(tmp_path):
    root = tmp_path / "faces"
    root.mkdir()
    for i in range(3):
        Image.new("RGB", (40, 40), (i * 60, 0, 0)).save(root / f"{i}.png")
    before = open_source(f"folder:{root}", 16, cache_dir=tmp_path / "cache").images()[0].copy()
    Image.new("RGB", (40, 50), (0, 0, 255)).save(root / "0.png")
    after = open_source(f"folder:{root}", 16, cache_dir=tmp_path / "cache").images()[0]
    assert before[8, 8].tolist() == [0, 0, 0] and after[8, 8].tolist() == [0, 0, 255]


def test_folder_labels_come_from_first_level_subfolders(tmp_path):
    root = tmp_path / "people"
    for label, colour in (("alice", (200, 10, 10)), ("bob", (10, 200, 10))):
        (root / label / "deeper").mkdir(parents=True)
        Image.new("RGB", (30, 20), colour).save(root / label / "a.jpg")
        Image.new("RGB", (20, 30), colour).save(root / label / "deeper" / "b.png")
    Image.new("RGB", (16, 16), (0, 0, 0)).save(root / "loose.bmp")
    (root / "notes.txt").write_text("not an image, not picked up")
    source = open_source(f"folder:{root}", 16, cache_dir=tmp_path / "cache")
    meta = source.metadata.set_index("source")
    assert sorted(meta.index) == ["alice/a.jpg", "alice/deeper/b.png", "bob/a.jpg", "bob/deeper/b.png", "loose.bmp"]
    assert meta.loc["bob/deeper/b.png", "label"] == "bob"
    assert meta.loc["loose.bmp", "label"] == "(root)"
    assert source.skipped == 0
    green = source.load_image(int(meta.loc["bob/a.jpg", "row"]))
    assert green.shape == (16, 16, 3) and green[8, 8, 1] > 150 and green[8, 8, 0] < 60


def test_load_original_image_guards_paths_and_reports_gone_files(fake_celeba, tmp_path):
    spec = f"celeba:{fake_celeba}"
    image = load_original_image(spec, "img_align_celeba/000001.jpg", 64)
    np.testing.assert_array_equal(image, open_source(spec, 64, cache_dir=tmp_path).images()[0])
    assert load_original_image(spec, "img_align_celeba/999999.jpg", 64) is None
    assert load_original_image(spec, f"img_align_celeba/{celeba_name(CORRUPT_INDEX)}", 64) is None
    for hostile in ("../../etc/passwd", "/etc/passwd", "img_align_celeba/../../x.jpg", "a\\..\\b.jpg"):
        with pytest.raises(ZspaceError, match="inside the dataset folder"):
            load_original_image(spec, hostile, 64)
    for wrong in ("img_align_celeba/000001.jpg", "synthetic:-1:3", "synthetic:0:x"):
        with pytest.raises(ZspaceError, match="not a synthetic face id"):
            load_original_image("synthetic:10", wrong, 64)
    with pytest.raises(ZspaceError, match="seed must be a whole number"):
        open_source("synthetic:10", 32, seed=-1)


def test_make_dataset_yields_float_batches_covering_every_row():
    source = open_source("synthetic:70", 32)
    batches = list(make_dataset(source, batch_size=32, shuffle=True, seed=1).as_numpy_iterator())
    assert [b.shape for b in batches] == [(32, 32, 32, 3), (32, 32, 32, 3), (6, 32, 32, 3)]
    assert all(b.dtype == np.float32 for b in batches)
    stacked = np.concatenate(batches)
    assert stacked.min() >= 0.0 and stacked.max() <= 1.0
    expected = np.sort(source.images().reshape(70, -1).astype(np.float32) / 255.0, axis=0)
    np.testing.assert_allclose(np.sort(stacked.reshape(70, -1), axis=0), expected, atol=1e-6)
    in_order = np.concatenate(list(make_dataset(source, 32, shuffle=False).as_numpy_iterator()))
    np.testing.assert_allclose(in_order * 255.0, source.images(), atol=1e-3)
    repeated = make_dataset(source, 32, repeat=True).take(5)
    assert sum(1 for _ in repeated) == 5


def test_damaged_cache_entry_is_rebuilt_not_trusted(fake_celeba, tmp_path, monkeypatch):
    monkeypatch.setenv("ZSPACE_CACHE_DIR", str(tmp_path / "env-cache"))
    first = open_source(f"celeba:{fake_celeba}", 32)  # no cache_dir: $ZSPACE_CACHE_DIR
    (entry,) = (tmp_path / "env-cache").glob("*.npy")
    expected = np.array(first.images())
    del first
    entry.write_bytes(entry.read_bytes()[:5000])  # as if the disk filled up under an older version
    again = open_source(f"celeba:{fake_celeba}", 32)
    np.testing.assert_array_equal(again.images(), expected)
    assert again.skipped == 1


def test_parallel_decode_keeps_row_order(fake_celeba, tmp_path):
    from models.data import cache, celeba
    from models.data.decode import SkipImage

    sources = celeba.list_celeba(fake_celeba)["source"].tolist()

    def decode(source):
        return source_module.decode_file(fake_celeba / source, 16, celeba.CROP_FRACTION)

    one = cache.build_entry(tmp_path / "one", "k", 16, sources, decode, SkipImage, workers=1, progress=False)
    four = cache.build_entry(tmp_path / "four", "k", 16, sources, decode, SkipImage, workers=4, progress=False)
    assert one[1] == four[1]
    np.testing.assert_array_equal(one[0], four[0])


def test_unwritable_cache_folder_is_a_clear_error(fake_celeba, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(ZspaceError, match="cannot write the decoded-image cache .*ZSPACE_CACHE_DIR"):
        open_source(f"celeba:{fake_celeba}", 32, cache_dir=blocker / "cache")
