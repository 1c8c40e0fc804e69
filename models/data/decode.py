"""Decode one image file into a square uint8 RGB array, or say why it cannot be used.

Every file a user points zspace at goes through :func:`decode_file`. It refuses
oversized images from their header (before any pixel is decoded, so a
decompression bomb costs nothing), converts every PIL mode to 8-bit RGB,
centre-crops to a square and resizes. Problems are raised as :class:`SkipImage`
with a short reason; the sources count them instead of aborting.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

#: Largest image (width x height) we agree to decode. Far above any face photo
#: (CelebA in-the-wild tops out near 10 Mpx) yet small enough that one decode
#: cannot exhaust the memory of a shared server.
MAX_PIXELS = 50_000_000

#: Extensions the folder source picks up (lower case, with the dot).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")

# Pillow warns about large images itself; our own MAX_PIXELS check below is
# stricter and gives a counted skip with a reason, so its warning is only noise.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
# A truncated JPEG must be reported as corrupt, never padded with grey.
ImageFile.LOAD_TRUNCATED_IMAGES = False

#: Background on which transparent pixels are composited: white, the usual
#: page colour behind a cut-out portrait.
ALPHA_BACKGROUND = (255, 255, 255)


class SkipImage(Exception):
    """A file that cannot be used; ``reason`` is a short word group such as ``corrupt``."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def decode_file(path: str | os.PathLike, size: int, crop_fraction: float = 1.0) -> np.ndarray:
    """Decode ``path`` into a uint8 ``(size, size, 3)`` array.

    Parameters
    ----------
    path : path-like
        The image file.
    size : int
        Side of the output square.
    crop_fraction : float
        Side of the centred square crop as a fraction of the shorter image side
        (1.0: the largest centred square).

    Raises
    ------
    SkipImage
        ``missing``, ``empty file``, ``not an image``, ``too large`` or ``corrupt``.
    """
    try:
        if os.path.getsize(path) == 0:
            raise SkipImage("empty file")
        with Image.open(path) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise SkipImage("too large", f"{width}x{height} pixels, limit {MAX_PIXELS // 1_000_000} Mpx")
            # Let libjpeg scale down by 1/2, 1/4 or 1/8 while decoding when the
            # result stays at least ``size`` wide: CelebA decodes about 2x faster.
            if image.format == "JPEG":
                image.draft("RGB", (max(1, int(size / crop_fraction)),) * 2)
            image.load()
            rgb = to_rgb(image)
    except SkipImage:
        raise
    except FileNotFoundError:
        raise SkipImage("missing") from None
    except UnidentifiedImageError:
        raise SkipImage("not an image") from None
    except Image.DecompressionBombError as exc:
        raise SkipImage("too large", str(exc)) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        # Pillow reports truncated or malformed data as any of these.
        raise SkipImage("corrupt", str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    return crop_and_resize(rgb, size, crop_fraction)


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any PIL mode to 8-bit RGB.

    16-bit and 32-bit greyscale is rescaled to 8 bits (Pillow's own convert
    would clip everything above 255 to white); transparency is composited on
    :data:`ALPHA_BACKGROUND`.
    """
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        values = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        grey = np.clip(values / peak * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if image.mode == "F":
        grey = np.clip(np.asarray(image, dtype=np.float64), 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, ALPHA_BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB") if image.mode != "RGB" else image


def crop_and_resize(image: Image.Image, size: int, crop_fraction: float = 1.0) -> np.ndarray:
    """Centre-crop ``image`` to a square and resize it to ``size``; return uint8 (size, size, 3)."""
    width, height = image.size
    side = max(1, round(min(width, height) * crop_fraction))
    left = (width - side) // 2
    top = (height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    # Box filtering when shrinking averages every source pixel (no aliasing);
    # bicubic when enlarging small images.
    method = Image.Resampling.BOX if side >= size else Image.Resampling.BICUBIC
    array = np.asarray(square.resize((size, size), method), dtype=np.uint8)
    return np.ascontiguousarray(array)
