"""Every installed wheel and ``.so`` file runs on the target runtime and architecture: a mislabelled wheel
fails the synth, not the first invocation (``wheels.find_incompatibilities`` finds them)."""

from __future__ import annotations

from collections.abc import Sequence

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Package.WheelPlatform"


def check_wheel_platform(where: str, target: str, problems: Sequence[str]) -> None:
    """``target``: the runtime and architecture in words; ``problems``: one line per incompatibility."""
    if problems:
        raise ConfigurationError(
            f"{where}: the package does not run on {target}:\n"
            + "\n".join(f"  - {problem}" for problem in problems),
            code=CODE,
        )
