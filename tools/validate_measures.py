"""The measures validated where the answer is known: ``python -m tools.validate_measures ...``.

Three jobs, each printing JSON (one line per run or case) and recorded in docs/MEASURES.md:

* ``RUN [RUN ...]``: :func:`study.validation.validate` per run — each verdict measure's ROC AUC
  against known non-faces and far-away probes, and the share each group is called meaningful.
* ``--clouds``: the structure numbers and the seed's structure claims on two clouds whose answer is
  known — a Gaussian ellipsoid with the demo AE's kind of spectrum (no filaments) and the filament
  cloud of :func:`tools.synthetic.filament_cloud` (filaments) — each beside its covariance-matched null.
* ``--mosaic DIR RUN [RUN ...]``: per run a PNG with a row of 12 decoded samples per sampler, each
  framed green where the verdict calls it meaningful and red where not, with a square in its corner
  green where the independent judge calls it a face and red where not: what the agreement counts.
* ``--figures DIR`` (with ``--clouds``, or with runs): the structure figure the report draws
  (:func:`figures.structure.structure_figure`: local dimension and nearest-neighbour distances beside
  the covariance-matched null) of each known-answer cloud, or of each run's cached structure measures,
  as a PNG drawn by headless Chromium (``DIR/cloud-<name>.png``, ``DIR/<run>-structure.png``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

#: Size of a figure's PNG (CSS pixels): wide enough for the two panels and their legend.
FIGURE_SIZE = (1100, 430)
#: Seconds a figure may take to draw in Chromium.
FIGURE_WAIT_S = 60

#: Points and probes of the known-answer clouds (as the demo: a few thousand points in 256 dimensions).
CLOUD_POINTS = 3000
CLOUD_MEASURED = 1000
CLOUD_PROBES = 1000


def known_clouds(n: int = CLOUD_POINTS) -> dict[str, np.ndarray]:
    """The two clouds whose answer is known: ``ellipsoid`` (no filaments) and ``filaments``."""
    from tools import synthetic

    return {
        "ellipsoid": synthetic.decaying_ellipsoid(n, 256, random_state=11),
        "filaments": synthetic.filament_cloud(n // 15, 15, 256, noise=1e-3, random_state=0),
    }


def cloud_measures(z: np.ndarray) -> dict:
    """A cloud's structure measures beside its covariance-matched null (as ``zspace analyze`` caches a run's)."""
    from analysis import structure

    return structure.structure_with_null(z, CLOUD_MEASURED, CLOUD_PROBES, random_state=0)


def cloud_claims(z: np.ndarray, stored: dict | None = None) -> dict:
    """A cloud's structure numbers (beside the null) and the structure claims decided on them."""
    from analysis import claims

    stored = cloud_measures(z) if stored is None else stored
    numbers = {"z_dim": z.shape[1], "structure": claims.structure_summary(stored)}
    return {
        "structure": numbers["structure"],
        "claims": [
            {key: row[key] for key in ("claim", "value", "null", "rule", "holds") if key in row}
            for row in claims.check_claims(numbers)
        ],
    }


def mosaic(run: Path, out: Path, per_sampler: int = 12) -> Path:
    """Write one PNG for ``run``: a row of decodes per sampler, framed by the verdict, cornered by the judge.

    Row order: :data:`study.scoring.ROWS` (the data row first). Frame green: meaningful; red: not.
    Corner square green: the judge says face; red: not.
    """
    from PIL import Image

    import rundir
    from study import judge, scoring

    model = judge.judge_model(run)
    rows = []
    for sampler in scoring.ROWS:
        shown = scoring.scored_samples(run, sampler, k=per_sampler, seed=0)
        said = judge.judge_images(model, shown.images)["face"]
        size = shown.images.shape[1]
        tile = size + 6
        strip = np.full((tile, per_sampler * tile, 3), 255, dtype=np.uint8)
        for i, image in enumerate(shown.images):
            x = i * tile
            strip[:, x : x + tile] = (26, 127, 55) if shown.scores["meaningful"][i] else (207, 34, 46)
            strip[3 : 3 + size, x + 3 : x + 3 + size] = image
            strip[:9, x : x + 9] = (26, 127, 55) if said[i] else (207, 34, 46)
        rows.append(strip)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{rundir.qualified_name(run).replace('/', '-')}-samplers.png"
    # 128 colours: the frames and faces stay legible at a third of the full-colour file's size.
    Image.fromarray(np.concatenate(rows, axis=0)).quantize(128).save(path, optimize=True)
    return path


