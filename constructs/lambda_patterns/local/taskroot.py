"""The folder a local worker imports a function from: the staged asset minus its platform-specific wheels.

A staged asset holds the handler's modules, the shared code and the wheels pip installed *for Lambda's
platform* (e.g. Pillow for cp314 on aarch64). Those compiled wheels cannot load in this host's Python, so
the task root keeps everything of the asset except the files of such distributions, which the worker then
imports from the host interpreter's site-packages instead. Which top-level names came from a wheel is read
from each ``*.dist-info/RECORD``, the list pip writes of every file it installed. Pure-Python wheels
(``py3-none-any``) run anywhere and stay in the task root, as in Lambda.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from email.parser import HeaderParser
from importlib import metadata
from pathlib import Path


@dataclass(frozen=True)
class Distribution:
    """A distribution pip installed into the asset."""

    name: str
    version: str
    pure: bool
    top_level: frozenset[str]


def _top_level_names(dist_info: Path) -> set[str]:
    names = {dist_info.name}
    record = dist_info / "RECORD"
    if record.is_file():
        with record.open(newline="") as handle:
            for row in csv.reader(handle):
                if row and not row[0].startswith(".."):
                    names.add(row[0].replace("\\", "/").split("/", 1)[0])
    return names


def read_distributions(asset: Path) -> list[Distribution]:
    """Every ``*.dist-info`` in the asset's root: name, version, whether its wheel is pure Python, and the
    top-level files and folders its RECORD lists."""
    found = []
    for dist_info in sorted(asset.glob("*.dist-info")):
        headers = HeaderParser().parsestr((dist_info / "METADATA").read_text(errors="replace"))
        wheel = dist_info / "WHEEL"
        tags = HeaderParser().parsestr(wheel.read_text()).get_all("Tag", []) if wheel.is_file() else []
        pure = bool(tags) and all(tag.endswith("-none-any") for tag in tags)
        found.append(
            Distribution(
                name=headers.get("Name", dist_info.name.split("-")[0]),
                version=headers.get("Version", ""),
                pure=pure,
                top_level=frozenset(_top_level_names(dist_info)),
            )
        )
    return found


def host_version(name: str) -> str | None:
    """The version of a distribution installed in this interpreter's environment, or None."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def host_notes(distributions: list[Distribution]) -> list[str]:
    """What the user should know about each platform wheel that the host environment stands in for."""
    notes = []
    for dist in distributions:
        if dist.pure:
            continue
        installed = host_version(dist.name)
        if installed is None:
            notes.append(
                f"{dist.name} {dist.version} is built for Lambda's platform and is not installed here: "
                f"imports of it will fail; install it in the runner's environment (pip install "
                f"'{dist.name}=={dist.version}')"
            )
        elif installed != dist.version:
            notes.append(
                f"{dist.name}: the asset has {dist.version} for Lambda's platform; this host's {installed} "
                "stands in for it"
            )
        else:
            notes.append(f"{dist.name} {dist.version}: this host's build stands in for Lambda's")
    return notes


def build_task_root(asset: Path, destination: Path) -> list[Distribution]:
    """Copies the asset into ``destination`` without the files of its platform-specific distributions.
    Returns every distribution found, so the caller can report the ones the host provides."""
    distributions = read_distributions(asset)
    excluded = {"__pycache__"}
    for dist in distributions:
        if not dist.pure:
            excluded |= dist.top_level
    destination.mkdir(parents=True, exist_ok=True)
    for entry in sorted(asset.iterdir()):
        if entry.name in excluded:
            continue
        target = destination / entry.name
        if entry.is_dir():
            shutil.copytree(entry, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(entry, target)
    return distributions
