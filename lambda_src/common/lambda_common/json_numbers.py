"""JSON whose numbers stay exact: read as Decimal, never float, and written back as their own digits.

DynamoDB keeps numbers to 38 significant digits; float keeps about 17, so ``123456789012345678.5`` read
through float comes back as ``1.2345678901234568e+17``. The standard library can be told to *read* numbers
as Decimal, but its encoder cannot *write* one as a number literal: a ``default`` hook may only return
another Python value, and a float subclass's ``__repr__`` is ignored by both the C and the pure-Python
encoder. ``dumps`` is therefore a small encoder of its own for the JSON data model, producing the same
compact, ASCII-only text as ``json.dumps(value, separators=(",", ":"))`` except for Decimals.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from json.encoder import encode_basestring_ascii
from typing import Any

from lambda_common.parsing import parse_json

#: Python's default limit on int <-> str conversion. An integral value with more digits is written with an
#: exponent: as plain digits it would be a text Python's own ``json.loads`` refuses to read back.
MAX_PLAIN_DIGITS = 4300


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except ArithmeticError:
        # decimal.InvalidOperation is an ArithmeticError, not a ValueError: an exponent beyond what Decimal
        # holds (1e999999999999999999999) would otherwise escape every ``except ValueError``.
        raise ValueError(f"number out of range: {text[:40]}") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str | bytes | bytearray) -> Any:
    """Strict JSON (RFC 8259) with every number, integral or not, as an exact Decimal.

    Integers are Decimal too: ``int()`` refuses texts of more than 4300 digits, Decimal has no such limit,
    and callers that bound their numbers (DynamoDB's range) can then refuse them with a field name.
    Anything that is not JSON - NaN, Infinity, a number beyond Decimal's exponent range, nesting deeper
    than the interpreter allows, bytes that are not Unicode - raises ValueError and nothing else.
    """
    return parse_json(text, parse_float=_decimal, parse_int=_decimal, parse_constant=_refuse_constant)


def number_literal(value: Decimal) -> str:
    """The JSON number literal for a Decimal, of exactly its value.

    Integral values are plain digits (``1E+2`` and ``100.00`` are both ``100``), so a JSON reader sees an
    integer whichever way the number was written or stored; others keep every digit Decimal holds.
    ``str()`` of a finite Decimal is always valid JSON number syntax (``0.0015``, ``1E-130``); ValueError
    for NaN and Infinity, which JSON has no literal for.
    """
    if not value.is_finite():
        raise ValueError(f"{value} has no JSON literal")
    if not value:
        return "0"  # JSON readers that parse "-0" as an integer make it 0; say so directly.
    if value == value.to_integral_value() and value.adjusted() < MAX_PLAIN_DIGITS:
        return format(value.to_integral_value(), "f")
    return str(value)


def dumps(value: Any) -> str:
    """Compact ASCII JSON text for str, int, float, Decimal, bool, None, list, tuple and str-keyed dict.

    Decimals are written by ``number_literal``; floats as ``json`` writes them. TypeError for any other
    type (or a non-string key), ValueError for a non-finite number.
    """
    parts: list[str] = []
    _write(value, parts.append)
    return "".join(parts)


def _write(value: Any, out: Callable[[str], None]) -> None:
    # bool before int: True is an int in Python but ``true`` in JSON.
    if isinstance(value, str):
        out(encode_basestring_ascii(value))
    elif value is None:
        out("null")
    elif value is True:
        out("true")
    elif value is False:
        out("false")
    elif isinstance(value, int):
        out(int.__repr__(value))
    elif isinstance(value, Decimal):
        out(number_literal(value))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} has no JSON literal")
        out(float.__repr__(value))
    elif isinstance(value, dict):
        _write_object(value, out)
    elif isinstance(value, (list, tuple)):
        out("[")
        for index, item in enumerate(value):
            if index:
                out(",")
            _write(item, out)
        out("]")
    else:
        raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _write_object(value: dict, out: Callable[[str], None]) -> None:
    out("{")
    for index, (key, item) in enumerate(value.items()):
        if not isinstance(key, str):
            raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
        if index:
            out(",")
        out(encode_basestring_ascii(key))
        out(":")
        _write(item, out)
    out("}")
