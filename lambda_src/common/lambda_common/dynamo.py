"""DynamoDB helpers: DynamoDB JSON both ways, and the numbers and keys DynamoDB stores.

Exactly-once ``ADD`` through mark items, which the stream consumers need, is :mod:`lambda_common.marks`: a
module of its own, so a handler that only converts items does not compile it at every cold start (Lambda
runs these sources without bytecode).
"""

from __future__ import annotations

import re
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

# Re-exported: the number limits live where a handler can check them without importing boto3's types.
from lambda_common.dynamo_numbers import MAX_DIGITS as MAX_DIGITS
from lambda_common.dynamo_numbers import MAX_EXPONENT as MAX_EXPONENT
from lambda_common.dynamo_numbers import MIN_EXPONENT as MIN_EXPONENT
from lambda_common.dynamo_numbers import number_fits as number_fits

#: Kinesis sequence numbers have at most 128 digits, DynamoDB stream ones at most 40: one width fits both.
SEQUENCE_WIDTH = 128
_DIGITS = re.compile(r"^[0-9]{1,128}$")

# Key limits: a partition key value holds 2,048 bytes, a sort key value 1,024 (UTF-8), neither empty.
MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024

_deserializer = TypeDeserializer()
_serializer = TypeSerializer()


class UndecodableImage(ValueError):
    """A DynamoDB JSON map that does not decode (unknown type tag, malformed number, wrong shape)."""


def pad_sequence(sequence: str) -> str:
    """A stream sequence number as a fixed-width digit string, so DynamoDB's string order is numeric order."""
    if not isinstance(sequence, str) or not _DIGITS.match(sequence):
        raise ValueError(f"not a stream sequence number: {sequence!r}")
    return sequence.zfill(SEQUENCE_WIDTH)


def key_problem(key: dict[str, Any], sort_key: str | None = None) -> str | None:
    """Why DynamoDB would refuse this key on every attempt (None: it is storable).

    ``key`` maps attribute names to string values; ``sort_key`` names the sort key attribute (the others
    are partition keys). moto does not enforce these limits, so every writer checks them itself: a key that
    fails here is invalid input to reject once, not a write to retry.
    """
    for name, value in key.items():
        if not isinstance(value, str) or not value:
            return f"key attribute {name!r} must be a non-empty string"
        try:
            size = len(value.encode("utf-8"))
        except UnicodeEncodeError:
            return f"key attribute {name!r} is not valid UTF-8 (a lone surrogate)"
        limit = MAX_SORT_KEY_BYTES if name == sort_key else MAX_PARTITION_KEY_BYTES
        if size > limit:
            return f"key attribute {name!r} is {size} UTF-8 bytes, over DynamoDB's {limit}"
    return None


def valid_utf8(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8 (JSON's ``\\ud800`` escapes decode to lone surrogates that do not)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def item_size(item: dict[str, Any]) -> int:
    """About the size DynamoDB counts for an item of strings and numbers (names plus values; strings in
    UTF-8 bytes, numbers about one byte per two significant digits plus one), for its 400 KB limit."""
    size = 0
    for name, value in item.items():
        size += len(name.encode("utf-8"))
        if isinstance(value, str):
            size += len(value.encode("utf-8"))
        else:
            digits = len(str(abs(value)).replace(".", "").strip("0")) or 1
            size += (digits + 1) // 2 + 1
    return size


def from_dynamodb_json(image: Any) -> dict[str, Any]:
    """A stream image or low-level item (``{"a": {"S": "x"}}``) as Python values, numbers as Decimal."""
    if not isinstance(image, dict):
        raise UndecodableImage(f"expected a map of attributes, got {type(image).__name__}")
    try:
        return {name: _deserializer.deserialize(value) for name, value in image.items()}
    except (TypeError, ValueError, ArithmeticError, KeyError, AttributeError) as error:
        raise UndecodableImage(f"undecodable attribute value: {error}") from None


def to_dynamodb_json(item: dict[str, Any]) -> dict[str, Any]:
    """Plain Python values (money and counts as Decimal/int, never float) as a low-level DynamoDB item."""
    return {name: _serializer.serialize(value) for name, value in item.items()}
