"""A fake CelebA folder in the exact published layout, for tests, benchmarks and demos without the real data.

``make_fake_celeba(path, n, corrupt=...)`` writes a small CelebA folder (178 x 218
JPEGs of procedural faces, ``list_attr_celeba.txt`` with the 40 attributes,
``list_eval_partition.txt``). Tests import it as ``from tests.fakes import make_fake_celeba``.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np
from PIL import Image

CELEBA_ATTRIBUTES = [
    "5_o_Clock_Shadow",
    "Arched_Eyebrows",
    "Attractive",
    "Bags_Under_Eyes",
    "Bald",
    "Bangs",
    "Big_Lips",
    "Big_Nose",
    "Black_Hair",
    "Blond_Hair",
    "Blurry",
    "Brown_Hair",
    "Bushy_Eyebrows",
    "Chubby",
    "Double_Chin",
    "Eyeglasses",
    "Goatee",
    "Gray_Hair",
    "Heavy_Makeup",
    "High_Cheekbones",
    "Male",
    "Mouth_Slightly_Open",
    "Mustache",
    "Narrow_Eyes",
    "No_Beard",
    "Oval_Face",
    "Pale_Skin",
    "Pointy_Nose",
    "Receding_Hairline",
    "Rosy_Cheeks",
    "Sideburns",
    "Smiling",
    "Straight_Hair",
    "Wavy_Hair",
    "Wearing_Earrings",
    "Wearing_Hat",
    "Wearing_Lipstick",
    "Wearing_Necklace",
    "Wearing_Necktie",
    "Young",
]


def celeba_name(index: int) -> str:
    """CelebA's file name of 0-based image ``index`` (``000001.jpg`` for 0)."""
    return f"{index + 1:06d}.jpg"


def make_fake_celeba(
    path: str | Path,
    n: int = 40,
    corrupt: Collection[int] = (),
    missing: Collection[int] = (),
    partition: bool = True,
    seed: int = 0,
) -> Path:
    """Write a CelebA-layout folder of ``n`` images under ``path`` and return ``path``.

    Parameters
    ----------
    path : path-like
        Dataset root to create.
    n : int
        Images listed in the attribute file.
    corrupt : collection of int
        0-based indices whose JPEG is truncated (decoding fails).
    missing : collection of int
        0-based indices listed in the attribute file but not written to disk.
    partition : bool
        Also write ``list_eval_partition.txt`` (80% train, 10% valid, 10% test).
    seed : int
        Seed of the faces and of the attribute values.
    """
    from models.data.faces import render_faces

    root = Path(path)
    images_dir = root / "img_align_celeba"
    images_dir.mkdir(parents=True, exist_ok=True)
    # Procedural faces cropped to CelebA's 178 x 218 portrait format.
    # Rendered small and enlarged: a fixture must be quick, not pretty.
    faces = render_faces(seed, np.arange(n), 112)
    for index in range(n):
        if index in missing:
            continue
        target = images_dir / celeba_name(index)
        portrait = Image.fromarray(faces[index]).resize((224, 224), Image.Resampling.BILINEAR).crop((23, 3, 201, 221))
        portrait.save(target, quality=90)
        if index in corrupt:
            target.write_bytes(target.read_bytes()[:300])
    rng = np.random.default_rng(seed)
    values = rng.choice([-1, 1], size=(n, len(CELEBA_ATTRIBUTES)))
    # CelebA pads its columns with double spaces before positive values; keep that quirk.
    rows = [celeba_name(i) + " " + " ".join(f"{v:2d}" for v in values[i]) for i in range(n)]
    (root / "list_attr_celeba.txt").write_text(f"{n}\n" + " ".join(CELEBA_ATTRIBUTES) + "\n" + "\n".join(rows) + "\n")
    if partition:
        splits = [0 if i < 0.8 * n else 1 if i < 0.9 * n else 2 for i in range(n)]
        (root / "list_eval_partition.txt").write_text("".join(f"{celeba_name(i)} {s}\n" for i, s in enumerate(splits)))
    return root
