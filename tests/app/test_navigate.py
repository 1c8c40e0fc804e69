"""Filter, linked selection, shareable links and export as plain functions on the test runs (ae, vae: 600 points)."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pandas as pd
import pytest
from dash import no_update
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import plane_space, subsets, url_state, viewport
from app.views import VIEWS, export, filters, planes, sampling, selection, share
from app.views.parts import open_shown
from rundir.errors import ZspaceError

FIELDS = share.fields_of(VIEWS)
TABS = list(dict.fromkeys(view.tab for view in VIEWS))
AXIS = {"kind": "axis", "i": 0, "j": 1, "map": None}


def box(run="ae", x=(-1.0, 1.0), y=(-1.0, 1.0), plane=AXIS) -> dict:
    return {"run": run, "plane": dict(plane), "shapes": [{"kind": "box", "x": list(x), "y": list(y)}]}


def inside_box(store, run, x=(-1.0, 1.0), y=(-1.0, 1.0)) -> np.ndarray:
    z = np.asarray(store.open(run).z())
    return (z[:, 0] >= x[0]) & (z[:, 0] <= x[1]) & (z[:, 1] >= y[0]) & (z[:, 1] <= y[1])


# -- filter ------------------------------------------------------------------------------------
def test_the_filter_keeps_exactly_the_matching_rows_and_says_how_many(store):
    smiling = store.open("ae").metadata()["smiling"].to_numpy() == 1
    state = {"expr": "smiling == 1", "within": None}
    assert np.array_equal(subsets.filter_rows(store.open("ae"), state), np.flatnonzero(smiling))
    assert subsets.filter_rows(store.open("ae"), None) is None
    assert filters.count_line(store.open("ae"), state) == f"{smiling.sum():,} of 600 rows match in ae · smiling == 1"
    assert filters.count_line(store.open("ae"), None) == "no filter: all 600 rows of ae"


def test_typing_adding_and_clearing_a_filter(store):
    text, state, message = filters.edit_filter(
        [store.open("ae"), store.open("vae")], filters.TEXT, "smiling==1", (None,) * 4, None
    )
    assert (text, state, message) == ("smiling==1", {"expr": "smiling == 1", "within": None}, "")
    text, state, _ = filters.edit_filter([store.open("ae")], filters.ADD, text, ("pose", ">", "0.5", "or"), state)
    assert text == "(smiling==1) or pose > 0.5" and state["expr"] == "smiling == 1 or pose > 0.5"
    assert filters.edit_filter([store.open("ae")], filters.CLEAR, text, (None,) * 4, state) == ("", None, "")
    with pytest.raises(ZspaceError, match="unknown column 'smilng'"):
        filters.edit_filter([store.open("ae")], filters.TEXT, "smilng == 1", (None,) * 4, None)
    with pytest.raises(ZspaceError, match="dunder names"):
        filters.edit_filter([store.open("ae")], filters.TEXT, "__import__('os')", (None,) * 4, None)
    with pytest.raises(ZspaceError, match="function calls"):
        filters.edit_filter([store.open("ae")], filters.TEXT, "len(id) > 3", (None,) * 4, None)


def test_every_plane_shows_only_the_filtered_rows(store):
    state = {"expr": "smiling == 1 and pose > 0", "within": None}
    kept = subsets.filter_rows(store.open("ae"), state)
    square = (0, 0, 1)
    request = planes.PlaneRequest("a", "ae", None, "axis", 0, 1, filter_state=state, square=square)
    figure, text, _ = planes.update_plane(store.open("ae"), request, planes.classify(None, [f"{planes.KIND}.value"]))
    shown = next(t for t in figure.data if t.name == "z-points")
    assert sorted(np.asarray(shown.customdata).tolist()) == kept.tolist()
    assert f"showing {len(kept):,} of 600 points" in text and f"the filter keeps {len(kept):,} of 600" in text


def test_a_link_zoom_goes_through_the_planes_checked_path(store):
    restore = {"x": [-0.5, 0.25], "y": [0.0, 1.0]}
    request = planes.PlaneRequest("a", "ae", None, "axis", 0, 1, restore=restore)
    event = planes.classify(None, [f"{planes.RESTORE['a']}.data"])
    figure, _, view = planes.update_plane(store.open("ae"), request, event)
    assert view["x"] == [-0.5, 0.25] and list(figure.layout.yaxis.range) == [0.0, 1.0]
    for bad in ({"x": [0, "nan"], "y": [0, 1]}, {"x": [1, 1], "y": [0, 1]}, {"x": [0, 1e300], "y": [0, 1]}, []):
        with pytest.raises(ZspaceError, match="link zoom|must be"):
            viewport.restored_range(bad)


# -- selection ---------------------------------------------------------------------------------
def test_a_box_or_lasso_outline_from_the_plot_becomes_a_selection():
    rect = {"selections": [{"type": "rect", "x0": 1, "x1": -1, "y0": 2, "y1": 0, "xref": "x", "yref": "y"}]}
    assert subsets.shapes_from_relayout(rect) == [{"kind": "box", "x": [-1.0, 1.0], "y": [0.0, 2.0]}]
    lasso = {"selections": [{"type": "path", "path": "M0,0L2,0L2,2L0,2Z"}]}
    assert subsets.shapes_from_relayout(lasso) == [
        {"kind": "lasso", "x": [0.0, 2.0, 2.0, 0.0], "y": [0.0, 0.0, 2.0, 2.0]}
    ]
    long = "M" + "L".join(f"{np.cos(t):.4f},{np.sin(t):.4f}" for t in np.linspace(0, 6.28, 5000)) + "Z"
    (thinned,) = subsets.shapes_from_relayout({"selections": [{"type": "path", "path": long}]})
    assert len(thinned["x"]) == subsets.MAX_VERTICES
    assert subsets.shapes_from_relayout({"xaxis.range[0]": 0}) is None  # a zoom, not a selection
    assert subsets.shapes_from_relayout({"selections": []}) == []  # a double click clears
    for bad in ([{"type": "rect", "x0": "nan", "x1": 1, "y0": 0, "y1": 1}], [{"type": "circle"}], [{}] * 9, "x"):
        with pytest.raises(ZspaceError):
            subsets.shapes_from_relayout({"selections": bad})


def test_selected_rows_are_the_points_inside_and_pass_the_filter(store):
    expected = inside_box(store, "ae")
    assert subsets.selection_rows(store.open("ae"), box()).tolist() == np.flatnonzero(expected).tolist()
    state = {"expr": "smiling == 1", "within": None}
    smiling = store.open("ae").metadata()["smiling"].to_numpy() == 1
    assert (
        subsets.selection_rows(store.open("ae"), box(), state).tolist() == np.flatnonzero(expected & smiling).tolist()
    )
    triangle = {"run": "ae", "plane": AXIS, "shapes": [{"kind": "lasso", "x": [-1, 1, -1], "y": [-1, -1, 1]}]}
    z = np.asarray(store.open("ae").z())
    in_triangle = (z[:, 0] > -1) & (z[:, 1] > -1) & (z[:, 0] + z[:, 1] < 0)
    assert subsets.selection_rows(store.open("ae"), triangle).tolist() == np.flatnonzero(in_triangle).tolist()


def test_the_same_images_light_up_on_the_other_run_with_both_counts(store):
    rows = subsets.selection_rows(store.open("ae"), box())
    assert len(rows) > 5
    where = plane_space.plane(store.open("vae"), "pca", 0, 1)
    (rings,) = selection.overlay(store.open("vae"), where, "b", box(), None)
    _, xy = store.open("vae").coords(where)
    assert np.allclose(np.c_[rings.x, rings.y], xy[rows])
    assert selection.count_line(store.open("ae"), box(), None).startswith(f"{len(rows):,} points selected here")
    assert f"{len(rows):,} highlighted here of {len(rows):,} selected on ae" in selection.count_line(
        store.open("vae"), box(), None
    )
    # The outline is drawn on the plane it was drawn on only.
    source = plane_space.plane(store.open("ae"), "axis", 0, 1)
    drawn = selection.overlay_layout(store.open("ae"), source, "a", box(), None)
    assert [s["type"] for s in drawn["shapes"]] == ["rect"] and drawn["shapes"][0]["x0"] == -1.0
    assert selection.overlay_layout(store.open("vae"), where, "b", box(), None)["shapes"] == []
    # The plot's own selection is cleared when the selection changes (it would swallow clicks inside it).
    assert (
        drawn["selections"] == []
        and drawn["selectionrevision"]
        != selection.overlay_layout(store.open("ae"), source, "a", box(x=(0.0, 1.0)), None)["selectionrevision"]
    )


def test_using_the_selection_as_the_filter_keeps_its_rows_on_both_runs(store):
    state = selection.use_as_filter(box(), {"expr": "pose > -5", "within": None})
    rows = subsets.selection_rows(store.open("ae"), box(), {"expr": "pose > -5", "within": None})
    assert subsets.filter_rows(store.open("ae"), state).tolist() == rows.tolist()
    # On the compared run: the same images, where its own metadata passes the filter's text too.
    passes = store.open("vae").metadata()["pose"].to_numpy() > -5
    assert subsets.filter_rows(store.open("vae"), state).tolist() == [r for r in rows.tolist() if passes[r]]
    with pytest.raises(ZspaceError, match="nothing is selected"):
        selection.use_as_filter(None, None)


class FrameRun:
    """Just enough of a run's handle for matching rows across runs by image id."""

    def __init__(self, name, frame):
        self.name, self.frame, self.files_key = name, frame, "k"

    def metadata(self):
        return self.frame

    def memo(self, key, compute):
        return compute()


