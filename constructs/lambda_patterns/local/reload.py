"""Hot reload: a thread that watches each function's source folders and replaces its workers on a change.

The folders come from the function's asset metadata (``steps/source_metadata.py``, written when CDK's
asset metadata is on, as ``cdk synth`` has it). Every ``interval`` seconds each folder is scanned (path,
modification time and size of every file the package takes); on a change the changed files are copied
over the function's task root, files deleted from the source are deleted from it, and every worker
process of the function is replaced before its next invocation: invocations in progress finish on the old
code, the next ones import the new. A source folder that is missing is not a change: the function keeps
its code (with a warning) until the folder is back. The installed dependencies stay as synthesized: a
changed requirements file is only reported, since installing wheels for Lambda's platform is the synth's
work.
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lambda_patterns.local.assembly import SourceFolders
    from lambda_patterns.local.functions import FunctionWorker

log = logging.getLogger("lambda_patterns.local")

#: Left out of the scan whatever the package's own excludes: what the interpreter writes itself.
ALWAYS_EXCLUDED = ("__pycache__", "*.pyc")
#: A file as scanned: its path in the source, modification time in ns and size.
Scanned = tuple[Path, int, int]


def _excluded(relative: PurePosixPath, patterns: Sequence[str]) -> bool:
    # As steps/package.py's is_excluded: a glob matches the whole relative path or any one of its parts.
    text = relative.as_posix()
    return any(
        fnmatch.fnmatchcase(text, pattern)
        or any(fnmatch.fnmatchcase(part, pattern) for part in relative.parts)
        for pattern in patterns
    )


def scan(source: SourceFolders) -> dict[str, Scanned]:
    """Every file the package takes from the source folders, by its path in the package root."""
    patterns = (*source.exclude, *ALWAYS_EXCLUDED)
    files: dict[str, Scanned] = {}
    for folder in (source.entry, *source.shared):
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            relative = PurePosixPath(path.relative_to(folder).as_posix())
            if _excluded(relative, patterns):
                continue
            with contextlib.suppress(OSError):
                stat = path.stat()
                if path.is_file():
                    files[relative.as_posix()] = (path, stat.st_mtime_ns, stat.st_size)
    return files


def _stamp(path: Path | None) -> tuple[int, int] | None:
    try:
        stat = path.stat() if path is not None else None
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size) if stat is not None else None


def apply_changes(
    task_root: Path, before: dict[str, Scanned], after: dict[str, Scanned]
) -> tuple[list[str], list[str]]:
    """Copies the files new or changed in ``after`` over the task root and deletes the ones gone; returns
    (copied, deleted) package paths. Each file is replaced at once (copied beside it, then renamed over
    it), so a process importing it meanwhile reads the old file or the new one. A changed module's bytecode
    is deleted too, so the next import compiles the new source whatever its timestamp."""
    copied = [
        relative for relative, seen in after.items() if before.get(relative, (None, -1, -1))[1:] != seen[1:]
    ]
    deleted = [relative for relative in before if relative not in after]
    for relative in copied:
        target = task_root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        # Whole or not at all: a cold start may import the module while it is copied (invocations go on).
        partial = target.with_name(f".{target.name}.reloading")
        shutil.copyfile(after[relative][0], partial)
        os.replace(partial, target)
        _drop_bytecode(target)
    for relative in deleted:
        target = task_root / relative
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        _drop_bytecode(target)
    return copied, deleted


def _drop_bytecode(module: Path) -> None:
    if module.suffix != ".py":
        return
    for cached in (module.parent / "__pycache__").glob(f"{module.stem}.*.pyc"):
        with contextlib.suppress(FileNotFoundError):
            cached.unlink()


class SourceWatcher:
    """Polls the source folders of every worker whose spec records them and reloads it on a change.

    :param workers: the functions to watch; those without recorded source folders are left out (logged).
    :param interval: seconds between scans. Default: 0.5.
    """

    def __init__(self, workers: Sequence[FunctionWorker], interval: float = 0.5) -> None:
        self._interval = interval
        self._watched = [worker for worker in workers if worker.spec.source is not None]
        self._files: dict[str, dict[str, Scanned]] = {}
        self._requirements: dict[str, tuple[int, int] | None] = {}
        self._missing: set[str] = set()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="source-watcher")
        unwatched = [worker.spec.name for worker in workers if worker.spec.source is None]
        if unwatched:
            log.info(
                "watch: no source folders recorded for %s (synthesize with `cdk synth`, which turns on asset "
                "metadata); their code is not reloaded",
                ", ".join(unwatched),
            )

    def start(self) -> None:
        """Takes the first scan (the state the task roots were built from) and starts polling."""
        for worker in self._watched:
            source = worker.spec.source
            assert source is not None
            self._files[worker.spec.name] = scan(source)
            self._requirements[worker.spec.name] = _stamp(source.requirements)
        if self._watched:
            log.info(
                "watch: reloading %s when their sources change",
                ", ".join(worker.spec.name for worker in self._watched),
            )
        self._thread.start()

    def poll(self) -> list[str]:
        """One scan of every watched function; returns the names of those reloaded."""
        reloaded = []
        for worker in self._watched:
            source = worker.spec.source
            assert source is not None
            name = worker.spec.name
            requirements = _stamp(source.requirements)
            if requirements != self._requirements[name]:
                self._requirements[name] = requirements
                log.warning(
                    "%s: %s changed: re-synthesize (cdk synth) and restart to install its packages",
                    name,
                    source.requirements,
                )
            missing = [folder for folder in (source.entry, *source.shared) if not folder.is_dir()]
            if missing:
                # Gone (a branch switch, a rename): no new code, as cdk deploy would fail on it; the
                # function keeps what it runs until the folder is back.
                if name not in self._missing:
                    self._missing.add(name)
                    log.warning(
                        "%s: source folder %s is missing: the function keeps its current code",
                        name,
                        ", ".join(str(folder) for folder in missing),
                    )
                continue
            self._missing.discard(name)
            files = scan(source)
            if files == self._files[name]:
                continue
            copied, deleted = apply_changes(worker.task_root, self._files[name], files)
            self._files[name] = files
            if not copied and not deleted:
                continue
            worker.replace_workers()
            reloaded.append(name)
            log.info(
                "%s: source changed, workers replaced (%s)",
                name,
                ", ".join([*copied, *(f"{relative} deleted" for relative in deleted)]),
            )
        return reloaded

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self.poll()
            except Exception:
                log.exception("watch: scanning the sources failed")

    def stop(self) -> None:
        """Stops polling."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
