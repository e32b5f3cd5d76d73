"""A small JSON Schema subset validator, plus the limits DynamoDB puts on a document.

Supported keywords: type, required, properties, additionalProperties, enum, minLength, maxLength, minimum,
maximum, exclusiveMinimum, exclusiveMaximum, pattern, items, minItems, maxItems. ``check_schema`` refuses any
other keyword, so a schema that relies on one (``oneOf``, ``format``...) fails at cold start instead of being
silently half-enforced. ``pattern`` uses Python's ``re`` (close to, not identical with, ECMA-262 regexes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from lambda_common.dynamo_numbers import number_fits

# Keywords whose value must be a number (bounds on lengths, values and item counts).
NUMERIC_KEYWORDS = frozenset(
    {
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minItems",
        "maxItems",
    }
)
SUPPORTED = NUMERIC_KEYWORDS | {
    "type",
    "required",
    "properties",
    "additionalProperties",
    "enum",
    "pattern",
    "items",
}
# Keywords that only annotate; accepted so that ordinary schemas load, never enforced.
ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "default", "examples"})
TYPES = frozenset({"object", "array", "string", "integer", "number", "boolean", "null"})

# DynamoDB's nesting limit; its number limits live in lambda_common.dynamo_numbers.number_fits.
MAX_DEPTH = 32


class SchemaError(ValueError):
    """The configured schema uses something this validator does not enforce, or is malformed."""


class Invalid(ValueError):
    """A document breaks the schema or a DynamoDB limit; ``field`` says where (``a.zip``, ``tags[2]``)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def check_schema(schema: Any, path: str = "") -> None:
    """Raise SchemaError unless ``schema`` only uses the supported keywords, correctly typed."""
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        raise SchemaError(f"schema at '{path or '/'}' must be an object or a boolean")
    unknown = set(schema) - SUPPORTED - ANNOTATIONS
    if unknown:
        raise SchemaError(f"schema at '{path or '/'}' uses unsupported keywords: {sorted(unknown)}")
    kinds = schema.get("type")
    if kinds is not None:
        listed = kinds if isinstance(kinds, list) else [kinds]
        if not listed or any(kind not in TYPES for kind in listed):
            raise SchemaError(f"schema at '{path or '/'}' has an unknown type: {kinds!r}")
    for name, sub in (schema.get("properties") or {}).items():
        check_schema(sub, _join(path, name))
    if "additionalProperties" in schema:
        check_schema(schema["additionalProperties"], _join(path, "*"))
    if "items" in schema:
        check_schema(schema["items"], f"{path}[]")
    if "pattern" in schema:
        try:
            _compiled(schema["pattern"])
        except (re.error, TypeError) as exc:
            raise SchemaError(f"schema at '{path or '/'}' has a bad pattern: {exc}") from exc
    for keyword in NUMERIC_KEYWORDS & set(schema):
        bound = schema[keyword]
        # bool is an int in Python: the draft-04 form `"exclusiveMinimum": true` would compare as 1.
        if isinstance(bound, bool) or not isinstance(bound, int | float | Decimal):
            raise SchemaError(
                f"schema at '{path or '/'}': {keyword} must be a number (the draft-06 form), got {bound!r}"
            )
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
        raise SchemaError(f"schema at '{path or '/'}': required must be a list of names")


def body_schema_for(schema: Any, key_name: str) -> Any:
    """The schema a request body is checked against: the item schema without the key, which the URL or
    the server supplies, and which is therefore checked on its own. The construct derives its API Gateway
    body models from this same function."""
    if not isinstance(schema, Mapping):
        return schema
    trimmed = dict(schema)
    if isinstance(schema.get("properties"), Mapping):
        trimmed["properties"] = {k: v for k, v in schema["properties"].items() if k != key_name}
    if isinstance(schema.get("required"), list):
        trimmed["required"] = [name for name in schema["required"] if name != key_name]
    return trimmed


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def json_type(value: Any) -> str:
    """The JSON Schema type name of a parsed JSON value (integral numbers count as integers)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, Decimal):
        return "integer" if value == value.to_integral_value() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _type_matches(value: Any, kind: str) -> bool:
    actual = json_type(value)
    return actual == kind or (kind == "number" and actual == "integer")


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: unlike Python's ``==``, ``true`` is not ``1``."""
    type_a, type_b = json_type(a), json_type(b)
    numeric = {"integer", "number"}
    if type_a in numeric and type_b in numeric:
        return a == b
    if type_a != type_b:
        return False
    if type_a == "array":
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if type_a == "object":
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return a == b