def figure_png(fig, path: Path, size: tuple[int, int] = FIGURE_SIZE) -> Path:
    """Draw a plotly figure in headless Chromium (plotly.js inline, no network) and save it as a small PNG."""
    import io
    import tempfile

    from PIL import Image
    from selenium.webdriver.support.ui import WebDriverWait

    from rundir.atomic import atomic_write_bytes
    from tools import browser

    browser.require_chromium()
    width, height = size
    fig.update_layout(width=width, height=height)
    html = fig.to_html(include_plotlyjs=True, full_html=True, config={"staticPlot": True})
    html = html.replace("<head>", "<head><style>body { margin: 0 }</style>", 1)
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "figure.html"
        page.write_text(html, encoding="utf-8")
        driver = browser.chrome_driver(width, height)
        try:
            # The viewport itself (a window's size includes its frame).
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            )
            driver.get(page.as_uri())
            WebDriverWait(driver, FIGURE_WAIT_S).until(
                lambda d: d.execute_script("return document.querySelectorAll('.main-svg').length > 0")
            )
            shot = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
        finally:
            driver.quit()
    # A palette of 64 colours keeps a line figure a few tens of kB.
    out = io.BytesIO()
    shot.crop((0, 0, min(width, shot.width), min(height, shot.height))).quantize(64).save(out, "PNG", optimize=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, out.getvalue())
    return path


def structure_png(name: str, stored: dict, out: Path) -> Path:
    """The report's structure figure of ``stored`` (a run's or a cloud's measures beside the null) as a PNG."""
    from figures.structure import structure_figure

    return figure_png(structure_figure(name, stored), out)


def run_structure_png(run: Path, out: Path) -> Path:
    """The structure figure of a run's largest cached structure measures (the report's), as a PNG."""
    import rundir
    from analysis import results
    from rundir.errors import ZspaceError

    cached = results.structure_measures.available(run)
    if not cached:
        raise ZspaceError(f"{run} has no structure measures: run zspace analyze {run} first")
    params = max(cached, key=lambda p: p["n_points"])
    stored = results.structure_measures(run, **params)
    name = rundir.qualified_name(run)
    return structure_png(name, stored, out / f"{name.replace('/', '-')}-structure.png")


def _clouds(figures: str | None) -> None:
    for name, z in known_clouds().items():
        stored = cloud_measures(z)
        print(name, json.dumps(cloud_claims(z, stored), default=float), flush=True)
        if figures:
            print(
                name, json.dumps(str(structure_png(f"known {name} cloud", stored, Path(figures) / f"cloud-{name}.png")))
            )


def main(argv: list[str] | None = None) -> int:
    """Run the job the command line names and print its JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", help="run directories")
    parser.add_argument("--clouds", action="store_true", help="the known-answer clouds instead of runs")
    parser.add_argument("--mosaic", default=None, help="folder for the verdict / judge mosaics of the runs")
    parser.add_argument("--figures", default=None, help="folder for the structure figures (PNG) of the clouds or runs")
    args = parser.parse_args(argv)
    if args.clouds:
        _clouds(args.figures)
        return 0
    for run in map(Path, args.runs):
        if args.mosaic:
            print(run, json.dumps(str(mosaic(run, Path(args.mosaic)))), flush=True)
            continue
        if args.figures:
            print(run, json.dumps(str(run_structure_png(run, Path(args.figures)))), flush=True)
            continue
        from study.validation import validate

        print(run, json.dumps(validate(run), default=float), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
