"""``create_app``: build a Dash app for a runs folder (no module-level app object anywhere)."""

from __future__ import annotations

import os
from pathlib import Path

import dash

import rundir
from app import compression, page, request_guard
from app.auth import auth_from_env, require_basic_auth
from app.cache import make_cache
from app.jobs import JobSlots, make_manager, signing_secret
from app.store import INLINE_POINTS, PLANE_BUDGET, RunStore
from app.views import VIEWS
from rundir.layout import DEFAULT_RUNS

ASSETS = Path(__file__).resolve().parent.parent / "assets"
#: Sub-folder of the cache with the content digests of runs whose own digest file is stale (rundir.digest).
DIGESTS = "digests"
#: Largest request body the server accepts (HTTP 413 beyond).
MAX_REQUEST_BYTES = 2 * 2**20


def default_cache_dir(runs_dir: str | os.PathLike) -> Path:
    """``data/cache`` next to a ``data/runs`` folder (else ``<runs>/../cache``).

    The server's cache folder holds ``flask/`` (memoised arrays), ``background/``
    (background jobs) and ``analysis/`` (analyses computed for requests); the
    server never writes into the runs folder.
    """
    return Path(runs_dir).resolve().parent / "cache"


def create_app(
    runs_dir: str | os.PathLike = DEFAULT_RUNS,
    cache_dir: str | os.PathLike | None = None,
    plane_budget: int = PLANE_BUDGET,
    auth: tuple[str, str] | None = None,
    warm: bool = True,
    inline_points: int = INLINE_POINTS,
    max_jobs: int | None = None,
) -> dash.Dash:
    """Build the dashboard for the runs in ``runs_dir``.

    Parameters
    ----------
    runs_dir : path-like
        Folder with one sub-folder per run.
    cache_dir : path-like, optional
        The server's cache folder (default ``data/cache``, see :func:`default_cache_dir`); with
        ``ZSPACE_REDIS_URL`` set the memoised arrays go to Redis instead of ``<cache_dir>/flask``.
    plane_budget : int
        Most points a plane draws before it shows a density raster (and says so).
    auth : (user, password), optional
        Basic-auth credentials; default from ``ZSPACE_AUTH``.
    warm : bool
        Load TensorFlow and the listed runs' decoders in a background thread now, and what a run's
        first click reads once its plane is drawn (:mod:`app.warm_up`).
    inline_points : int
        Runs with more points get their base analyses (PCA, plane, histograms, radius) from a background job.
    max_jobs : int, optional
        Background jobs computing at once on this host (default ``ZSPACE_MAX_JOBS``, else one per two cores).

    Returns
    -------
    dash.Dash
        Its Flask server is ``app.server`` (what gunicorn serves).
    """
    runs_dir = Path(runs_dir)
    cache_dir = Path(cache_dir or default_cache_dir(runs_dir))
    # The z-points' content digests of copied runs are kept here: the server never writes into the runs folder.
    rundir.keep_digests_in(cache_dir / DIGESTS)
    # z-points are read into private copies, never memory-mapped: a file truncated under a mapped
    # array would kill the process with SIGBUS (see rundir.private_copies).
    rundir.serve_private_copies()
    manager = make_manager(cache_dir)
    app = dash.Dash(
        __name__,
        title="zspace",
        assets_folder=str(ASSETS),
        suppress_callback_exceptions=False,
        update_title=None,
        background_callback_manager=manager,
    )
    # Dash signs background job and cache handles with the Flask secret_key when one is set; without it
    # Dash would keep its own secret inside the job store, where reading the store would reveal it.
    app.server.secret_key = signing_secret(cache_dir)
    # Callback bodies are a few kB; refuse anything far larger before Flask reads it into memory.
    app.server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    cache = make_cache(app.server, cache_dir / "flask")
    store = RunStore(
        runs_dir,
        cache,
        cache_dir,
        plane_budget=plane_budget,
        inline_points=inline_points,
        slots=JobSlots(cache_dir, max_jobs),
        warm=warm,
    )
    credentials = auth if auth is not None else auth_from_env()
    if credentials:
        require_basic_auth(app.server, *credentials)
    # A function, so each page load lists the runs afresh (new or repaired runs appear).
    app.layout = lambda: page.build_layout(store.runs(), VIEWS, store)
    page.register(app, store, VIEWS)
    request_guard.install(app)
    compression.install(app.server)
    if warm:
        # TensorFlow and the listed runs' decoders load in the background, so the first click does not wait.
        usable = [store.open(run["name"]) for run in store.runs() if run["usable"]]
        store.decoder.warm([(run.folder, run.files_key) for run in usable])
    app.zspace_store = store  # for tests and benchmarks: the same store the callbacks use
    app.zspace_manager = manager  # its Celery application is what `zspace worker` runs
    return app
