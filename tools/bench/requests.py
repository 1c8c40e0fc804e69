"""Real Dash callback requests for the load benchmark and the reliability tests.

The bodies are what the Dash renderer posts to ``/_dash-update-component``,
built from the server's own ``/_dash-dependencies`` (so they follow the app's
component ids), and every answer is checked for what a user would see (an
image, a count line), so an error shown in the page counts as an error.
"""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

from rundir.errors import ZspaceError

#: Request kinds a load client cycles through.
KINDS = ("decode", "zoom", "sample")
REQUEST_TIMEOUT_S = 30.0


def split_output(output: str) -> list[dict]:
    """``"..a.x...b.y.."`` (or ``"a.x"``) -> ``[{"id": "a", "property": "x"}, ...]``."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True)) for part in parts]


def callback_body(dependency: dict, values: dict[str, Any], changed: list[str]) -> dict:
    """The JSON body the Dash renderer posts to ``/_dash-update-component`` for one callback.

    Parameters
    ----------
    dependency : dict
        One entry of ``/_dash-dependencies`` (or of ``app.callback_map`` with its ``output`` key).
    values : dict
        ``"id.property" -> value`` for inputs and states; missing ones are sent as None.
    changed : list of str
        The ``"id.property"`` that triggered the call.
    """
    outputs = split_output(dependency["output"])

    def props(items):
        return [
            {"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")} for i in items
        ]

    return {
        "output": dependency["output"],
        "outputs": outputs if dependency["output"].startswith("..") else outputs[0],
        "inputs": props(dependency["inputs"]),
        "state": props(dependency.get("state", [])),
        "changedPropIds": changed,
    }


def find_dependency(dependencies: list[dict], first_output: str) -> dict:
    """The callback whose first output is ``first_output`` (e.g. ``"decode-panel-a.children"``)."""
    for dependency in dependencies:
        outputs = split_output(dependency["output"])
        if f"{outputs[0]['id']}.{outputs[0]['property']}" == first_output:
            return dependency
    raise ZspaceError(f"the dashboard has no callback for {first_output}; the load benchmark needs updating")


def valid_values(run_a: str, run_b: str | None = None) -> dict[str, Any]:
    """``"id.property" -> value`` that a browser would send for every input and state of the dashboard.

    The callback fuzzer starts from these and makes them hostile one at a time; the
    hardening tests put hostile run names into them.
    """
    from app.views import decode, density, lattice, maps, planes, sampling, spectrum
    from app.views import radius as radius_view
    from app.views.parts import COMPARE, RUN, TABS

    zoom = {"xaxis.range[0]": -1, "xaxis.range[1]": 1, "yaxis.range[0]": -1, "yaxis.range[1]": 1}
    values = {
        f"{RUN['a']}.value": run_a,
        f"{RUN['b']}.value": run_b,
        f"{COMPARE}.value": [run_b] if run_b else [],
        f"{planes.KIND}.value": "axis",
        f"{planes.AXIS_I}.value": 0,
        f"{planes.AXIS_J}.value": 1,
        f"{planes.COLOUR}.value": "radius",
        f"{planes.GRAPH['a']}.relayoutData": zoom,
        f"{planes.GRAPH['b']}.relayoutData": zoom,
        f"{planes.SQUARE_GO}.n_clicks": 1,
        f"{planes.RESET}.n_clicks": None,
        f"{planes.SQUARE_X}.value": 0.0,
        f"{planes.SQUARE_Y}.value": 0.0,
        f"{planes.SQUARE_SIDE}.value": 1.0,
        f"{planes.VIEWPORT['a']}.data": None,
        f"{planes.VIEWPORT['b']}.data": None,
        f"{planes.WIDTH['a']}.data": 1200,
        f"{planes.WIDTH['b']}.data": 600,
        f"{planes.GRAPH['a']}.clickData": {"points": [{"x": 0.1, "y": 0.2}]},
        f"{planes.GRAPH['b']}.clickData": {"points": [{"x": 0.1, "y": 0.2}]},
        f"{planes.BASE_MODE}.value": "selected",
        f"{planes.UNITS}.value": "z",
        f"{lattice.SIZE}.value": 4,
        f"{lattice.DRAW}.n_clicks": 1,
        f"{decode.SELECTED['a']}.data": {"run": run_a, "row": 1},
        f"{decode.SELECTED['b']}.data": None,
        f"{decode.DECODED['a']}.data": {"run": run_a, "row": 1},
        f"{decode.DECODER_POLL}.n_intervals": 1,
        f"{maps.PICKED['a']}.value": None,
        f"{maps.PICKED['b']}.value": None,
        f"{maps.METHOD}.value": "tsne",
        f"{maps.NEIGHBOURS}.value": 15,
        f"{density.BIN}.value": 0.25,
        f"{radius_view.BIN}.value": 0.5,
        f"{spectrum.COMPONENTS}.value": 4,
        f"{density.GRAPH}.clickData": {"points": [{"customdata": 2}]},
        f"{density.TABLE}.active_cell": {"row": 0, "column": 0},
        f"{density.TABLE}.derived_viewport_data": [{"axis": 0}],
        f"{sampling.REROLL}.n_clicks": 1,
        f"{sampling.SEED}.value": 7,
        f"{TABS}.value": sampling.TAB,
        f"{sampling.SAMPLER}.value": "normal",
        f"{sampling.K}.value": 4,
        f"{sampling.SCALE}.value": 0.5,
        f"{maps.CANCEL}.n_clicks": 1,
    }
    values.update(navigation_values(run_a, zoom))
    values.update(instrument_values(run_a))
    return values


def navigation_values(run_a: str, zoom: dict) -> dict[str, Any]:
    """Valid browser values of the filter, selection, export and share views (see :func:`valid_values`)."""
    from app.views import export, filters, planes, selection, share

    box = {"kind": "box", "x": [-1.0, 1.0], "y": [-1.0, 1.0]}
    chosen = {"run": run_a, "plane": {"kind": "axis", "i": 0, "j": 1, "map": None}, "shapes": [box]}
    link = (
        f"#run={run_a}&plane=axis&x=0&y=1&zoom-a=-1,1,-1,1&filter=smiling%20%3D%3D%201&point-a=1"
        "&selection=" + urllib.parse.quote(json.dumps(chosen, separators=(",", ":")))
    )
    return {
        # A box drawn in select mode arrives as the plot's outline (side b also reports a zoom, for the plane).
        f"{planes.GRAPH['b']}.relayoutData": {
            **zoom,
            "selections": [{"type": "rect", "x0": -1, "x1": 1, "y0": -1, "y1": 1}],
        },
        f"{planes.RESTORE['a']}.data": {"x": [-1.0, 1.0], "y": [-1.0, 1.0]},
        f"{planes.RESTORE['b']}.data": None,
        f"{filters.TEXT}.value": "smiling == 1",
        f"{filters.APPLY}.n_clicks": 1,
        f"{filters.ADD}.n_clicks": 1,
        f"{filters.CLEAR}.n_clicks": None,
        f"{filters.COLUMN}.value": "pose",
        f"{filters.OPERATOR}.value": ">",
        f"{filters.VALUE}.value": "0",
        f"{filters.JOIN}.value": "and",
        f"{filters.FILTER}.data": {"expr": "smiling == 1", "within": None},
        f"{selection.SELECTION}.data": chosen,
        f"{selection.CLEAR}.n_clicks": None,
        f"{selection.USE}.n_clicks": 1,
        **{f"{export.CSV[s]}.n_clicks": 1 for s in ("a", "b")},
        **{f"{export.PARQUET[s]}.n_clicks": None for s in ("a", "b")},
        f"{share.LOCATION}.hash": link,
        f"{share.LOCATION}.href": "http://127.0.0.1:8050/" + link,
        f"{share.WRITTEN}.data": "",
    }


def instrument_values(run_a: str) -> dict[str, Any]:
    """Valid browser values of the decode instruments: paths, neighbours, attributes, traversals."""
    from app.views import attributes, neighbours, paths, traversals

    return {
        f"{paths.FROM}.value": 3,
        f"{paths.TO}.value": 250,
        f"{paths.STEPS}.value": 5,
        **{f"{buttons[s]}.n_clicks": 1 for buttons in (paths.SET_A, paths.SET_B) for s in ("a", "b")},
        f"{neighbours.ROW}.value": 3,
        f"{neighbours.K}.value": 6,
        f"{neighbours.HIGHLIGHT}.data": {"a": {"run": run_a, "row": 3, "rows": [4, 5, 6]}},
        f"{attributes.COLUMN}.value": "smiling",
        f"{attributes.SHOW}.n_clicks": 1,
        f"{attributes.ROW}.value": 3,
        f"{attributes.SPAN}.value": 1.5,
        f"{attributes.STEPS}.value": 5,
        f"{traversals.ROW}.value": 3,
        f"{traversals.MODE}.value": "pc",
        f"{traversals.INDEX}.value": 1,
        f"{traversals.STEPS}.value": 5,
    }


class RequestFactory:
    """Builds valid decode / zoom / sample requests for the usable runs of a runs folder."""

    def __init__(self, dependencies: list[dict], runs: dict[str, np.ndarray]):
        from app.views import decode, maps, planes, sampling

        self.ids = {"decode": decode, "planes": planes, "sampling": sampling, "maps": maps}
        self.decode = find_dependency(dependencies, f"{decode.PANEL['a']}.children")
        self.zoom = find_dependency(dependencies, f"{planes.GRAPH['a']}.figure")
        self.sample = find_dependency(dependencies, f"{sampling.GRID['a']}.children")
        self.nearest = next((d for d in dependencies if d["output"] == f"{decode.NEAREST['a']}.children"), None)
        self.picker = find_dependency(dependencies, f"{maps.PICKED['a']}.options")
        self.runs = runs  # name -> z-points: clicks hit real points of the (axis 0, axis 1) plane
        #: (run, map key, embedding) of every cached UMAP map (:meth:`find_umap_maps`): the "umap" kind clicks them.
        self.umap_maps: list[tuple[str, str, np.ndarray]] = []

    @property
    def kinds(self) -> tuple[str, ...]:
        """The request kinds a client cycles through: :data:`KINDS`, plus ``umap`` when a run has a UMAP map."""
        return (*KINDS, "umap") if self.umap_maps else KINDS

    def find_umap_maps(self, url: str, runs_dir) -> None:
        """Ask the server's map picker for each run's maps and keep the UMAP ones (with their points, for clicks)."""
        from analysis import results

        for name in sorted(self.runs):
            body = callback_body(self.picker, valid_values(name, None), [f"{self.ids['planes'].KIND}.value"])
            status, text = post(url + "/_dash-update-component", body)
            if status != 200:
                raise ZspaceError(f"the map picker answered HTTP {status} for {name}")
            options = json.loads(text)["response"][self.ids["maps"].PICKED["a"]]["options"]
            for entry in results.available_maps(Path(runs_dir) / name):
                key = next((o["value"] for o in options if o["label"] == entry["label"]), None)
                if entry["kind"] == "umap" and key is not None:
                    fit = results.load_map(Path(runs_dir) / name, "umap", entry["params"])
                    self.umap_maps.append((name, key, np.asarray(fit.embedding)))

    def build(self, kind: str, gen: random.Random) -> dict:
        """One request body of ``kind`` for a random usable run."""
        from app.views.parts import RUN, TABS

        planes, sampling = self.ids["planes"], self.ids["sampling"]
        if kind == "umap":  # empty space near a mapped point: the decoder's image of UMAP's inverse there
            name, key, embedding = gen.choice(self.umap_maps)
            x, y = embedding[gen.randrange(len(embedding))] + np.array([gen.uniform(-0.3, 0.3), gen.uniform(-0.3, 0.3)])
            values = {
                f"{RUN['a']}.value": name,
                f"{planes.KIND}.value": "map",
                f"{self.ids['maps'].PICKED['a']}.value": key,
                f"{planes.GRAPH['a']}.clickData": {"points": [{"x": float(x), "y": float(y)}]},
                f"{planes.BASE_MODE}.value": "mean",
            }
            return callback_body(self.decode, values, [f"{planes.GRAPH['a']}.clickData"])
        name = gen.choice(sorted(self.runs))
        z = self.runs[name]
        common = {f"{RUN['a']}.value": name, f"{planes.KIND}.value": "axis"}
        common.update({f"{planes.AXIS_I}.value": 0, f"{planes.AXIS_J}.value": 1})
        click = f"{planes.GRAPH['a']}.clickData"
        if kind == "decode":
            if gen.random() < 0.5:
                row = gen.randrange(len(z))
                point = {"pointNumber": row, "x": float(z[row, 0]), "y": float(z[row, 1])}
            else:  # empty space: decode the z at a clicked spot of the axis plane
                point = {"x": gen.uniform(-2, 2), "y": gen.uniform(-2, 2)}
            values = {**common, click: {"points": [point]}, f"{planes.BASE_MODE}.value": "mean"}
            return callback_body(self.decode, values, [click])
        if kind == "zoom":
            cx, cy, half = gen.uniform(-1, 1), gen.uniform(-1, 1), gen.uniform(0.2, 2.0)
            relayout = {
                "xaxis.range[0]": cx - half,
                "xaxis.range[1]": cx + half,
                "yaxis.range[0]": cy - half,
                "yaxis.range[1]": cy + half,
            }
            zoom = f"{planes.GRAPH['a']}.relayoutData"
            values = {**common, f"{planes.COLOUR}.value": "radius", zoom: relayout}
            return callback_body(self.zoom, values, [zoom])
        values = {
            **common,
            f"{TABS}.value": sampling.TAB,
            f"{sampling.SAMPLER}.value": gen.choice(("normal", "axis_gaussian", "full_gaussian", "uniform_box")),
            f"{sampling.K}.value": 16,
            f"{sampling.SEED}.value": gen.randrange(2**31),
            f"{sampling.SCALE}.value": 0.5,
        }
        return callback_body(self.sample, values, [f"{sampling.SEED}.value"])

    def follow_up(self, decode_answer: str) -> dict | None:
        """The nearest-distance request the browser sends after a decode answer (None if this app has none)."""
        if self.nearest is None:
            return None
        decoded = self.ids["decode"].DECODED["a"]
        target = json.loads(decode_answer)["response"].get(decoded, {}).get("data")
        return callback_body(self.nearest, {f"{decoded}.data": target}, [f"{decoded}.data"])


def answer_problem(kind: str, status: int, text: str) -> str | None:
    """Why an answer is not what a user expects (None when it is fine)."""
    if status != 200:
        return f"HTTP {status}"
    if '"className":"error"' in text or '"className": "error"' in text:
        return "the page shows an error: " + text[:200]
    # Dash's JSON writes "/" as \u002f, so look for the scheme and encoding, not "image/png".
    if kind in ("decode", "sample", "umap") and not ("data:image" in text and "base64," in text):
        return "no image in the answer"
    if kind == "zoom" and "points" not in text:
        return "no count line in the answer"
    if kind == "nearest" and "nearest" not in text:
        return "no nearest-data distance in the answer"
    return None


def post(url: str, body: dict, timeout: float = REQUEST_TIMEOUT_S) -> tuple[int, str]:
    """POST ``body`` as JSON to ``url`` (loopback only); return (status, text)."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback URL
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
