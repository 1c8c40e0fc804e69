"""The built-in procedural face generator behind ``--data synthetic[:N]``.

Each face is drawn from a fixed vector of uniform random numbers that depends
only on ``(seed, index)``, so any single face can be regenerated on its own (the
dashboard does this to show the original of a z-point). The numbers map to
ground-truth *factors* (smile, head position, tilt, skin tone, hair style ...)
which become metadata columns, like CelebA's attributes.

Rendering is vectorised over a batch of faces: every shape is a soft-edged
region computed with numpy broadcasting on a ``(B, S, S)`` coordinate grid in
each face's own rotated and scaled frame; edges are one pixel wide ramps, which
anti-aliases them without the cost of supersampling.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: Uniform numbers drawn per face; fixed so that adding a factor later does not
#: change the faces of existing seeds as long as it uses a spare slot.
N_UNIFORMS = 32

#: Continuous factors (floats) and binary factors (0/1), in metadata column order.
CONTINUOUS_FACTORS = (
    "smile",
    "head_x",
    "head_y",
    "head_scale",
    "tilt",
    "face_width",
    "skin_tone",
    "hair_hue",
    "hair_lightness",
    "eye_size",
    "eye_spacing",
    "iris_hue",
    "brow_raise",
    "bg_hue",
    "bg_lightness",
)
BINARY_FACTORS = ("glasses", "long_hair", "bangs", "bald", "open_mouth")

# Skin colours at skin_tone 0 (light) and 1 (dark).
_SKIN_LIGHT = np.array([0.96, 0.80, 0.69], dtype=np.float32)
_SKIN_DARK = np.array([0.36, 0.23, 0.16], dtype=np.float32)


def face_uniforms(seed: int, indices: np.ndarray) -> np.ndarray:
    """Return the ``(len(indices), N_UNIFORMS)`` uniforms that define each face.

    One generator per face, seeded by ``(seed, index)``, is what makes a face
    reproducible without generating the faces before it.
    """
    indices = np.asarray(indices, dtype=np.int64)
    out = np.empty((len(indices), N_UNIFORMS), dtype=np.float64)
    for k, index in enumerate(indices):
        out[k] = np.random.default_rng([int(seed), int(index), 0x7A]).random(N_UNIFORMS)
    return out


def face_factors(seed: int, indices: np.ndarray) -> dict[str, np.ndarray]:
    """Return the ground-truth factors of faces ``indices`` of ``seed``.

    Returns
    -------
    dict
        Column name -> array of length ``len(indices)``: float32 for the
        continuous factors (most in [-1, 1] or [0, 1]), int8 0/1 for the binary ones.
    """
    return factors_from_uniforms(face_uniforms(seed, indices))


def factors_from_uniforms(uniforms) -> dict[str, np.ndarray]:
    """The factors of faces given by their uniforms (``(B, N_UNIFORMS)`` numbers in [0, 1]); see :func:`face_factors`.

    Any numbers in [0, 1] make a face: this is how analysis by synthesis
    (``study.judge``) renders the face it infers from an image.
    """
    u = np.asarray(uniforms, dtype=np.float32)
    if u.ndim != 2 or u.shape[1] != N_UNIFORMS:
        raise ValueError(f"uniforms must be B x {N_UNIFORMS}, got shape {u.shape}")
    style = u[:, 15]  # hair style: bald, short, bangs, long (long may also have bangs)
    bald = style < 0.12
    long_hair = style >= 0.55
    bangs = ~bald & (u[:, 16] < 0.35)
    return {
        "smile": u[:, 0] * 2 - 1,
        "head_x": (u[:, 1] * 2 - 1) * 0.10,
        "head_y": (u[:, 2] * 2 - 1) * 0.08,
        "head_scale": 0.82 + u[:, 3] * 0.26,
        "tilt": (u[:, 4] * 2 - 1) * 0.25,
        "face_width": 0.30 + u[:, 5] * 0.08,
        "skin_tone": u[:, 6] ** 1.3,
        "hair_hue": u[:, 7] * 0.11,
        "hair_lightness": u[:, 8],
        "eye_size": 0.8 + u[:, 9] * 0.45,
        "eye_spacing": 0.115 + u[:, 10] * 0.04,
        "iris_hue": u[:, 11],
        "brow_raise": u[:, 12],
        "bg_hue": u[:, 13],
        "bg_lightness": 0.35 + u[:, 14] * 0.55,
        "glasses": (u[:, 17] < 0.25).astype(np.int8),
        "long_hair": long_hair.astype(np.int8),
        "bangs": bangs.astype(np.int8),
        "bald": bald.astype(np.int8),
        "open_mouth": ((u[:, 18] < 0.3) & (u[:, 0] > 0.55)).astype(np.int8),
        "_bg_tilt": u[:, 19] * 2 - 1,
        "_shirt_hue": u[:, 20],
        "_hair_sat": 0.35 + u[:, 21] * 0.4,
        "_face_length": 0.42 + u[:, 22] * 0.05,
    }


def render_faces(seed: int, indices: np.ndarray, size: int, batch: int = 64, workers: int | None = None) -> np.ndarray:
    """Render faces ``indices`` of ``seed`` as uint8 ``(len(indices), size, size, 3)``.

    Batches of 64 faces keep each ``(B, S, S)`` plane inside the CPU cache; the
    batches run on a thread pool because numpy releases the GIL inside its
    element-wise loops, so threads use every core without pickling arrays.
    """
    indices = np.asarray(indices, dtype=np.int64)
    return _render_batches(len(indices), lambda s: face_factors(seed, indices[s]), size, batch, workers)


def _render_batches(count: int, factors_of, size: int, batch: int = 64, workers: int | None = None) -> np.ndarray:
    # factors_of(slice) -> the factors of those faces; each batch rendered on a thread of the pool.
    out = np.empty((count, size, size, 3), dtype=np.uint8)
    starts = range(0, count, batch)

    def render_batch(start: int) -> None:
        part = slice(start, min(start + batch, count))
        out[part] = _render(factors_of(part), size)

    workers = workers or min(4, os.cpu_count() or 1)
    if workers == 1 or len(starts) == 1:
        for start in starts:
            render_batch(start)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(render_batch, starts))
    return out


def render_uniforms(uniforms, size: int, workers: int | None = None) -> np.ndarray:
    """Render the faces of ``uniforms`` (``(B, N_UNIFORMS)`` in [0, 1]) as uint8 ``(B, size, size, 3)``."""
    u = np.clip(np.asarray(uniforms, dtype=np.float32), 0.0, 1.0)
    return _render_batches(len(u), lambda s: factors_from_uniforms(u[s]), size, workers=workers)


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vectorised HSV -> RGB for arrays of shape (B,); returns (B, 3) float32."""
    h = np.asarray(h, np.float32)[:, None]
    k = (np.array([5.0, 3.0, 1.0], np.float32)[None, :] + h * 6.0) % 6.0
    rgb = v[:, None] - v[:, None] * s[:, None] * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)
    return rgb.astype(np.float32)


