"""Which runs a folder holds, whether each can be used (and if not, why), and safe name lookup.

Listing never raises for a broken run: the reason is one line in
``RunInfo.reason`` that names the run and never a server path, so one broken
run never breaks the page for the others.

Run names, the one rule :func:`list_runs` and :func:`resolve_run` share:

* ``NAME`` — a run folder directly in the runs folder;
* ``SWEEP/NAME`` — a run folder directly in a *sweep folder* ``SWEEP`` (a
  folder directly in the runs folder that holds ``sweep.json``,
  :mod:`rundir.sweep`). A sweep folder is not a run itself, and nothing deeper
  is looked into (a sweep inside a sweep is not listed).

Each part is a plain folder name (no ``/``, ``\\``, ``.``, ``..`` or NUL), and a
link that leads out of the folder it sits in is refused, at either level.
"""

from __future__ import annotations

import json
import logging
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rundir.errors import RunNotReadyError, UnknownRun, ZspaceError
from rundir.files import has_decoder, load_metadata, load_zpoints, model_file, read_config, read_status
from rundir.layout import BUSY_STATES, CONFIG, DECODER, READ_FILES, STATUS, SWEEP

log = logging.getLogger(__name__)

#: Why a run linked in from elsewhere is not offered (its files are never read).
LINKED_REASON = "links outside the runs folder; copy the run in instead of linking it"


def check_run_decoder(run: Path, config: dict[str, Any]) -> None:
    """Check that the run's decoder file is there and, for a ``.keras`` file, fits the config (no TensorFlow).

    A run without a decoder (z-points imported alone, ``decoder_file: null``)
    passes: it is usable for everything but decoding. An imported ``.keras``
    decoder is checked for its input width only: its layers are the user's own,
    so the image side is not followed through them (the import checked it on the
    loaded model). ONNX files and SavedModel folders are checked for presence;
    loading them needs their runtimes.

    Raises
    ------
    RunNotReadyError
        If the file is missing or does not fit (see :func:`check_decoder_file`).
    """
    name = model_file(config, "decoder")
    if name is None:
        return
    path = run / name
    if name == DECODER:
        check_decoder_file(path, config, follow_image_side=not config.get("imported"))
    elif not (path / "saved_model.pb" if path.suffix == ".savedmodel" else path).is_file():
        raise RunNotReadyError(f"{name} is missing; import the model again")


def check_decoder_file(path: Path, config: dict[str, Any], follow_image_side: bool = True) -> None:
    """Check that ``decoder.keras`` fits the run's config, reading only its JSON (no TensorFlow).

    A ``.keras`` file is a zip holding ``config.json``; the decoder's input
    width must be z_dim and its Reshape must match image_size / 16, so weights
    copied in from another run are caught when runs are listed, not on a click.
    ``follow_image_side=False`` checks the input width only.

    Raises
    ------
    RunNotReadyError
        If the file is missing, not a Keras archive, or built for another z_dim or image size.
    """
    if not path.exists():
        raise RunNotReadyError("decoder.keras is missing; retrain or copy the weights back")
    try:
        with zipfile.ZipFile(path) as archive:
            layers = json.loads(archive.read("config.json"))["config"]["layers"]
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError, OSError, RecursionError):
        raise RunNotReadyError("decoder.keras is damaged (not a Keras archive); retrain the run") from None
    side = None  # the image side, followed through Reshape and the upsampling layers after it
    for layer in layers if isinstance(layers, list) else []:
        kind, settings = _layer(layer)
        try:
            if kind == "InputLayer" and isinstance(settings.get("batch_shape"), list):
                _check_input_width(settings["batch_shape"][-1], config)
            elif follow_image_side:
                side = _image_side(kind, settings, side)
        except (TypeError, ValueError, IndexError):
            raise RunNotReadyError("decoder.keras has a malformed layer list; retrain the run") from None
    if side is not None and side != config["image_size"]:
        raise RunNotReadyError(f"decoder.keras makes {side}x{side} images but the config says {config['image_size']}")


