"""Keras 3 models, data sources, the training worker, encoding and model I/O.

Imports of TensorFlow / Keras happen inside functions or in the sub-modules that need them, so
``import models`` stays cheap for the command line.
"""