def validate(value: Any, schema: Any, path: str = "") -> None:
    """Raise Invalid for the first place where ``value`` breaks ``schema``."""
    if schema is True:
        return
    if schema is False:
        raise Invalid(path or None, f"'{path}' is not allowed")
    kinds = schema.get("type")
    if kinds is not None:
        listed = kinds if isinstance(kinds, list) else [kinds]
        if not any(_type_matches(value, kind) for kind in listed):
            raise Invalid(path or None, f"'{path or 'body'}' must be of type {' or '.join(listed)}")
    if "enum" in schema and not any(json_equal(value, option) for option in schema["enum"]):
        raise Invalid(path or None, f"'{path or 'body'}' must be one of the allowed values")
    kind = json_type(value)
    if kind == "string":
        _validate_string(value, schema, path)
    elif kind in ("integer", "number"):
        _validate_number(value, schema, path)
    elif kind == "array":
        _validate_array(value, schema, path)
    elif kind == "object":
        _validate_object(value, schema, path)


def _validate_string(value: str, schema: dict, path: str) -> None:
    if "minLength" in schema and len(value) < schema["minLength"]:
        raise Invalid(path or None, f"'{path}' must be at least {schema['minLength']} characters long")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise Invalid(path or None, f"'{path}' must be at most {schema['maxLength']} characters long")
    if "pattern" in schema and not _compiled(schema["pattern"]).search(value):
        raise Invalid(path or None, f"'{path}' must match the pattern {schema['pattern']}")


def _validate_number(value: Any, schema: dict, path: str) -> None:
    checks = (
        ("minimum", lambda bound: value >= bound, "at least"),
        ("maximum", lambda bound: value <= bound, "at most"),
        ("exclusiveMinimum", lambda bound: value > bound, "greater than"),
        ("exclusiveMaximum", lambda bound: value < bound, "less than"),
    )
    for keyword, holds, words in checks:
        if keyword in schema and not holds(schema[keyword]):
            raise Invalid(path or None, f"'{path}' must be {words} {schema[keyword]}")


def _validate_array(value: list, schema: dict, path: str) -> None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        raise Invalid(path or None, f"'{path}' must have at least {schema['minItems']} items")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        raise Invalid(path or None, f"'{path}' must have at most {schema['maxItems']} items")
    if "items" in schema:
        for index, item in enumerate(value):
            validate(item, schema["items"], _join(path, index))


def _validate_object(value: dict, schema: dict, path: str) -> None:
    for name in schema.get("required", []):
        if name not in value:
            raise Invalid(_join(path, name), f"'{_join(path, name)}' is required")
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            validate(item, properties[name], _join(path, name))
        elif extra is False:
            raise Invalid(_join(path, name), f"'{_join(path, name)}' is not an allowed property")
        else:
            validate(item, extra, _join(path, name))


def check_storable(value: Any, path: str = "", depth: int = 0) -> None:
    """Raise Invalid where a document breaks a DynamoDB rule that JSON allows.

    Numbers beyond DynamoDB's range or precision, strings that are not valid UTF-8 (lone surrogates from
    ``\\ud800`` escapes), empty attribute names and nesting deeper than 32 levels would otherwise surface
    as a service error, i.e. a 5xx for what is the client's mistake.
    """
    if depth > MAX_DEPTH:
        raise Invalid(path or None, f"'{path}' is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, (int, Decimal)):
        _check_number(value, path)
    elif isinstance(value, str):
        _check_text(value, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_storable(item, _join(path, index), depth + 1)
    elif isinstance(value, dict):
        for name, item in value.items():
            if not name:
                raise Invalid(path or None, f"'{path or 'body'}' has an empty property name")
            _check_text(name, path)
            check_storable(item, _join(path, name), depth + 1)


def _check_number(value: int | Decimal, path: str) -> None:
    if not number_fits(value):
        raise Invalid(path or None, f"'{path}' is outside the numbers the store can keep exactly")


def _check_text(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(path or None, f"'{path or 'body'}' contains text that is not valid Unicode") from None
