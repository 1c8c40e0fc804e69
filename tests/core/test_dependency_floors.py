"""Minimum versions in pyproject.toml keep out releases with known security flaws, and the pins honour them.

A later edit that lowers ``keras``, ``dash`` or the serving stack (gunicorn, Flask,
Werkzeug, Pillow) below these floors fails here,
as does a ``constraints.txt`` pin that the declared requirements would refuse.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]

#: package -> (releases that must be refused, why). Each listed release has a published flaw we rely on not having.
REFUSED = {
    "keras": (
        # 3.8: safe_mode runs code from a crafted .keras (CVE-2025-1550); 3.10: another bypass (CVE-2025-8747);
        # 3.11.2: TorchModuleWrapper bypass (CVE-2025-49655); 3.13.1: TFSMLayer ignored safe_mode (fixed 3.13.2);
        # 3.13.2: path traversal on archive extraction (GHSA-hqp4-2352-xf5r, fixed 3.14.0).
        ["3.3.0", "3.8.0", "3.10.0", "3.11.2", "3.12.0", "3.13.1", "3.13.2"],
        "safe_mode=True must mean no code from decoder.keras runs",
    ),
    "dash": (
        # Before 4.4.1 a background callback's cancel/job/cacheKey ids came back from the browser unsigned.
        ["2.17.0", "3.4.0", "4.4.0"],
        "a client must not be able to cancel (kill) a process id of its choice",
    ),
    # The serving stack: gunicorn faces the proxy, Flask / Werkzeug parse every request, Pillow decodes run images.
    "gunicorn": (
        # 22.0.0: Transfer-Encoding request smuggling (CVE-2024-6827, fixed 23.0.0).
        ["21.2.0", "22.0.0"],
        "a proxy in front of gunicorn must not be tricked into smuggling requests past basic auth",
    ),
    "flask": (
        # 3.1.0: fallback secret keys signed with the wrong key (CVE-2025-47278); 3.1.2: Vary: Cookie missing (CVE-2026-27205).
        ["3.0.3", "3.1.0", "3.1.2"],
        "the secret key signs job handles; responses must not be cached across users",
    ),
    "werkzeug": (
        # 3.0.5: multipart parser memory exhaustion (CVE-2024-49767); 3.1.5: safe_join device names (CVE-2026-27199).
        ["3.0.5", "3.1.3", "3.1.5"],
        "a request body must not exhaust the server's memory",
    ),
    "pillow": (
        # 10.2.0: buffer overflow in ImageCms.buildTransform (CVE-2024-28219, fixed 10.3.0).
        ["9.5.0", "10.0.0", "10.2.0"],
        "images read from run folders must not overflow a buffer",
    ),
}


def requirements() -> list[tuple[str, Requirement]]:
    """Every requirement of pyproject.toml as (where, Requirement): dependencies and each extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = [("dependencies", Requirement(line)) for line in project["dependencies"]]
    for extra, lines in project.get("optional-dependencies", {}).items():
        found += [(f"extra {extra}", Requirement(line)) for line in lines]
    return found


def pins() -> dict[str, Version]:
    """``constraints.txt`` as name -> pinned version."""
    pinned = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pinned[canonicalize_name(name)] = Version(version)
    return pinned


@pytest.mark.parametrize("package", REFUSED)
def test_every_requirement_of_a_package_refuses_its_flawed_releases(package):
    flawed, why = REFUSED[package]
    declared = [(where, req) for where, req in requirements() if canonicalize_name(req.name) == package]
    assert any(where == "dependencies" for where, _ in declared), f"{package} is not a dependency any more"
    for where, req in declared:
        admitted = [v for v in flawed if req.specifier.contains(v, prereleases=True)]
        assert not admitted, f"{where}: {req} admits {admitted}, but {why}"


def test_constraints_pin_every_dependency_within_what_pyproject_allows():
    pinned = pins()
    for where, req in requirements():
        name = canonicalize_name(req.name)
        if where == "dependencies":
            assert name in pinned, f"{req.name} is a dependency but constraints.txt does not pin it"
        if name in pinned:
            assert req.specifier.contains(pinned[name], prereleases=True), (
                f"constraints.txt pins {req.name}=={pinned[name]}, which {where} ({req}) refuses"
            )
