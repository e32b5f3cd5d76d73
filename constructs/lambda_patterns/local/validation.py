"""API Gateway's request body validation (``AWS::ApiGateway::Model`` schemas, JSON Schema draft 4).

``jsonschema`` is a development dependency (requirements-dev.txt), not one of the library's: it is imported
only when an API validates bodies, and the runner says so when it is missing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: The model used whatever the content type, if the method maps one.
DEFAULT_CONTENT_TYPE = "$default"


class UnsupportedModel(ValueError):
    """A model the runner cannot check locally (e.g. it refers to another model)."""


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, lowercased; ``application/json`` when absent, as API Gateway
    assumes for mapping templates and models."""
    if not content_type:
        return "application/json"
    return content_type.split(";")[0].strip().lower()


def _remote_refs(schema: Any) -> list[str]:
    if isinstance(schema, dict):
        found = (
            [schema["$ref"]]
            if isinstance(schema.get("$ref"), str) and not schema["$ref"].startswith("#")
            else []
        )
        return found + [ref for value in schema.values() for ref in _remote_refs(value)]
    if isinstance(schema, list):
        return [ref for value in schema for ref in _remote_refs(value)]
    return []


class BodyValidator:
    """Checks request bodies against a method's models, by media type.

    :param models: media type (or ``$default``) -> JSON schema (draft 4).
    :raises ImportError: jsonschema is not installed.
    :raises UnsupportedModel: a schema refers to another document (``$ref`` to a model); resolving it would
        mean fetching it, which the runner never does.
    """

    def __init__(self, models: Mapping[str, Mapping[str, Any]]) -> None:
        import jsonschema  # a dev-time dependency: imported only when an API validates bodies

        self._validators = {}
        for kind, schema in models.items():
            remote = _remote_refs(schema)
            if remote:
                raise UnsupportedModel(
                    f"the {kind} model refers to {remote[0]}, which is not resolved locally"
                )
            jsonschema.Draft4Validator.check_schema(schema)
            self._validators[kind.lower()] = jsonschema.Draft4Validator(schema)

    def errors(self, content_type: str | None, body: bytes) -> list[str]:
        """Why the body breaks the model of its media type; empty when it conforms or when no model applies
        (API Gateway validates only a media type it has a model for, else the ``$default`` model)."""
        validator = self._validators.get(media_type(content_type)) or self._validators.get(
            DEFAULT_CONTENT_TYPE
        )
        if validator is None:
            return []
        try:
            document = json.loads(body or b"null")
        except ValueError as error:
            return [f"not JSON: {error}"]
        return [
            f"{'/'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
            for error in validator.iter_errors(document)
        ]
