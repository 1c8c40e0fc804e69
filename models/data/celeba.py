"""Read CelebA's published layout: the image folder, the attribute table and the split.

Layout under the dataset root::

    img_align_celeba/000001.jpg ...        178 x 218 aligned faces
    list_attr_celeba.txt                   line 1: image count; line 2: 40 attribute names;
                                           then "000001.jpg  -1  1 ..." (whitespace-separated)
    list_eval_partition.txt (optional)     "000001.jpg 0" with 0/1/2 = train/valid/test

Any deviation in the text files is an error naming the file and line: a
dataset with a shifted column would silently mislabel every image otherwise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rundir.errors import ZspaceError

IMAGE_DIR = "img_align_celeba"
ATTRIBUTES = "list_attr_celeba.txt"
PARTITION = "list_eval_partition.txt"
SPLITS = {"0": "train", "1": "valid", "2": "test"}

#: CelebA's aligned images are 178 x 218 with the eyes at a fixed height. We crop
#: the central 148 x 148 square (box 15, 35, 163, 183 of the original): it keeps
#: the face from brow to chin and drops most background, the crop commonly used
#: for VAEs on CelebA, so the model spends its capacity on the face.
CROP_FRACTION = 148 / 178


def _attribute_row(path: Path, number: int, fields: list[str], n_names: int) -> list[str]:
    # One image's line: its file name and one 1 / -1 per attribute, checked.
    if len(fields) != n_names + 1:
        raise ZspaceError(
            f"{path} line {number}: expected {n_names + 1} fields (file name + {n_names} attributes), "
            f"found {len(fields)}"
        )
    bad = next((value for value in fields[1:] if value not in ("1", "-1")), None)
    if bad is not None:
        raise ZspaceError(f"{path} line {number}: attribute values must be 1 or -1, found {bad[:20]!r}")
    return fields


def read_attributes(root: Path) -> pd.DataFrame:
    """Parse ``list_attr_celeba.txt`` into a frame: ``file`` then 40 int8 columns of 0/1.

    CelebA writes -1/1; we store 0/1 (1 = attribute present) so that means and
    colour scales read directly as "fraction with the attribute".

    Raises
    ------
    ZspaceError
        If the file is missing or malformed (count line, header, a row's field
        count, a value other than -1/1), naming the line.
    """
    path = root / ATTRIBUTES
    if not path.is_file():
        raise ZspaceError(f"CelebA folder {root} has no {ATTRIBUTES}; expected the published CelebA layout")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ZspaceError(f"cannot read {path}: {exc}") from None
    if len(lines) < 2:
        raise ZspaceError(f"{path} is too short: expected a count line and a line of attribute names")
    count_field = lines[0].strip()
    if not count_field.isdigit():
        raise ZspaceError(f"{path} line 1: expected the number of images, found {count_field[:40]!r}")
    names = lines[1].split()
    if not names:
        raise ZspaceError(f"{path} line 2: expected the attribute names, found an empty line")
    entries = [
        _attribute_row(path, number, fields, len(names))
        for number, line in enumerate(lines[2:], start=3)
        if (fields := line.split())
    ]
    files = [entry[0] for entry in entries]
    rows = [entry[1:] for entry in entries]
    if int(count_field) != len(files):
        raise ZspaceError(f"{path} line 1: says {int(count_field)} images but the file lists {len(files)}")
    values = (np.array(rows, dtype=np.int8) > 0).astype(np.int8) if rows else np.zeros((0, len(names)), np.int8)
    frame = pd.DataFrame(values, columns=names)
    frame.insert(0, "file", files)
    return frame


def read_partition(root: Path) -> dict[str, str]:
    """Parse the optional ``list_eval_partition.txt`` into ``{file: split}`` (empty if absent)."""
    path = root / PARTITION
    if not path.is_file():
        return {}
    splits: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in SPLITS:
            raise ZspaceError(f"{path} line {number}: expected 'file 0|1|2', found {line.strip()[:60]!r}")
        splits[fields[0]] = SPLITS[fields[1]]
    return splits


def list_celeba(root: Path) -> pd.DataFrame:
    """Return the candidate images of a CelebA root.

    Columns: ``source`` (path relative to ``root``), ``id`` (file name),
    ``split`` (from the partition file, ``train`` where it has no entry), then
    the 40 attributes. Files listed but absent on disk stay in the list; the
    decoder counts them as skipped (``missing``).
    """
    if not (root / IMAGE_DIR).is_dir():
        raise ZspaceError(f"CelebA folder {root} has no {IMAGE_DIR}/ sub-folder; expected the published CelebA layout")
    attributes = read_attributes(root)
    splits = read_partition(root)
    for name in attributes["file"]:
        if "/" in name or "\\" in name or name in ("", ".", ".."):
            raise ZspaceError(f"{root / ATTRIBUTES}: file name {name[:60]!r} must be a plain name inside {IMAGE_DIR}/")
    listing = pd.DataFrame(
        {
            "id": attributes["file"].astype(str),
            "source": [f"{IMAGE_DIR}/{name}" for name in attributes["file"]],
            "split": [splits.get(name, "train") for name in attributes["file"]],
        }
    )
    return pd.concat([listing, attributes.drop(columns="file")], axis=1)
