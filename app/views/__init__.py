"""The dashboard's views, in page order: adding a view is one module here plus one line in ``VIEWS``.

Each view module holds its component ids (built with :func:`app.views.parts.ids`),
``layout()``, its callbacks as plain functions, ``register(app, store, views)``,
and ends with its record ``VIEW = View(...)`` (:class:`app.views.protocol.View`:
name, tab, layout, register, refusal messages, and optionally what it draws on
the plane, its link keys and their check, and the other views' components it
writes). The page shell, callback registration, the screenshot tool and the
tests all iterate ``VIEWS``, the records.
"""

from app.views import (
    attributes,
    decode,
    density,
    epoch_structure,
    epochs,
    export,
    filters,
    lattice,
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
    sweep,
    traversals,
)
from app.views.parts import ABOVE_TABS

VIEWS = (
    share.VIEW,
    progress.VIEW,
    filters.VIEW,
    selection.VIEW,
    planes.VIEW,
    lattice.VIEW,
    export.VIEW,
    maps.VIEW,
    epochs.VIEW,
    decode.VIEW,
    paths.VIEW,
    neighbours.VIEW,
    attributes.VIEW,
    density.VIEW,
    traversals.VIEW,
    radius.VIEW,
    spectrum.VIEW,
    sampler_rates.VIEW,
    sampling.VIEW,
    structure.VIEW,
    epoch_structure.VIEW,
    sweep.VIEW,
    model.VIEW,
)


def tabs(views=VIEWS) -> list[str]:
    """The tabs of the page, in order (each view's tab, first appearance first)."""
    return list(dict.fromkeys(view.tab for view in views if view.tab is not ABOVE_TABS))
