"""Step 3: ``FunctionPackage``: a handler folder and its third-party wheels, bundled without Docker."""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, BundlingOutput, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from lambda_patterns import defaults, synth_cache
from lambda_patterns.checks.bytecode_interpreter import check_bytecode_interpreter
from lambda_patterns.checks.duplicate_files import check_unique_files
from lambda_patterns.checks.empty_entry import check_entry_not_empty
from lambda_patterns.checks.overwrite import check_no_overwrite
from lambda_patterns.checks.package_paths import check_path
from lambda_patterns.checks.package_runtime import check_package_runtime
from lambda_patterns.checks.wheel_platform import check_wheel_platform
from lambda_patterns.errors import ConfigurationError
from lambda_patterns.steps import bundle_cache
from lambda_patterns.steps import bytecode as pyc
from lambda_patterns.steps.docker_bundling import docker_bundling
from lambda_patterns.steps.platforms import (
    architecture_name,
    machine,
    pip_platform_args,
    runtime_python_version,
)
from lambda_patterns.steps.wheels import find_incompatibilities, missing_requirement

#: Part of every asset hash: bump it whenever the bundler's output changes for the same inputs.
BUNDLER_FORMAT_VERSION = "2"
#: BundlingOptions needs an image even for local bundling. Local bundling never returns False, so CDK never
#: runs it; the name makes any such run fail loudly instead of quietly building something else.
_LOCAL_ONLY_IMAGE = "lambda-patterns/local-bundling-only"