def test_rows_are_matched_by_image_id_and_a_note_says_when_images_differ(tmp_path):
    ids = [f"img{k}" for k in range(6)]
    frames = {
        "a": pd.DataFrame({"id": ids}),
        "same": pd.DataFrame({"id": ids}),
        "shuffled": pd.DataFrame({"id": ids[::-1]}),
        "other": pd.DataFrame({"id": ids[:3] + ["x", "y", "z"]}),
    }
    fake = {name: FrameRun(name, frame) for name, frame in frames.items()}
    rows, note = subsets.linked_rows(np.array([1, 4]), fake["a"], fake["same"])
    assert rows.tolist() == [1, 4] and note == ""
    rows, note = subsets.linked_rows(np.array([1, 4]), fake["a"], fake["shuffled"])
    assert rows.tolist() == [1, 4] and "matched by image id" in note
    rows, note = subsets.linked_rows(np.array([0, 1]), fake["a"], fake["shuffled"])
    assert rows.tolist() == [4, 5]
    rows, note = subsets.linked_rows(np.array([1, 4]), fake["a"], fake["other"])
    assert rows.tolist() == [1] and note == "the runs hold different images: 1 of the 2 selected images are in other"


# -- shareable links ---------------------------------------------------------------------------
def page_values(run_a="ae") -> dict:
    return {
        "run": run_a,
        "compare": ["vae"],
        "beside": "vae",
        "tab": "Sampling",
        "map-a": None,
        "point-a": {"run": run_a, "row": 17},
        "filter": {"expr": "smiling == 1 and pose > 0.5", "within": box()},
        "plane": "axis",
        "x": 3,
        "y": 5,
        "colour": "pose",
        "zoom-a": {"key": "ae|axis:3:5", "x": [-0.125, 0.5], "y": [1.0, 2.25], "rev": "r"},
        "selection": box(x=(-2.0, 0.5)),
        "sampler": "data_noise",
        "seed": 123456,
        "k": 24,
        "scale": 0.25,
        "path-from": 3,
        "path-to": 250,
    }


