"""Small image helpers: uint8 arrays to PNG data URIs for ``html.Img``."""

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
