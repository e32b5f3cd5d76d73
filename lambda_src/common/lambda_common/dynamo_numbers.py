"""The numbers DynamoDB stores exactly, checked with the standard library alone.

A module of its own, apart from :mod:`lambda_common.dynamo`: a handler that converts items by hand (the web
API) needs only this check, and importing ``boto3.dynamodb.types`` for it would cost every cold start.
"""

from __future__ import annotations

from decimal import Decimal

# DynamoDB numbers: 38 significant digits (leading and trailing zeros trimmed), magnitude 1E-130..9.99E+125.
MAX_DIGITS = 38
MIN_EXPONENT = -130
MAX_EXPONENT = 125


def number_fits(value: int | Decimal) -> bool:
    """Whether DynamoDB stores this number exactly: 38 significant digits within its exponent range.

    boto3's serializer raises ``decimal`` signals (not ClientError) for anything else, so a payload number
    must pass this before it is written, or the whole batch fails instead of the one record.
    """
    number = Decimal(value)
    if not number.is_finite():
        return False
    _sign, digits, exponent = number.as_tuple()
    significant = "".join(map(str, digits)).lstrip("0")
    if not significant:
        return True
    stripped = significant.rstrip("0")
    exponent += len(significant) - len(stripped)
    adjusted = exponent + len(stripped) - 1
    return len(stripped) <= MAX_DIGITS and MIN_EXPONENT <= adjusted <= MAX_EXPONENT
