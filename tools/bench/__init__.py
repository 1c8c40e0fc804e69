"""Benchmark suites of ``zspace bench``; each prints its figures beside a baseline from the same run."""
