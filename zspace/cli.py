"""The single ``zspace`` command line.

Each sub-command lives in the module that owns the job and exposes two
functions: ``configure_parser(parser)`` and ``run(args) -> int``. Only the
chosen module is imported, so ``zspace summary --help`` does not pay for
loading the dashboard, and nothing imports TensorFlow before it must.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from rundir.errors import run_reporting_errors

#: sub-command -> (module, one-line help). The module owns the arguments.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("zspace.demo", "generate demo faces, train a demo AE and VAE, analyse them and serve the dashboard"),
    "train": ("models.train", "train an AE or VAE in this process and write a run directory"),
    "sweep": ("zspace.sweep", "train one run per beta (0 = the AE) into a sweep folder, then analyse each"),
    "encode": ("models.encode", "encode a data source into a run's z-points and metadata"),
    "import": ("models.importing", "make a run from your own model (Keras, SavedModel, ONNX) or from z-points alone"),
    "summary": ("models.summary", "print the parameter counts of a model configuration"),
    "analyze": ("analysis.precompute", "precompute and cache the default analyses of a run"),
    "report": ("study.report", "write the seed's study of runs side by side (or of a sweep) as one offline HTML file"),
    "export": ("zspace.export", "write a run's points on a plane (row, id, x, y, colour, flags) as CSV or Parquet"),
    "serve": ("app.serve", "serve the dashboard for a folder of runs"),
    "worker": ("zspace.worker", "run the background jobs of the dashboard on Redis (Celery worker)"),
    "bench": ("tools.bench.dispatch", "run a benchmark and print figures against a baseline"),
    "path": ("zspace.path", "decode the straight or spherical path between two data points into a strip PNG"),
    "walk": ("zspace.walk", "walk a point along an attribute direction (class-mean difference) into a strip PNG"),
    "traverse": ("zspace.traverse", "vary a point along one axis or principal component into a strip PNG"),
}


def build_parser(command: str | None) -> argparse.ArgumentParser:
    """Build the parser; only ``command``'s module is imported and configured."""
    parser = argparse.ArgumentParser(
        prog="zspace",
        description="Train autoencoders on face images and look into their latent space.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        child = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            importlib.import_module(module_name).configure_parser(child)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``zspace`` command line and return its exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    module = importlib.import_module(COMMANDS[args.command][0])
    return run_reporting_errors(args.command, lambda: module.run(args))


if __name__ == "__main__":
    sys.exit(main())