def _layer(layer) -> tuple[str | None, dict]:
    # (class name, config) of one layer of a Keras archive's layer list, whatever shape it has.
    if not isinstance(layer, dict):
        return None, {}
    settings = layer.get("config", {})
    return layer.get("class_name"), settings if isinstance(settings, dict) else {}


def _check_input_width(width, config: dict[str, Any]) -> None:
    if width != config["z_dim"]:
        raise RunNotReadyError(f"decoder.keras takes z_dim {width} but the config says {config['z_dim']}")


def _image_side(kind, settings: dict, side: int | None) -> int | None:
    # The image side after this layer: set by Reshape, multiplied by the upsampling layers after it.
    if kind == "Reshape" and isinstance(settings.get("target_shape"), list):
        return int(settings["target_shape"][0])
    if side is not None and kind == "Conv2DTranspose" and settings.get("padding") == "same":
        return side * int(_first(settings.get("strides", 1)))
    if side is not None and kind == "UpSampling2D":
        return side * int(_first(settings.get("size", 2)))
    return side


def _first(value):
    return value[0] if isinstance(value, list | tuple) else value


@dataclass
class RunInfo:
    """What a reader needs to know about one run directory before opening it."""

    name: str
    path: Path
    state: str
    usable: bool
    reason: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    n_points: int = 0
    z_dim: int = 0
    #: False for a run without a decoder (z-points imported alone): usable for all but decoding.
    decoder: bool = True

    def label(self) -> str:
        """A one-line description for pickers and listings."""
        if not self.usable:
            return f"{self.name} — {self.state}: {self.reason}"
        model = str(self.config.get("model", "?")).upper()
        alone = "" if self.decoder else ", z-points only: no decoder"
        return f"{self.name} ({model}, z_dim {self.z_dim}, {self.n_points:,} points{alone})"


def inspect_run(run: str | os.PathLike, check_finite: bool = True) -> RunInfo:
    """Check a run directory and say whether the dashboard and analyses can use it.

    Never raises for a broken run: the reason is returned in ``RunInfo.reason``.
    """
    run = Path(run)
    info = RunInfo(name=run.name, path=run, state="unknown", usable=False)
    try:
        info.status = read_status(run)
        info.state = str(info.status.get("state", "unknown"))[:40]
        info.config = read_config(run)
        if info.state in BUSY_STATES:
            progress = info.status.get("message") or f"state {info.state}"
            raise RunNotReadyError(f"not finished yet ({str(progress)[:200]})")
        if info.state == "interrupted" and info.config.get("imported"):
            raise RunNotReadyError(f"encoding was interrupted; continue it with `zspace encode {run}`")
        if info.state == "interrupted":
            raise RunNotReadyError(f"training was interrupted; continue it with `zspace train --out {run} --resume`")
        if info.state == "failed":
            raise RunNotReadyError(str(info.status.get("message") or "training failed")[:300])
        z = load_zpoints(run, check_finite=check_finite)
        info.n_points, info.z_dim = int(z.shape[0]), int(z.shape[1])
        load_metadata(run, info.n_points)
        check_run_decoder(run, info.config)
        info.decoder = has_decoder(info.config)
        info.usable = True
    except (ZspaceError, OSError) as exc:
        reason = str(exc) if isinstance(exc, ZspaceError) else f"cannot be read ({type(exc).__name__})"
        info.reason = scrub_paths(reason, run)
        if info.state in ("complete", "unknown"):
            info.state = "broken"
    return info


def scrub_paths(text: str, run: Path) -> str:
    """``text`` with the run's server paths replaced by its name (reasons reach browsers)."""
    for path in sorted({str(run.resolve()), str(run.absolute()), str(run)}, key=len, reverse=True):
        text = text.replace(path, run.name)
    return text


def files_key(run: str | os.PathLike) -> str:
    """A string that changes whenever any file a reader of the run opens changes (size and mtime of each).

    Covers every file in :data:`rundir.layout.READ_FILES`, so deleting or replacing,
    say, ``metadata.parquet`` after a run was listed makes the next listing look again.
    """
    parts = []
    for name in READ_FILES:
        try:
            stat = (Path(run) / name).stat()
            parts.append(f"{stat.st_size}.{stat.st_mtime_ns}")
        except OSError:
            parts.append("-")
    return "|".join(parts)


