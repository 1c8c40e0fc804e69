"""The load benchmark's code in short: gunicorn with 2 workers on loopback, concurrent clients, zero errors."""

from __future__ import annotations

import pytest

from tools.bench.load import run_load


@pytest.mark.slow
def test_ten_seconds_of_concurrent_decode_zoom_and_sampling_give_no_errors(runs_dir):
    # Fewer clients than `zspace bench load` (20): the suite shares 2 CPU cores with other tests.
    figures = run_load(runs_dir, clients=6, duration=10.0, rounds=1, single=False)
    (result,) = figures["rounds"]
    assert figures["errors"] == 0, result["first_errors"]
    assert set(figures["runs"]) == {"bench-ae", "bench-vae"}  # the broken run is listed, never served
    assert all(result["latency"][kind]["requests"] >= 5 for kind in ("decode", "nearest", "zoom", "sample"))
    assert result["duration_s"] < 10.0 + 30.0  # it stopped by itself
    assert result["peak_rss_mb"] > 0