def test_the_page_state_round_trips_through_the_link():
    fragment = url_state.encode(FIELDS, page_values())
    assert fragment.startswith("#run=ae&compare=vae&beside=vae&tab=Sampling") and "smiling%20%3D%3D%201" in fragment
    decoded, problems = url_state.decode(FIELDS, fragment)
    assert problems == []
    expected = {
        **page_values(),
        "point-a": {"row": 17},
        "zoom-a": {"x": [-0.125, 0.5], "y": [1.0, 2.25]},
        "filter": subsets.clean_filter(page_values()["filter"]),
        "selection": subsets.clean_selection(box(x=(-2.0, 0.5))),
    }
    del expected["map-a"]  # unset values are left out of a link
    assert decoded == {key: value for key, value in expected.items() if key in FIELDS}
    assert {"run", "plane", "zoom-a", "filter", "selection", "sampler", "seed"} <= set(decoded)
    # Encoding what was decoded gives the same link (nothing drifts when a link is opened and shared again).
    again = {**page_values(), "point-a": {"run": "ae", "row": 17}}
    assert url_state.encode(FIELDS, again) == fragment


@pytest.mark.parametrize(
    ("fragment", "problem"),
    [
        ("#run=../../etc/passwd", "unusable run"),
        ("#plane=bogus", "unusable plane"),
        ("#zoom-a=nan,1,2,3", "unusable zoom-a"),
        ("#zoom-a=1e400,1,2,3", "unusable zoom-a"),
        ("#zoom-a=1,1,2,3", "unusable zoom-a"),
        ("#x=-5", "unusable x"),
        ("#seed=1.5", "unusable seed"),
        ("#k=100000", "unusable k"),
        ("#selection={bad", "unusable selection"),
        ("#selection=" + "[" * 5000 + "]" * 5000, "unusable selection"),
        ('#selection={"run":"ae","plane":{"kind":"pca"},"shapes":[]}', "unusable selection"),
        ('#filter={"expr":1}', "unusable filter"),
        ("#point-a=-3", "unusable point-a"),
        ("#sampler=__import__", "unusable sampler"),
        ("#nonsense=1", "unknown key"),
        ("#run=ae&run=vae", "repeats run"),
        ("#" + "&".join(f"x{k}=1" for k in range(100)), "more than"),
        ("#run=" + "a" * 30_000, "longer than"),
    ],
)
def test_hostile_link_values_are_dropped_and_named(fragment, problem):
    decoded, problems = url_state.decode(FIELDS, fragment)
    assert any(problem in p for p in problems), problems
    assert set(decoded) <= {"run"}  # only the first of a repeated key survives
    line = url_state.problem_message(problems, applied=bool(decoded))
    assert re.fullmatch(r"this link .+; (the rest of it is|it is not) applied \(defaults instead\)", line), line


