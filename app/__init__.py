"""The zspace dashboard: a thin Dash view layer over run directories and ``analysis``.

Build an app with :func:`app.factory.create_app`; serve it with ``zspace serve``
(:mod:`app.serve`) or gunicorn (``app.wsgi:server``).
"""
