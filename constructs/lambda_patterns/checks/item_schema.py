"""A web backend's item schema must be one the ``web_api`` handler would load: the schema it would refuse at
cold start is refused at synth, by the handler's own validator."""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from lambda_patterns.errors import ConfigurationError
from lambda_patterns.steps.handlers import common_path, handler_path

CODE = "LambdaPatterns.WebApi.ItemSchema"
#: The attribute the handler keeps each item's optimistic-concurrency version in.
VERSION_ATTRIBUTE = "version"


@functools.cache
def handler_validation() -> ModuleType:
    """The ``web_api`` handler's own ``api_validation`` module, loaded from its file (once), so synth-time
    checks and models apply the very rules the function applies."""
    # It imports only the shared lambda_common, as it does in Lambda.
    path = handler_path("web_api_backend") / "api_validation.py"
    spec = importlib.util.spec_from_file_location("lambda_patterns._web_api_validation", path)
    module = importlib.util.module_from_spec(spec)
    common = str(common_path())
    added = common not in sys.path
    if added:
        sys.path.insert(0, common)
    try:
        spec.loader.exec_module(module)
    finally:
        if added:
            sys.path.remove(common)
    return module


def check_item_schema(where: str, schema: Any, key_name: str) -> None:
    """Raise ConfigurationError unless the handler would load ``schema`` for items keyed by ``key_name``."""
    problem = _problem(schema, key_name)
    if problem is not None:
        raise ConfigurationError(f"{where}: {problem}", code=CODE)


def _problem(schema: Any, key_name: str) -> str | None:
    if not isinstance(schema, Mapping) or schema.get("type") != "object":
        return 'item_schema must be an object schema ({"type": "object", ...}): items are JSON objects'
    validation = handler_validation()
    try:
        validation.check_schema(schema)
    except validation.SchemaError as error:
        return f"item_schema: {error}"
    properties = schema.get("properties") or {}
    if VERSION_ATTRIBUTE in properties:
        return f"item_schema must not define '{VERSION_ATTRIBUTE}': the handler sets it on every write"
    key_schema = properties.get(key_name)
    if isinstance(key_schema, Mapping) and "type" in key_schema:
        kinds = key_schema["type"] if isinstance(key_schema["type"], list) else [key_schema["type"]]
        if "string" not in kinds:
            return (
                f"item_schema gives '{key_name}' the type {key_schema['type']!r}, but it is the "
                "table's partition key, a string"
            )
    return None
