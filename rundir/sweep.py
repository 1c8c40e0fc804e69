"""A sweep folder: runs of one configuration that differ only in β, listed by ``sweep.json``.

``zspace sweep --beta 0,0.1,1,4 --out data/runs/NAME`` writes
``NAME/sweep.json`` and one ordinary run directory per β inside it,
``NAME/beta-0`` (β = 0 is the AE), ``NAME/beta-0.1`` and so on. The manifest
is written atomically, only by the sweep command, and names each run, its β,
its model kind and the state the sweep last saw it in; each run keeps its own
``status.json``, which is what readers trust about the run itself.

The dashboard lists a sweep's runs as ``NAME/beta-0`` (:mod:`rundir.listing`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rundir.atomic import atomic_write_json
from rundir.errors import RunNotReadyError, ZspaceError
from rundir.files import read_json
from rundir.layout import MODEL_KINDS, SWEEP, now_iso

#: Version of the manifest's layout; a newer one is refused, not guessed at.
SWEEP_VERSION = 1
#: States the sweep records per run: waiting, sent to a worker, training, analysing, done, or stopped.
MEMBER_STATES = ("pending", "queued", "training", "analysing", "complete", "failed", "interrupted")
#: Most runs one sweep trains (each is a whole training run).
MAX_MEMBERS = 32
#: Largest β accepted: beyond it the KL term is all the loss sees (and names stay short).
MAX_BETA = 1e6


def member_name(beta: float) -> str:
    """The run folder of ``beta`` inside a sweep folder: ``beta-0``, ``beta-0.1``, ``beta-4``."""
    return "beta-" + np.format_float_positional(float(beta), trim="-")


def model_of(beta: float) -> str:
    """The model kind a sweep trains for ``beta``: β = 0 is the AE of the same architecture, any other a VAE."""
    return "ae" if float(beta) == 0.0 else "vae"


def check_betas(values) -> list[float]:
    """Check a list of β values: numbers, finite, from 0 to :data:`MAX_BETA`, no two equal, at most :data:`MAX_MEMBERS`.

    Raises
    ------
    ZspaceError
        One line naming the first bad value.
    """
    betas: list[float] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise ZspaceError(f"beta {str(value)[:40]!r} is not a number")
        beta = float(value)
        if not math.isfinite(beta):
            raise ZspaceError(f"beta {str(value)[:40]} is not a finite number")
        if beta < 0:
            raise ZspaceError(f"beta {beta:g} is negative; the KL weight must be >= 0 (0 trains the AE)")
        if beta > MAX_BETA:
            raise ZspaceError(f"beta {beta:g} is above {MAX_BETA:,.0f}, the largest a sweep accepts")
        if beta in betas:
            raise ZspaceError(f"beta {beta:g} is given twice; list each value once")
        betas.append(beta)
    if not betas:
        raise ZspaceError("no beta given; e.g. --beta 0,0.1,1,4")
    if len(betas) > MAX_MEMBERS:
        raise ZspaceError(f"{len(betas)} beta values given; a sweep trains at most {MAX_MEMBERS} runs")
    return betas


def parse_betas(text: str) -> list[float]:
    """β values from a comma-separated list such as ``"0,0.1,1,4"`` (checked by :func:`check_betas`)."""
    values: list[float] = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            raise ZspaceError(f"--beta {str(text)[:80]!r} has an empty entry; write e.g. --beta 0,0.1,1,4")
        try:
            values.append(float(part))
        except ValueError:
            raise ZspaceError(f"beta {part[:40]!r} is not a number; write e.g. --beta 0,0.1,1,4") from None
        if not math.isfinite(values[-1]):
            raise ZspaceError(f"beta {part[:40]!r} is not a finite number")
    return check_betas(values)


def is_sweep(folder: str | os.PathLike) -> bool:
    """True when ``folder`` is a sweep folder (it holds ``sweep.json``)."""
    return (Path(folder) / SWEEP).is_file()


def new_manifest(train: dict[str, Any], betas: list[float]) -> dict[str, Any]:
    """A fresh manifest: the training options shared by every run and one ``pending`` member per β."""
    members = [{"run": member_name(b), "beta": b, "model": model_of(b), "state": "pending"} for b in betas]
    return {"schema_version": SWEEP_VERSION, "created": now_iso(), "train": dict(train), "members": members}


def read_sweep(folder: str | os.PathLike) -> dict[str, Any]:
    """Read and check a sweep folder's ``sweep.json``.

    Returns
    -------
    dict
        ``schema_version``, ``created``, ``updated``, ``train`` (the options every run was trained with) and
        ``members``: per run ``run`` (its folder's name), ``beta``, ``model``, ``state`` and optionally ``message``.

    Raises
    ------
    RunNotReadyError
        One line naming what is wrong with the manifest.
    """
    manifest = read_json(Path(folder) / SWEEP, "sweep manifest")
    version = manifest.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RunNotReadyError("sweep manifest has no valid schema_version")
    if version > SWEEP_VERSION:
        raise RunNotReadyError(f"sweep was written by a newer zspace (schema {version}); upgrade zspace to read it")
    if not isinstance(manifest.get("train"), dict):
        raise RunNotReadyError("sweep manifest has no train options")
    members = manifest.get("members")
    if not isinstance(members, list) or not 1 <= len(members) <= MAX_MEMBERS:
        raise RunNotReadyError(f"sweep manifest must list 1 to {MAX_MEMBERS} members")
    betas = [_member_beta(member) for member in members]
    try:
        check_betas(betas)
    except ZspaceError as exc:
        raise RunNotReadyError(f"sweep manifest: {exc}") from None
    return manifest


def _member_beta(member) -> float:
    # One member of the manifest, checked; its beta.
    if not isinstance(member, dict):
        raise RunNotReadyError("sweep manifest: every member must be an object")
    beta = member.get("beta")
    if isinstance(beta, bool) or not isinstance(beta, int | float):
        raise RunNotReadyError("sweep manifest: a member has no numeric beta")
    if member.get("run") != member_name(beta):
        raise RunNotReadyError(f"sweep manifest: the run of beta {beta:g} must be {member_name(beta)}")
    if member.get("model") not in MODEL_KINDS or member.get("state") not in MEMBER_STATES:
        raise RunNotReadyError(f"sweep manifest: {member_name(beta)} has an unknown model or state")
    return beta


def write_sweep(folder: str | os.PathLike, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write ``sweep.json`` atomically with ``updated`` set to now; return what was written."""
    written = {**manifest, "updated": now_iso()}
    atomic_write_json(Path(folder) / SWEEP, written)
    return written


@dataclass
class SweepInfo:
    """A sweep folder as listings show it: its runs in β order, or why it cannot be read."""

    name: str
    path: Path
    usable: bool
    reason: str = ""
    members: list[dict[str, Any]] = field(default_factory=list)

    def runs(self) -> list[str]:
        """Run names as the dashboard lists them (``NAME/beta-0``), in β order."""
        return [f"{self.name}/{member['run']}" for member in self.members]


def inspect_sweep(folder: str | os.PathLike) -> SweepInfo:
    """Read a sweep folder's manifest; never raises for a broken one (the reason says why)."""
    folder = Path(folder)
    try:
        manifest = read_sweep(folder)
    except ZspaceError as exc:  # an unreadable file too: read_json turns OSError into its one line
        return SweepInfo(folder.name, folder, usable=False, reason=str(exc))
    members = sorted(manifest["members"], key=lambda member: float(member["beta"]))
    return SweepInfo(folder.name, folder, usable=True, members=members)


def list_sweeps(root: str | os.PathLike) -> list[SweepInfo]:
    """Every sweep folder directly under ``root`` (links out of ``root`` left out), sorted by name."""
    root = Path(root)
    if not root.is_dir():
        return []
    real_root = root.resolve()
    found = []
    for child in sorted(root.iterdir()):
        if child.name.startswith(".") or (child.is_symlink() and child.resolve().parent != real_root):
            continue
        if child.is_dir() and is_sweep(child):
            found.append(inspect_sweep(child))
    return found
