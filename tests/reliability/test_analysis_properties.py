"""Property tests for the analysis functions on the odd inputs a real run can hold.

``tests/analysis`` checks the science on well-behaved clouds; here hypothesis
draws the degenerate ones — a single point, duplicated points, constant axes,
z_dim = 1, huge and tiny magnitudes — and every function must either give a
finite, consistent answer or refuse with one ``ValueError``; never a numpy
warning turned into NaN on the page, never an obscure exception.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis.density import axis_histograms, axis_summary
from analysis.pca import fit_pca, plane_to_z
from analysis.planes import axis_plane_to_z, plane_coords, viewport_query
from analysis.radius import radii, radius_histogram, radius_stats
from analysis.samplers import lerp, sample, slerp
from analysis.structure import local_intrinsic_dimension, nn_distances

SETTINGS = settings(
    max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
values = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def odd_clouds(draw, min_points: int = 1, max_points: int = 25, max_dim: int = 5):
    """N x z_dim float32 clouds, often degenerate: N=1, z_dim=1, duplicated rows, constant columns."""
    n = draw(st.integers(min_points, max_points))
    d = draw(st.integers(1, max_dim))
    z = draw(arrays(np.float32, (n, d), elements=values))
    if draw(st.booleans()):  # duplicate some rows
        z[: n // 2] = z[n - n // 2 :][: n // 2] if n > 1 else z[:1]
    if draw(st.booleans()):  # a constant axis
        z[:, draw(st.integers(0, d - 1))] = draw(values)
    if draw(st.booleans()):  # every point the same
        z[:] = z[0]
    return z


@SETTINGS
@given(z=odd_clouds(), bin_width=st.sampled_from([0.05, 0.25, 1.0, 7.5]))
def test_axis_histograms_count_every_point_of_every_axis(z, bin_width):
    edges, counts = axis_histograms(z, bin_width)
    assert np.all(np.diff(edges) > 0)
    assert counts.shape == (z.shape[1], len(edges) - 1)
    assert np.all(counts.sum(axis=1) == len(z))


@SETTINGS
@given(z=odd_clouds())
def test_axis_summary_has_one_row_per_axis_and_no_crash_on_constant_axes(z):
    table = axis_summary(z)
    assert list(table["axis"]) == list(range(z.shape[1]))
    assert np.all(np.isfinite(table["mean"])) and np.all(table["std"] >= 0)
    assert table["flagged"].dtype == bool


@SETTINGS
@given(z=odd_clouds())
def test_radii_and_their_histogram_and_stats_are_consistent(z):
    r = radii(z)
    assert np.allclose(r, np.linalg.norm(z.astype(np.float64), axis=1), rtol=1e-6, atol=1e-6)
    edges, counts = radius_histogram(r, 0.5)
    assert counts.sum() == len(z)
    stats = radius_stats(r)
    assert all(np.isfinite(v) for v in stats.values())
    assert stats["min"] <= stats["median"] <= stats["max"]


@SETTINGS
@given(z=odd_clouds())
def test_pca_of_a_degenerate_cloud_is_finite_and_maps_back(z):
    pca = fit_pca(z)
    ratio = pca.explained_variance_ratio_
    assert np.all(np.isfinite(ratio)) and np.all(ratio >= -1e-9) and ratio.sum() <= 1 + 1e-6
    assert np.all(np.isfinite(pca.components_))
    scores = pca.transform(z)
    back = scores @ pca.components_ + pca.mean_
    scale = max(1.0, float(np.abs(z).max()))
    if pca.n_components == z.shape[1]:
        assert np.allclose(back, z, atol=1e-3 * scale)
    if pca.n_components >= 2:
        point = plane_to_z(pca, 0, 1, 0.0, 0.0)
        assert point.shape == (z.shape[1],) and np.all(np.isfinite(point))


@SETTINGS
@given(z=odd_clouds(), data=st.data())
def test_axis_planes_round_trip_and_viewports_match_brute_force(z, data):
    d = z.shape[1]
    i, j = data.draw(st.integers(0, d - 1)), data.draw(st.integers(0, d - 1))
    xy = plane_coords(z, "axis", i, j)
    assert np.array_equal(xy, z[:, [i, j]])
    x0, x1 = sorted(data.draw(st.tuples(values, values)))
    y0, y1 = sorted(data.draw(st.tuples(values, values)))
    budget = data.draw(st.integers(0, len(z) + 1))
    result = viewport_query(xy, (x0, x1), (y0, y1), budget=budget)
    inside = np.flatnonzero((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1))
    assert result.count == len(inside)
    if result.count <= budget:
        assert np.array_equal(np.sort(result.ids), inside)
    point = axis_plane_to_z(i, j, 1.5, -2.5, z[0])
    assert point[j] == -2.5 and (i == j or point[i] == 1.5)


@SETTINGS
@given(z=odd_clouds(), kind=st.sampled_from(["normal", "axis_gaussian", "full_gaussian", "uniform_box", "data_noise"]))
def test_every_sampler_gives_finite_points_of_the_right_shape_from_a_degenerate_cloud(z, kind):
    out = sample(kind, 5, z, random_state=0, scale=0.5)
    assert out.shape == (5, z.shape[1])
    assert np.all(np.isfinite(out))


@SETTINGS
@given(
    z0=arrays(np.float64, 3, elements=values),
    z1=arrays(np.float64, 3, elements=values),
    steps=st.integers(2, 9),
    flip=st.booleans(),
)
def test_lerp_and_slerp_start_and_end_at_the_endpoints_and_opposite_vectors_are_refused_clearly(z0, z1, steps, flip):
    if flip:
        z1 = -z0  # antiparallel: slerp's great circle is not unique
    paths = [lerp(z0, z1, steps)]
    try:
        paths.append(slerp(z0, z1, steps))
    except ValueError as exc:  # the great circle between opposite vectors is not unique: said, not guessed
        assert flip and np.any(z0) and "opposite" in str(exc)
    for path in paths:
        assert path.shape == (steps, 3) and np.all(np.isfinite(path))
        assert np.allclose(path[0], z0, atol=1e-6 * max(1, np.abs(z0).max()))
        assert np.allclose(path[-1], z1, atol=1e-6 * max(1, np.abs(z1).max()))


@SETTINGS
@given(z=odd_clouds(min_points=2))
def test_nearest_neighbour_distances_see_duplicates_as_zero_and_never_go_negative(z):
    dist = nn_distances(z)
    assert dist.shape == (len(z),) and np.all(dist >= 0) and np.all(np.isfinite(dist))
    _, counts = np.unique(z, axis=0, return_counts=True)
    if counts.max() > 1:
        assert dist.min() == 0.0


@SETTINGS
@given(z=odd_clouds(min_points=4, max_points=30), method=st.sampled_from(["twonn", "mle"]))
def test_local_intrinsic_dimension_is_positive_or_nan_never_an_error(z, method):
    k = min(5, len(z) - 1)
    try:
        lid = local_intrinsic_dimension(z, k=max(k, 3), method=method)
    except ValueError as exc:  # too few points for the method: a clear refusal is fine
        assert "needs at least" in str(exc) or "k must be" in str(exc)
        return
    assert lid.shape == (len(z),)
    assert np.all(np.isnan(lid) | (lid > 0))


@pytest.mark.parametrize("bad", [np.empty((0, 3)), np.array([[np.nan, 1.0]]), np.array([[np.inf]]), "abc"])
def test_empty_or_non_finite_input_is_refused_with_one_value_error(bad):
    for function in (lambda z: axis_histograms(z), radii, fit_pca, lambda z: sample("normal", 2, z)):
        with pytest.raises(ValueError):
            function(bad)
