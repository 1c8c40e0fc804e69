"""Drawing row ids: asking for every row draws nothing, so a shared generator's later draws stay reproducible."""

import numpy as np

from analysis import _checks


def test_asking_for_exactly_every_row_leaves_a_shared_generator_untouched():
    gen, fresh = np.random.default_rng(21), np.random.default_rng(21)
    assert _checks.draw_ids(6, 6, gen).tolist() == [0, 1, 2, 3, 4, 5]
    assert _checks.draw_ids(6, 5, gen).tolist() == _checks.draw_ids(6, 5, fresh).tolist()
