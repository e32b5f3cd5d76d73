"""API Gateway's request body validation (``AWS::ApiGateway::Model`` schemas, JSON Schema draft 4).

``jsonschema`` is a development dependency (requirements-dev.txt), not one of the library's: it is imported
only when an API validates bodies, and the runner says so when it is missing.

``parse_json`` is how the local API reads any JSON body (here and for mapping templates): it turns every way
a hostile body can break Python's parser into ``InvalidJSON``, which the API answers as API Gateway answers
a bad body (400), never with a dropped connection.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: The model used whatever the content type, if the method maps one.
DEFAULT_CONTENT_TYPE = "$default"
#: How deeply the runner lets a JSON body nest arrays and objects. Its own limit, not API Gateway's: what
#: reads a parsed body (jsonschema, the templates' JSONPath and printing) recurses per level, several frames
#: per level for a model referring to itself, and Python's recursion limit is 1000 frames.
MAX_DEPTH = 100


class InvalidJSON(ValueError):
    """A body the runner cannot read as JSON: not JSON, a number Python refuses, or nested too deeply."""


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


def parse_json(text: str | bytes) -> Any:
    """The JSON document ``text`` holds, nested at most ``MAX_DEPTH`` levels.

    :raises InvalidJSON: not JSON (json.loads's ValueError, which includes an integer of more digits than
        ``sys.get_int_max_str_digits()``), nesting deep enough to exhaust the parser's recursion, or deeper
        than ``MAX_DEPTH``.
    """
    # A body can only be deeper than the limit if it opens more arrays and objects than that: counting
    # brackets (strings included, an over-estimate) spares the scan for almost every body. The scan reads
    # the text before json.loads does, so the parser never recurses past the limit: a garbage collection
    # or finalizer that runs a thousand frames down fails for want of stack.
    opened = (
        text.count(b"[") + text.count(b"{") if isinstance(text, bytes) else text.count("[") + text.count("{")
    )
    if opened > MAX_DEPTH and _text_deeper_than(text, MAX_DEPTH):
        raise InvalidJSON(f"JSON nested more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(text)
    except RecursionError:
        raise InvalidJSON("JSON nested too deeply for Python's parser") from None
    except ValueError as error:
        raise InvalidJSON(f"not JSON ({error})") from None


_OPENING = frozenset("[{")
_CLOSING = frozenset("]}")


def _text_deeper_than(text: str | bytes, limit: int) -> bool:
    """Whether JSON text opens more than ``limit`` arrays and objects inside one another, brackets in
    strings not counted (the text need not be valid JSON: only its nesting is read)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in _OPENING:
            depth += 1
            if depth > limit:
                return True
        elif char in _CLOSING:
            depth -= 1
    return False


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
            document = parse_json(body or b"null")
        except InvalidJSON as error:
            return [str(error)]
        try:
            return [
                f"{'/'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
                for error in validator.iter_errors(document)
            ]
        except RecursionError:
            # A model recursing more per level than MAX_DEPTH allows for: the body cannot be shown to
            # conform, and an invalid body is what API Gateway answers for one it cannot validate.
            return [f"too deeply nested to validate against the {media_type(content_type)} model"]