def test_a_link_that_is_not_text_is_not_read():
    for value in (None, 5, ["#run=ae"], {"hash": "#run=ae"}):
        decoded, problems = url_state.decode(FIELDS, value)
        assert decoded == {} and (problems == [] if value is None else problems == ["is not text"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(sorted(FIELDS)), json_values))
def test_encoding_hostile_component_values_never_fails_and_decodes_cleanly(values):
    fragment = url_state.encode(FIELDS, values)
    assert len(fragment) <= url_state.MAX_FRAGMENT
    decoded, problems = url_state.decode(FIELDS, fragment)
    assert problems == [], (fragment, problems)


def current() -> dict:
    return {
        "run": "ae",
        "compare": ["vae"],
        "beside": "vae",
        "plane": "pca",
        "x": 0,
        "y": 1,
        "map-a": None,
        "map-b": None,
    }


def test_opening_a_link_sets_every_component_and_clicks_the_point(store):
    fragment = url_state.encode(FIELDS, page_values())
    out, message, written = share.restore(store, VIEWS, FIELDS, fragment, None, current())
    assert message == "" and written == fragment
    targets = [target for field in FIELDS.values() for target in field.outputs()]
    applied = dict(zip(targets, out, strict=True))
    assert applied[(planes.KIND, "value")] == "axis" and applied[(planes.RESTORE["a"], "data")]["x"] == [-0.125, 0.5]
    assert applied[(filters.TEXT, "value")] == "smiling == 1 and pose > 0.5"
    assert applied[(sampling.SEED, "value")] == 123456 and applied[(selection.SELECTION, "data")]["run"] == "ae"
    (point,) = applied[(planes.GRAPH["a"], "clickData")]["points"]
    z = np.asarray(store.open("ae").z())
    assert (point["x"], point["y"]) == pytest.approx((float(z[17, 3]), float(z[17, 5])))
    assert applied[(planes.GRAPH["b"], "clickData")] is no_update
    # The page's own link changes nothing.
    assert share.restore(store, VIEWS, FIELDS, fragment, fragment, current())[0] == [no_update] * len(targets)


