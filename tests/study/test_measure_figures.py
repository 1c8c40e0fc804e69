"""docs/MEASURES.md's figures: ``python -m tools.validate_measures --figures`` draws the report's structure figure.

Without Chromium these tests skip, except when ``ZSPACE_REQUIRE_BROWSER=1`` (CI), where they fail.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from tools.browser import require_chromium

pytestmark = [pytest.mark.browser]

require_chromium()


def test_a_clouds_structure_figure_is_a_png_of_the_figures_size_with_both_panels(tmp_path, monkeypatch):
    from PIL import Image

    from analysis import structure
    from tools import synthetic, validate_measures

    z = synthetic.filament_cloud(20, 15, 32, noise=1e-3, random_state=0)
    stored = structure.structure_with_null(z, 100, 50, random_state=0)
    renames = []
    original = os.replace

    def recording(src, dst):
        renames.append(str(dst))
        return original(src, dst)

    monkeypatch.setattr(os, "replace", recording)
    path = validate_measures.structure_png("known filaments cloud", stored, tmp_path / "figures" / "cloud.png")
    assert renames == [str(path)]  # written whole, under its name in one step
    image = Image.open(path)
    assert image.size == validate_measures.FIGURE_SIZE and image.mode == "P"
    pixels = np.asarray(image.convert("RGB"))
    # Both panels drew bars: the data's colour (first run) and the null's grey are on the page.
    from figures.style import COLOURS, NULL_COLOUR

    def present(hex_colour, opacity=0.6):
        # A bar of the figure's opacity over the white page.
        rgb = opacity * np.array([int(hex_colour[k : k + 2], 16) for k in (1, 3, 5)]) + (1 - opacity) * 255
        return int((np.abs(pixels.astype(float) - rgb).sum(axis=2) < 30).sum())

    assert present(COLOURS[0]) > 200 and present(NULL_COLOUR) > 200
    assert path.stat().st_size < 60_000
