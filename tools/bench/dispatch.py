"""``zspace bench``: performance figures, each printed beside a baseline from the same run.

Each suite lives with the code it measures and exposes ``main(args) -> int``;
this module only dispatches. Results are recorded in ``docs/BENCHMARKS.md``.
"""

from __future__ import annotations

import argparse
import importlib

#: suite -> (module, what it measures)
SUITES: dict[str, tuple[str, str]] = {
    "data": ("tools.bench.data", "synthetic face generation, parallel JPEG decode into the cache, tf.data serving"),
    "analysis": ("tools.bench.analysis", "histograms, PCA solvers, t-SNE backends, kNN backends on 200k x 256"),
    "samplers": ("tools.bench.samplers", "GMM and KDE fits for the fitted samplers on 200k x 256 (subsampled)"),
    "models": ("tools.bench.models", "training throughput and tf.function decode vs model.predict"),
    "app": ("tools.bench.app", "decode callback latency, figure build cost, viewport re-query"),
    "load": ("tools.bench.load", "the documented gunicorn setup under 1, then 16 concurrent clients on loopback"),
    "page": (
        "tools.bench.page",
        "the page in Chromium beside a bare Dash page drawing the same two figures, 50k and 1M",
    ),
    "scale": ("tools.bench.scale", "a never-analysed 1,000,000 x 256 run served: progress, first paint, zoom, memory"),
}


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``zspace bench``."""
    parser.add_argument("suite", choices=[*SUITES, "all"], help="which benchmark suite to run")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a fast look (figures less stable)")
    parser.add_argument("--out", default=None, help="also write the figures as JSON to this file")


def run(args: argparse.Namespace) -> int:
    """Run one suite, or every suite for ``all``."""
    names = list(SUITES) if args.suite == "all" else [args.suite]
    status = 0
    for name in names:
        print(f"== zspace bench {name}: {SUITES[name][1]}", flush=True)
        status |= int(importlib.import_module(SUITES[name][0]).main(args) or 0)
    return status
