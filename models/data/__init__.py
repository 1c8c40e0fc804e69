"""Data sources for training and encoding.

``open_source(spec, image_size)`` opens ``synthetic[:N]`` (the built-in
procedural faces), ``celeba:PATH`` or ``folder:PATH``; ``make_dataset`` turns a
source into a ``tf.data`` pipeline and ``make_training_dataset`` into the
training one (each epoch in an order fixed by seed and epoch);
``load_original_image`` fetches one original image for the dashboard.
TensorFlow is imported only inside the two pipeline functions.
"""

from models.data.decode import MAX_PIXELS, SkipImage, decode_file
from models.data.pipeline import make_dataset, make_training_dataset
from models.data.source import FileSource, ImageSource, SyntheticSource, load_original_image, open_source
from models.data.spec import check_image_size, parse_spec

__all__ = [
    "MAX_PIXELS",
    "FileSource",
    "ImageSource",
    "SkipImage",
    "SyntheticSource",
    "check_image_size",
    "decode_file",
    "load_original_image",
    "make_dataset",
    "make_training_dataset",
    "open_source",
    "parse_spec",
]
