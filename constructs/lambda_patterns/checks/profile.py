"""A profile is one this library knows: a misspelt ``hardened`` must not silently deploy the standard one."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Profile.Unknown"


def check_profile(where: str, profile: Any, known: Collection[str]) -> None:
    if profile not in known:
        raise ConfigurationError(
            f"{where}: profile must be one of {tuple(known)} (prop profile= or context "
            f"lambda-patterns:profile), got {profile!r}",
            code=CODE,
        )
