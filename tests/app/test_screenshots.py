"""``make screenshots`` regenerates one picture per view of the registry, each showing that view."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tools.browser import require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

require_chromium()


def test_screenshots_cover_every_view_of_the_registry(runs_dir, tmp_path):
    from app.views import ABOVE_TABS, VIEWS
    from tools.screenshots import HEIGHT, WIDTH, take_screenshots

    saved = take_screenshots(runs_dir, tmp_path / "shots")
    assert sorted(p.name for p in saved) == sorted(f"{v.name}.png" for v in VIEWS if v.tab is not ABOVE_TABS)
    for path in saved:
        pixels = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
        assert pixels.shape == (HEIGHT, WIDTH) or pixels.shape[1] == WIDTH
        assert pixels.std() > 10, f"{path.name} is nearly blank"


def test_only_takes_the_named_views_and_refuses_a_name_that_is_no_view(capsys):
    from tools.screenshots import main

    assert main(["--only", "sweep,nope,epochs", "--runs", "does-not-matter"]) == 2
    assert capsys.readouterr().err.strip() == "screenshots: error: --only names no view nope"
