"""An independent judge of "is this one of our faces", sharing no code or threshold with the meaningful verdict.

For the built-in faces (``--data synthetic``) the renderer knows every factor,
so the judge is *analysis by synthesis*: a ridge regressor trained on renders
reads the face's factors off an image, a coordinate search improves them
until the re-rendered face (allowed a Gaussian blur, as decoders blur) is as
close to the image as it gets, and the remaining RMS pixel error says
whether the renderer can make this image (after the best colour map per
channel: decoders shift colours and contrast too). A decoded face leaves the
error of a blurred render; misplaced or doubled face parts, tiles and noise
leave far more. Nothing here reads a run: the regressor and the threshold come from
renders of the judge's own seed and from negatives made without any model
(:func:`known_images`), and its accuracy on fresh ones of each is stated
with it (:func:`calibrate`).

For photographs the judge is OpenCV's frontal-face Haar cascade
(:mod:`study.judge_photos`).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from analysis import intervals
from models.data import faces

#: Side the judge works at: images are area-averaged to it (decoded faces are blurred well beyond it).
SIDE = 32
#: Seeds of the judge's own renders (training, calibration, test): no demo or test run uses them.
SEEDS = {"train": 0x1D6E0, "calibration": 0x1D6E1, "test": 0x1D6E2}
#: Renders the regressor is trained on.
N_TRAIN = 6000
#: Known positives and known negatives of each kind in the calibration and the test sets.
N_KNOWN = 128
#: The uniforms that shape a face (the renderer draws N_UNIFORMS; the rest are spare).
USED = 23
#: Ridge penalty of the regressor (pixels in [0, 1] at SIDE x SIDE x 3).
RIDGE_ALPHA = 1.0
#: Gaussian blurs (pixels at SIDE) a re-rendered face may be given to match a blurred image.
BLURS = (0.0, 0.5, 1.0, 1.5, 2.0)
#: Step of each sweep of the coordinate search over the uniforms.
SWEEPS = (0.15, 0.05)
#: Uniforms that switch a part on or off (hair style, bangs, glasses, open mouth): tried at these values.
SWITCHES = {15: (0.05, 0.3, 0.8), 16: (0.2, 0.7), 17: (0.1, 0.6), 18: (0.1, 0.6)}
#: Known negatives: kinds of image no renderer setting makes (see :func:`known_images`).
NEGATIVES = ("noise", "blobs", "tiles", "blend")


def to_side(images, side: int = SIDE) -> np.ndarray:
    """Images as float32 in [0, 255] at ``side`` x ``side`` (area average; sides must divide)."""
    arr = np.asarray(images, dtype=np.float32)
    if arr.dtype != np.uint8 and arr.size and float(np.max(arr)) <= 1.0 + 1e-6:
        arr = arr * 255.0
    size = arr.shape[1]
    if arr.ndim != 4 or arr.shape[2] != size or arr.shape[3] != 3:
        raise ValueError(f"images must be N x S x S x 3, got shape {arr.shape}")
    if size % side:
        raise ValueError(f"image side {size} is not a multiple of the judge's side {side}")
    f = size // side
    return arr.reshape(len(arr), side, f, side, f, 3).mean(axis=(2, 4)) if f > 1 else arr


def _blurred(images: np.ndarray, sigma: float) -> np.ndarray:
    return images if sigma == 0 else ndimage.gaussian_filter(images, sigma=(0, sigma, sigma, 0), mode="nearest")


def _blur_each(images: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    out = np.empty_like(images)
    for sigma in np.unique(sigmas):
        chosen = sigmas == sigma
        out[chosen] = _blurred(images[chosen], float(sigma))
    return out


def _features(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1) / 255.0


def fit_regressor(n: int = N_TRAIN, seed: int = SEEDS["train"]) -> dict:
    """The ridge regressor from an image (at :data:`SIDE`) to its face's uniforms, trained on blurred renders.

    Returns
    -------
    dict
        ``weights`` (SIDE * SIDE * 3 + 1, USED): the linear map with its intercept in the last row.
    """
    u = faces.face_uniforms(seed, np.arange(n))[:, :USED]
    images = faces.render_faces(seed, np.arange(n), SIDE).astype(np.float32)
    # Decoders blur: the regressor sees each render at a random one of the blurs it will meet.
    sigmas = np.asarray(BLURS)[np.random.default_rng(seed).integers(0, len(BLURS), n)]
    x = np.c_[_features(_blur_each(images, sigmas)), np.ones(n)]
    penalty = RIDGE_ALPHA * np.eye(x.shape[1])
    penalty[-1, -1] = 0.0  # no penalty on the intercept
    return {"weights": np.linalg.solve(x.T @ x + penalty, x.T @ u).astype(np.float64)}


def _render(u: np.ndarray) -> np.ndarray:
    full = np.full((len(u), faces.N_UNIFORMS), 0.5)
    full[:, :USED] = u
    return faces.render_uniforms(full, SIDE).astype(np.float32)


def _errors(renders: np.ndarray, images: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    # RMS residual after the best colour map per channel, image = gain * render + offset with gain >= 0:
    # a decoder shifts colours and contrast as well as blurring, and a face stays a face.
    r = _blur_each(renders, sigmas).reshape(len(images), -1, 3)
    x = images.reshape(len(images), -1, 3)
    r = r - r.mean(axis=1, keepdims=True)
    x = x - x.mean(axis=1, keepdims=True)
    var_r, var_x = np.mean(r * r, axis=1), np.mean(x * x, axis=1)
    cov = np.mean(r * x, axis=1)
    gain = np.where(var_r > 1e-9, np.maximum(cov, 0.0) / np.maximum(var_r, 1e-9), 0.0)
    residual = np.maximum(var_x - 2 * gain * cov + gain * gain * var_r, 0.0)
    return np.sqrt(residual.mean(axis=1)) / 255.0


def _best_blur(renders: np.ndarray, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    errors = np.stack([_errors(renders, images, np.full(len(images), s)) for s in BLURS], axis=1)
    return np.asarray(BLURS)[errors.argmin(axis=1)], errors.min(axis=1)


def synthesis(regressor: dict, images) -> dict:
    """Analysis by synthesis of each image: the face the renderer makes closest to it, and how close.

    Parameters
    ----------
    regressor : dict
        :func:`fit_regressor`'s result.
    images : array_like, shape (N, S, S, 3)
        uint8 in [0, 255] or float in [0, 1]; S a multiple of :data:`SIDE`.

    Returns
    -------
    dict
        ``error`` (N,): RMS pixel error (in [0, 1] units) between the image at :data:`SIDE` and the
        best re-rendered face, blurred by ``blur`` (N,) pixels; ``uniforms`` (N, USED) of that face.
    """
    x = to_side(images)
    weights = np.asarray(regressor["weights"])
    u = np.clip(np.c_[_features(x), np.ones(len(x))] @ weights, 0.0, 1.0)
    sigmas, best = _best_blur(_render(u), x)
    for step in SWEEPS:
        trials = [(j, sign * step, None) for j in range(USED) for sign in (-1, 1)]
        trials += [(j, 0.0, value) for j, values in SWITCHES.items() for value in values]
        for j, move, value in trials:
            candidate = u.copy()
            candidate[:, j] = value if value is not None else np.clip(candidate[:, j] + move, 0.0, 1.0)
            error = _errors(_render(candidate), x, sigmas)
            better = error < best
            u[better], best[better] = candidate[better], error[better]
        sigmas, best = _best_blur(_render(u), x)
    return {"error": best, "blur": sigmas, "uniforms": u}


def known_images(kind: str, n: int, seed: int, size: int = SIDE) -> np.ndarray:
    """``n`` uint8 images (size x size x 3) whose answer is known without any model.

    ``face``: renders of ``seed``, each blurred by a random one of :data:`BLURS`
    (scaled to ``size``), as a decoder would; the negatives: ``noise`` (uniform
    pixels), ``blobs`` (4 x 4 random colours, enlarged), ``tiles`` (a render cut
    into 4 x 4 tiles, shuffled: face colours and parts in the wrong places) and
    ``blend`` (the average of two renders: a double exposure of two faces).
    """
    gen = np.random.default_rng([seed, NEGATIVES.index(kind) + 1 if kind in NEGATIVES else 0])
    if kind == "face":
        images = faces.render_faces(seed, np.arange(n), size).astype(np.float32)
        sigmas = np.asarray(BLURS)[gen.integers(0, len(BLURS), n)] * size / SIDE
        return np.clip(np.rint(_blur_each(images, sigmas)), 0, 255).astype(np.uint8)
    if kind == "noise":
        return gen.integers(0, 256, (n, size, size, 3)).astype(np.uint8)
    if kind == "blobs":
        cells = gen.integers(0, 256, (n, 4, 4, 3)).astype(np.uint8)
        return np.repeat(np.repeat(cells, size // 4, axis=1), size // 4, axis=2)
    if kind == "tiles":
        side = size // 4
        tiles = faces.render_faces(seed, np.arange(n) + n, size).reshape(n, 4, side, 4, side, 3)
        tiles = tiles.transpose(0, 1, 3, 2, 4, 5).reshape(n, 16, side, side, 3)
        order = np.argsort(gen.random((n, 16)), axis=1)
        shuffled = np.take_along_axis(tiles, order[:, :, None, None, None], axis=1)
        return shuffled.reshape(n, 4, 4, side, side, 3).transpose(0, 1, 3, 2, 4, 5).reshape(n, size, size, 3)
    if kind == "blend":
        first = faces.render_faces(seed, np.arange(n) + 2 * n, size).astype(np.float32)
        second = faces.render_faces(seed, np.arange(n) + 3 * n, size).astype(np.float32)
        return np.rint((first + second) / 2).astype(np.uint8)
    raise ValueError(f"unknown kind {kind!r}; choose face or one of {', '.join(NEGATIVES)}")


def calibrate(regressor: dict, n: int = N_KNOWN) -> dict:
    """The judge's threshold, from known faces and known negatives, and its accuracy on fresh ones.

    The threshold is the synthesis error that best separates the calibration
    faces from the calibration negatives (highest balanced accuracy: the mean
    of the share of faces below it and the share of negatives above it, every
    negative kind weighted alike). It is then applied to a test set of other
    renders and other negatives, which gives the accuracy stated with the judge.

    Returns
    -------
    dict
        ``threshold``; ``accuracy``: kind (``face`` and each of :data:`NEGATIVES`) -> share judged
        correctly on the test set, with ``<kind>_lo`` / ``<kind>_hi`` (Wilson 95 %); ``balanced``:
        the mean over the face set and the negatives.
    """
    errors = {
        part: {kind: synthesis(regressor, known_images(kind, n, SEEDS[part]))["error"] for kind in ("face", *NEGATIVES)}
        for part in ("calibration", "test")
    }
    cal = errors["calibration"]
    candidates = np.unique(np.concatenate(list(cal.values())))
    cuts = (candidates[:-1] + candidates[1:]) / 2

    def balanced(cut: float, errs: dict) -> float:
        negatives = np.mean([np.mean(errs[kind] > cut) for kind in NEGATIVES])
        return (np.mean(errs["face"] <= cut) + negatives) / 2

    threshold = float(max(cuts, key=lambda cut: balanced(cut, cal)))
    accuracy = {}
    for kind, values in errors["test"].items():
        correct = values <= threshold if kind == "face" else values > threshold
        share, lo, hi = intervals.share(correct)
        accuracy.update({kind: share, f"{kind}_lo": lo, f"{kind}_hi": hi})
    accuracy["balanced"] = float((accuracy["face"] + np.mean([accuracy[k] for k in NEGATIVES])) / 2)
    return {"threshold": threshold, "accuracy": accuracy}
