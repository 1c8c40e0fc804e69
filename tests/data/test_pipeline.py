"""The training pipeline's epoch order, and sources streamed batch by batch."""

import numpy as np

from models.data import make_training_dataset, open_source


class RowSource:
    """Images whose pixels hold their row number, so a batch tells which rows it carries."""

    image_size = 16

    def __init__(self, count: int):
        self._images = np.broadcast_to(np.arange(count, dtype=np.uint8)[:, None, None, None], (count, 16, 16, 3))

    def __len__(self):
        return len(self._images)

    def images(self):
        return self._images


def _rows_per_epoch(source, batch_size, first_epoch, epochs, chosen=None):
    batches = make_training_dataset(source, batch_size, seed=7, first_epoch=first_epoch, epochs=epochs, rows=chosen)
    rows = [sorted(np.rint(batch[:, 0, 0, 0] * 255).astype(int)) for batch in batches.as_numpy_iterator()]
    per_epoch = -(-(len(source) if chosen is None else len(chosen)) // batch_size)
    return [rows[start : start + per_epoch] for start in range(0, len(rows), per_epoch)]


def test_every_epoch_serves_each_row_once_in_its_own_order():
    source = RowSource(70)
    epochs = _rows_per_epoch(source, 32, first_epoch=0, epochs=3)
    assert len(epochs) == 3
    for batches in epochs:
        assert [len(batch) for batch in batches] == [32, 32, 6]  # the last batch of each epoch is short
        assert sorted(row for batch in batches for row in batch) == list(range(70))
    assert epochs[0] != epochs[1] != epochs[2], "reshuffled every epoch"


def test_a_resumed_pipeline_serves_the_batches_an_uninterrupted_one_would():
    source = RowSource(70)
    assert _rows_per_epoch(source, 32, first_epoch=2, epochs=3) == _rows_per_epoch(source, 32, 0, 3)[2:]
    assert _rows_per_epoch(source, 32, 0, 3) == _rows_per_epoch(source, 32, 0, 3), "fixed by the seed"


def test_training_on_chosen_rows_serves_exactly_those_rows_each_epoch():
    source = RowSource(70)
    chosen = np.array([0, 3, 4, 9, 20, 21, 22, 40, 68, 69])  # first and last rows included
    epochs = _rows_per_epoch(source, 4, first_epoch=0, epochs=2, chosen=chosen)
    for batches in epochs:
        assert [len(batch) for batch in batches] == [4, 4, 2]
        assert sorted(row for batch in batches for row in batch) == chosen.tolist()
    assert _rows_per_epoch(source, 4, 1, 2, chosen) == epochs[1:], "a resume serves the same held-out-free batches"


def test_file_and_synthetic_sources_stream_the_images_they_hold(fake_celeba, tmp_path):
    celeba = open_source(f"celeba:{fake_celeba}", 32, cache_dir=tmp_path / "cache")
    streamed = list(celeba.batches(7))
    assert [len(batch) for batch in streamed] == [7] * 5 + [5]  # 40 usable files
    np.testing.assert_array_equal(np.concatenate(streamed), celeba.images())
    synthetic = open_source("synthetic:20", 32, seed=2)
    rendered_in_batches = np.concatenate(list(synthetic.batches(8)))
    np.testing.assert_array_equal(rendered_in_batches, synthetic.images())
