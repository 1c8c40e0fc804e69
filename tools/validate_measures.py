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
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

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


def cloud_claims(z: np.ndarray) -> dict:
    """A cloud's structure numbers (beside the null) and the structure claims decided on them."""
    from analysis import claims, structure

    stored = structure.structure_with_null(z, CLOUD_MEASURED, CLOUD_PROBES, random_state=0)
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
    Image.fromarray(np.concatenate(rows, axis=0)).save(path, optimize=True)
    return path


def main(argv: list[str] | None = None) -> int:
    """Run the job the command line names and print its JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", help="run directories")
    parser.add_argument("--clouds", action="store_true", help="the known-answer clouds instead of runs")
    parser.add_argument("--mosaic", default=None, help="folder for the verdict / judge mosaics of the runs")
    args = parser.parse_args(argv)
    if args.clouds:
        for name, z in known_clouds().items():
            print(name, json.dumps(cloud_claims(z), default=float), flush=True)
        return 0
    for run in map(Path, args.runs):
        if args.mosaic:
            print(run, json.dumps(str(mosaic(run, Path(args.mosaic)))), flush=True)
            continue
        from study.validation import validate

        print(run, json.dumps(validate(run), default=float), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
