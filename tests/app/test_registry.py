"""The view registry: every view is one module with a tab, a layout, its callbacks and ids of its own."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import dash
import pytest

from app import page
from app.views import VIEWS, tabs
from app.views.parts import ABOVE_TABS, COMMON_REFUSALS, COMPARE, COMPARE_NOTE, PAGE, RUN, TABS
from rundir.errors import ZspaceError


def component_ids(component) -> list[str]:
    """Every ``id`` in a Dash component tree (depth first)."""
    found = []
    stack = [component]
    while stack:
        node = stack.pop()
        if isinstance(node, list | tuple):
            stack.extend(node)
            continue
        if not hasattr(node, "to_plotly_json"):
            continue
        node_id = getattr(node, "id", None)
        if node_id is not None:
            found.append(node_id)
        stack.append(getattr(node, "children", None))
    return found


@pytest.mark.parametrize("view", VIEWS, ids=[v.name for v in VIEWS])
def test_each_view_has_a_tab_a_layout_messages_and_registers_its_callbacks(view, store):
    assert view.tab is ABOVE_TABS or (isinstance(view.tab, str) and view.tab in tabs())
    assert isinstance(view.refusals, tuple) and all(issubclass(r, ZspaceError) for r in view.refusals)
    own = component_ids(view.layout())
    assert own, "a view shows something"
    assert len(own) == len(set(own)), "ids repeat inside one view"
    prefix = view.name
    assert all(i.startswith(prefix + "-") for i in own), f"ids of {prefix} are namespaced by the view"
    assert importlib.import_module(f"app.views.{prefix}").VIEW is view, "a view is named after its module"
    app = dash.Dash(__name__)
    view.register(app, store, VIEWS)
    assert app.callback_map, f"{prefix} registers its callbacks"
    outputs = " ".join(app.callback_map)
    assert any(i in outputs for i in own), f"{prefix}'s callbacks write into its own components"


def test_no_two_views_define_the_same_component_id():
    seen: dict[str, str] = {}
    for view in VIEWS:
        for component_id in component_ids(view.layout()):
            assert component_id not in seen, f"{component_id} is defined by {seen[component_id]} and {view.name}"
            seen[component_id] = view.name
    shell = set(component_ids(page.build_layout([])))
    assert {PAGE, TABS, COMPARE, COMPARE_NOTE, *RUN.values()} <= shell
    sections = {f"view-{view.name}" for view in VIEWS}
    assert (
        not shell
        - set(seen)
        - sections
        - {PAGE, TABS, COMPARE, COMPARE_NOTE, *RUN.values(), page.RUN_LIST, "empty-state"}
    )


def test_the_page_builds_one_tab_per_group_of_views_in_registry_order():
    layout = page.build_layout([])
    tab_bar = next(c for c in layout.children if getattr(c, "id", None) == TABS)
    assert [t.label for t in tab_bar.children] == tabs()
    assert tabs()[0] == "Planes" and "Sampling" in tabs() and "Model" in tabs()
    planes_tab = tab_bar.children[0]
    above = [c for c in layout.children if getattr(c, "id", "").startswith("view-")]
    assert [c.id for c in above] == [f"view-{v.name}" for v in VIEWS if v.tab is ABOVE_TABS]
    planes_views = [v for v in VIEWS if v.tab == "Planes"]
    assert len(planes_tab.children) == len(planes_views)


def raised_names(packages=("rundir", "analysis", "study", "app")) -> set[str]:
    """Names of the exception classes a ``raise X(...)`` / ``raise X`` in the product's code raises."""
    root, found = Path(__file__).resolve().parents[2], set()
    for package in packages:
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Raise) and node.exc is not None:
                    target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                    if isinstance(target, ast.Attribute | ast.Name):
                        found.add(target.attr if isinstance(target, ast.Attribute) else target.id)
    return found


def test_every_listed_refusal_is_one_the_code_raises():
    # A listed class nothing raises any more would widen what the fuzzer accepts without anyone noticing.
    listed = {*COMMON_REFUSALS, *(refusal for view in VIEWS for refusal in view.refusals)}
    raised = raised_names()
    assert sorted(r.__name__ for r in listed if r.__name__ not in raised) == []
