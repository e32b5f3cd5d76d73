"""Step 3 in Docker (``FunctionPackage(use_docker=True)``): the package built inside the runtime's own
bundling image, for a requirement that publishes no manylinux wheel."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import BundlingOptions, BundlingOutput, DockerVolume
from aws_cdk import aws_lambda as lambda_

from lambda_patterns.steps.bytecode import compile_command

if TYPE_CHECKING:
    from lambda_patterns.steps.package import BundlePlan

__all__ = ["docker_bundling", "docker_command"]

_DOCKER_SHARED = "/asset-shared"
_DOCKER_REQUIREMENTS = "/asset-requirements"
_DOCKER_WHEELHOUSE = "/asset-wheelhouse"


def docker_command(plan: BundlePlan, exclude: Sequence[str]) -> list[str]:
    """The shell command that builds the package inside the runtime's bundling image: copy the sources,
    drop the excluded paths, then let the image's own pip install the requirements."""
    steps = ["cp -R /asset-input/. /asset-output/"]
    steps += [f"cp -R {_DOCKER_SHARED}/{index}/. /asset-output/" for index in range(len(plan.shared))]
    if exclude:
        tests: list[str] = []
        for pattern in exclude:
            test = ["-path", f"/asset-output/{pattern}"] if "/" in pattern else ["-name", pattern]
            tests += (["-o"] if tests else []) + [shlex.quote(word) for word in test]
        steps.append(
            "find /asset-output -mindepth 1 \\( " + " ".join(tests) + " \\) -prune -exec rm -rf {} +"
        )
    if plan.requirements is not None:
        pip = [
            "python",
            "-m",
            "pip",
            "install",
            "--no-compile",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--quiet",
            "--requirement",
            f"{_DOCKER_REQUIREMENTS}/{plan.requirements.name}",
            "--target",
            "/asset-output",
        ]
        if plan.wheelhouse is not None:
            pip += ["--no-index", "--find-links", _DOCKER_WHEELHOUSE]
        steps.append(shlex.join(pip))
    if plan.bytecode:
        # compileall's status 1 (a module that does not compile) leaves that module without bytecode, as
        # on this machine (steps/bytecode.py); any other status fails the bundling.
        compile_step = shlex.join(compile_command("python", "/asset-output"))
        steps.append(f"{{ {compile_step}; status=$?; [ $status -le 1 ]; }}")
    return ["bash", "-c", " && ".join(steps)]


def docker_bundling(plan: BundlePlan, runtime: lambda_.Runtime, exclude: Sequence[str]) -> BundlingOptions:
    """BundlingOptions that run pip in the runtime's own image, on the target's platform."""
    volumes = [
        DockerVolume(host_path=str(folder), container_path=f"{_DOCKER_SHARED}/{index}")
        for index, folder in enumerate(plan.shared)
    ]
    if plan.requirements is not None:
        volumes.append(
            DockerVolume(host_path=str(plan.requirements.parent), container_path=_DOCKER_REQUIREMENTS)
        )
    if plan.wheelhouse is not None:
        volumes.append(DockerVolume(host_path=str(plan.wheelhouse), container_path=_DOCKER_WHEELHOUSE))
    return BundlingOptions(
        image=runtime.bundling_image,
        command=docker_command(plan, exclude),
        platform="linux/arm64" if plan.architecture == "arm64" else "linux/amd64",
        output_type=BundlingOutput.NOT_ARCHIVED,
        volumes=volumes,
    )
