"""Opaque list cursors: base64url of the DynamoDB LastEvaluatedKey as JSON, checked strictly on the way in.

Cursors are not signed. A crafted cursor can only start a scan at a key the client names, which reveals
nothing a full listing would not; it can never reach DynamoDB in a shape that makes it fail.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from api_responses import ApiError
from api_routing import valid_id
from lambda_common import json_numbers

MAX_CURSOR_CHARS = 1024
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")


def encode_cursor(last_key: dict[str, str]) -> str:
    """The cursor for a page that ended at ``last_key`` ({key_name: id})."""
    raw = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, key_name: str) -> dict[str, str]:
    """The start key a cursor stands for; ApiError 400 (field ``cursor``) for anything we did not issue."""
    invalid = ApiError(400, "invalid_cursor", "The cursor is not one this API issued.", "cursor")
    if not cursor or len(cursor) > MAX_CURSOR_CHARS or not _ALPHABET.fullmatch(cursor):
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        # Strict and exact: a number, NaN or deep nesting in a crafted cursor is a ValueError, never an
        # int() past its digit limit or a RecursionError, and then fails the id check below.
        key = json_numbers.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError):
        raise invalid from None
    if not isinstance(key, dict) or set(key) != {key_name} or not valid_id(key[key_name]):
        raise invalid
    return key
