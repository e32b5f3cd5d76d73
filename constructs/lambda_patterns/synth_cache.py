"""``SynthCache``: a repeat synth with nothing changed reuses the cloud assembly already in the output folder.

A CDK app's synth is a pure function of what it reads: its own and its libraries' sources, the files its
assets are built from, the context the CLI passes, a few environment variables and the interpreter. So
``app.py`` starts a ``SynthCache`` before it imports aws_cdk; the cache records, through Python's audit
hooks, every file the synth opens and every folder it lists, and ``store()`` writes that record with a
digest of every output file into the output folder. The next run compares: when every input file, folder
listing, environment variable and output file is as recorded, the assembly in the folder is the one this
run would write, and the app exits without building the tree. Otherwise it synthesizes as if there were no
cache.

What the key covers, and where it stops:

- every file opened for reading and every folder listed during the synth (imports included), and every
  folder the import system looked into (those it listed before the cache started too, such as this
  package's own), except the output folder and the bundle cache (whose entries are keyed by the package
  inputs, which are recorded themselves). A file or folder that did not exist must still not exist: an
  optional settings file or module that appears changes the synth as much as one that changes. Installed files (under the interpreter's prefixes) are
  compared by size and modification time, as Python's own bytecode cache does; every other file by
  content, unless its size and modification time are unchanged and older than the record (git's rule for
  racily clean files);
- the interpreter, its arguments, module path and working folder, the environment variables that CDK,
  jsii, pip, Docker, AWS and this library read (``_ENV_PREFIXES``, ``_ENV_NAMES``), every other variable
  the synth looked up in ``os.environ`` (a stage name, say), the CLI's context overflow file by content;
- every output file but the CLI's own lock, error and counter files, by content; the staged ``asset.*``
  folders must still exist (CDK itself skips staging when they do).

No record is written when an input changed while the synth ran (this process wrote a file it had read, or a
file's time is after the synth's start): the outputs may stem from content the record would not hold.

A file whose existence the app tests without opening it (``os.path.exists``, ``Path.is_file``) in a folder
nothing lists, a file a C extension opens, a variable read with C's ``getenv``: none of these is seen. Files
that only the jsii kernel reads (node's side) are not seen either, so a synth whose assembly holds a file asset
that no ``FunctionPackage`` made (``Code.from_asset`` of a plain folder, a Docker image asset) is not
stored: CDK fingerprints those in node. Nor can it see what is neither a file nor the environment: an app
whose synth calls a service or reads the clock must not use it. ``LAMBDA_PATTERNS_SYNTH_CACHE=off`` turns the
cache off.

This module imports nothing from aws_cdk, so a reused synth never starts the jsii runtime.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from importlib.machinery import FileFinder
from pathlib import Path
from stat import S_ISREG
from typing import Any

#: Set to ``off`` to synthesize every time.
ENV = "LAMBDA_PATTERNS_SYNTH_CACHE"
#: The record, written into the output folder beside ``manifest.json``.
RECORD = "lambda-patterns-synth.json"
#: Bump when the record's meaning changes, so an older record never matches.
FORMAT = 3
_ENV_PREFIXES = ("CDK_", "JSII_", "LAMBDA_PATTERNS_", "AWS_", "PIP_", "PYTHON", "DOCKER_", "NODE_", "XDG_")
_ENV_NAMES = ("HOME", "PATH", "TMPDIR")
# The CLI writes context too large for the environment to a file in a new temporary folder each run.
_OVERFLOW_ENV = "CONTEXT_OVERFLOW_LOCATION_ENV"
# Written by the CLI around the app's run, not by the app.
_CLI_FILES = frozenset({"error.txt", "performance-counters.json", "synth.lock", RECORD})
# A file modified within this long before the record was written may have changed again in the same
# timestamp tick, so its unchanged size and time do not prove unchanged content.
_RACY_NS = 2_000_000_000
_WRITE_MODES = frozenset("wax+")
# File times come from a coarse clock that may lag time.time_ns() by a tick: a file written just after the
# synth started can carry a time just before it.
_CLOCK_SLACK_NS = 10_000_000

#: Asset hashes of the packages whose code a function took in this process (``note_package``).
_PACKAGE_ASSETS: set[str] = set()


#: Files the synth depends on without reading them in this process (``note_input``).
_NOTED_INPUTS: set[str] = set()

#: Names looked up in ``os.environ`` while a synth records; None when none does.
_ENV_READS: set[str] | None = None


class _RecordingEnviron(os._Environ):  # type: ignore[name-defined]
    """The class of ``os.environ`` while a synth records: the same mapping, noting every name looked up
    (``os.environ[...]``, ``get``, ``in``, ``os.getenv``), since any variable an app reads can decide its
    assembly. Swapping the class keeps ``os.environ`` the one object every module already holds."""

    def __getitem__(self, key: str) -> str:
        if _ENV_READS is not None:
            _ENV_READS.add(key)
        return super().__getitem__(key)

    def copy(self) -> dict[str, str]:
        """The whole environment, as a lookup of no name: jsii hands it to node this way, and what node
        reads of it is out of this cache's sight (``_ENV_PREFIXES`` covers what CDK's side reads)."""
        return {self.decodekey(key): self.decodevalue(value) for key, value in self._data.items()}


def note_input(path: str | os.PathLike) -> None:
    """A file the synth's output depends on that this process does not open, such as the interpreter that a
    subprocess runs (``FunctionPackage(bytecode=True)``'s compiler): recorded like the files it reads."""
    _NOTED_INPUTS.add(os.path.realpath(path))


def note_package(asset_hash: str) -> None:
    """Called by ``FunctionPackage.staged_code`` when a ``ServerlessFunction`` stages the package: one file
    asset the synth built from inputs this process read (and so recorded). A package whose code is only
    read (``.code``) is not counted, so it cannot vouch for another asset."""
    _PACKAGE_ASSETS.add(asset_hash)


#: Commands whose output the synth's output depends on (``note_probe``), with that output.
_PROBES: dict[tuple[str, ...], str] = {}


def note_probe(command: Sequence[str], output: str) -> None:
    """A command whose output decided part of the assembly, such as the identity of the interpreter that
    compiles a package's bytecode (which a shim on PATH may map to another build): the next run runs it
    again and reuses only if it prints the same."""
    _PROBES[tuple(command)] = output


def _probe_matches(command: Sequence[str], output: str) -> bool:
    try:
        result = subprocess.run(list(command), capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0 and result.stdout.strip() == output


def _sha256(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_digest(path: str | os.PathLike) -> str:
    """sha256 of a file, remembered for the process by path, size and modification time: the package step
    hashes a wheelhouse's wheels for its asset hashes, and the record needs the same digests."""
    stat = os.stat(path)
    key = (os.fspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = _sha256(key[0])
    return _DIGESTS[key]


def _listing(folder: str) -> str:
    return hashlib.sha256("\0".join(sorted(os.listdir(folder))).encode()).hexdigest()


def _environment_key() -> dict[str, Any]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name.startswith(_ENV_PREFIXES) or name in _ENV_NAMES
    }
    overflow = os.environ.get(_OVERFLOW_ENV)
    return {
        "format": FORMAT,
        # The module path too: a .pth file read before the cache started can change it.
        "python": [sys.version, sys.executable, list(sys.argv), os.getcwd(), list(sys.path)],
        "env": env,
        "context_overflow": _sha256(overflow) if overflow else None,
    }


def _output_digests(outdir: Path) -> dict[str, str]:
    """sha256 of every file of the assembly that the app wrote, by relative path: all but the staged asset
    folders (CDK trusts a staged folder by its name) and the CLI's own files."""
    digests = {}
    for folder, subfolders, files in os.walk(outdir):
        subfolders[:] = [name for name in subfolders if not name.startswith("asset.")]
        for name in files:
            if name in _CLI_FILES or name.endswith((".lock", ".tmp")):
                continue
            path = os.path.join(folder, name)
            digests[os.path.relpath(path, outdir)] = _sha256(path)
    return digests


class SynthCache:
    """Reuse of the last synth in ``$CDK_OUTDIR`` when nothing it read has changed.

    Start it before importing aws_cdk, so imports are recorded too::

        cache = SynthCache.start()
        if cache.reusable():
            raise SystemExit(0)
        import aws_cdk as cdk
        ...
        app.synth()
        cache.store()

    Without ``CDK_OUTDIR`` (an app run outside the CLI writes to a temporary folder) or with
    ``LAMBDA_PATTERNS_SYNTH_CACHE=off`` it does nothing.
    """

    def __init__(self, outdir: Path | None) -> None:
        self._outdir = outdir
        self._key = _environment_key()
        self._environ = dict(os.environ)
        self._env_read: set[str] = set()
        self._read: set[str] = set()
        self._written: set[str] = set()
        self._started_ns = time.time_ns()
        self._listed: set[str] = set()
        self._recording = False

    @classmethod
    def start(cls) -> SynthCache:
        """The cache of this process's synth, recording from now on."""
        value = os.environ.get("CDK_OUTDIR", "").strip()
        enabled = value and os.environ.get(ENV, "").strip().lower() != "off"
        cache = cls(Path(value).resolve() if enabled else None)
        if cache._outdir is not None:
            global _ENV_READS
            cache._recording = True
            sys.addaudithook(cache._audit)
            _ENV_READS = cache._env_read
            if type(os.environ) is os._Environ:  # type: ignore[attr-defined]
                os.environ.__class__ = _RecordingEnviron
        return cache

    @property
    def outdir(self) -> Path | None:
        """The output folder the cache reads and writes; None when the cache is off."""
        return self._outdir

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        # Called for every audit event of the process, so it returns as early as it can.
        if not self._recording:
            return
        if event == "open":
            path, mode, flags = args
            if not isinstance(path, (str, bytes)):
                return
            writes = mode is not None and not _WRITE_MODES.isdisjoint(mode)
            if mode is None and isinstance(flags, int):
                writes = bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND))
            (self._written if writes else self._read).add(os.path.abspath(os.fsdecode(path)))
        elif event in ("os.listdir", "os.scandir"):
            path = args[0] if args and args[0] is not None else "."
            if isinstance(path, (str, bytes)):
                self._listed.add(os.path.abspath(os.fsdecode(path)))

    def reusable(self) -> bool:
        """Whether the assembly in the output folder is what this run would write: same key, every input
        and output as recorded. Never raises: an unreadable record is a miss."""
        if self._outdir is None:
            return False
        try:
            record = json.loads((self._outdir / RECORD).read_text())
            return (
                record.get("key") == self._key
                and all(
                    _file_matches(path, *entry, record["written_ns"])
                    for path, entry in record["inputs"].items()
                )
                and all(not os.path.exists(path) for path in record["absent"])
                and all(self._environ.get(name) == value for name, value in record["environ"].items())
                and all(
                    not os.path.exists(folder) if digest is None else _listing(folder) == digest
                    for folder, digest in record["listings"].items()
                )
                and all((self._outdir / name).is_dir() for name in record["assets"])
                and _output_digests(self._outdir) == record["outputs"]
                and all(_probe_matches(command, output) for command, output in record["probes"])
            )
        except (OSError, ValueError, KeyError, TypeError):
            return False

    def store(self) -> bool:
        """Write the record of the synth that just ended; False (and no record) when the assembly holds an
        asset the cache cannot vouch for, or the folder cannot be written."""
        if self._outdir is None:
            return False
        global _ENV_READS
        self._recording = False
        _ENV_READS = None
        record_path = self._outdir / RECORD
        try:
            record_path.unlink(missing_ok=True)
            assets = _file_assets(self._outdir)
            if assets is None or len({Path(name).name for name in assets}) != len(_PACKAGE_ASSETS):
                return False
            written_ns = time.time_ns()
            derived = _derived_roots()
            found = self._inputs(derived)
            if found is None:
                return False
            inputs, absent = found
            record = {
                "key": self._key,
                "written_ns": written_ns,
                "inputs": inputs,
                "absent": absent,
                "environ": {name: self._environ.get(name) for name in sorted(self._env_read)},
                "listings": {
                    folder: _listing(folder) if os.path.isdir(folder) else None
                    for folder in sorted(self._listed | _import_folders())
                    if self._tracked(folder, derived)
                    and (os.path.isdir(folder) or not os.path.exists(folder))
                },
                "assets": sorted(assets),
                "outputs": _output_digests(self._outdir),
                "probes": [[list(command), output] for command, output in sorted(_PROBES.items())],
            }
            staging = record_path.with_name(f".{RECORD}.{os.getpid()}.tmp")
            staging.write_text(json.dumps(record, sort_keys=True))
            os.replace(staging, record_path)
            return True
        except OSError:
            return False

    def _tracked(self, path: str, derived: list[str]) -> bool:
        """Inputs are what the synth read, less its own outputs and derived caches (``derived``)."""
        if _is_within(path, str(self._outdir)):
            return False
        return not any(_is_within(path, root) for root in derived)

    def _inputs(self, derived: list[str]) -> tuple[dict[str, list[Any]], list[str]] | None:
        """Every input file with its size, time and (outside the installed prefixes) digest, and the files
        the synth tried to read that do not exist (and that it did not write); None when an input changed
        while the synth ran - this process wrote a file it had read, or its time is after the synth's start -
        since the outputs may then stem from content the record would not hold."""
        installed = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix})
        modules = {getattr(module, "__file__", None) for module in list(sys.modules.values())}
        paths = {os.path.abspath(p) for p in modules if isinstance(p, str)} | self._read | _NOTED_INPUTS
        inputs: dict[str, list[Any]] = {}
        absent: list[str] = []
        for path in sorted(paths):
            if not self._tracked(path, derived):
                continue
            try:
                stat = os.stat(path)
            except OSError:  # what os.path.exists calls missing
                # A module's missing bytecode is Python's own cache, not an input.
                if path not in self._written and os.path.basename(os.path.dirname(path)) != "__pycache__":
                    absent.append(path)
                continue
            if not S_ISREG(stat.st_mode):
                continue
            if path in self._written or stat.st_mtime_ns >= self._started_ns - _CLOCK_SLACK_NS:
                return None
            digest = None if any(_is_within(path, prefix) for prefix in installed) else file_digest(path)
            inputs[path] = [stat.st_size, stat.st_mtime_ns, digest]
        return inputs, absent


