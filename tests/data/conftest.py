"""Fixtures of the data tests: a small fake CelebA folder with one corrupt JPEG."""

import os

import pytest

from tests.fakes import make_fake_celeba

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: 0-based index of the corrupt image in ``fake_celeba`` (file 000007.jpg).
CORRUPT_INDEX = 6


@pytest.fixture(scope="session")
def fake_celeba(tmp_path_factory):
    """A 41-image CelebA folder (178 x 218 JPEGs, 40 attributes, partition) with 000007.jpg truncated."""
    return make_fake_celeba(tmp_path_factory.mktemp("celeba"), n=41, corrupt={CORRUPT_INDEX})
