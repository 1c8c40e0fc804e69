"""Figure builders as plain functions: what they draw and how much they send."""

from __future__ import annotations

import json

import numpy as np

from app.viewport import count_text
from figures.distributions import density_figure, radius_figure, spectrum_figure
from figures.planes import PlanePoints, padded_range, plane_figure


def _points(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)).astype(np.float32), np.arange(n)


def test_plane_figure_sends_typed_arrays_not_number_lists():
    xy, ids = _points(20000)
    fig = plane_figure(PlanePoints(xy, ids, (-4, 4), (-4, 4)), clickable_space=False)
    payload = fig.to_json()
    scatter = json.loads(payload)["data"][0]
    assert scatter["type"] == "scattergl"
    assert "bdata" in scatter["x"] and scatter["x"]["dtype"] == "f4"
    # x, y (float32) and ids (int32) as base64: ~16 bytes per point, lists would be ~50.
    assert len(payload) / len(xy) < 20


def test_plane_figure_shows_a_colour_bar_when_coloured_and_keeps_the_requested_range():
    xy, ids = _points(500)
    points = PlanePoints(xy, ids, (-0.25, 0.25), (1, 2), colour=np.linspace(0, 1, 500), colour_label="radius |z|")
    fig = plane_figure(points)
    scatter = next(t for t in fig.data if t.type == "scattergl")
    assert scatter.marker.showscale and scatter.marker.colorbar.title.text == "radius |z|"
    assert tuple(fig.layout.xaxis.range) == (-0.25, 0.25) and tuple(fig.layout.yaxis.range) == (1, 2)
    # The invisible click layer spans the view, so clicks on empty space report a position.
    layer = fig.data[0]
    assert layer.type == "heatmap" and layer.opacity == 0


def test_plane_figure_draws_a_density_raster_instead_of_points_when_over_budget():
    raster = {"x_edges": np.linspace(0, 1, 5), "y_edges": np.linspace(0, 1, 5), "counts": np.ones((4, 4), np.int64)}
    points = PlanePoints(np.empty((0, 2), np.float32), np.empty(0), (0, 1), (0, 1), raster=raster)
    fig = plane_figure(points, clickable_space=False)
    assert [t.type for t in fig.data] == ["heatmap"]
    assert fig.data[0].colorbar.title.text == "log(1+count)"


def test_count_text_says_when_fewer_points_are_shown_than_exist():
    assert count_text(120, 120, 5000, False, 1000, None) == "showing 120 of 5,000 points (120 in view)"
    over = count_text(0, 3000, 5000, True, 1000, None)
    assert "3,000 points in view" in over and "1,000-point budget" in over and "5,000 total" in over
    assert count_text(2000, 2000, 5000, False, 10000, 2000).endswith("· the map holds 2,000 of them")


def test_padded_range_widens_and_handles_constant_values():
    lo, hi = padded_range(np.array([0.0, 10.0]))
    assert lo < 0 and hi > 10
    lo, hi = padded_range(np.array([3.0, 3.0]))
    assert lo < 3 < hi


def test_density_figure_draws_every_axis_and_flags_in_bold():
    edges = np.linspace(-3, 3, 13)
    counts = np.random.default_rng(0).integers(0, 50, size=(4, 12))
    fig = density_figure(
        [{"name": "ae", "side": "a", "edges": edges, "counts": counts, "flagged": [False, True, False, False]}]
    )
    assert len(fig.data) == 4
    bold = [t for t in fig.data if t.line.width > 1]
    assert len(bold) == 1 and bold[0].customdata[0] == 1


def test_radius_and_spectrum_figures_overlay_two_runs():
    edges = np.linspace(0, 5, 11)
    run = {"edges": edges, "counts": np.arange(10), "reference": np.arange(10) * 0.9}
    fig = radius_figure([{**run, "name": "ae", "side": "a"}, {**run, "name": "vae", "side": "b"}])
    assert [t.type for t in fig.data] == ["bar", "bar", "scatter"]
    assert fig.data[2].name == "chi reference (N(0, I)) of ae, vae"
    ratio = np.array([0.5, 0.3, 0.2])
    fig = spectrum_figure([{"name": "ae", "side": "a", "ratio": ratio}, {"name": "vae", "side": "b", "ratio": ratio}])
    assert len(fig.data) == 4
    np.testing.assert_allclose(fig.data[1].y, [0.5, 0.8, 1.0], rtol=1e-6)