def test_a_link_naming_an_unknown_run_or_column_applies_the_rest_with_one_message(store):
    fragment = url_state.encode(FIELDS, {**page_values(run_a="nope"), "filter": {"expr": "smilng == 1"}})
    out, message, _ = share.restore(store, VIEWS, FIELDS, fragment, None, current())
    assert message.startswith("this link has an unusable run (unknown run 'nope')")
    assert "more problem" in message and message.endswith("the rest of it is applied (defaults instead)")
    targets = [target for field in FIELDS.values() for target in field.outputs()]
    applied = dict(zip(targets, out, strict=True))
    assert applied[("run-a", "value")] is no_update and applied[(filters.FILTER, "data")] is no_update
    assert applied[(planes.KIND, "value")] == "axis"


# -- export ------------------------------------------------------------------------------------
def test_the_plane_exports_every_point_with_its_flags(store):
    where = plane_space.plane(store.open("ae"), "axis", 0, 1)
    state = {"expr": "smiling == 1", "within": None}
    download, note = export.export_file(store.open("ae"), where, "pose", state, box(), "csv")
    assert download["filename"] == "ae-axis-0-1.csv" and note == "ae-axis-0-1.csv: 600 points"
    table = pd.read_csv(io.BytesIO(base64.b64decode(download["content"])))
    assert list(table.columns) == ["row", "id", "x", "y", "pose", "selected", "filtered"]
    meta = store.open("ae").metadata()
    assert table["row"].tolist() == list(range(600)) and table["id"].tolist() == meta["id"].tolist()
    assert np.allclose(table[["x", "y"]], np.asarray(store.open("ae").z())[:, :2], atol=1e-6)
    assert table["filtered"].tolist() == (meta["smiling"] == 1).tolist()
    selected = inside_box(store, "ae") & (meta["smiling"] == 1).to_numpy()
    assert table["selected"].tolist() == selected.tolist()
    parquet, _ = export.export_file(store.open("ae"), where, "none", None, None, "parquet")
    back = pd.read_parquet(io.BytesIO(base64.b64decode(parquet["content"])))
    assert list(back.columns) == ["row", "id", "x", "y", "selected", "filtered"] and back["filtered"].all()


def test_an_export_too_large_for_the_page_points_to_the_command_line(store, monkeypatch):
    monkeypatch.setattr(export, "MAX_EXPORT_POINTS", 100)
    where = plane_space.plane(store.open("ae"), "pca", 0, 1)
    with pytest.raises(ZspaceError, match=r"more than 100 points to export \(600\).+zspace export ae"):
        export.export_file(store.open("ae"), where, "none", None, None, "csv")


