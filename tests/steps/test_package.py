"""FunctionPackage: a handler folder, shared code and target wheels, bundled by CDK without Docker.

The wheels are built here with zipfile into a temporary wheelhouse, so nothing is downloaded; the Pillow
tests use the wheelhouse that ``make install`` fills (``LAMBDA_PATTERNS_WHEELHOUSE``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk import aws_lambda as lambda_

from lambda_patterns.errors import ConfigurationError
from lambda_patterns.steps.docker_bundling import docker_command
from lambda_patterns.steps.package import BundlePlan
from lambda_patterns.steps.wheels import elf_machine
from package_builds import build_wheel, staged_asset, synth

ROOT = Path(__file__).resolve().parents[2]
HANDLER = Path(__file__).resolve().parents[1] / "fixtures" / "package" / "handler"
COMMON = ROOT / "lambda_src" / "common"
THUMBNAIL_REQUIREMENTS = ROOT / "lambda_src" / "thumbnail_pipeline" / "requirements.txt"
SKIP_BUNDLING = {"aws:cdk:bundling-stacks": []}


def elf_header(e_machine: int) -> bytes:
    """The first 64 bytes of a little-endian 64-bit ELF shared object for ``e_machine``."""
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    return ident + (3).to_bytes(2, "little") + e_machine.to_bytes(2, "little") + bytes(44)


@pytest.fixture
def handler_dir(tmp_path) -> Path:
    """A copy of the fixture handler that a test may change."""
    return Path(shutil.copytree(HANDLER, tmp_path / "handler"))


@pytest.fixture
def wheelhouse(tmp_path) -> Path:
    """A wheelhouse holding one pure wheel, ``tinypure``, that any target can install."""
    folder = tmp_path / "wheelhouse"
    build_wheel(folder, "tinypure", "py3-none-any", {"tinypure/__init__.py": b"ANSWER = 42\n"})
    return folder


def write_requirements(folder: Path, *lines: str) -> Path:
    path = folder / "requirements.txt"
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def code_object_key(outdir: Path) -> str:
    template = json.loads((outdir / "Package.template.json").read_text())
    (function,) = (r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
    return function["Properties"]["Code"]["S3Key"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """One package, bundled for real: the fixture handler, lambda_src/common and tinypure from a wheelhouse,
    plus files that the default excludes must leave out."""
    tmp = tmp_path_factory.mktemp("built")
    handler = Path(shutil.copytree(HANDLER, tmp / "handler"))
    (handler / "__pycache__").mkdir()
    (handler / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"host bytecode")
    (handler / "tests").mkdir()
    (handler / "tests" / "test_local.py").write_text("def test_nothing(): pass\n")
    write_requirements(handler, "tinypure==1.0")
    wheels = tmp / "wheelhouse"
    build_wheel(wheels, "tinypure", "py3-none-any", {"tinypure/__init__.py": b"ANSWER = 42\n"})
    synth(tmp / "cdk.out", entry=handler, shared=[COMMON], wheelhouse=wheels)
    return staged_asset(tmp / "cdk.out")


@pytest.mark.slow
def test_package_holds_handler_shared_code_and_installed_wheel(built):
    assert (built / "handler.py").read_bytes() == (HANDLER / "handler.py").read_bytes()
    assert (built / "lambda_common" / "__init__.py").is_file()
    assert (built / "tinypure" / "__init__.py").read_text() == "ANSWER = 42\n"
    assert (built / "tinypure-1.0.dist-info" / "WHEEL").is_file()


@pytest.mark.slow
def test_package_leaves_out_requirements_tests_and_bytecode(built):
    assert not (built / "requirements.txt").exists()
    assert not (built / "tests").exists()
    assert not list(built.rglob("__pycache__"))
    assert not list(built.rglob("*.pyc"))


@pytest.mark.slow
def test_packaged_handler_runs_with_only_the_package_and_the_standard_library(built):
    # -I -S: no site-packages, no environment, no working directory; the package folder alone is added.
    script = (
        f"import sys; sys.path.insert(0, {str(built)!r}); import handler; print(handler.handler({{}}, None))"
    )

    result = subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{'answer': 42}"


@pytest.mark.slow
def test_requirement_without_wheel_for_target_fails_naming_requirement_runtime_and_architecture(
    tmp_path, handler_dir
):
    wheels = tmp_path / "wheelhouse"
    build_wheel(wheels, "tinyx86", "cp314-cp314-manylinux2014_x86_64", {"tinyx86/__init__.py": b""})
    write_requirements(handler_dir, "tinyx86==1.0")
    expected = (
        f"FunctionPackage Package/Package: no wheel of tinyx86==1.0 in the wheelhouse {wheels} runs on "
        "python3.14 on arm64 (aarch64). Pick a version that publishes a manylinux wheel for cp314 aarch64, "
        "or pass use_docker=True to build it inside the runtime's image. "
        "If such a wheel exists, add it with: "
        f"python -m lambda_patterns.wheelhouse --source <your lambda source folder> --dest {wheels}"
    )

    # jsii re-raises the bundler's ConfigurationError as RuntimeError, its message kept verbatim.
    with pytest.raises(RuntimeError, match=re.escape(expected)):
        synth(
            tmp_path / "cdk.out",
            entry=handler_dir,
            architecture=lambda_.Architecture.ARM_64,
            wheelhouse=wheels,
        )


@pytest.mark.slow
def test_wheel_tagged_aarch64_carrying_x86_64_shared_object_fails_naming_distribution(tmp_path, handler_dir):
    wheels = tmp_path / "wheelhouse"
    native = "liar/_native.cpython-314-aarch64-linux-gnu.so"
    build_wheel(
        wheels,
        "liar",
        "cp314-cp314-manylinux2014_aarch64",
        {"liar/__init__.py": b"from liar._native import *\n", native: elf_header(62)},
    )
    write_requirements(handler_dir, "liar==1.0")
    expected = (
        "FunctionPackage Package/Package: the package does not run on python3.14 on arm64 (aarch64):\n"
        f"  - liar 1.0 ships {native} built for x86_64, but the function runs python3.14 on arm64 (aarch64); "
        "it would fail to import at run time"
    )

    with pytest.raises(RuntimeError, match=re.escape(expected)):
        synth(tmp_path / "cdk.out", entry=handler_dir, wheelhouse=wheels)


@pytest.mark.slow
def test_handler_file_that_an_installed_wheel_also_provides_fails_synth(tmp_path, handler_dir, wheelhouse):
    (handler_dir / "tinypure").mkdir()
    (handler_dir / "tinypure" / "__init__.py").write_text("ANSWER = 0\n")
    requirements = write_requirements(handler_dir, "tinypure==1.0")
    expected = (
        f"FunctionPackage Package/Package: tinypure/__init__.py from {handler_dir / 'tinypure'} "
        f"would overwrite a file that {requirements} installed; rename the module"
    )

    with pytest.raises(RuntimeError, match=re.escape(expected)):
        synth(tmp_path / "cdk.out", entry=handler_dir, wheelhouse=wheelhouse)


def _pillow_wheelhouse() -> Path:
    folder = os.environ.get("LAMBDA_PATTERNS_WHEELHOUSE")
    if not folder or not list(Path(folder).glob("pillow-*.whl")):
        pytest.skip(
            "LAMBDA_PATTERNS_WHEELHOUSE is unset or holds no Pillow wheel; `make test` sets and fills it "
            "(python -m lambda_patterns.wheelhouse --source lambda_src --dest .wheelhouse)"
        )
    return Path(folder)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("architecture", "e_machine"), [(lambda_.Architecture.ARM_64, 183), (lambda_.Architecture.X86_64, 62)]
)
def test_pillow_from_wheelhouse_ships_imaging_extension_for_target_architecture(
    tmp_path, handler_dir, architecture, e_machine
):
    wheels = _pillow_wheelhouse()

    synth(
        tmp_path / "cdk.out",
        entry=handler_dir,
        architecture=architecture,
        requirements=THUMBNAIL_REQUIREMENTS,
        wheelhouse=wheels,
    )

    (imaging,) = (staged_asset(tmp_path / "cdk.out") / "PIL").glob("_imaging.*.so")
    assert elf_machine(imaging.read_bytes()[:20]) == e_machine


@pytest.mark.slow
def test_same_inputs_stage_the_same_asset_in_two_apps(tmp_path, handler_dir, wheelhouse):
    write_requirements(handler_dir, "tinypure==1.0")
    props = {"entry": handler_dir, "shared": [COMMON], "wheelhouse": wheelhouse}

    first = synth(tmp_path / "one", **props)
    second = synth(tmp_path / "two", **props)

    assert first.asset_hash == second.asset_hash
    assert code_object_key(tmp_path / "one") == code_object_key(tmp_path / "two")
    assert staged_asset(tmp_path / "one").name == staged_asset(tmp_path / "two").name


def test_changing_one_handler_byte_changes_the_asset_hash(tmp_path, handler_dir):
    before = synth(tmp_path / "before", SKIP_BUNDLING, entry=handler_dir).asset_hash
    source = handler_dir / "handler.py"
    source.write_bytes(source.read_bytes().replace(b"answer", b"answeR"))

    after = synth(tmp_path / "after", SKIP_BUNDLING, entry=handler_dir).asset_hash

    assert before != after


def test_changing_a_shared_file_changes_the_asset_hash(tmp_path, handler_dir):
    shared = Path(shutil.copytree(COMMON, tmp_path / "common"))
    before = synth(tmp_path / "before", SKIP_BUNDLING, entry=handler_dir, shared=[shared]).asset_hash
    with (shared / "lambda_common" / "__init__.py").open("a") as module:
        module.write("\n")

    after = synth(tmp_path / "after", SKIP_BUNDLING, entry=handler_dir, shared=[shared]).asset_hash

    assert before != after


def test_changing_requirements_changes_the_asset_hash(tmp_path, handler_dir):
    write_requirements(handler_dir, "tinypure==1.0")
    before = synth(tmp_path / "before", SKIP_BUNDLING, entry=handler_dir).asset_hash
    write_requirements(handler_dir, "tinypure==1.1")

    after = synth(tmp_path / "after", SKIP_BUNDLING, entry=handler_dir).asset_hash

    assert before != after


def test_architecture_and_runtime_are_part_of_the_asset_hash(tmp_path, handler_dir):
    hashes = {
        synth(
            tmp_path / f"{index}", SKIP_BUNDLING, entry=handler_dir, runtime=runtime, architecture=arch
        ).asset_hash
        for index, (runtime, arch) in enumerate(
            [
                (lambda_.Runtime.PYTHON_3_14, lambda_.Architecture.ARM_64),
                (lambda_.Runtime.PYTHON_3_14, lambda_.Architecture.X86_64),
                (lambda_.Runtime.PYTHON_3_13, lambda_.Architecture.ARM_64),
            ]
        )
    }

    assert len(hashes) == 3


def test_excluded_files_do_not_change_the_asset_hash(tmp_path, handler_dir):
    before = synth(tmp_path / "before", SKIP_BUNDLING, entry=handler_dir).asset_hash
    (handler_dir / "__pycache__").mkdir()
    (handler_dir / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"host bytecode")

    after = synth(tmp_path / "after", SKIP_BUNDLING, entry=handler_dir).asset_hash

    assert before == after


def test_stack_left_out_of_bundling_synthesizes_without_running_pip(tmp_path, handler_dir):
    # No wheel for this requirement exists anywhere: bundling would fail, so success means it did not run.
    write_requirements(handler_dir, "no-such-distribution-anywhere==1.0")
    empty = tmp_path / "empty-wheelhouse"
    empty.mkdir()

    synth(tmp_path / "cdk.out", SKIP_BUNDLING, entry=handler_dir, wheelhouse=empty)

    assert code_object_key(tmp_path / "cdk.out").endswith(".zip")


def test_requirements_default_to_the_entry_requirements_file(tmp_path, handler_dir):
    requirements = write_requirements(handler_dir, "# thumbnails", "tinypure==1.0")

    package = synth(tmp_path / "cdk.out", SKIP_BUNDLING, entry=handler_dir)

    assert package.requirements == requirements


def test_requirements_file_with_only_comments_means_no_requirements(tmp_path, handler_dir):
    write_requirements(handler_dir, "# nothing third-party", "")

    package = synth(tmp_path / "cdk.out", SKIP_BUNDLING, entry=handler_dir)

    assert package.requirements is None


def test_defaults_are_newest_python_on_arm64(tmp_path, handler_dir):
    package = synth(tmp_path / "cdk.out", SKIP_BUNDLING, entry=handler_dir)

    assert package.runtime.name == "python3.14"
    assert package.architecture.name == "arm64"
    assert package.entry == handler_dir.resolve()


def test_missing_entry_folder_is_a_configuration_error(tmp_path):
    with pytest.raises(
        ConfigurationError, match=re.escape(f"entry {tmp_path / 'absent'} is not a folder")
    ) as error:
        synth(tmp_path / "cdk.out", SKIP_BUNDLING, entry=tmp_path / "absent")
    assert error.value.code == "LambdaPatterns.Package.Path"


def test_non_python_runtime_is_a_configuration_error(tmp_path, handler_dir):
    with pytest.raises(ConfigurationError, match="runtime 'nodejs22.x' is not a Python runtime") as error:
        synth(tmp_path / "cdk.out", SKIP_BUNDLING, entry=handler_dir, runtime=lambda_.Runtime.NODEJS_22_X)
    assert error.value.code == "LambdaPatterns.Package.Runtime"


def test_file_provided_by_entry_and_shared_folder_is_a_configuration_error(tmp_path, handler_dir):
    (handler_dir / "lambda_common").mkdir()
    (handler_dir / "lambda_common" / "__init__.py").write_text("")

    with pytest.raises(ConfigurationError, match=r"lambda_common/__init__\.py comes from both") as error:
        synth(tmp_path / "cdk.out", SKIP_BUNDLING, entry=handler_dir, shared=[COMMON])
    assert error.value.code == "LambdaPatterns.Package.DuplicateFile"


def test_missing_wheelhouse_folder_is_a_configuration_error(tmp_path, handler_dir):
    with pytest.raises(
        ConfigurationError, match=re.escape(f"wheelhouse {tmp_path / 'nowhere'} is not a folder")
    ):
        synth(tmp_path / "cdk.out", SKIP_BUNDLING, entry=handler_dir, wheelhouse=tmp_path / "nowhere")


def test_missing_explicit_requirements_file_is_a_configuration_error(tmp_path, handler_dir):
    absent = tmp_path / "requirements.txt"

    with pytest.raises(ConfigurationError, match=re.escape(f"requirements file {absent} does not exist")):
        synth(tmp_path / "cdk.out", SKIP_BUNDLING, entry=handler_dir, requirements=absent)


def test_docker_package_synthesizes_and_hashes_apart_from_local(tmp_path, handler_dir):
    local = synth(tmp_path / "local", SKIP_BUNDLING, entry=handler_dir)
    docker = synth(tmp_path / "docker", SKIP_BUNDLING, entry=handler_dir, use_docker=True)

    assert docker.use_docker
    assert docker.asset_hash != local.asset_hash


def test_docker_command_copies_sources_drops_excludes_and_installs_requirements(tmp_path, handler_dir):
    plan = BundlePlan(
        where="FunctionPackage Package/Package",
        entry=handler_dir,
        shared=(COMMON,),
        sources={},
        requirements=write_requirements(handler_dir, "tinypure==1.0"),
        wheelhouse=None,
        runtime_name="python3.14",
        python_version="3.14",
        architecture="arm64",
    )

    (shell, flag, script) = docker_command(plan, ["__pycache__", "*.pyc"])

    assert (shell, flag) == ("bash", "-c")
    assert script.split(" && ") == [
        "cp -R /asset-input/. /asset-output/",
        "cp -R /asset-shared/0/. /asset-output/",
        "find /asset-output -mindepth 1 \\( -name __pycache__ -o -name '*.pyc' \\) -prune -exec rm -rf {} +",
        "python -m pip install --no-compile --no-cache-dir --disable-pip-version-check --quiet "
        "--requirement /asset-requirements/requirements.txt --target /asset-output",
    ]
