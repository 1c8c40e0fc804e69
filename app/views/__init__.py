"""The dashboard's views, in page order: adding a view is one module here plus one line in ``VIEWS``.

Each view module holds its component ids (built with :func:`app.views.parts.ids`),
``TAB`` (the tab it lives in; views sharing a tab stack in this order;
``ABOVE_TABS`` for a view shown whichever tab is open),
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
    sampler_rates,
    sampling,
    selection,
    share,
    spectrum,
    structure,
    traversals,
)
from app.views.parts import ABOVE_TABS

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
    sampler_rates,
    sampling,
    structure,
    model,
)


def tabs() -> list[str]:
    """The tabs of the page, in order (each view's ``TAB``, first appearance first)."""
    return list(dict.fromkeys(view.TAB for view in VIEWS if view.TAB is not ABOVE_TABS))
