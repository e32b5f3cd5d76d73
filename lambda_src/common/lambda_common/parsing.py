"""Parsing untrusted event payloads without letting an odd input escape as anything but ``ValueError``.

A handler that reports bad records one by one must be able to catch every way a payload can be bad. The
standard library raises more than ``ValueError`` on some inputs: ``json.loads`` raises ``RecursionError``
on deep nesting (``[[[[...``) and a plain ``ValueError`` (not ``JSONDecodeError``) on an integer longer
than Python's 4300-digit conversion limit. Uncaught, any of these fails the whole batch. Timestamps are
:mod:`lambda_common.timestamps`: a module of its own, so a handler that reads none does not compile it at
every cold start (Lambda runs these sources without bytecode).
"""

from __future__ import annotations

import json

# typing costs a cold start ~3 ms and Lambda's runtime has not imported it: names for type checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def parse_json(text: Any, **options: Any) -> Any:
    """``json.loads(text, **options)``; every way the text can fail to parse raises ``ValueError``."""
    if not isinstance(text, (str, bytes, bytearray)):
        raise ValueError(f"expected JSON text, got {type(text).__name__}")
    try:
        return json.loads(text, **options)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except UnicodeDecodeError:
        raise ValueError("JSON text is not valid UTF-8") from None
    except ValueError as error:
        # JSONDecodeError, the integer digit limit, and whatever a parse_* hook raises.
        raise ValueError(str(error)[:200]) from None
