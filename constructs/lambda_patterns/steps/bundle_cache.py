"""A cache of built function packages, keyed by their asset hash, so a synth whose inputs are unchanged runs
no pip.

CDK already skips bundling when the output folder holds ``asset.<hash>`` from an earlier synth; this cache
serves every other output folder (each test's temporary one, a CI runner's fresh ``cdk.out``, ``make
local``). It is only as safe as its key, so the key is the package's asset hash, which covers every file of
the handler and shared folders after excludes, the requirements text, the wheels of the wheelhouse, the
runtime, the architecture and the bundler (``package.compute_asset_hash``). Packages whose pip resolution the
key cannot see (requirements that are not pinned, installed from an index rather than a wheelhouse) are
never cached.

An entry is written to a temporary folder and renamed into place, so a crash or a concurrent synth never
leaves a half entry that a later synth would serve; the first of two concurrent writers wins and the other
drops its copy.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

from lambda_patterns import defaults

#: An exact pin, ``name==1.2.3`` or ``name[extra]==1.2.3``, optionally with hashes or a marker after it.
_PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*===?\s*[^\s*;,]+(\s*;.*|\s+--hash=.*)?$")
#: The value of ``LAMBDA_PATTERNS_CACHE`` that turns the cache off.
DISABLED = "off"
_ENTRY_PREFIX = "bundle-"


def cache_root() -> Path | None:
    """The cache folder: ``$LAMBDA_PATTERNS_CACHE`` if set (``off`` turns the cache off), else
    ``lambda-patterns/bundles`` under ``$XDG_CACHE_HOME`` or ``~/.cache``."""
    value = os.environ.get(defaults.CACHE_ENV)
    if value is not None and value.strip():
        return None if value.strip().lower() == DISABLED else Path(value).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "lambda-patterns" / "bundles"


def is_cacheable(requirement_lines: list[str], wheelhouse: Path | None) -> bool:
    """Whether the asset hash decides what pip installs: no requirements, a wheelhouse (its wheels are part
    of the hash), or every requirement pinned exactly."""
    if not requirement_lines or wheelhouse is not None:
        return True
    return all(_PINNED.match(line) for line in requirement_lines)


def entry_path(root: Path, asset_hash: str) -> Path:
    """Where the bundle of ``asset_hash`` is kept."""
    return root / f"{_ENTRY_PREFIX}{asset_hash}"


def restore(root: Path, asset_hash: str, out: Path) -> bool:
    """Copy the cached bundle of ``asset_hash`` into ``out``; False when there is none."""
    entry = entry_path(root, asset_hash)
    if not entry.is_dir():
        return False
    shutil.copytree(entry, out, dirs_exist_ok=True, symlinks=True)
    return True


def store(root: Path, asset_hash: str, built: Path) -> None:
    """Keep a copy of ``built`` as the bundle of ``asset_hash``. A cache that cannot be written (read-only
    home, full disk) costs the next synth a rebuild, nothing more, so errors are swallowed."""
    entry = entry_path(root, asset_hash)
    if entry.is_dir():
        return
    staging = root / f".{entry.name}.{uuid.uuid4().hex}.tmp"
    try:
        root.mkdir(parents=True, exist_ok=True)
        shutil.copytree(built, staging, symlinks=True)
        os.rename(staging, entry)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
