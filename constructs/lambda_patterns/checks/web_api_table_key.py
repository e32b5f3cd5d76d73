"""An existing table given to a web API is keyed by a string partition key ``key_name`` alone: the handler
reads and writes items by that one key."""

from __future__ import annotations

from collections.abc import Mapping

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.WebApi.TableKey"


def check_table_key(where: str, key_name: str, keys: Mapping[str, str], types: Mapping[str, str]) -> None:
    """``keys``: the table's key schema by key type (``{"HASH": "pk", "RANGE": "sk"}``); ``types``: the
    attribute types by attribute name (``{"pk": "S"}``)."""
    if keys.get("HASH") != key_name or "RANGE" in keys or types.get(key_name) != "S":
        found = ", ".join(f"{kind} {name} ({types.get(name)})" for kind, name in sorted(keys.items()))
        raise ConfigurationError(
            f"{where}: existing_table_obj must have the string partition key {key_name!r} and no sort key; "
            f"it has {found}",
            code=CODE,
        )
