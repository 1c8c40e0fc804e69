"""The bad-input corpus (issue 5): each file is a counted skip with a reason, or the source refuses in one line."""

import io
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from models.data import MAX_PIXELS, open_source
from rundir.errors import ZspaceError
from tests.fakes import make_fake_celeba


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels but holds a few bytes of data (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def messy_folder(tmp_path_factory):
    """A folder tree with one of every kind of bad or unusual file, plus two good JPEGs."""
    root = tmp_path_factory.mktemp("messy")
    (root / "good").mkdir()
    (root / "odd").mkdir()
    (root / "bad").mkdir()
    jpeg = io.BytesIO()
    Image.new("RGB", (64, 80), (90, 120, 200)).save(jpeg, "JPEG")
    (root / "good" / "a.jpg").write_bytes(jpeg.getvalue())
    (root / "good" / "b.JPEG").write_bytes(jpeg.getvalue())
    rgba = Image.new("RGBA", (32, 32), (255, 0, 0, 255))
    rgba.paste((0, 0, 0, 0), (0, 0, 32, 16))  # top half fully transparent
    rgba.save(root / "odd" / "alpha.png")
    ramp = np.tile(np.linspace(0, 65535, 32).astype(np.uint16), (32, 1))
    Image.fromarray(ramp).save(root / "odd" / "deep16.png")
    Image.new("L", (32, 32), 77).save(root / "odd" / "grey.png")
    Image.new("P", (32, 32), 3).save(root / "odd" / "palette.bmp")
    Image.new("RGB", (32, 32), (0, 255, 0)).save(root / "odd" / "green.webp")
    (root / "bad" / "empty.jpg").write_bytes(b"")
    (root / "bad" / "truncated.jpg").write_bytes(jpeg.getvalue()[:200])
    (root / "bad" / "notes.jpg").write_text("this is a text file with an image extension\n")
    (root / "bad" / "bomb.png").write_bytes(png_header_only(8000, 8000))
    (root / "bad" / "giant.png").write_bytes(png_header_only(30000, 30000))
    os.symlink(root / "bad", root / "bad" / "loop")  # bad/loop -> bad: a cycle
    os.symlink(root / "nowhere.jpg", root / "bad" / "dangling.jpg")
    return root


@pytest.fixture(scope="module")
def messy_source(messy_folder, tmp_path_factory):
    return open_source(f"folder:{messy_folder}", 16, cache_dir=tmp_path_factory.mktemp("cache"))


def test_bad_files_are_counted_skips_with_reasons(messy_source):
    reasons = dict(messy_source.skipped_files)
    assert reasons == {
        "bad/empty.jpg": "empty file",
        "bad/truncated.jpg": "corrupt",
        "bad/notes.jpg": "not an image",
        "bad/bomb.png": "too large",
        "bad/giant.png": "too large",
        "bad/dangling.jpg": "missing",
    }
    summary = messy_source.skip_summary()
    assert summary.startswith("skipped 6 of 13 files (")
    assert "2 too large: bad/bomb.png, bad/giant.png" in summary and "\n" not in summary


def test_symlink_loop_is_walked_once(messy_source):
    assert not any("loop" in source for source in messy_source.metadata["source"])
    assert not any("loop" in source for source, _ in messy_source.skipped_files)


def test_unusual_formats_become_rgb(messy_source):
    rows = messy_source.metadata.set_index("source")["row"]
    images = messy_source.images()

    def image(name):
        return images[int(rows[name])].astype(int)

    alpha = image("odd/alpha.png")
    assert alpha[2, 8].tolist() == [255, 255, 255], "transparent pixels are composited on white"
    assert alpha[13, 8].tolist() == [255, 0, 0]
    deep = image("odd/deep16.png")
    assert deep[8, 0, 0] < 20 and deep[8, -1, 0] > 235 and 100 < deep[8, 8, 0] < 160, "16-bit rescaled, not clipped"
    assert image("odd/grey.png")[8, 8].tolist() == [77, 77, 77]
    assert image("odd/green.webp")[8, 8, 1] > 230
    assert image("odd/palette.bmp").shape == (16, 16, 3)
    assert set(messy_source.metadata["label"]) == {"good", "odd"}


def test_bomb_limit_is_far_above_real_photos():
    assert 8000 * 8000 > MAX_PIXELS > 4000 * 4000


def test_empty_folder_is_an_error(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "readme.txt").write_text("no images here")
    with pytest.raises(ZspaceError, match="holds no images"):
        open_source(f"folder:{tmp_path / 'empty'}", 32, cache_dir=tmp_path / "cache")


def test_folder_of_only_broken_files_is_an_error(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "x.jpg").write_bytes(b"")
    with pytest.raises(ZspaceError, match=r"none of the 1 image files could be used .*empty file"):
        open_source(f"folder:{tmp_path / 'broken'}", 32, cache_dir=tmp_path / "cache")


def edit_attribute_file(root, line_number, edit):
    path = root / "list_attr_celeba.txt"
    lines = path.read_text().splitlines()
    lines[line_number - 1] = edit(lines[line_number - 1])
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("line_number", "edit", "message"),
    [
        (1, lambda line: "12", r"line 1: says 12 images but the file lists 5"),
        (1, lambda line: "five", r"line 1: expected the number of images"),
        (4, lambda line: line.rsplit(" ", 1)[0], r"line 4: expected 41 fields .* found 40"),
        (5, lambda line: line[:-2] + " 0", r"line 5: attribute values must be 1 or -1, found '0'"),
    ],
)
def test_malformed_attribute_file_names_the_line(tmp_path, line_number, edit, message):
    root = make_fake_celeba(tmp_path / "celeba", n=5)
    edit_attribute_file(root, line_number, edit)
    with pytest.raises(ZspaceError, match=message) as info:
        open_source(f"celeba:{root}", 32, cache_dir=tmp_path / "cache")
    assert "list_attr_celeba.txt" in str(info.value) and "\n" not in str(info.value)


def test_celeba_without_its_files_is_an_error(tmp_path):
    root = make_fake_celeba(tmp_path / "celeba", n=3)
    (root / "list_attr_celeba.txt").unlink()
    with pytest.raises(ZspaceError, match="has no list_attr_celeba.txt"):
        open_source(f"celeba:{root}", 32, cache_dir=tmp_path / "cache")
    (tmp_path / "plain").mkdir()
    with pytest.raises(ZspaceError, match="has no img_align_celeba"):
        open_source(f"celeba:{tmp_path / 'plain'}", 32, cache_dir=tmp_path / "cache")


def test_bad_partition_line_is_an_error(tmp_path):
    root = make_fake_celeba(tmp_path / "celeba", n=3)
    (root / "list_eval_partition.txt").write_text("000001.jpg 0\n000002.jpg 7\n")
    with pytest.raises(ZspaceError, match=r"list_eval_partition.txt line 2"):
        open_source(f"celeba:{root}", 32, cache_dir=tmp_path / "cache")


def test_listed_but_missing_file_is_a_counted_skip(tmp_path):
    root = make_fake_celeba(tmp_path / "celeba", n=6, missing={2}, partition=False)
    source = open_source(f"celeba:{root}", 32, cache_dir=tmp_path / "cache")
    assert len(source) == 5
    assert source.skip_summary() == "skipped 1 of 6 files (1 missing: img_align_celeba/000003.jpg)"
    assert set(source.metadata["split"]) == {"train"}, "no partition file: everything is train"
