"""Fixtures for the reliability tests: a runs folder with two small real runs and a broken one.

The runs come from :mod:`tools.fixtures`, the same code ``zspace bench load``
uses, so the load test and the benchmark exercise identical data.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path

import pytest

from tools.fixtures import make_demo_runs


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    """``bench-ae`` (filaments), ``bench-vae`` (Gaussian), both z_dim 8 / 32 px, and ``bench-broken``."""
    return make_demo_runs(tmp_path_factory.mktemp("runs"), n_points=300)


@pytest.fixture(scope="session")
def dash_app(runs_dir, tmp_path_factory):
    """The dashboard for ``runs_dir`` without auth (whatever ``ZSPACE_AUTH`` says in the environment)."""
    from app.factory import create_app

    previous = os.environ.pop("ZSPACE_AUTH", None)
    try:
        return create_app(runs_dir, cache_dir=tmp_path_factory.mktemp("flask-cache"))
    finally:
        if previous is not None:
            os.environ["ZSPACE_AUTH"] = previous


@pytest.fixture()
def client(dash_app):
    """A Flask test client of the dashboard."""
    return dash_app.server.test_client()
