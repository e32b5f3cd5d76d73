"""The bundle cache: a package whose inputs are unchanged is copied from the cache, with no pip run; a change
of any input the bytes depend on builds it again.

Every synth here bundles for real (pip from a wheelhouse of wheels built with zipfile), into a new output
folder each time, so CDK's own reuse of ``asset.<hash>`` in one output folder plays no part.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from aws_cdk import aws_lambda as lambda_

from lambda_patterns.steps import bundle_cache, package
from package_builds import build_wheel, staged_asset, synth

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "package" / "handler"
PINNED = "tinypure==1.0\n"


class Inputs:
    """One package's inputs, in a folder a test may change."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.handler = Path(shutil.copytree(FIXTURE, root / "handler"))
        self.shared = root / "shared"
        (self.shared / "shared_code").mkdir(parents=True)
        (self.shared / "shared_code" / "__init__.py").write_text("SHARED = 1\n")
        (self.handler / "requirements.txt").write_text(PINNED)
        self.wheelhouse = root / "wheelhouse"
        self.wheel(b"ANSWER = 42\n")
        self.runtime = lambda_.Runtime.PYTHON_3_13
        self.architecture = lambda_.Architecture.ARM_64
        self.synths = 0

    def wheel(self, code: bytes) -> None:
        build_wheel(self.wheelhouse, "tinypure", "py3-none-any", {"tinypure/__init__.py": code})

    def synth(self) -> Path:
        """Synthesize into a folder no synth has used and return the staged package."""
        self.synths += 1
        outdir = self.root / f"cdk.out.{self.synths}"
        synth(
            outdir,
            entry=self.handler,
            shared=[self.shared],
            wheelhouse=self.wheelhouse,
            runtime=self.runtime,
            architecture=self.architecture,
        )
        return staged_asset(outdir)


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
def builds(monkeypatch) -> list[str]:
    """The packages actually built (pip and copy), by their hash, in order."""
    seen: list[str] = []
    real = package.build

    def counting(plan, out):
        seen.append(plan.asset_hash)
        real(plan, out)

    monkeypatch.setattr(package, "build", counting)
    return seen


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("LAMBDA_PATTERNS_CACHE", str(folder))
    return folder


@pytest.fixture
def inputs(tmp_path) -> Inputs:
    return Inputs(tmp_path / "inputs")


@pytest.mark.slow
def test_unchanged_package_is_copied_from_the_cache_into_a_new_output_folder(inputs, cache, builds):
    first = inputs.synth()
    second = inputs.synth()

    assert len(builds) == 1
    assert tree(second) == tree(first)
    assert (second / "tinypure" / "__init__.py").read_text() == "ANSWER = 42\n"
    assert [p.name for p in cache.iterdir()] == [f"bundle-{builds[0]}"]


def _edit_handler(inputs: Inputs) -> None:
    (inputs.handler / "handler.py").write_text((inputs.handler / "handler.py").read_text() + "\n# edited\n")


def _edit_shared(inputs: Inputs) -> None:
    (inputs.shared / "shared_code" / "__init__.py").write_text("SHARED = 2\n")


def _edit_requirements(inputs: Inputs) -> None:
    (inputs.handler / "requirements.txt").write_text(PINNED + "# the same pin, other text\n")


def _rebuild_wheel(inputs: Inputs) -> None:
    # Same file name, same version, other bytes: what a rebuilt or tampered wheel looks like to pip.
    inputs.wheel(b"ANSWER = 43\n")


def _other_runtime(inputs: Inputs) -> None:
    inputs.runtime = lambda_.Runtime.PYTHON_3_12


def _other_architecture(inputs: Inputs) -> None:
    inputs.architecture = lambda_.Architecture.X86_64


@pytest.mark.slow
@pytest.mark.parametrize(
    "change",
    [_edit_handler, _edit_shared, _edit_requirements, _rebuild_wheel, _other_runtime, _other_architecture],
    ids=lambda change: change.__name__.strip("_"),
)
def test_changing_any_input_of_the_package_builds_it_again(inputs, cache, builds, change):
    inputs.synth()
    change(inputs)
    rebuilt = inputs.synth()

    assert len(builds) == 2 and builds[0] != builds[1]
    if change is _rebuild_wheel:
        assert (rebuilt / "tinypure" / "__init__.py").read_text() == "ANSWER = 43\n"
    if change is _edit_shared:
        assert (rebuilt / "shared_code" / "__init__.py").read_text() == "SHARED = 2\n"


@pytest.mark.slow
def test_cache_set_off_builds_every_time(inputs, builds, monkeypatch, tmp_path):
    monkeypatch.setenv("LAMBDA_PATTERNS_CACHE", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    inputs.synth()
    inputs.synth()

    assert len(builds) == 2
    assert not (tmp_path / "xdg").exists()


@pytest.mark.slow
def test_a_failed_build_leaves_no_entry_to_serve(inputs, cache, builds):
    (inputs.handler / "requirements.txt").write_text("notinthewheelhouse==1.0\n")
    for _ in range(2):
        with pytest.raises(RuntimeError, match="notinthewheelhouse"):
            inputs.synth()

    assert len(builds) == 2
    assert not cache.exists() or not any(cache.iterdir())


def test_half_written_entry_is_never_served(tmp_path):
    root = tmp_path / "cache"
    (root / ".bundle-abc.1234.tmp").mkdir(parents=True)
    (root / ".bundle-abc.1234.tmp" / "partial.py").write_text("")

    assert bundle_cache.restore(root, "abc", tmp_path / "out") is False


def test_second_writer_of_an_entry_keeps_the_first(tmp_path):
    root, first, second = tmp_path / "cache", tmp_path / "first", tmp_path / "second"
    for folder, text in ((first, "1"), (second, "2")):
        folder.mkdir()
        (folder / "f.py").write_text(text)
    bundle_cache.store(root, "abc", first)
    bundle_cache.store(root, "abc", second)

    out = tmp_path / "out"
    assert bundle_cache.restore(root, "abc", out) is True
    assert (out / "f.py").read_text() == "1"
    assert [p.name for p in root.iterdir()] == ["bundle-abc"]


def test_unwritable_cache_costs_a_rebuild_not_a_failure(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    built = tmp_path / "built"
    built.mkdir()
    (built / "f.py").write_text("")

    bundle_cache.store(blocker / "cache", "abc", built)

    assert bundle_cache.restore(blocker / "cache", "abc", tmp_path / "out") is False


@pytest.mark.parametrize(
    ("lines", "wheelhouse", "cacheable"),
    [
        ([], False, True),
        (["pillow==13.0.0"], False, True),
        (["pillow[avif]==13.0.0 ; python_version >= '3.12'"], False, True),
        (["pillow==13.0.0 --hash=sha256:00"], False, True),
        (["pillow>=13"], False, False),
        (["pillow"], False, False),
        (["pillow==13.*"], False, False),
        (["pillow==13.0.0", "requests"], False, False),
        (["pillow>=13"], True, True),
    ],
)
def test_only_packages_whose_hash_decides_what_pip_installs_are_cached(lines, wheelhouse, cacheable):
    # An unpinned requirement from an index may resolve to a newer release tomorrow with the same hash.
    assert bundle_cache.is_cacheable(lines, Path("/w") if wheelhouse else None) is cacheable


def test_cache_folder_defaults_under_the_users_cache_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("LAMBDA_PATTERNS_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert bundle_cache.cache_root() == tmp_path / "lambda-patterns" / "bundles"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert bundle_cache.cache_root() == tmp_path / "home" / ".cache" / "lambda-patterns" / "bundles"