def _is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _import_folders() -> set[str]:
    """The folders the import system looked into, listed before the cache started or since (it lists a
    folder once and then trusts its cached listing while the folder's time stays), and the absolute path
    entries it found no folder at: a module that appears in one can shadow what the synth imported."""
    folders = set()
    for entry, finder in list(sys.path_importer_cache.items()):
        if isinstance(finder, FileFinder):
            folders.add(os.path.abspath(finder.path))
        elif finder is None and isinstance(entry, str) and os.path.isabs(entry):
            folders.add(entry)
    return folders


def _derived_roots() -> list[str]:
    # Imported here: the bundle cache reads lambda_patterns.defaults, which imports aws_cdk, and a reused
    # synth must not start the jsii runtime.
    from lambda_patterns.steps.bundle_cache import cache_root

    root = cache_root()
    return [str(root)] if root is not None else []


def _file_matches(path: str, size: int, mtime_ns: int, digest: str | None, written_ns: int) -> bool:
    try:
        stat = os.stat(path)
    except OSError:
        return False
    if stat.st_size != size:
        return False
    if digest is None:
        return stat.st_mtime_ns == mtime_ns
    if stat.st_mtime_ns == mtime_ns and mtime_ns < written_ns - _RACY_NS:
        return True
    return _sha256(path) == digest


def _file_assets(outdir: Path) -> set[str] | None:
    """The staged folders of the assembly's file assets; None when it holds an asset no package made."""
    staged: set[str] = set()
    for manifest in outdir.rglob("*.assets.json"):
        assets = json.loads(manifest.read_text())
        if assets.get("dockerImages"):
            return None
        for asset in assets.get("files", {}).values():
            path = asset.get("source", {}).get("path", "")
            if path.endswith(".template.json"):
                continue
            if not path.startswith("asset.") or asset["source"].get("packaging") != "zip":
                return None
            staged.add(str(manifest.parent.relative_to(outdir) / path))
    return staged