# -- sampling ----------------------------------------------------------------------------------
def test_data_samplers_use_only_the_filtered_rows_and_the_grid_downloads_as_png(store):
    state = {"expr": "smiling == 1", "within": None}
    z, note = sampling.sample_z(store.open("ae"), "data_noise", 16, 3, 0.0, state)
    kept = np.asarray(store.open("ae").z())[subsets.filter_rows(store.open("ae"), state)]
    assert all(np.any(np.all(np.isclose(kept, sample), axis=1)) for sample in z)
    assert note == f"fitted to the {len(kept):,} rows the filter keeps"
    assert sampling.sample_z(store.open("ae"), "normal", 4, 3, 0.5, state)[1] == ""  # N(0, I) has no data to fit
    grid = sampling.sample_grid(store.open("ae"), "normal", 4, 3, 0.5)
    link = grid[0].children[0]
    assert link.href.startswith("data:image/png;base64,") and link.download.endswith(".png")
    with pytest.raises(ZspaceError, match="the filter keeps no rows"):
        sampling.sample_z(store.open("ae"), "axis_gaussian", 4, 3, 0.5, {"expr": "pose > 100", "within": None})


def test_a_fitted_sampler_is_never_fitted_inside_a_request(store):
    from analysis import results, samplers

    kind = samplers.FITTED_KINDS[0]
    with pytest.raises(ZspaceError, match="are fitted to the whole run"):
        sampling.sample_z(store.open("ae"), kind, 8, 1, 0.5, {"expr": "smiling == -1", "within": None})
    if not results.sampler_fit.is_cached(store.open("ae").folder, folder=store.open("ae").request_folder, kind=kind):
        with pytest.raises(ZspaceError, match="is not fitted yet: press 'compute the rates'"):
            sampling.sample_z(store.open("ae"), kind, 8, 1, 0.5, None)
    # What the rates job does in the background: fit once into the server's cache; sampling then reads it.
    results.sampler_fit(store.open("ae").folder, folder=store.open("ae").request_folder, kind=kind)
    z, note = sampling.sample_z(store.open("ae"), kind, 8, 1, 0.5, None)
    assert z.shape == (8, 8) and np.isfinite(z).all() and note == ""
    again, _ = sampling.sample_z(store.open("ae"), kind, 8, 1, 0.5, None)
    assert np.array_equal(z, again)


def test_the_views_refusals_are_listed_classes_with_the_words_a_user_reads(store):
    from app.views.parts import COMMON_REFUSALS

    listed = {*COMMON_REFUSALS, *(refusal for view in VIEWS for refusal in view.refusals)}
    triggers = (
        (
            lambda: filters.edit_filter([store.open("ae")], filters.TEXT, "x == 1", (None,) * 4, None),
            "filter: unknown column 'x'",
        ),
        (lambda: subsets.clean_selection({"x": 1}), "selection is malformed: it names no run"),
        (lambda: selection.use_as_filter(None, None), "nothing is selected: box or lasso select on a plane first"),
        (lambda: viewport.restored_range([]), "link zoom must be an x range and a y range"),
    )
    for trigger, words in triggers:
        with pytest.raises(ZspaceError) as refused:
            trigger()
        assert type(refused.value) in listed and str(refused.value).startswith(words), refused.value
    too_many = export.TooManyToExport(most=300_000, count=400_000, run="ae")
    assert export.TooManyToExport in listed
    assert (
        str(too_many) == "more than 300,000 points to export (400,000): use `zspace export ae --plane ... --out FILE`"
    )
    line = url_state.problem_message(["has an unusable x (x axis must be a whole number)"], applied=True)
    assert (
        line
        == "this link has an unusable x (x axis must be a whole number); the rest of it is applied (defaults instead)"
    )


# -- the planes callback over HTTP: which change decides the view ------------------------------
def post_plane(dash_app, changed: list[str], **values) -> dict:
    from tools.bench.requests import callback_body, valid_values

    client = dash_app.server.test_client()
    client.get("/_dash-dependencies")
    dependency = next(d for d in dash_app._callback_list if d["output"].startswith(f"..{planes.GRAPH['a']}.figure"))
    body = callback_body(dependency, {**valid_values("ae", "vae"), **values}, changed)
    answer = client.post("/_dash-update-component", json=body)
    assert answer.status_code in (200, 204), answer.get_data(as_text=True)[:300]
    return answer.get_json()["response"] if answer.status_code == 200 else {}


