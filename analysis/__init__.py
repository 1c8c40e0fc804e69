"""zspace latent analysis: pure functions of z-point arrays, plus a per-run cache.

Never imports TensorFlow or Dash. Reads runs only through ``rundir``
and writes only through :mod:`analysis.cache` (atomic, ``allow_pickle=False``).
Every random choice takes a ``random_state``; no global RNG is used. Bad input
raises ``ValueError`` with one clear line.

Public API
----------
Pure functions (arrays in, small numpy results out)::

    density.axis_histograms(z, bin_width=0.25, lo=None, hi=None) -> (edges[bins+1], counts[z_dim, bins])
    density.axis_summary(z, bin_width=0.25) -> DataFrame(axis, mode, mean, fwhm, std, skew, flagged, reason)
    density.column_moments(z) -> (mean, std, skew)
    radius.radii(z) -> (N,)
    radius.radius_histogram(z_or_radii, bin_width=0.5) -> (edges, counts)
    radius.chi_reference(edges, z_dim, n) -> expected counts per bin for N(0, I)
    radius.chi_pdf(r, z_dim) -> density of the radius of N(0, I)
    radius.radius_stats(radii) -> dict(peak, mean, median, std, min, max, p01, p99)
    pca.fit_pca(z, solver="auto", n_components=None, random_state=0) -> PCAResult
        PCAResult: mean_, components_, explained_variance_, explained_variance_ratio_, cumulative, solver,
                   .transform(z, n_components=None), .inverse_transform(scores), .to_arrays(), .from_arrays(d)
    pca.plane_to_z(pca, i, j, x, y, base_scores=None) -> z (z_dim,)
    planes.plane_coords(z, kind, i, j, pca=None) -> (N, 2) float32       # kind "pca" | "axis"
    planes.axis_plane_to_z(i, j, x, y, base_z) -> z (z_dim,)
    planes.viewport_query(coords, x_range, y_range, budget=50000) -> ViewportResult
        ViewportResult: count (exact), ids, xy, raster (None or dict(x_edges, y_edges, counts[x, y])), over_budget
    tsne.run_tsne(z, n_points=20000, pca_components=None, perplexity=30, early_exaggeration=12, n_iter=750,
                  learning_rate="auto", init="pca", backend="auto", random_state=0, callback=None, pca=None,
                  n_jobs=None) -> TsneResult(ids, embedding, params, backend, seconds)
        backend: "opentsne-bh" | "opentsne-fft" | "sklearn" | "auto" (tsne.choose_backend(n))
        callback(progress: float, message: str) -> False to cancel (raises tsne.TsneCancelled)
    structure.knn(data, queries=None, k=1, backend="sklearn") -> (distances (M, k), indices (M, k))
    structure.nn_distances(data, queries=None, k=1) -> (M,) for k == 1, else (M, k)
    structure.local_intrinsic_dimension(z, k=20, method="twonn" | "mle") -> (N,)
    structure.make_probes(kind, n, z, random_state=0) -> (n, z_dim)   # normal | axis_gaussian | full_gaussian | uniform_box
    structure.void_threshold(data, quantile=0.99) -> float
    structure.void_fraction(data, probes, quantile=0.99) -> float
    samplers.sample(kind, n, z, random_state=0, scale=0.5) -> (n, z_dim) float32
        kind: normal | axis_gaussian | full_gaussian | uniform_box | data_noise
    samplers.lerp(z0, z1, steps) ; samplers.slerp(z0, z1, steps) -> (steps, z_dim), both ends included
    synthetic.filament_cloud(n_curves, points_per_curve, z_dim, noise=1e-3, random_state=0, return_labels=False)
    synthetic.embedded_gaussian(n, intrinsic_dim, z_dim, random_state=0)

Cache (one entry per name + parameters + z-points fingerprint, in ``<run>/analysis/``)::

    cache.cached(run_dir, name, params, compute) -> dict   # compute() -> dict of arrays / scalars / strings
    cache.is_cached(run_dir, name, params) -> bool ; cache.lookup(...) -> dict | None
    cache.entries(run_dir, name) -> list of sidecars (params of each current entry)

Per-run cached analyses (what ``zspace analyze`` precomputes and the app reads)::

    results.histograms(run, bin_width=0.25) -> dict(edges, counts)
    results.axis_summary(run, bin_width=0.25) -> DataFrame
    results.radius_profile(run, bin_width=0.5) -> dict(edges, counts, reference, z_dim, peak, mean, ...)
    results.pca(run) -> PCAResult
    results.tsne(run, n_points=20000, pca_components=None, ..., random_state=0, callback=None) -> TsneResult
    results.available_tsne(run) -> list of parameter dicts already cached
    results.structure_measures(run, n_points=5000, k=20, n_probes=2000, quantile=0.99, random_state=0) -> dict
    results.<name>_key(...) -> (cache name, params), for cache.is_cached

Command line: ``zspace analyze RUN [--quick] [--tsne-n N] [--skip-tsne]`` (:mod:`analysis.precompute`),
``zspace bench analysis [--quick]`` (:mod:`analysis.bench`).
"""
