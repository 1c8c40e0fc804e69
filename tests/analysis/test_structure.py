"""Filaments and voids: local intrinsic dimension, NN distances, void fraction."""

import numpy as np
import pytest

from analysis import structure
from tools import synthetic


@pytest.fixture(scope="module")
def filaments():
    # a few hundred smooth 1-D curves in 256-d with small noise
    return synthetic.filament_cloud(200, 15, 256, noise=1e-3, random_state=0)


@pytest.mark.parametrize("method", ["twonn", "mle"])
def test_filaments_have_local_dimension_near_one(filaments, method):
    lid = structure.local_intrinsic_dimension(filaments, k=10, method=method)
    assert lid.shape == (len(filaments),)
    assert np.nanmedian(lid) == pytest.approx(1.0, abs=0.3)


@pytest.mark.parametrize("method", ["twonn", "mle"])
def test_embedded_10d_gaussian_has_local_dimension_near_ten(method):
    z = synthetic.embedded_gaussian(3000, 10, 256, random_state=1)
    assert np.nanmedian(structure.local_intrinsic_dimension(z, k=20, method=method)) == pytest.approx(10, rel=0.2)


def test_void_fraction_near_zero_for_gaussian_and_large_for_filaments(filaments):
    gauss = np.random.default_rng(2).normal(size=(3000, 256))
    assert structure.void_fraction(gauss, structure.make_probes("normal", 1000, gauss, random_state=3)) < 0.05
    for kind in structure.PROBE_KINDS:
        probes = structure.make_probes(kind, 500, filaments, random_state=4)
        assert structure.void_fraction(filaments, probes) > 0.9, kind


def test_nn_distances_exclude_self_but_see_duplicates():
    data = np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 4.0]])
    assert np.allclose(structure.nn_distances(data), [0.0, 0.0, 5.0])
    assert np.allclose(structure.nn_distances(data, np.array([[3.0, 0.0]])), [3.0])
    two = structure.nn_distances(data, k=2)
    assert two.shape == (3, 2) and np.allclose(two[2], [5.0, 5.0])


def test_duplicated_points_give_nan_dimension_not_a_crash():
    z = np.repeat(np.random.default_rng(7).normal(size=(5, 4)), 30, axis=0)
    lid = structure.local_intrinsic_dimension(z, k=10)
    assert np.isnan(lid).all()
