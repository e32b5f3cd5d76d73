"""The web API's settings, read once from the function's environment at cold start."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from api_validation import SchemaError, body_schema_for, check_schema

DEFAULT_RESOURCE = "items"
DEFAULT_KEY_NAME = "id"
DEFAULT_SCHEMA: dict[str, Any] = {"type": "object"}
DEFAULT_MAX_BODY_BYTES = 64 * 1024
# API Gateway refuses payloads above 10 MB before the function runs.
APIGW_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
VERSION_ATTRIBUTE = "version"


class Settings:
    """Everything configurable about the API; see ``load_settings`` for the environment variables.

    Read-only: one instance serves every invocation of the sandbox.
    """

    # A plain class, not a frozen dataclass: @dataclass compiles its generated methods at import, some
    # 0.7 ms of every cold start.
    __slots__ = (
        "resource",
        "key_name",
        "schema",
        "body_schema",
        "key_schema",
        "client_ids",
        "max_body_bytes",
        "page_size",
        "cors_allow_origin",
    )

    def __init__(
        self,
        *,
        resource: str = DEFAULT_RESOURCE,
        key_name: str = DEFAULT_KEY_NAME,
        schema: Any = None,
        body_schema: Any = None,
        key_schema: Any = True,
        client_ids: bool = False,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        page_size: int = DEFAULT_PAGE_SIZE,
        cors_allow_origin: str | None = None,
    ) -> None:
        values = locals()
        for name in self.__slots__:
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Settings are read-only: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Settings are read-only: cannot delete {name!r}")


def _int(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    value = int(raw)
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Settings from RESOURCE, KEY_NAME, ITEM_SCHEMA, MAX_BODY_BYTES, PAGE_SIZE and CORS_ALLOW_ORIGIN.

    A bad value raises at cold start: a misconfigured function should fail its deployment loudly rather
    than half-validate requests. Clients provide ids when the schema lists the key in ``required``.
    """
    key_name = environ.get("KEY_NAME") or DEFAULT_KEY_NAME
    if key_name == VERSION_ATTRIBUTE:
        raise ValueError(f"KEY_NAME cannot be '{VERSION_ATTRIBUTE}', the concurrency attribute")
    raw_schema = environ.get("ITEM_SCHEMA")
    schema = json.loads(raw_schema, parse_float=Decimal, parse_int=Decimal) if raw_schema else DEFAULT_SCHEMA
    try:
        check_schema(schema)
    except SchemaError as exc:
        raise ValueError(f"ITEM_SCHEMA: {exc}") from exc
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    if VERSION_ATTRIBUTE in properties:
        raise ValueError(f"ITEM_SCHEMA must not define '{VERSION_ATTRIBUTE}': the server manages it")
    required = schema.get("required", []) if isinstance(schema, dict) else []
    resource = (environ.get("RESOURCE") or DEFAULT_RESOURCE).strip("/")
    if not resource or "/" in resource:
        raise ValueError("RESOURCE must be a single path segment such as 'items'")
    return Settings(
        resource=resource,
        key_name=key_name,
        schema=schema,
        body_schema=body_schema_for(schema, key_name),
        key_schema=properties.get(key_name, True),
        client_ids=key_name in required,
        max_body_bytes=_int(environ, "MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 1, APIGW_MAX_BODY_BYTES),
        page_size=_int(environ, "PAGE_SIZE", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
        cors_allow_origin=environ.get("CORS_ALLOW_ORIGIN") or None,
    )
