"""ROC AUCs of the meaningful-decode measures on runs: ``python -m tools.validate_measures RUN [RUN ...]``.

Prints, per run, :func:`study.validation.validate`'s result: for each negative set
(noise, blobs, decodes of far-away probes) the AUC of each measure and of the
verdict against decoded held-out data points, and the share each set gets
called meaningful. The figures are recorded in docs/BENCHMARKS.md (sampler lab).
"""

from __future__ import annotations

import argparse
import json


def main(argv: list[str] | None = None) -> int:
    """Validate each run given on the command line and print one JSON line per run."""
    from study.validation import validate

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run directories")
    for run in parser.parse_args(argv).runs:
        print(run, json.dumps(validate(run), default=float), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
