"""``zspace serve``: serve the dashboard for a folder of runs (loopback only unless told otherwise)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys

from rundir.errors import ZspaceError
from rundir.layout import DEFAULT_RUNS

LOOPBACK_NAMES = ("localhost",)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``zspace serve``."""
    parser.add_argument(
        "--runs", default=DEFAULT_RUNS, help=f"folder with one sub-folder per run (default {DEFAULT_RUNS})"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    parser.add_argument("--debug", action="store_true", help="Dash debug mode with hot reload (never on a shared host)")
    parser.epilog = (
        "Set ZSPACE_AUTH=user:password to require HTTP basic auth (do this before binding beyond loopback); "
        "ZSPACE_CACHE_DIR for the cache folder (default: data/cache beside the runs folder); "
        "ZSPACE_REDIS_URL to share the array cache through Redis. For several workers use gunicorn: "
        "ZSPACE_RUNS=data/runs gunicorn -k gthread -w 2 --threads 8 -b 127.0.0.1:8050 app.wsgi:server"
    )


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(runs_dir=DEFAULT_RUNS, host: str = "127.0.0.1", port: int = 8050, debug: bool = False) -> None:
    """Build the app for ``runs_dir`` and serve it until interrupted (used by ``zspace demo`` too)."""
    from app.auth import auth_from_env
    from app.factory import create_app

    if not 0 < int(port) < 65536:
        raise ZspaceError(f"port must be between 1 and 65535, got {port}")
    if debug and not is_loopback(host):
        # Werkzeug's debugger runs Python typed into the browser: never offer it to the network.
        raise ZspaceError("--debug only with a loopback --host (127.0.0.1); the debugger executes code")
    auth = auth_from_env()
    if not is_loopback(host):
        who = "with basic auth" if auth else "WITHOUT authentication: anyone who can reach it can use it"
        print(
            f"WARNING: zspace serve is bound to {host}, reachable from other machines, {who}. "
            "Set ZSPACE_AUTH=user:password or bind 127.0.0.1.",
            file=sys.stderr,
            flush=True,
        )
    if not os.path.isdir(runs_dir):
        print(f"note: runs folder {runs_dir} does not exist yet; the page will say how to create runs", flush=True)
    # The same cache folder as gunicorn's app.wsgi and `zspace worker` read, so the three agree.
    app = create_app(runs_dir, auth=auth, cache_dir=os.environ.get("ZSPACE_CACHE_DIR"))
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"zspace dashboard: http://{shown}:{port}/  (Ctrl-C to stop)", flush=True)
    app.run(host=host, port=int(port), debug=debug, use_reloader=debug)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``zspace serve``."""
    serve(args.runs, args.host, args.port, args.debug)
    return 0
