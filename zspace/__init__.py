"""zspace: look into the latent space of autoencoders trained on face images.

The package ``zspace`` holds what every part shares: the run-directory
contract (:mod:`zspace.rundir`), user-facing errors (:mod:`zspace.errors`) and
the single ``zspace`` command line (:mod:`zspace.cli`).
"""

__version__ = "0.1.0"
