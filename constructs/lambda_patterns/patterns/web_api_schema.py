"""The web backend's item schema seen twice: as the ``web_api`` handler enforces it (``ITEM_SCHEMA``), and
as the API Gateway models (JSON Schema draft 4) that reject bad bodies before the function runs.

The models follow one rule: never refuse a body the handler would accept. They may let through what the
handler then refuses (a key on POST that the server assigns, for instance); the handler stays the
authority, the models only save an invocation on the common mistakes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

# The rule on item schemas lives with the other synth-time checks; both names stay importable from here.
from lambda_patterns.checks.item_schema import VERSION_ATTRIBUTE, check_item_schema, handler_validation

__all__ = ["VERSION_ATTRIBUTE", "body_models", "check_item_schema", "draft04", "subschemas", "without_key"]

# Draft-04 has no $id (it says ``id``), $comment or examples; API Gateway rejects models it cannot parse.
_NOT_IN_DRAFT4 = frozenset({"$schema", "$id", "$comment", "examples"})


def subschemas(schema: Any, path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every object schema inside ``schema`` (itself included) with its path, as the handler names them."""
    if not isinstance(schema, Mapping):
        return
    yield path, schema
    for name, sub in (schema.get("properties") or {}).items():
        yield from subschemas(sub, f"{path}.{name}" if path else name)
    if "additionalProperties" in schema:
        yield from subschemas(schema["additionalProperties"], f"{path}.*" if path else "*")
    if "items" in schema:
        yield from subschemas(schema["items"], f"{path}[]")


def draft04(schema: Any) -> dict[str, Any]:
    """``schema`` (the handler's dialect) in draft 4: boolean schemas as ``{}`` / ``{"not": {}}``, numeric
    ``exclusiveMinimum``/``exclusiveMaximum`` as draft 4's bound plus boolean, no empty ``required``."""
    if schema is True:
        return {}
    if schema is False:
        return {"not": {}}
    converted = {key: value for key, value in schema.items() if key not in _NOT_IN_DRAFT4}
    if isinstance(converted.get("properties"), Mapping):
        converted["properties"] = {name: draft04(sub) for name, sub in converted["properties"].items()}
    if "items" in converted:
        converted["items"] = draft04(converted["items"])
    if isinstance(converted.get("additionalProperties"), Mapping):
        converted["additionalProperties"] = draft04(converted["additionalProperties"])
    if converted.get("required") == []:
        # Draft 4 requires at least one name; the handler's body schema can be left with none.
        del converted["required"]
    _exclusive_bound(converted, "exclusiveMinimum", "minimum", lambda inclusive, bound: inclusive > bound)
    _exclusive_bound(converted, "exclusiveMaximum", "maximum", lambda inclusive, bound: inclusive < bound)
    return converted


def _exclusive_bound(schema: dict[str, Any], exclusive: str, inclusive: str, stricter) -> None:
    if exclusive not in schema:
        return
    bound = schema.pop(exclusive)
    if inclusive in schema and stricter(schema[inclusive], bound):
        return
    schema[inclusive] = bound
    schema[exclusive] = True


def without_key(schema: Mapping[str, Any], key_name: str) -> dict[str, Any]:
    """The schema a body's other fields must satisfy: the item schema without the key, since the URL or the
    server supplies the key. The handler's own ``body_schema_for`` decides, so the models cannot drift."""
    return handler_validation().body_schema_for(schema, key_name)


def _with_properties(schema: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    return {**schema, "properties": {**(schema.get("properties") or {}), **extra}}


def body_models(schema: Mapping[str, Any], key_name: str) -> dict[str, dict[str, Any]]:
    """The draft-4 model of each method's body, by method.

    POST: the fields, plus the key when the schema requires it (clients then choose ids). PUT: the fields,
    plus the key (it must equal the URL's) and ``version`` (it must be the current one), which the handler
    checks itself. PATCH: any object, since a merge patch is checked once merged into the stored item.
    """
    fields = without_key(schema, key_name)
    post = fields
    if key_name in (schema.get("required") or []):
        key_schema = (schema.get("properties") or {}).get(key_name, {"type": "string"})
        post = _with_properties(fields, {key_name: key_schema})
        post["required"] = [*fields.get("required", []), key_name]
    put = _with_properties(fields, {key_name: {"type": "string"}, VERSION_ATTRIBUTE: {"type": "number"}})
    return {"POST": draft04(post), "PUT": draft04(put), "PATCH": {"type": "object"}}
