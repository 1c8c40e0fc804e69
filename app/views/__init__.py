"""The dashboard's views, in page order: adding a view is one module here plus one line in ``VIEWS``.

Each view module holds its component ids (built with :func:`app.views.parts.ids`),
``TAB`` (the tab it lives in; views sharing a tab stack in this order),
``MESSAGES`` (regexes of its own refusal messages), ``layout()``, its callbacks
as plain functions, and ``register(app, store)``. The page shell, callback
registration, the screenshot tool and the tests all iterate ``VIEWS``.
"""

from app.views import (
    attributes,
    decode,
    density,
    export,
    filters,
    maps,
    model,
    neighbours,
    paths,
    planes,
    progress,
    radius,
    sampling,
    selection,
    share,
    spectrum,
    traversals,
)

VIEWS = (
    share,
    progress,
    filters,
    selection,
    planes,
    export,
    maps,
    decode,
    paths,
    neighbours,
    attributes,
    density,
    traversals,
    radius,
    spectrum,
    sampling,
    model,
)


def tabs() -> list[str]:
    """The tabs of the page, in order (each view's ``TAB``, first appearance first)."""
    return list(dict.fromkeys(view.TAB for view in VIEWS))
