"""Samplers are one registry of records, and the structure measures' cache key names the probe samplers."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import cache, results, samplers


def test_every_sampler_is_one_record_and_every_list_derives_from_it():
    assert samplers.KINDS == ("normal", "axis_gaussian", "full_gaussian", "uniform_box", "data_noise", "gmm", "kde")
    assert samplers.FITTED_KINDS == ("gmm", "kde") and samplers.KINDS[:4] == samplers.PROBE_KINDS
    # Every kind has a label (the picker and the rate table show it; a kind without one would be a 500).
    assert set(samplers.LABELS) == set(samplers.KINDS) and all(samplers.LABELS.values())
    assert not any(s.needs_fit and s.is_probe for s in samplers.SAMPLERS), "a probe needs no fit"


def test_the_structure_measures_are_keyed_by_their_probe_samplers():
    name, params = results.structure_measures.key()
    assert name == results.structure_measures.name and params["probe_kinds"] == samplers.PROBE_KINDS
    # Asking for other probes is refused: the measures probe with exactly the registry's probe samplers.
    with pytest.raises(ValueError, match="probe_kinds must be the probe samplers"):
        results.structure_measures.key(probe_kinds=("normal",))
    # Given back from JSON (a list), the same key.
    assert results.structure_measures.key(probe_kinds=list(samplers.PROBE_KINDS)) == (name, params)


def test_an_entry_of_an_older_parameter_set_is_not_listed_as_available(small_run):
    _, params = results.radius_profile.key(bin_width=0.5)
    older = {key: value for key, value in results.structure_measures.key()[1].items() if key != "probe_kinds"}
    # Entries written before probe_kinds was part of the key (or for another radius parameter set).
    cache.cached(small_run, results.structure_measures.name, older, lambda: {"x": np.zeros(1)})
    cache.cached(small_run, "radius", {**params, "unknown": 1}, lambda: {"x": np.zeros(1)})
    cache.cached(small_run, "radius", params, lambda: {"x": np.zeros(1)})
    assert results.structure_measures.available(small_run) == []
    assert results.radius_profile.available(small_run) == [params]
