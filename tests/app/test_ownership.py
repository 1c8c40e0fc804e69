"""Who writes which component: a view's callbacks write its own components, another view's only where declared.

A component belongs to the view whose layout holds it (the run pickers, the
tabs and the page element to the page shell). A view may write another's
component only if it declares it (``View.writes``), and the share view writes
exactly what the views' link keys name as their targets (``View.url_state``).
"""

from __future__ import annotations

import dash

from app import page
from app.views import VIEWS, share
from app.views.parts import COMPARE, COMPARE_NOTE, PAGE, RUN, TABS
from tests.app.test_registry import component_ids

SHELL = "page shell"


def owners(views) -> dict[str, str]:
    """Component id -> the name of the view whose layout holds it (the page shell's own ids too)."""
    found = {component: view.name for view in views for component in component_ids(view.layout())}
    return {**found, **dict.fromkeys((PAGE, TABS, COMPARE, COMPARE_NOTE, *RUN.values()), SHELL)}


def written_ids(register, store, views) -> set[str]:
    """Component ids the callbacks ``register(app, store, views)`` wires write (server and clientside ones)."""
    app = dash.Dash(__name__)
    register(app, store, views)
    written = set()
    for callback in app._callback_list:
        output = callback["output"]
        parts = output[2:-2].split("...") if output.startswith("..") else [output]
        written.update(part.rsplit(".", 1)[0] for part in parts)
    return written


def declared(view, views) -> set[str]:
    """What ``view`` may write beyond its own components."""
    return set(view.writes) | (share.link_targets(views) if view is share.VIEW else set())


def undeclared_writes(view, store, views, owned: dict[str, str]) -> list[str]:
    """``"id (owned by X)"`` for every component ``view`` writes that it neither owns nor declares."""
    return sorted(
        f"{component} (owned by {owned.get(component, 'nobody')})"
        for component in written_ids(view.register, store, views)
        if owned.get(component) != view.name and component not in declared(view, views)
    )


def test_every_write_goes_to_the_owner_of_the_component_or_is_declared(store):
    owned = owners(VIEWS)
    table = [
        f"{component:<28} <- {view.name:<14} (owner: {owned.get(component, 'nobody')})"
        for view in VIEWS
        for component in sorted(written_ids(view.register, store, VIEWS))
    ]
    shell = sorted(written_ids(lambda app, store, views: page.register(app, store, ()), store, ()))
    table += [f"{component:<28} <- {SHELL:<14} (owner: {owned[component]})" for component in shell]
    print("who writes which component id:\n" + "\n".join(table))
    # The page's class, and the compare pickers kept in step (the run beside the first is one of the compared).
    assert shell == sorted([PAGE, RUN["b"], COMPARE, COMPARE_NOTE])
    offenders = {view.name: undeclared_writes(view, store, VIEWS, owned) for view in VIEWS}
    assert not any(offenders.values()), {name: found for name, found in offenders.items() if found}
    # Every declared write is a real one, into a component another view owns.
    for view in VIEWS:
        assert set(view.writes) <= written_ids(view.register, store, VIEWS), view.name
        assert all(owned[component] != view.name for component in view.writes), view.name


def test_an_undeclared_write_into_another_views_component_fails(store):
    from dataclasses import replace

    from app.views import density, planes

    owned = owners(VIEWS)
    assert undeclared_writes(density.VIEW, store, VIEWS, owned) == []
    # The density view writes the plane kind and x axis (a click on an axis shows it): without declaring it, caught.
    silent = replace(density.VIEW, writes=())
    assert undeclared_writes(silent, store, VIEWS, owned) == [
        f"{planes.AXIS_I} (owned by planes)",
        f"{planes.KIND} (owned by planes)",
    ]
