"""A name that scopes a grant (an S3 key prefix, an index name, a metrics namespace) must be literal: a
wildcard in it would widen the grant beyond what its intent says."""

from __future__ import annotations

from lambda_patterns.errors import ConfigurationError

CODE = "LambdaPatterns.Permissions.LiteralScope"


def check_literal_prefix(prefix: str | None) -> None:
    """``None`` or ``""``: the whole bucket, which the intent says itself."""
    if prefix is not None and ("*" in prefix or "?" in prefix):
        raise ConfigurationError(
            f"S3 key prefix {prefix!r} must be literal: wildcards would widen the grant", code=CODE
        )


def check_literal_index(name: str) -> None:
    if not name or "*" in name or "?" in name:
        raise ConfigurationError(f"query_items(): index name {name!r} must be literal", code=CODE)


def check_literal_namespace(namespace: str) -> None:
    if not namespace or "*" in namespace:
        raise ConfigurationError(f"metrics namespace {namespace!r} must be a literal name", code=CODE)
