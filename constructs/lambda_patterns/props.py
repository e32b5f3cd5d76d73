"""Props given as aws-cdk-lib's own structs or as mappings, read the same way.

Every ``*_props`` of the constructs here takes what a user of aws-cdk-lib writes: the matching props struct
(``sqs.QueueProps(visibility_timeout=...)``, ``s3.BucketProps(...)``) or a plain mapping of the same
keyword names. Structs are jsii classes whose fields are read-only properties; only the fields the user set
are taken, so a struct never resets a library default to None.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambda_patterns.errors import ConfigurationError


def as_mapping(props: Any, where: str = "props") -> dict[str, Any]:
    """``props`` (None, a mapping, or an aws-cdk-lib props struct) as a dict of the keyword names set."""
    if props is None:
        return {}
    if isinstance(props, Mapping):
        return dict(props)
    fields = [
        name
        for name in dir(type(props))
        if not name.startswith("_") and isinstance(getattr(type(props), name, None), property)
    ]
    if not fields:
        raise ConfigurationError(
            f"{where} must be a mapping of keyword names or an aws-cdk-lib props struct, "
            f"got {type(props).__name__}",
            code="LambdaPatterns.Props.Type",
        )
    values = {name: getattr(props, name) for name in fields}
    return {name: value for name, value in values.items() if value is not None}
