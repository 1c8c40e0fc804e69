"""zspace latent analysis: pure functions of z-point arrays, plus a per-run cache.

Never imports TensorFlow or Dash. Reads runs only through ``rundir`` and writes
only through :mod:`analysis.cache` (atomic, ``allow_pickle=False``). Every
random choice takes a ``random_state``; no global RNG is used. Bad input raises
``ValueError`` (a filter: :class:`analysis.table_filter.FilterError`) with one clear line.

Public API, one module a line::

    density       axis_histograms, axis_summary (flagged axes), column_moments, common_edges
    radius        radii, radius_histogram, radius_stats, chi_pdf / chi_reference (the N(0, I) curve)
    pca           fit_pca -> PCAResult (transform, inverse_transform, to/from_arrays), plane_to_z
    planes        plane_coords (PC or axis pair), axis_plane_to_z, viewport_query -> ViewportResult
    tsne          run_tsne -> TsneResult (openTSNE BH / FFT, scikit-learn), choose_backend, TsneParams, map_input (shared by both maps)
    umap_maps     run_umap -> UmapResult (with what the inverse needs), UmapParams
    umap_inverse  inverse_transform (map point -> z, no pickled model), inside_hull, triangulate, warm_up
    neighbours    knn, nn_distances, nearest_rows (streamed, exact), self_neighbours, data_nn_distances
    structure     describe_cloud / structure_with_null (beside gaussian_null), lid_mle, local_intrinsic_dimension,
                  voids / void_fraction, nn_reference, distance_percentile, make_probes
    intervals     wilson_interval, share, bootstrap_interval
    samplers      sample (normal, axis/full Gaussian, uniform box, data_noise, gmm, kde), fit, lerp, slerp
    density_fit   fit_gmm / sample_gmm, fit_kde / sample_kde: ex-post densities with a bounded fit time
    walks         path, path_profile, nearest_rows, attribute_direction, traversal, attribute_walk, jaccard
    meaningful    "is D(z) a face?": image_features, realism, dffs, choose_face_space, thresholds, verdict, roc_auc
    coverage      quality beside coverage of a set: precision_recall, diversity, two_sample_auc
    claims        check_claims (one row per seed claim of a run), compare_claims (an AE beside a VAE)
    regions       in_box, in_polygon, in_shapes: the points inside a drawn box or lasso
    table_filter  the metadata filter language: parse, evaluate, row_mask, canonical, FilterError
    filter_syntax its tokenizer, tree and recursive-descent parser (never evaluates)
    tables        points_table, table_bytes, format_of: export columns and formats (CSV, Parquet)
    cache         cached, lookup, is_cached, entries, prune, search_order / storing_in (the one cache-folder rule)
    results       one Declaration per cached analysis (pca, tsne, umap, sampler_fit, ...), MAPS, load_map
    precompute    ``zspace analyze RUN [--quick] [--skip-tsne] [--skip-umap]``: the default set, cached

A :class:`analysis.results.Declaration` is called like a function, ``results.pca(run)`` (computed when
missing), and also answers ``.read(run)`` (None when missing, never computes), ``.is_cached(run)``,
``.available(run)`` and ``.key(...)``.
``_checks`` holds the shared input checks. Test point clouds live in :mod:`tools.synthetic`,
``zspace bench analysis`` in :mod:`tools.bench.analysis`.
"""
