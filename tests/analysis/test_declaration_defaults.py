"""A declared analysis without a loader hands back the stored arrays themselves (its documented default)."""

from dataclasses import dataclass

import numpy as np

from analysis.declarations import Declaration


@dataclass(frozen=True)
class _Size:
    n: int = 3


def test_a_declaration_without_a_loader_returns_the_stored_arrays_as_they_are(small_run):
    calls = []

    def compute(run, params, callback):
        calls.append(params)
        return {"ones": np.ones(params.n)}

    counted = Declaration("test.ones", _Size, compute)
    stored = {"ones": np.arange(2.0)}
    assert counted.from_arrays(stored) is stored
    first = counted(small_run, n=4)
    assert sorted(first) == ["ones"] and first["ones"].tolist() == [1.0] * 4
    assert counted.read(small_run, n=4)["ones"].tolist() == [1.0] * 4 and calls == [_Size(4)]


def test_is_cached_looks_in_the_folder_it_is_given(small_run, tmp_path):
    counted = Declaration("test.elsewhere", _Size, lambda run, params, callback: {"ones": np.ones(params.n)})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    counted(small_run, n=2, folder=elsewhere)
    assert counted.is_cached(small_run, n=2, folder=elsewhere) is True
    assert counted.is_cached(small_run, n=3, folder=elsewhere) is False
    assert counted.is_cached(small_run, n=2) is False  # the run's own cache holds nothing


def test_read_looks_in_the_given_folder_and_takes_parameters_in_field_order(small_run, tmp_path):
    counted = Declaration("test.positional", _Size, lambda run, params, callback: {"ones": np.ones(params.n)})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    counted(small_run, 4, folder=elsewhere)
    assert counted.read(small_run, 4, folder=elsewhere)["ones"].tolist() == [1.0] * 4
    assert counted.read_arrays(small_run, n=4, folder=elsewhere)["ones"].tolist() == [1.0] * 4
    assert counted.read(small_run, 4) is None  # not in the run's own cache
    assert counted.is_cached(small_run, 4, folder=elsewhere) is True  # 4 is n, not the default 3
    assert counted.is_cached(small_run, folder=elsewhere) is False