def _cover(distance: np.ndarray, pixel: np.ndarray) -> np.ndarray:
    """Soft coverage of a region from an (approximate) signed distance: 1 inside, ramp 1 pixel wide."""
    return np.clip(0.5 - distance / pixel, 0.0, 1.0)


def _ellipse(u, v, cu, cv, a, b):
    """Approximate signed distance to an axis-aligned ellipse (negative inside)."""
    du = (u - cu) / a
    dv = (v - cv) / b
    return (np.sqrt(du * du + dv * dv) - 1.0) * np.minimum(a, b)


def _paint(image: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> None:
    """Blend ``colour`` ((B,3) or (B,3,S,S)) into ``image`` (B,3,S,S) in place with coverage ``alpha`` (B,S,S).

    Channels come first so that numpy's inner loops run over whole image rows
    rather than over 3 colour values, which is several times faster.
    """
    if colour.ndim == 2:
        colour = colour[:, :, None, None]
    blend = np.subtract(colour, image, dtype=np.float32)
    blend *= alpha[:, None]
    image += blend


def _col(x: np.ndarray) -> np.ndarray:
    """Shape a per-face value (B,) for broadcasting against (B, S, S)."""
    return np.asarray(x, np.float32)[:, None, None]


#: Face-frame box (u_min, u_max, v_min, v_max) that holds eyes, brows, glasses, nose and mouth.
_FEATURE_BOX = (-0.3, 0.3, -0.27, 0.4)


def _feature_window(f, axis, scale, cos_t, sin_t) -> tuple[slice, slice]:
    """Row and column slices of the image that contain every face's feature box, plus a 2-pixel margin."""
    u0, u1, v0, v1 = _FEATURE_BOX
    corner_u = np.array([u0, u1, u0, u1], np.float32)[None, :]
    corner_v = np.array([v0, v0, v1, v1], np.float32)[None, :]
    # Inverse of the face frame: x = head_x + scale (u cos - v sin), y = head_y + scale (u sin + v cos).
    xs = f["head_x"][:, None] + scale[:, None] * (corner_u * cos_t[:, None] - corner_v * sin_t[:, None])
    ys = f["head_y"][:, None] + scale[:, None] * (corner_u * sin_t[:, None] + corner_v * cos_t[:, None])
    step = axis[1] - axis[0] if len(axis) > 1 else 2.0

    def span(low: float, high: float) -> slice:
        start = int(np.searchsorted(axis, low - 2 * step))
        stop = int(np.searchsorted(axis, high + 2 * step))
        return slice(max(0, start), min(len(axis), max(stop, start + 1)))

    return span(ys.min(), ys.max()), span(xs.min(), xs.max())


def _render(f: dict[str, np.ndarray], size: int) -> np.ndarray:
    count = len(f["smile"])
    axis = (np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0
    gx = axis[None, None, :]
    gy = axis[None, :, None]

    # Background: a two-colour gradient along a random direction.
    bg1 = _hsv_to_rgb(f["bg_hue"], np.full(count, 0.35, np.float32), f["bg_lightness"])
    bg2 = bg1 * 0.7
    ramp = np.clip(
        0.5 + 0.5 * (gy * np.cos(f["_bg_tilt"])[:, None, None] + gx * np.sin(f["_bg_tilt"])[:, None, None]), 0, 1
    )
    image = full = (bg1[:, :, None, None] + ramp[:, None] * (bg2 - bg1)[:, :, None, None]).astype(np.float32)

    # Each face's own frame: centred on the head, rotated by tilt, scaled by head_scale.
    scale = _col(f["head_scale"]) * 1.3  # 1.3: the head fills most of the frame, like CelebA's crops
    cos_t, sin_t = _col(np.cos(f["tilt"])), _col(np.sin(f["tilt"]))
    x0, y0 = gx - _col(f["head_x"]), gy - _col(f["head_y"])
    u = (x0 * cos_t + y0 * sin_t) / scale
    v = (-x0 * sin_t + y0 * cos_t) / scale
    pixel = (2.0 / size) / scale  # one output pixel in face units

    skin = _SKIN_LIGHT[None] + f["skin_tone"][:, None] * (_SKIN_DARK - _SKIN_LIGHT)[None]
    hair = _hsv_to_rgb(f["hair_hue"], f["_hair_sat"], 0.08 + 0.72 * f["hair_lightness"] ** 1.5)
    shirt = _hsv_to_rgb(f["_shirt_hue"], np.full(count, 0.5, np.float32), np.full(count, 0.55, np.float32))
    fw = _col(f["face_width"])
    fh = _col(f["_face_length"])
    long_hair = _col(f["long_hair"]) > 0
    bald = _col(f["bald"]) > 0
    bangs = _col(f["bangs"]) > 0

    # Long hair falls behind the shoulders: a rounded block around the head.
    back = np.minimum(
        _ellipse(u, v, 0.0, -0.02, fw + 0.14, fh + 0.12), np.maximum(np.abs(u) - (fw + 0.13), np.abs(v - 0.35) - 0.4)
    )
    _paint(image, _cover(back, pixel) * long_hair, hair)

    # Shoulders and neck.
    _paint(image, _cover(_ellipse(u, v, 0.0, 0.92, 0.8, 0.4), pixel), shirt)
    neck = np.maximum(np.abs(u) - fw * 0.45, np.abs(v - 0.5) - 0.25)
    _paint(image, _cover(neck, pixel), skin * 0.8)

    # Ears, then the face: an egg shape, narrower towards the chin.
    for side in (-1.0, 1.0):
        _paint(image, _cover(_ellipse(u, v, side * fw, 0.03, 0.06, 0.1), pixel) * ~long_hair, skin * 0.92)
    chin_narrowing = 1.0 - 0.18 * np.clip(v / fh, 0.0, 1.0)
    face_d = _ellipse(u / chin_narrowing, v, 0.0, 0.0, fw, fh)
    face_alpha = _cover(face_d, pixel)
    shade = 1.0 - 0.22 * np.clip((u / fw) ** 2 + (v / fh) ** 2, 0, 1)[:, None]
    _paint(image, face_alpha, skin[:, :, None, None] * shade)

    # Hair on top: inside a slightly larger head ellipse, above a hairline that
    # dips towards the temples (bangs: a low, almost flat fringe).
    cap = _ellipse(u, v, 0.0, -0.03, fw + 0.045, fh + 0.06)
    hairline = np.where(bangs, -0.15 + 0.05 * (u / fw) ** 2, -0.27 + 0.3 * (u / fw) ** 2)
    top = np.maximum(cap, v - hairline)
    # Long hair also hangs over the sides of the face as two curtains.
    curtains = np.maximum(np.maximum(cap, fw * 0.8 - np.abs(u)), v - 0.12)
    top = np.where(long_hair, np.minimum(top, curtains), top)
    hair_alpha = _cover(top, pixel) * ~bald
    _paint(image, hair_alpha, hair)

    # The small features below lie inside a window around the face centre; drawing
    # them on that window only (a view into ``image``) roughly halves the work.
    rows, cols = _feature_window(f, axis, scale[:, 0, 0], cos_t[:, 0, 0], sin_t[:, 0, 0])
    image = image[:, :, rows, cols]
    u, v = u[:, rows, cols], v[:, rows, cols]

    # Eyes: white, iris, pupil, with an upper lid line.
    eye_size = _col(f["eye_size"])
    spacing = _col(f["eye_spacing"])
    iris = _hsv_to_rgb(f["iris_hue"] * 0.7, np.full(count, 0.6, np.float32), np.full(count, 0.45, np.float32))
    eye_y = -0.04
    brow_y = eye_y - 0.075 - 0.03 * _col(f["brow_raise"])
    brow_colour = hair * 0.75 + 0.05 * (1 - f["bald"][:, None])
    for side in (-1.0, 1.0):
        cu = side * spacing
        white = _ellipse(u, v, cu, eye_y, 0.06 * eye_size, 0.032 * eye_size)
        white_alpha = _cover(white, pixel)
        _paint(image, white_alpha, np.full((count, 3), 0.95, np.float32))
        _paint(image, _cover(_ellipse(u, v, cu, eye_y, 0.03 * eye_size, 0.03 * eye_size), pixel) * white_alpha, iris)
        _paint(
            image,
            _cover(_ellipse(u, v, cu, eye_y, 0.013 * eye_size, 0.013 * eye_size), pixel) * white_alpha,
            np.zeros((count, 3), np.float32),
        )
        lid = np.maximum(np.abs(white) - 0.006, v - eye_y)
        _paint(image, _cover(lid, pixel) * 0.8, skin * 0.35)
        # Brow: a thin arc above each eye.
        arc = brow_y + 0.25 * (u - cu) ** 2 / 0.08
        brow = np.maximum(np.abs(v - arc) - 0.012, np.abs(u - cu) - 0.075)
        _paint(image, _cover(brow, pixel), brow_colour)

    # Nose: a soft shadow down the bridge and darker nostrils.
    nose = np.maximum(np.abs(u - 0.012) - 0.012, np.abs(v - 0.07) - 0.07)
    _paint(image, _cover(nose, pixel) * 0.35, skin * 0.6)
    _paint(image, _cover(_ellipse(u, v, 0.0, 0.15, 0.045, 0.02), pixel) * 0.5, skin * 0.6)

    # Mouth: a curve whose middle drops for a smile and rises for a frown.
    mouth_w = 0.11
    mouth_y = 0.27
    t = np.clip(u / mouth_w, -1.0, 1.0)
    curve = mouth_y + 0.05 * _col(f["smile"]) * (1.0 - t * t)
    openness = np.where(_col(f["open_mouth"]) > 0, 0.025, 0.0)
    thickness = (0.011 + openness) * np.sqrt(np.clip(1.0 - t * t, 0.0, 1.0)) + 0.004
    mouth = np.maximum(np.abs(v - curve - openness) - thickness, np.abs(u) - mouth_w)
    lips = skin * np.array([0.85, 0.5, 0.5], np.float32)
    _paint(image, _cover(mouth, pixel), np.where(f["open_mouth"][:, None] > 0, lips * 0.35, lips))

    # Glasses: two rings joined by a bridge.
    frame = np.full((count, 3), 0.08, np.float32)
    glasses = _col(f["glasses"]) > 0
    ring_r = 0.075 * np.maximum(eye_size, 1.0)
    for side in (-1.0, 1.0):
        r = np.sqrt((u - side * spacing) ** 2 + ((v - eye_y) * 1.2) ** 2)
        _paint(image, _cover(np.abs(r - ring_r) - 0.008, pixel) * glasses, frame)
    bridge = np.maximum(np.abs(v - eye_y + 0.01) - 0.007, np.abs(u) - (spacing - ring_r + 0.01))
    _paint(image, _cover(bridge, pixel) * glasses, frame)

    return (np.clip(full, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1)
