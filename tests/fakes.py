"""Helpers any test may import: ``from tests.fakes import make_fake_celeba``.

The generator lives in :mod:`tools.fake_celeba` so that ``zspace bench data``
can use it too; this module is the stable name for tests.
"""

from tools.fake_celeba import CELEBA_ATTRIBUTES, celeba_name, make_fake_celeba

__all__ = ["CELEBA_ATTRIBUTES", "celeba_name", "make_fake_celeba"]