def _looks_like_run(child: Path) -> bool:
    return (child / CONFIG).exists() or (child / STATUS).exists()


def _is_sweep_folder(child: Path) -> bool:
    return (child / SWEEP).is_file()


def _plain_name(name) -> bool:
    return (
        isinstance(name, str)
        and bool(name)
        and name not in (".", "..")
        and not any(c in name for c in ("/", "\\", "\x00"))
    )


def qualified_name(run: str | os.PathLike) -> str:
    """The name a run is listed under: ``SWEEP/NAME`` for a run inside a sweep folder, else its folder's name."""
    run = Path(run)
    return f"{run.parent.name}/{run.name}" if _is_sweep_folder(run.parent) else run.name


def list_runs(root: str | os.PathLike, check_finite: bool = True, inspect=None) -> list[RunInfo]:
    """Inspect every run of ``root`` — its sub-folders that look like runs and the runs of its sweep folders.

    Runs are named as in the module's rule (``NAME`` or ``SWEEP/NAME``) and
    sorted by name. A sub-folder that is a link to somewhere outside its
    folder is listed as refused without opening anything inside it.

    Parameters
    ----------
    root : path-like
    check_finite : bool
        Scan the z-points for NaN / inf (what :func:`inspect_run` does by default).
    inspect : callable(path) -> RunInfo, optional
        Replaces :func:`inspect_run`, e.g. a memoised version keyed by :func:`files_key`.
    """
    if inspect is None:

        def inspect(child):
            return inspect_run(child, check_finite=check_finite)

    root = Path(root)
    if not root.is_dir():
        return []
    runs = []
    for child, name in _run_folders(root):
        if child is None:
            runs.append(RunInfo(name=name, path=root / name, state="refused", usable=False, reason=LINKED_REASON))
            continue
        try:
            info = inspect(child)
        except Exception:  # a bug in inspecting one run must not hide every other run
            log.exception("inspecting run %s failed", name)
            info = RunInfo(name=name, path=child, state="broken", usable=False, reason="cannot be inspected")
        info.name = name
        runs.append(info)
    return sorted(runs, key=lambda info: info.name)


def _run_folders(root: Path, prefix: str = ""):
    """(folder, name) of every run folder under ``root`` by the naming rule; (None, name) for a link out."""
    real_root = root.resolve()
    for child in sorted(root.iterdir()):
        if child.name.startswith("."):
            continue
        name = prefix + child.name
        if child.is_symlink() and child.resolve().parent != real_root:
            # resolve_run refuses such a run, so list it as unusable rather than offer it.
            if child.resolve().is_dir():
                yield None, name
            continue
        if not child.is_dir():
            continue
        if not prefix and _is_sweep_folder(child):
            yield from _run_folders(child, prefix=f"{child.name}/")
        elif _looks_like_run(child):
            yield child, name


def resolve_run(root: str | os.PathLike, name: str) -> Path:
    """Map a run name coming from a user or a browser to its folder, safely.

    Only ``NAME`` (a sub-folder of ``root``) and ``SWEEP/NAME`` (a sub-folder of
    a sweep folder of ``root``) are accepted, each part a plain name, so
    ``../../etc``, absolute paths, links out of either folder and encoded
    variants cannot escape ``root``.
    """
    parts = name.split("/") if isinstance(name, str) else [None]
    if len(parts) > 2 or not all(_plain_name(part) for part in parts):
        raise UnknownRun(name=repr(str(name)[:80]))
    root = Path(root).resolve()
    try:
        folder = root
        for depth, part in enumerate(parts):
            candidate = (folder / part).resolve()
            if candidate.parent != folder or not candidate.is_dir():
                raise UnknownRun(name=repr(name[:80]))
            if depth < len(parts) - 1 and not _is_sweep_folder(candidate):
                raise UnknownRun(name=repr(name[:80]))
            folder = candidate
    except OSError:  # e.g. a name longer than the file system allows: still just an unknown run
        raise UnknownRun(name=repr(name[:80])) from None
    return folder