def test_a_selection_drawn_on_the_plot_keeps_the_users_zoom(dash_app):
    view = {"key": "ae|axis:0:1", "x": [-0.5, 0.5], "y": [-0.25, 0.75], "rev": "r", "restored": None}
    outline = {"selections": [{"type": "rect", "x0": -0.4, "x1": 0.2, "y0": 0.0, "y1": 0.5}]}
    answer = post_plane(
        dash_app,
        [f"{planes.GRAPH['a']}.relayoutData", f"{selection.SELECTION}.data"],
        **{
            f"{planes.VIEWPORT['a']}.data": view,
            f"{planes.GRAPH['a']}.relayoutData": outline,
            f"{planes.RESTORE['a']}.data": None,
            f"{selection.SELECTION}.data": box(x=(-0.4, 0.2), y=(0.0, 0.5)),
        },
    )
    assert answer[planes.VIEWPORT["a"]]["data"]["x"] == [-0.5, 0.5]
    assert answer[planes.GRAPH["a"]]["figure"]["layout"]["shapes"][0]["x0"] == -0.4
    # The same outline alone (a resize, or the outline before the selection arrives) changes nothing.
    assert (
        post_plane(
            dash_app,
            [f"{planes.GRAPH['a']}.relayoutData"],
            **{f"{planes.VIEWPORT['a']}.data": view, f"{planes.GRAPH['a']}.relayoutData": outline},
        )
        == {}
    )


def test_the_plots_first_autosize_event_draws_the_plane(dash_app):
    answer = post_plane(
        dash_app,
        [f"{planes.GRAPH['a']}.relayoutData"],
        **{f"{planes.VIEWPORT['a']}.data": None, f"{planes.GRAPH['a']}.relayoutData": {"autosize": True}},
    )
    assert answer[planes.COUNT["a"]]["children"].startswith("showing")


def test_the_builder_lists_the_attributes_first(store):
    options = filters.column_options(store.open("ae"))
    assert [o["value"] for o in options][:2] == ["smiling", "pose"]
    assert options[0]["label"] == "smiling (number)" and {"row", "id", "split"} <= {o["value"] for o in options}


def test_neighbours_are_searched_among_the_rows_the_filter_keeps(store):
    from app.views import neighbours

    state = {"expr": "smiling == 1", "within": None}
    kept = set(subsets.filter_rows(store.open("ae"), state).tolist())
    row = min(kept)
    titles, _, _, highlight = neighbours.neighbour_view(open_shown(store, "ae", None), row, 8, state)
    assert set(highlight["a"]["rows"]) <= kept and len(highlight["a"]["rows"]) == 8
    assert "among the" in titles["a"] and f"{len(kept):,} rows the filter keeps" in titles["a"]
    _, _, _, unfiltered = neighbours.neighbour_view(open_shown(store, "ae", None), row, 8, None)
    z = np.asarray(store.open("ae").z(), dtype=np.float64)
    nearest = np.argsort(np.linalg.norm(z - z[row], axis=1))[1:9]
    assert unfiltered["a"]["rows"] == [int(r) for r in nearest]


def test_a_path_is_measured_against_the_rows_the_filter_keeps(store):
    from app.views import paths

    state = {"expr": "smiling == 1", "within": None}
    title, _, everything = paths.walk_view(store.open("ae"), 3, 250, 6)
    title_kept, _, kept = paths.walk_view(store.open("ae"), 3, 250, 6, "a", state)
    assert "measured against the" in title_kept and "rows the filter keeps" in title_kept
    assert "measured against" not in title
    nearest_all = np.asarray(everything.data[0].y, dtype=float)
    nearest_kept = np.asarray(kept.data[0].y, dtype=float)
    # Fewer candidates can only be farther away, and some step must notice it.
    assert np.all(nearest_kept >= nearest_all - 1e-6) and np.any(nearest_kept > nearest_all + 1e-6)
