"""Odd inputs (one point, duplicates, constant axes, z_dim 1): a result or a clear ValueError, never a crash."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis import density, pca, planes, radius, samplers, structure

ODD = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def point_sets(draw):
    n = draw(st.integers(1, 12))
    d = draw(st.integers(1, 5))
    values = st.floats(-50, 50, allow_nan=False, width=32) | st.sampled_from([0.0, 1.0])
    z = draw(arrays(np.float32, (n, d), elements=values))
    if draw(st.booleans()) and n > 1:
        z[1:] = z[0]  # all duplicates
    if draw(st.booleans()):
        z[:, 0] = 3.0  # a constant axis
    return z


@ODD
@given(point_sets())
def test_density_and_radius_on_odd_points(z):
    edges, counts = density.axis_histograms(z, 0.25)
    assert counts.sum() == z.size and np.all(np.diff(edges) > 0)
    table = density.axis_summary(z)
    assert len(table) == z.shape[1] and np.isfinite(table[["mode", "mean", "fwhm", "std", "skew"]].to_numpy()).all()
    r = radius.radii(z)
    edges, counts = radius.radius_histogram(r, 0.5)
    assert counts.sum() == len(z)
    assert np.isfinite(list(radius.radius_stats(r).values())).all()


@ODD
@given(point_sets())
def test_pca_and_planes_on_odd_points(z):
    fit = pca.fit_pca(z)
    assert np.isfinite(fit.components_).all() and np.isfinite(fit.explained_variance_ratio_).all()
    assert np.allclose(fit.inverse_transform(fit.transform(z)), z, atol=1e-2 * (1 + np.abs(z).max()))
    coords = planes.plane_coords(z, "axis", 0, z.shape[1] - 1)
    result = planes.viewport_query(coords, (-1, 1), (-1, 1), budget=3)
    assert result.count == int(np.sum((np.abs(coords) <= 1).all(axis=1)))


@ODD
@given(point_sets(), st.sampled_from(samplers.KINDS))
def test_samplers_on_odd_points(z, kind):
    fit = None
    if kind in samplers.FITTED_KINDS:
        if len(z) < 3:
            with pytest.raises(
                ValueError, match=r"^a (Gaussian mixture|kernel density) needs at least 3 points, got \d$"
            ):
                samplers.fit(kind, z)
            return
        fit = samplers.fit(kind, z, k=1)
    out = samplers.sample(kind, 4, z, random_state=0, fit=fit)
    assert out.shape == (4, z.shape[1]) and np.isfinite(out).all()


@ODD
@given(point_sets(), st.sampled_from(["twonn", "mle"]))
def test_structure_on_odd_points(z, method):
    probes = structure.make_probes("normal", 5, z)
    if len(z) < 2:
        # One point has no neighbour: both measures say exactly that instead of returning a number.
        with pytest.raises(ValueError, match=r"^k=1 neighbours requested but only 0 other point\(s\) exist$"):
            structure.nn_distances(z)
        with pytest.raises(ValueError, match=r"^k=1 neighbours requested but only 0 other point\(s\) exist$"):
            structure.void_fraction(z, probes)
    else:
        nn = structure.nn_distances(z)
        assert nn.shape == (len(z),) and (nn >= 0).all()
        fraction = structure.void_fraction(z, probes)
        assert isinstance(fraction, float) and 0.0 <= fraction <= 1.0
        # Probes that are the data points themselves are never farther than the data's own NN distances.
        assert structure.void_fraction(z, z, quantile=1.0) == 0.0
    fewest = {"twonn": 3, "mle": 4}[method]  # TwoNN needs two neighbours, the MLE three
    if len(z) < fewest:
        with pytest.raises(
            ValueError, match=rf"^local intrinsic dimension \({method}\) needs at least {fewest} points, got {len(z)}$"
        ):
            structure.local_intrinsic_dimension(z, k=5, method=method)
    else:
        assert structure.local_intrinsic_dimension(z, k=5, method=method).shape == (len(z),)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: density.axis_histograms(np.zeros((0, 3))), "at least 1 point"),
        (lambda: density.axis_histograms(np.array([[np.nan, 1.0]])), "NaN or inf"),
        (lambda: density.axis_histograms(np.zeros((2, 2, 2))), "must be 2-D"),
        (lambda: density.axis_histograms(np.zeros((3, 2)), bin_width=0), "positive"),
        (lambda: density.axis_histograms(np.array([["a"]])), "numeric"),
        (lambda: radius.radius_histogram(np.array([-1.0, 2.0])), "non-negative"),
        (lambda: structure.nn_distances(np.zeros((1, 3))), "only 0 other point"),
        (lambda: structure.local_intrinsic_dimension(np.zeros((3, 3))), r"\(mle\) needs at least 4 points"),
        (lambda: pca.fit_pca(np.zeros((4, 3)), solver="magic"), "unknown PCA solver"),
        (lambda: planes.viewport_query(np.zeros((3, 3)), (0, 1), (0, 1)), "N x 2"),
        (lambda: planes.viewport_query(np.zeros((3, 2)), (1, 0), (0, 1)), "low <= high"),
    ],
)
def test_bad_input_gets_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