def requirement_lines(text: str) -> list[str]:
    """The lines of a requirements file that ask pip for something: no blanks, no comments."""
    lines = (line.split(" #")[0].strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def is_excluded(relative: PurePosixPath, patterns: Sequence[str]) -> bool:
    """Whether a path (relative to its source folder) matches an exclude glob, either as a whole or by any
    one of its parts, so ``__pycache__`` drops the folder wherever it is and ``*.pyc`` every such file."""
    text = relative.as_posix()
    return any(
        fnmatch.fnmatchcase(text, pattern)
        or any(fnmatch.fnmatchcase(part, pattern) for part in relative.parts)
        for pattern in patterns
    )


def source_files(folder: Path, exclude: Sequence[str]) -> dict[str, Path]:
    """Every file under ``folder`` that is not excluded, keyed by its relative POSIX path."""
    files: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        relative = PurePosixPath(path.relative_to(folder).as_posix())
        if path.is_file() and not is_excluded(relative, exclude):
            files[relative.as_posix()] = path
    return files


def package_sources(
    entry: Path, shared: Sequence[Path], exclude: Sequence[str], where: str
) -> dict[str, Path]:
    """The files of the package root: the entry folder plus the contents of each shared folder.

    Two folders providing the same path is an error rather than a silent overwrite.
    """
    folders = [(folder, source_files(folder, exclude)) for folder in (entry, *shared)]
    check_unique_files(where, folders)
    return dict(sorted(item for _, files in folders for item in files.items()))


def wheel_digests(wheelhouse: Path | None) -> dict[str, str]:
    """The wheels pip may install from: file name to sha256. Every wheel counts, not only the ones this
    package's requirements name, since their dependencies are known only once pip has run. Each wheel is
    hashed once per synth (``synth_cache.file_digest``), not once per package, nor again by the record."""
    if wheelhouse is None or not wheelhouse.is_dir():
        return {}
    return {path.name: synth_cache.file_digest(path) for path in sorted(wheelhouse.glob("*.whl"))}


def compute_asset_hash(
    sources: Mapping[str, Path],
    requirements_text: str,
    runtime_name: str,
    architecture: str,
    bundler: str,
    wheels: Mapping[str, str] | None = None,
    bytecode: str | None = None,
) -> str:
    """sha256 over everything that decides the package's bytes, each part length-prefixed so that no two
    different inputs can produce the same stream. It is also the bundle cache's key (``bundle_cache``), so a
    new input that can change the bytes must be fed here."""
    digest = hashlib.sha256()

    def feed(label: str, data: bytes) -> None:
        digest.update(label.encode() + b"\0" + len(data).to_bytes(8, "big") + data)

    feed("format", BUNDLER_FORMAT_VERSION.encode())
    feed("runtime", runtime_name.encode())
    feed("architecture", architecture.encode())
    feed("bundler", bundler.encode())
    feed("requirements", requirements_text.encode())
    for name, wheel_hash in sorted((wheels or {}).items()):
        feed(f"wheel:{name}", wheel_hash.encode())
    if bytecode is not None:
        # Only when asked for, so a package without bytecode keeps the hash it always had.
        feed("bytecode", bytecode.encode())
    for relative, path in sorted(sources.items()):
        feed(f"file:{relative}", path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class BundlePlan:
    """Everything the bundler needs, fixed at construction so the jsii callback carries no other state."""

    where: str
    entry: Path
    shared: tuple[Path, ...]
    sources: Mapping[str, Path]
    requirements: Path | None
    wheelhouse: Path | None
    runtime_name: str
    python_version: str
    architecture: str
    #: The asset hash, and the bundle cache's key when ``cacheable``.
    asset_hash: str = ""
    cacheable: bool = False
    #: Whether the package ships bytecode (``steps/bytecode.py``), and the interpreter that writes it when
    #: built on this machine.
    bytecode: bool = False
    bytecode_interpreter: Path | None = None

    @property
    def target(self) -> str:
        """The runtime and architecture in words, for error messages."""
        return f"{self.runtime_name} on {self.architecture} ({machine(self.architecture)})"


def pip_install_command(plan: BundlePlan, target: Path) -> list[str]:
    """pip, choosing only manylinux wheels for the target runtime and architecture, with dependencies.

    ``--no-compile``: bytecode compiled by the host's Python would not match the runtime's Python.
    """
    assert plan.requirements is not None
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--target",
        str(target),
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        plan.python_version,
        *pip_platform_args(plan.python_version, plan.architecture),
        "--no-compile",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        "--requirement",
        str(plan.requirements),
    ]
    if plan.wheelhouse is not None:
        command += ["--no-index", "--find-links", str(plan.wheelhouse)]
    return command


def pip_environment(wheelhouse: Path | None) -> dict[str, str]:
    """With a wheelhouse, pip sees neither PIP_* variables nor configuration files, whose extra find-links
    or indexes would let a wheel from elsewhere slip in; without one, the user's pip configuration holds."""
    if wheelhouse is None:
        return dict(os.environ)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def pip_failure_message(plan: BundlePlan, stderr: str) -> str:
    """What to tell the user when pip fails: the missing requirement and what to do, or pip's own words."""
    source = f"the wheelhouse {plan.wheelhouse}" if plan.wheelhouse else "pip's configured index"
    requirement = missing_requirement(stderr)
    if requirement is None:
        return f"{plan.where}: pip could not install {plan.requirements} for {plan.target}:\n{stderr.strip()}"
    message = (
        f"{plan.where}: no wheel of {requirement} in {source} runs on {plan.target}. "
        f"Pick a version that publishes a manylinux wheel for cp{plan.python_version.replace('.', '')} "
        f"{machine(plan.architecture)}, or pass use_docker=True to build it inside the runtime's image."
    )
    if plan.wheelhouse is not None:
        message += (
            f" If such a wheel exists, add it with: python -m lambda_patterns.wheelhouse "
            f"--source <your lambda source folder> --dest {plan.wheelhouse}"
        )
    return message


def install_requirements(plan: BundlePlan, target: Path) -> None:
    """Runs pip into ``target`` and turns its failure into a ConfigurationError naming the requirement."""
    result = subprocess.run(
        pip_install_command(plan, target),
        capture_output=True,
        text=True,
        env=pip_environment(plan.wheelhouse),
    )
    if result.returncode != 0:
        # Not a rule of checks/: pip itself refused (no wheel for the target, a conflict, no index).
        raise ConfigurationError(
            pip_failure_message(plan, result.stderr), code="LambdaPatterns.Package.PipInstall"
        )


def _copy_file(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)
    shutil.copymode(source, destination)


def build(plan: BundlePlan, out: Path) -> None:
    """Builds the package into ``out``: wheels first, then the handler's and shared files, then the checks."""
    if plan.wheelhouse is not None:
        check_path(
            plan.where,
            "the wheelhouse",
            plan.wheelhouse,
            plan.wheelhouse.is_dir(),
            "does not exist",
            hint=f"create it with python -m lambda_patterns.wheelhouse --source <your lambda source folder> "
            f"--dest {plan.wheelhouse}",
        )
    if plan.requirements is not None and requirement_lines(plan.requirements.read_text()):
        install_requirements(plan, out)
    installed = {relative for relative in plan.sources if (out / relative).exists()}
    check_no_overwrite(plan.where, plan.sources, installed, plan.requirements)
    for relative, source in plan.sources.items():
        _copy_file(source, out / relative)
    problems = find_incompatibilities(out, plan.python_version, plan.architecture)
    check_wheel_platform(plan.where, plan.target, problems)
    if plan.bytecode_interpreter is not None:
        pyc.compile_package(plan.bytecode_interpreter, out, plan.where)


@jsii.implements(ILocalBundling)
class LocalBundler:
    """CDK's local bundling hook: builds the package on this machine, with no Docker.

    It keeps its whole plan on itself: what CDK passes to ``try_bundle`` is only the output folder.
    """

    def __init__(self, plan: BundlePlan) -> None:
        self.plan = plan

    def try_bundle(self, output_dir: str, *args: Any, **kwargs: Any) -> bool:
        """Builds into ``output_dir``; returns True or raises, never False, which would mean "use Docker".

        aws-cdk #26581: the generated Python signature takes the bundling options as keywords, but jsii passes
        one positional ``BundlingOptions``; ``*args``/``**kwargs`` accept either, and neither is needed.
        """
        out = Path(output_dir)
        root = bundle_cache.cache_root() if self.plan.cacheable else None
        if root is not None and bundle_cache.restore(root, self.plan.asset_hash, out):
            return True
        build(self.plan, out)
        if root is not None:
            bundle_cache.store(root, self.plan.asset_hash, out)
        return True


def local_bundling(plan: BundlePlan) -> BundlingOptions:
    """BundlingOptions whose only route is ``LocalBundler``."""
    return BundlingOptions(
        image=DockerImage.from_registry(_LOCAL_ONLY_IMAGE),
        local=LocalBundler(plan),
        output_type=BundlingOutput.NOT_ARCHIVED,
    )


def _default_requirements(entry: Path) -> Path | None:
    candidate = entry / "requirements.txt"
    if candidate.is_file() and requirement_lines(candidate.read_text()):
        return candidate
    return None


def _default_wheelhouse() -> Path | None:
    value = os.environ.get(defaults.WHEELHOUSE_ENV, "").strip()
    return Path(value).resolve() if value else None


class FunctionPackage(Construct):
    """Step 3: a handler folder plus its third-party requirements, bundled for the target runtime and
    architecture without Docker.

    The package root holds the entry folder's files, the *contents* of each shared folder (so
    ``lambda_src/common`` contributes ``lambda_common/``) and the wheels pip installs for the target:
    ``--only-binary=:all:`` with the runtime's Python version and manylinux platform tags, dependencies
    included, no bytecode. After pip, every installed distribution's wheel tags and every ``.so`` file's ELF
    machine are checked against the architecture, so a mislabelled wheel fails the synth rather than the
    first invocation.

    Errors found while bundling (a requirement without a wheel for the target, a mismatched ``.so``) are
    raised as ``ConfigurationError`` inside CDK's bundling callback, which runs when the function using
    ``code`` is constructed. jsii re-raises them there as ``RuntimeError`` whose message contains the
    original text verbatim, after CDK's "Failed to bundle asset ..." prefix. Everything that can be checked
    without pip (folders exist, runtime is Python, no two folders provide the same file) is checked here,
    eagerly, as a ``ConfigurationError``.

    Bundling is skipped, as CDK does for every asset, for stacks left out of the
    ``aws:cdk:bundling-stacks`` context; the custom asset hash needs only the source files. A package built
    once is kept in a cache folder keyed by its asset hash (``LAMBDA_PATTERNS_CACHE``, default
    ``~/.cache/lambda-patterns/bundles``; ``off`` turns it off) and copied from there by the next synth into
    any output folder, with no pip run; see ``steps/bundle_cache.py`` for what the key covers.

    :param entry: the handler's folder, e.g. ``lambda_src/thumbnail_pipeline``.
    :param runtime: a Python runtime. Default: ``defaults.RUNTIME`` (the newest Python).
    :param architecture: Default: ``defaults.ARCHITECTURE`` (arm64).
    :param shared: folders whose contents are copied into the package root. Default: none.
    :param requirements: a requirements file. Default: ``<entry>/requirements.txt`` if it exists and asks
        for anything, else no third-party packages.
    :param use_docker: build in the runtime's bundling image instead of on this machine (needs Docker; use
        it for a requirement that publishes no manylinux wheel). Default: False; a local failure is an
        error, never a fallback to Docker.
    :param wheelhouse: a folder of wheels to install from, and nothing else (pip then ignores PIP_*
        variables and configuration files). Default: the folder in the ``LAMBDA_PATTERNS_WHEELHOUSE``
        environment variable if set, else pip's configured index.
    :param exclude: globs, matched against each relative path and each of its parts, left out of the
        package and of the hash. Default: ``defaults.PACKAGE_EXCLUDES``.
    :param bytecode: ship ``.pyc`` files compiled by the runtime's Python version, so cold starts compile
        nothing (``steps/bytecode.py``). Needs that version here (the synth's Python or ``python3.X`` on
        ``PATH``) or ``use_docker``. Default: the ``lambda-patterns:bytecode`` context, else False.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        entry: str | os.PathLike,
        runtime: lambda_.Runtime = defaults.RUNTIME,
        architecture: lambda_.Architecture = defaults.ARCHITECTURE,
        shared: Sequence[str | os.PathLike] = (),
        requirements: str | os.PathLike | None = None,
        use_docker: bool = False,
        wheelhouse: str | os.PathLike | None = None,
        exclude: Sequence[str] = defaults.PACKAGE_EXCLUDES,
        bytecode: bool | None = None,
    ) -> None:
        super().__init__(scope, id)
        where = f"FunctionPackage {self.node.path}"
        bytecode = pyc.wanted(self, where, bytecode)
        check_package_runtime(where, runtime, architecture)
        python_version = runtime_python_version(runtime)
        arch = architecture_name(architecture)
        self._entry = Path(entry).resolve()
        check_path(where, "entry", self._entry, self._entry.is_dir())
        shared_folders = tuple(Path(folder).resolve() for folder in shared)
        for folder in shared_folders:
            check_path(where, "shared folder", folder, folder.is_dir())
        if requirements is None:
            self._requirements = _default_requirements(self._entry)
        else:
            self._requirements = Path(requirements).resolve()
            check_path(
                where, "requirements file", self._requirements, self._requirements.is_file(), "does not exist"
            )
        if wheelhouse is not None:
            check_path(where, "wheelhouse", Path(wheelhouse).resolve(), Path(wheelhouse).is_dir())
        wheelhouse_path = Path(wheelhouse).resolve() if wheelhouse is not None else _default_wheelhouse()

        sources = package_sources(self._entry, shared_folders, tuple(exclude), where)
        check_entry_not_empty(where, self._entry, sources)
        requirements_text = self._requirements.read_text() if self._requirements else ""
        wanted = requirement_lines(requirements_text)
        interpreter, compiler = None, "the runtime's bundling image" if bytecode else None
        if bytecode and not use_docker:
            found = pyc.find_interpreter(python_version)
            interpreter = check_bytecode_interpreter(where, runtime.name, python_version, found)
            compiler = pyc.interpreter_identity(interpreter)
        self._asset_hash = compute_asset_hash(
            sources,
            requirements_text,
            runtime.name,
            arch,
            "docker" if use_docker else "local",
            wheel_digests(wheelhouse_path) if wanted else None,
            bytecode=compiler,
        )
        plan = BundlePlan(
            where=where,
            entry=self._entry,
            shared=shared_folders,
            sources=sources,
            requirements=self._requirements,
            wheelhouse=wheelhouse_path,
            runtime_name=runtime.name,
            python_version=python_version,
            architecture=arch,
            asset_hash=self._asset_hash,
            cacheable=bundle_cache.is_cacheable(wanted, wheelhouse_path),
            bytecode=bytecode,
            bytecode_interpreter=interpreter,
        )
        bundling = docker_bundling(plan, runtime, tuple(exclude)) if use_docker else local_bundling(plan)
        self._code = lambda_.Code.from_asset(
            str(self._entry),
            asset_hash=self._asset_hash,
            asset_hash_type=AssetHashType.CUSTOM,
            bundling=bundling,
        )
        self._runtime = runtime
        self._architecture = architecture
        self._use_docker = use_docker
        self._bytecode = bytecode
        self._shared = shared_folders
        self._exclude = tuple(exclude)

    @property
    def code(self) -> lambda_.Code:
        """The package as Lambda code: an asset bundled locally (or in Docker with ``use_docker``)."""
        return self._code

    def staged_code(self) -> lambda_.Code:
        """``code``, for a function that stages it (``ServerlessFunction``): the synth cache counts these
        assets, built from inputs this process read, to know the assembly holds none that only node read."""
        synth_cache.note_package(self._asset_hash)
        return self._code

    @property
    def asset_hash(self) -> str:
        """sha256 of the package's inputs: files after excludes, requirements text, the wheelhouse's wheels
        (when there are requirements), runtime, architecture and bundler; the same inputs give the same hash
        on every machine."""
        return self._asset_hash

    @property
    def entry(self) -> Path:
        """The handler's folder, resolved."""
        return self._entry

    @property
    def shared(self) -> tuple[Path, ...]:
        """The shared folders whose contents are copied into the package root, resolved. Default: none."""
        return self._shared

    @property
    def exclude(self) -> tuple[str, ...]:
        """The globs left out of the package. Default: ``defaults.PACKAGE_EXCLUDES``."""
        return self._exclude

    @property
    def runtime(self) -> lambda_.Runtime:
        """The runtime the package is built for. Default: ``defaults.RUNTIME``."""
        return self._runtime

    @property
    def architecture(self) -> lambda_.Architecture:
        """The architecture the package is built for. Default: ``defaults.ARCHITECTURE``."""
        return self._architecture

    @property
    def requirements(self) -> Path | None:
        """The requirements file installed, if any. Default: ``<entry>/requirements.txt`` when non-empty."""
        return self._requirements

    @property
    def bytecode(self) -> bool:
        """Whether the package ships bytecode for the runtime's Python. Default: False."""
        return self._bytecode

    @property
    def use_docker(self) -> bool:
        """Whether the package is built in the runtime's bundling image. Default: False."""
        return self._use_docker
