"""CodeDeploy: on AWS a deployment group shifts a function's ``live`` alias from version to version. Locally
there is one version, the synthesized code, and the alias invokes it at once: traffic shifting, hooks and
rollbacks are not emulated, which the console says once per deployment group."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lambda_patterns.local.assembly import Stack
from lambda_patterns.local.intrinsics import Scope
from lambda_patterns.local.registry import register

if TYPE_CHECKING:
    from lambda_patterns.local.runner import LocalApp

log = logging.getLogger("lambda_patterns.local")

NOT_EMULATED = (
    "traffic shifting is not emulated: the live alias invokes the synthesized code at once "
    "(CodeDeploy's canary or linear steps, hooks and rollbacks run on AWS only)"
)


@register(
    "AWS::CodeDeploy::Application",
    "AWS::CodeDeploy::DeploymentGroup",
    "AWS::CodeDeploy::DeploymentConfig",
    order=90,
)
def note_deployments(app: LocalApp, stack: Stack, scope: Scope) -> None:
    """Says, for each deployment group, that its alias is served without a shift."""
    for resource in stack.resources("AWS::CodeDeploy::DeploymentGroup"):
        log.info("%s: %s", resource.path, NOT_EMULATED)
