"""WSGI entry for gunicorn: ``ZSPACE_RUNS=data/runs gunicorn -k gthread -w 2 --threads 8 -b 127.0.0.1:8050 app.wsgi:server``.

Each worker builds its own app (and decoder service); they share the array
cache through its folder (``ZSPACE_CACHE_DIR``) or Redis (``ZSPACE_REDIS_URL``,
with ``zspace worker`` running the background jobs). The dashboard's own log
lines (refused inputs, computations that missed the cache) go to standard
output with the worker's pid.
"""

from __future__ import annotations

import logging
import os
import sys

from app.auth import auth_from_env
from app.factory import create_app
from rundir.layout import DEFAULT_RUNS

# Standard output, not error: while TensorFlow loads, descriptor 2 is captured (models.runtime) and a line
# written then would only appear once it has loaded.
_handler = logging.StreamHandler(sys.stdout)
_handler.setFormatter(logging.Formatter("[%(process)d] %(name)s %(levelname)s: %(message)s"))
logging.getLogger("app").addHandler(_handler)
logging.getLogger("app").setLevel(logging.INFO)

if auth_from_env() is None:
    # gunicorn may be bound to any address; say once, in its log, that nothing guards the server.
    print(
        "zspace: no ZSPACE_AUTH set: anyone who can reach this server can use it; bind gunicorn to 127.0.0.1",
        file=sys.stderr,
        flush=True,
    )

application = create_app(os.environ.get("ZSPACE_RUNS", DEFAULT_RUNS), cache_dir=os.environ.get("ZSPACE_CACHE_DIR"))
server = application.server
