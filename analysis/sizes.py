"""Sample sizes of the default analyses: the full set of ``zspace analyze`` and its ``--quick`` one.

Kept apart from :mod:`analysis.precompute` so analyses that default to these
sizes (the snapshots' per-epoch measures) need not import the command.
"""

QUICK = {"tsne_n": 2000, "structure_n": 1500, "probes": 1000}
FULL = {"tsne_n": 20000, "structure_n": 5000, "probes": 2000}
