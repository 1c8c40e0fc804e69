"""The import guard that keeps TensorFlow out of umap-learn's import: which names, which thread."""

import threading

import pytest

from analysis.umap_maps import _Hidden


def test_the_hidden_packages_and_their_submodules_are_refused_in_the_guarding_thread_only():
    guard = _Hidden({"tensorflow", "keras"})
    for name in ("tensorflow", "keras", "tensorflow.python.ops", "keras.layers"):
        with pytest.raises(ImportError, match=f"^{name} is not imported by analysis$"):
            guard.find_spec(name)
    for name in ("numpy", "tensorflow_probability", "umap.umap_", "mykeras"):
        assert guard.find_spec(name) is None
    seen = []
    other = threading.Thread(target=lambda: seen.append(guard.find_spec("tensorflow")))
    other.start()
    other.join()
    assert seen == [None]  # another thread (the decoder service) imports TensorFlow as usual
