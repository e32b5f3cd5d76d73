"""A deployment's pre- and post-traffic hook is another function: a hook that the same deployment group
deploys would be invoked through the alias it is moving, testing itself, and CodeDeploy waits for a report
that a half-deployed hook may never send."""

from __future__ import annotations

from collections.abc import Sequence

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Deployment.Hook"


def check_deployment_hooks(where: str, hook_paths: Sequence[str], deployed_paths: Sequence[str]) -> None:
    """``hook_paths`` and ``deployed_paths`` are construct paths; a hook at or inside a deployed function
    (its inner ``lambda_.Function``, its alias) is the function itself."""
    for hook in hook_paths:
        for deployed in deployed_paths:
            if hook == deployed or hook.startswith(deployed + "/") or deployed.startswith(hook + "/"):
                raise ConfigurationError(
                    f"{where}: the hook {hook} is the function this deployment shifts; a pre- or post-traffic "
                    "hook must be a separate function (it is invoked to test the new version, and reports "
                    "back to CodeDeploy)",
                    code=CODE,
                )
