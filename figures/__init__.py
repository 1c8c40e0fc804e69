"""Figure builders: pure functions from arrays to ``plotly.graph_objects.Figure``, for the page and the report.

They never read files or caches; callers hand them arrays. The dashboard
(``app/``) and the offline report (``study/``) draw with the same builders, in
one of two styles (:data:`figures.style.PAGE`: interactive, WebGL, hover and
click data; :data:`figures.style.REPORT`: plain SVG, no WebGL, the small
``"none"`` template). Arrays are passed as float32 numpy arrays so plotly sends
them as typed arrays (~4 bytes per value) instead of JSON number lists. This
package imports plotly and numpy only (floor 1 of ``docs/ARCHITECTURE.md``).

    style          colours (one per run; the page's two sides are the first two), Style, PAGE, REPORT, message_figure
    distributions  density_figure, radius_figure, spectrum_figure, history_figure
    planes         plane_figure (points, a density raster, the click layer), raster_cells, padded_range
    structure      lid_figure, nn_distance_figure (the page's panel), structure_figure (with the Gaussian null)
    rates          rates_figure (meaningful rate per sampler, with intervals), quality_coverage_figure
    walks          profile_figure (a path's per-step measures)
"""
