"""Fixtures of the model tests: quiet TensorFlow and a fake ``models.data`` with tiny images."""

import os
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import fake_image_source  # noqa: E402 - after the environment is set


@pytest.fixture
def fake_data(monkeypatch):
    """Replace ``models.data`` with the fake source for one test."""
    monkeypatch.setitem(sys.modules, "models.data", fake_image_source.fake_module())
    return fake_image_source
