"""``zspace bench app``: decode-callback latency, plane-figure cost and viewport re-query time.

Everything runs on a synthetic run written to a temporary folder: z-points of
the real size (200k x 256, ``--quick``: 20k) and a decoder of the demo
architecture (z_dim 256, 64 x 64) with untrained weights — decode time does not
depend on the weights. Each figure is printed beside its baseline from the same
process: ``model.predict`` for decoding, Python lists for the figure payload.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

Z_DIM = 256
IMAGE_SIZE = 64


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))],
    }


def make_bench_run(root: Path, n_points: int) -> Path:
    """Write a complete run of ``n_points`` filament-like z-points and a demo-sized decoder."""
    import pandas as pd

    from models.architecture import build_decoder
    from models.config import make_config
    from rundir import write_status

    run = root / "bench"
    run.mkdir(parents=True)
    config = make_config(model="ae", z_dim=Z_DIM, image_size=IMAGE_SIZE)
    config.update({"schema_version": 1, "data": f"synthetic:{n_points}", "seed": 0})
    (run / "config.json").write_text(json.dumps(config))
    rng = np.random.default_rng(0)
    # Points along random directions with noise: PCA planes with structure and voids.
    t = rng.uniform(-2, 2, size=(n_points, 1)).astype(np.float32)
    directions = rng.normal(size=(32, Z_DIM)).astype(np.float32) / np.sqrt(Z_DIM)
    z = t * directions[rng.integers(0, 32, n_points)] * 4 + rng.normal(0, 0.3, (n_points, Z_DIM)).astype(np.float32)
    np.save(run / "zpoints.npy", z.astype(np.float32))
    pd.DataFrame(
        {
            "row": np.arange(n_points),
            "id": np.arange(n_points).astype(str),
            "source": [f"synthetic:0:{i}" for i in range(n_points)],
            "split": "train",
        }
    ).to_parquet(run / "metadata.parquet")
    build_decoder(config).save(run / "decoder.keras")
    write_status(run, "complete")
    return run


def bench_decode(store, clicks: int) -> dict:
    """Server time of the decode callback over ``clicks`` point clicks vs ``model.predict`` per z."""
    from app import plane_space
    from app.views.decode import decode_click, nearest_text

    run = store.open("bench")
    pca_plane = plane_space.plane(run, "pca", 0, 1)
    ids, xy = run.coords(pca_plane)
    rng = np.random.default_rng(1)
    rows = rng.integers(0, len(xy), clicks)

    def click(row):
        return {"points": [{"curveNumber": 1, "pointNumber": 0, "x": float(xy[row, 0]), "y": float(xy[row, 1])}]}

    decode_click(run, click(rows[0]), pca_plane, "mean", None)  # load + trace once
    callback, nearest = [], []
    for n, row in enumerate(rows):
        started = time.perf_counter()
        _, _, target = decode_click(run, click(row), pca_plane, "mean", None)
        callback.append(time.perf_counter() - started)
        if n < 50:  # the follow-up callback that fills in the nearest-data distance
            started = time.perf_counter()
            nearest_text(store, target)
            nearest.append(time.perf_counter() - started)
    z = run.z()
    from models.io import load_decoder

    model = load_decoder(run.folder)
    decode_only, predicted = [], []

    def predict(z_rows):  # the slow path the service avoids: Keras' per-call setup dominates
        return model.predict(np.atleast_2d(np.asarray(z_rows, dtype=np.float32)), verbose=0)

    predict(z[:1])  # warm-up
    for row in rows[: min(clicks, 50)]:
        started = time.perf_counter()
        run.decode(z[row])
        decode_only.append(time.perf_counter() - started)
        started = time.perf_counter()
        predict(z[row])
        predicted.append(time.perf_counter() - started)
    return {
        "clicks": clicks,
        "callback": _percentiles(callback),
        "nearest_callback": _percentiles(nearest),
        "tf_function_decode": _percentiles(decode_only),
        "model_predict_decode": _percentiles(predicted),
    }


def bench_lattice(store, repeats: int) -> dict:
    """Server time of a 12 x 12 decoded lattice (144 z, one batched decoder call) vs the same 144 z decoded one by one.

    Each repeat is a new viewport (a square of side 0.5 around a random point of PC 1 / PC 2, other
    coordinates from the nearest data point), then the same viewport again (memoised).
    """
    from analysis import results
    from analysis.lattice import MAX_SIZE, positions
    from app import plane_space
    from app.views import lattice, planes

    run = store.open("bench")
    started = time.perf_counter()
    run.result(results.nn_reference, background=True)  # what `zspace analyze` computes once per run
    reference_s = time.perf_counter() - started
    request = planes.PlaneRequest("a", "bench", None, "pca", 0, 1)
    where = request.plane(run)
    _, xy = run.coords(where)
    rng = np.random.default_rng(3)
    cold, memoised, batched, one_by_one = [], [], [], []
    for _ in range(repeats):
        x, y = (float(v) for v in xy[rng.integers(len(xy))])
        view = {"key": f"{run.name}|{where.key()}", "x": [x - 0.25, x + 0.25], "y": [y - 0.25, y + 0.25]}
        for times in (cold, memoised):
            started = time.perf_counter()
            lattice.lattice_view(run, request, view, MAX_SIZE, "nearest", None)
            times.append(time.perf_counter() - started)
        z, _ = plane_space.z_at(run, where, positions(view["x"], view["y"], MAX_SIZE), "nearest")
        started = time.perf_counter()
        run.decode(z, most=MAX_SIZE**2)
        batched.append(time.perf_counter() - started)
        started = time.perf_counter()
        for one in z:
            run.decode(one)
        one_by_one.append(time.perf_counter() - started)
    return {
        "tiles": MAX_SIZE**2,
        "nn_reference_s": reference_s,
        "cold_callback": _percentiles(cold),
        "memoised_callback": _percentiles(memoised),
        "decode_batched": _percentiles(batched),
        "decode_one_by_one": _percentiles(one_by_one),
    }


def bench_figure(n_points: int) -> dict:
    """Build time and JSON bytes/point of the plane figure with typed arrays vs Python lists."""
    import plotly.graph_objects as go

    from figures.planes import PlanePoints, plane_figure

    rng = np.random.default_rng(2)
    xy = rng.normal(size=(n_points, 2)).astype(np.float32)
    ids = np.arange(n_points)
    out = {"points": n_points}
    plane_figure(
        PlanePoints(xy[:100], ids[:100], (-5, 5), (-5, 5))
    ).to_json()  # warm-up: plotly's validators load lazily
    started = time.perf_counter()
    payload = plane_figure(PlanePoints(xy, ids, (-5, 5), (-5, 5)), clickable_space=False).to_json()
    out["typed_seconds"], out["typed_bytes_per_point"] = time.perf_counter() - started, len(payload) / n_points
    started = time.perf_counter()
    fig = go.Figure(go.Scattergl(x=xy[:, 0].tolist(), y=xy[:, 1].tolist(), customdata=ids.tolist(), mode="markers"))
    payload = fig.to_json()
    out["lists_seconds"], out["lists_bytes_per_point"] = time.perf_counter() - started, len(payload) / n_points
    return out


def bench_viewport(store, repeats: int) -> dict:
    """Server time of a zoom (relayout) callback on the whole run, and of the bare viewport query."""
    from analysis.planes import viewport_query
    from app import plane_space
    from app.views.planes import GRAPH, PlaneRequest, classify, update_plane

    run = store.open("bench")
    ids, xy = run.coords(plane_space.plane(run, "pca", 0, 1))
    rng = np.random.default_rng(3)
    callback, query, counts = [], [], []
    for _ in range(repeats):
        cx, cy = xy[rng.integers(0, len(xy))]
        relayout = {
            "xaxis.range[0]": float(cx) - 0.25,
            "xaxis.range[1]": float(cx) + 0.25,
            "yaxis.range[0]": float(cy) - 0.25,
            "yaxis.range[1]": float(cy) + 0.25,
        }
        started = time.perf_counter()
        event = classify(relayout, [f"{GRAPH['a']}.relayoutData"])
        _, text, _ = update_plane(run, PlaneRequest("a", "bench", None, "pca", 0, 1), event)
        callback.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = viewport_query(xy, (cx - 0.25, cx + 0.25), (cy - 0.25, cy + 0.25), budget=store.plane_budget)
        query.append(time.perf_counter() - started)
        counts.append(result.count)
    return {
        "points": len(xy),
        "zoom_callback": _percentiles(callback),
        "viewport_query": _percentiles(query),
        "median_points_in_square": float(np.median(counts)),
    }


def bench_instruments(store, repeats: int) -> dict:
    """Server time of a 64-step path (two strips and their profile), of its profile alone, and of 32 neighbours.

    The profile is one streamed pass over every z-point for both paths' 128 steps; its baseline is
    scikit-learn's exact neighbour search on the same queries (it indexes the whole array per call).
    """
    from sklearn.neighbors import NearestNeighbors

    from analysis.walks import DENSITY_K, path, path_profile
    from app.views.neighbours import neighbour_view
    from app.views.paths import walk_view

    run = store.open("bench")
    z = run.z()
    rng = np.random.default_rng(4)
    pairs = rng.integers(0, len(z), size=(repeats, 2))
    walk_view(run, int(pairs[0, 0]), int(pairs[0, 1]), 64)  # load + trace once
    callback, profile, neighbours = [], [], []
    for a, b in pairs:
        started = time.perf_counter()
        walk_view(run, int(a), int(b), 64)
        callback.append(time.perf_counter() - started)
        steps = np.vstack([path(z[a], z[b], 64, kind) for kind in ("linear", "spherical")])
        started = time.perf_counter()
        path_profile(z, steps, exclude=(int(a), int(b)), k=DENSITY_K)
        profile.append(time.perf_counter() - started)
        started = time.perf_counter()
        neighbour_view([("a", run)], int(a), 32)
        neighbours.append(time.perf_counter() - started)
    started = time.perf_counter()
    NearestNeighbors(n_neighbors=DENSITY_K).fit(z).kneighbors(steps)
    baseline = time.perf_counter() - started
    return {
        "path_callback_64_steps": _percentiles(callback),
        "profile_128_steps": _percentiles(profile),
        "sklearn_128_steps_s": baseline,
        "neighbours_32": _percentiles(neighbours),
    }


def bench_filter(n_rows: int = 50_000, repeats: int = 5) -> dict:
    """The costliest filter the page accepts now, beside the costliest one it accepted before the work bound.

    Before: 2,000 characters held 153 comparisons on a text column, each converting the column again
    (reproduced by evaluating one condition 153 times). Now: at most ``MAX_CONDITIONS`` conditions, and a
    column is converted once per evaluation. The text column is of object dtype, as mixed metadata reads.
    """
    import pandas as pd

    from analysis import table_filter

    frame = pd.DataFrame({"id": pd.Series([f"img{i:06d}" for i in range(n_rows)], dtype=object)})
    one = table_filter.parse("id == 'a'", table_filter.column_kinds(frame))
    bound = " or ".join(["id == 'a'"] * table_filter.MAX_CONDITIONS)

    def best(run) -> float:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        return min(times)

    before = best(lambda: np.logical_or.reduce([table_filter.evaluate(one, frame) for _ in range(153)]))
    now = best(lambda: table_filter.row_mask(frame, bound))
    return {
        "rows": n_rows,
        "before_153_conditions_s": before,
        "now_bound_s": now,
        "now_conditions": len(bound.split(" or ")),
    }


def main(args) -> int:
    """Run the app benchmark and print its figures (``args.quick``, ``args.out``)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from app.factory import create_app

    quick = bool(getattr(args, "quick", False))
    n_points, clicks, fig_points = (20000, 50, 16500) if quick else (200000, 200, 165000)
    with tempfile.TemporaryDirectory(prefix="zspace-bench-app-") as tmp:
        root = Path(tmp)
        print(
            f"writing a synthetic run: {n_points:,} x {Z_DIM} z-points, decoder {IMAGE_SIZE}x{IMAGE_SIZE}", flush=True
        )
        make_bench_run(root / "runs", n_points)
        app = create_app(root / "runs", cache_dir=root / "cache")
        store = app.zspace_store
        results = {
            "decode": bench_decode(store, clicks),
            "figure": bench_figure(fig_points),
            "viewport": bench_viewport(store, 50),
            "instruments": bench_instruments(store, 5 if quick else 10),
            "filter": bench_filter(),
            "lattice": bench_lattice(store, 5 if quick else 10),
        }
    d, f, v = results["decode"], results["figure"], results["viewport"]
    print(
        f"decode callback ({d['clicks']} clicks, {n_points:,} points): p50 {d['callback']['p50_ms']:.1f} ms, p99 {d['callback']['p99_ms']:.1f} ms (goal p50 < 50 ms)"
    )
    print(
        f"  nearest-data distance (its own follow-up callback, exact scan of all points): "
        f"p50 {d['nearest_callback']['p50_ms']:.1f} ms, p99 {d['nearest_callback']['p99_ms']:.1f} ms"
    )
    print(
        f"  decoder alone, tf.function: p50 {d['tf_function_decode']['p50_ms']:.1f} ms; model.predict: p50 {d['model_predict_decode']['p50_ms']:.1f} ms"
    )
    print(
        f"plane figure, {f['points']:,} points: typed arrays {f['typed_seconds'] * 1000:.0f} ms, {f['typed_bytes_per_point']:.1f} B/point; "
        f"lists {f['lists_seconds'] * 1000:.0f} ms, {f['lists_bytes_per_point']:.1f} B/point"
    )
    print(
        f"zoom into a 0.5 square of {v['points']:,} points (median {v['median_points_in_square']:.0f} inside): "
        f"callback p50 {v['zoom_callback']['p50_ms']:.1f} ms, p99 {v['zoom_callback']['p99_ms']:.1f} ms (goal < 300 ms); "
        f"viewport query alone p50 {v['viewport_query']['p50_ms']:.2f} ms"
    )
    w = results["instruments"]
    print(
        f"path A→B, 64 steps, linear + spherical, {n_points:,} points: callback p50 "
        f"{w['path_callback_64_steps']['p50_ms']:.0f} ms, p99 {w['path_callback_64_steps']['p99_ms']:.0f} ms; "
        f"its profile (one streamed pass, 128 steps) p50 {w['profile_128_steps']['p50_ms']:.0f} ms "
        f"vs scikit-learn {w['sklearn_128_steps_s'] * 1000:.0f} ms; 32 neighbours p50 {w['neighbours_32']['p50_ms']:.0f} ms"
    )
    q = results["filter"]
    print(
        f"costliest filter on {q['rows']:,} rows: {q['now_conditions']} conditions (the bound) "
        f"{q['now_bound_s'] * 1000:.0f} ms; before the bound, 153 text conditions {q['before_153_conditions_s'] * 1000:.0f} ms"
    )
    g = results["lattice"]
    print(
        f"decoded lattice 12 x 12 ({g['tiles']} z in one decoder call, {n_points:,} points): callback p50 "
        f"{g['cold_callback']['p50_ms']:.0f} ms, p99 {g['cold_callback']['p99_ms']:.0f} ms; the same viewport again "
        f"p50 {g['memoised_callback']['p50_ms']:.1f} ms; its {g['tiles']} z in one decoder call p50 "
        f"{g['decode_batched']['p50_ms']:.0f} ms vs one by one p50 {g['decode_one_by_one']['p50_ms']:.0f} ms; the data's NN reference (once per run) {g['nn_reference_s']:.1f} s"
    )
    if getattr(args, "out", None):
        Path(args.out).write_text(json.dumps(results, indent=2))
    return 0
