"""zspace: look into the latent space of autoencoders trained on face images.

The package ``zspace`` is the top floor: the single ``zspace`` command line
(:mod:`zspace.cli`) and the built-in demo (:mod:`zspace.demo`). The run-directory
contract they all share is the ground-floor package :mod:`rundir`.
"""

__version__ = "0.1.0"
