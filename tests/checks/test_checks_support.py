"""What the ``test_checks_*`` files share: each check is tested as cdk-nag tests its rules, on a table of
compliant and non-compliant cases, with plain values and no synth. This file holds no tests itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lambda_patterns.errors import ConfigurationError


def refusal(check: Callable[..., None], *args: Any, **kwargs: Any) -> ConfigurationError:
    """The ``ConfigurationError`` that ``check(*args, **kwargs)`` raises; the test fails if it raises none."""
    with pytest.raises(ConfigurationError) as error:
        check(*args, **kwargs)
    return error.value


def verdict(check: Callable[..., None], *args: Any, **kwargs: Any) -> tuple[str, str] | None:
    """``None`` if ``check(*args, **kwargs)`` accepts, else the refusal's (code, message): one table can then
    hold compliant and non-compliant cases side by side."""
    try:
        check(*args, **kwargs)
    except ConfigurationError as error:
        return error.code, str(error)
    return None