def test_the_radius_figure_draws_one_chi_curve_per_distinct_reference():
    from scipy import stats

    from figures.style import NULL_COLOUR, SIDE_COLOURS

    edges = np.linspace(0, 24, 49)

    def chi_counts(z_dim, n):
        return n * np.diff(stats.chi.cdf(edges, z_dim))

    def run(name, side, z_dim, n):
        return {"name": name, "side": side, "edges": edges, "counts": np.ones(48), "reference": chi_counts(z_dim, n)}

    # An AE and a VAE of one architecture (z_dim 256, 50,000 points each): one shared curve, in grey.
    same = radius_figure([run("demo-ae", "a", 256, 50_000), run("demo-vae", "b", 256, 50_000)])
    curves = [t for t in same.data if t.type == "scatter"]
    assert len(curves) == 1 and curves[0].line.color == NULL_COLOUR
    assert curves[0].name == "chi reference (N(0, I)) of demo-ae, demo-vae"
    np.testing.assert_allclose(curves[0].y, chi_counts(256, 50_000), rtol=1e-6, atol=1e-3)
    # Each run's histogram spans its own radii (the AE's reach farther): still one curve, over both ranges.
    short = {**run("demo-vae", "b", 256, 50_000), "edges": edges[:37], "counts": np.ones(36)}
    short["reference"] = short["reference"][:36]
    spans = radius_figure([run("demo-ae", "a", 256, 50_000), short])
    curves = [t for t in spans.data if t.type == "scatter"]
    assert len(curves) == 1 and curves[0].name.endswith("of demo-ae, demo-vae")
    np.testing.assert_allclose(curves[0].x, (edges[:-1] + edges[1:]) / 2, rtol=1e-6)
    np.testing.assert_allclose(curves[0].y, chi_counts(256, 50_000), rtol=1e-6, atol=1e-3)
    # Different z_dim (or different point counts): one curve per run, each in its run's colour, peaks apart.
    for other in (run("small", "b", 64, 50_000), run("fewer", "b", 256, 20_000)):
        apart = radius_figure([run("demo-ae", "a", 256, 50_000), other])
        curves = [t for t in apart.data if t.type == "scatter"]
        assert [c.line.color for c in curves] == [SIDE_COLOURS["a"], SIDE_COLOURS["b"]]
        assert not np.allclose(curves[0].y, curves[1].y)
        assert curves[1].name == f"chi reference (N(0, I)) of {other['name']}"
    peaks = [float(np.asarray(c.y).argmax()) for c in curves]
    assert peaks[0] == peaks[1]  # 256 dims at 20,000 points: the same shape, lower
    apart = radius_figure([run("demo-ae", "a", 256, 50_000), run("small", "b", 64, 50_000)])
    centres = (edges[:-1] + edges[1:]) / 2
    assert [round(float(centres[np.asarray(c.y).argmax()])) for c in apart.data[2:]] == [16, 8]


def test_the_report_draws_with_the_pages_builders_in_its_own_style():
    from figures.distributions import density_figure
    from figures.style import COLOURS, REPORT, SIDE_COLOURS

    edges, counts = np.linspace(-2, 2, 9), np.arange(16, dtype=float).reshape(2, 8)
    series = [{"name": "ae", "side": "a", "edges": edges, "counts": counts, "flagged": np.array([False, True])}]
    page = density_figure(series)
    report = density_figure([{**series[0], "side": 0}], REPORT, "Number density")
    # The same curves, in the same colours; the page's carry the axis a click picks, the report's stay plain.
    assert [np.asarray(t.y).tolist() for t in page.data] == [np.asarray(t.y).tolist() for t in report.data]
    assert page.data[1].line.color == report.data[1].line.color == SIDE_COLOURS["a"] == COLOURS[0]
    assert list(page.data[1].customdata[:2]) == [1, 1] and report.data[1].customdata is None
    assert report.layout.template.layout.to_plotly_json() == {} and report.layout.title.text == "Number density"
    points = PlanePoints(np.zeros((3, 2), np.float32), np.arange(3), (-1, 1), (-1, 1), side=1)
    static = plane_figure(points, REPORT, "a plane")
    # No WebGL and no click layer offline; one unit is as long along x as along y.
    assert [t.type for t in static.data] == ["scatter"] and static.data[0].marker.color == COLOURS[1]
    assert static.layout.yaxis.scaleanchor == "x"
    assert [t.type for t in plane_figure(points).data] == ["heatmap", "scattergl"]
