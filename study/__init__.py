"""The study: what needs both a run's models and the analysis measures (the floor between them and the app).

``models`` knows the decoder and encoder, ``analysis`` knows arrays; the
questions of the seed study need both at once — does a random z decode to a
face? — so they live here. May import ``rundir``, ``models`` and ``analysis``;
never ``app``, ``zspace`` or ``tools``. The dashboard and the ``zspace``
command line call it.

Modules
-------
codec
    A run's decoder and encoder as numpy functions, in bounded batches.
reference
    Per run, cached: training images for the image measures and the
    thresholds calibrated on decoded data points.
scoring
    ``scored_samples`` (decoded samples with their scores, for the Sampling
    view) and ``sampler_rates`` (meaningful rates with bootstrap intervals,
    cached per sampler, for the sampler table).
validation
    ROC AUCs of the measures: decoded data points against noise images and
    decodes of far-away probes.
summary
    The numbers of ``summary.json`` and the seed-claims table.
report
    ``zspace report RUN [--compare RUN2] --out DIR``.
"""
