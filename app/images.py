"""Small image helpers: uint8 arrays to PNG data URIs for ``html.Img``, and strips of several images."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image


def to_data_uri(image: np.ndarray) -> str:
    """Encode a uint8 image (S x S x C with C in 1, 3, 4) as a ``data:image/png`` URI."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    buffer = io.BytesIO()
    Image.fromarray(image.astype(np.uint8)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def strip(images, columns: int | None = None, gap: int = 2, background: int = 255) -> np.ndarray:
    """Tile equally sized uint8 images into one image, row by row, with a ``gap``-pixel border between them.

    Parameters
    ----------
    images : array_like, shape (K, S, S, C) or (K, S, S)
    columns : int, optional
        Images per row (default: all K in one row).
    gap : int
        Pixels of ``background`` between neighbouring images and around the strip.
    background : int
        Grey level of the gaps (0..255).

    Returns
    -------
    ndarray of uint8, shape (H, W, C)
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"images must be K x S x S x C with K >= 1, got shape {images.shape}")
    count, height, width, channels = images.shape
    columns = count if columns is None else max(1, min(int(columns), count))
    rows = -(-count // columns)
    gap = max(0, int(gap))
    out = np.full(
        (rows * (height + gap) + gap, columns * (width + gap) + gap, channels), int(background), dtype=np.uint8
    )
    for index, image in enumerate(images):
        top = gap + (index // columns) * (height + gap)
        left = gap + (index % columns) * (width + gap)
        out[top : top + height, left : left + width] = np.clip(image, 0, 255).astype(np.uint8)
    return out
