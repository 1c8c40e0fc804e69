"""The server of ``zspace bench page`` (``gunicorn tools.bench.page_server:server``): the dashboard and the bare page."""

from __future__ import annotations

from app.wsgi import application, server
from tools.bench.bare_page import attach

attach(server, application.zspace_store)

__all__ = ["server"]
