"""Allow ``python -m zspace``."""

import sys

from zspace.cli import main

# Guarded: the demo's analysis process is started with "spawn", which imports this module again.
if __name__ == "__main__":
    sys.exit(main())
