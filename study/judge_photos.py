"""The independent judge for photographs: OpenCV's frontal-face Haar cascade (Viola & Jones, CVPR 2001).

The cascade file ships inside the ``opencv-python-headless`` wheel
(``cv2/data/haarcascade_frontalface_default.xml``), so nothing is downloaded
at run time. An image is a face when the detector finds at least one face of
at least a quarter of the image's side, with OpenCV's default settings
(scale step 1.1, 3 neighbours); it has no threshold of ours. Its accuracy
on a run's own training photographs (known faces) and on known non-faces
made of them is measured per run (:func:`accuracy`).
"""

from __future__ import annotations

import numpy as np

from analysis import intervals

#: The cascade inside the wheel.
CASCADE = "haarcascade_frontalface_default.xml"
#: Images are enlarged to this side before detection (the cascade's window is 24 pixels; faces fill a crop).
DETECT_SIDE = 128
#: OpenCV's defaults of detectMultiScale.
SCALE_FACTOR = 1.1
MIN_NEIGHBOURS = 3
#: Kinds of known non-faces made of photographs.
NEGATIVES = ("noise", "blobs", "tiles")

_DETECTOR = []


def detector():
    """The cascade classifier (loaded once per process)."""
    if not _DETECTOR:
        import cv2

        cascade = cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE)
        if cascade.empty():
            raise RuntimeError(f"OpenCV's {CASCADE} could not be loaded from the opencv-python-headless wheel")
        _DETECTOR.append(cascade)
    return _DETECTOR[0]


def detect(images) -> np.ndarray:
    """True for each image (uint8 or float in [0, 1], N x S x S x 3) in which the cascade finds a face."""
    import cv2

    arr = np.asarray(images)
    if arr.dtype != np.uint8:
        arr = np.clip(np.rint(arr.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)
    cascade = detector()
    found = np.zeros(len(arr), dtype=bool)
    least = DETECT_SIDE // 4
    for i, image in enumerate(arr):
        grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
        grey = cv2.resize(grey, (DETECT_SIDE, DETECT_SIDE), interpolation=cv2.INTER_LINEAR)
        faces = cascade.detectMultiScale(
            grey, scaleFactor=SCALE_FACTOR, minNeighbors=MIN_NEIGHBOURS, minSize=(least, least)
        )
        found[i] = len(faces) > 0
    return found


def known_negatives(kind: str, photos: np.ndarray, random_state=0) -> np.ndarray:
    """Non-faces made of ``photos`` (uint8, N x S x S x 3): ``noise``, ``blobs`` or ``tiles`` (4 x 4, shuffled)."""
    n, size = len(photos), photos.shape[1]
    gen = np.random.default_rng([int(random_state), NEGATIVES.index(kind) if kind in NEGATIVES else 99])
    if kind == "noise":
        return gen.integers(0, 256, photos.shape).astype(np.uint8)
    if kind == "blobs":
        cells = gen.integers(0, 256, (n, 4, 4, 3)).astype(np.uint8)
        return np.repeat(np.repeat(cells, -(-size // 4), axis=1), -(-size // 4), axis=2)[:, :size, :size]
    if kind == "tiles":
        side = size // 4
        out = photos.copy()
        tiles = photos[:, : 4 * side, : 4 * side].reshape(n, 4, side, 4, side, 3).transpose(0, 1, 3, 2, 4, 5)
        tiles = tiles.reshape(n, 16, side, side, 3)
        order = np.argsort(gen.random((n, 16)), axis=1)
        shuffled = np.take_along_axis(tiles, order[:, :, None, None, None], axis=1)
        out[:, : 4 * side, : 4 * side] = (
            shuffled.reshape(n, 4, 4, side, side, 3).transpose(0, 1, 3, 2, 4, 5).reshape(n, 4 * side, 4 * side, 3)
        )
        return out
    raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(NEGATIVES)}")


def accuracy(photos: np.ndarray, random_state=0) -> dict:
    """Share of known faces (``photos``) detected and of each known non-face kind not detected, with Wilson intervals."""
    out = {}
    for kind in ("face", *NEGATIVES):
        images = photos if kind == "face" else known_negatives(kind, photos, random_state)
        found = detect(images)
        share, lo, hi = intervals.share(found if kind == "face" else ~found)
        out.update({kind: share, f"{kind}_lo": lo, f"{kind}_hi": hi})
    out["balanced"] = float((out["face"] + np.mean([out[k] for k in NEGATIVES])) / 2)
    return out
