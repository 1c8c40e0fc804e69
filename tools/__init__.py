"""Tooling around the product: benchmarks, screenshots, browser helpers, fixtures and synthetic data.

Nothing under ``app/``, ``models/`` or ``analysis/`` imports it; it may import all of them.
"""
