"""The ``$input``, ``$util`` and ``$context`` objects of API Gateway's mapping templates, and the Java-like
values a template sees, for ``vtl`` to render with airspeed-ext (a Velocity engine).

As documented in "Variables for data transformations for API Gateway"
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html):

- ``$input.body``: the payload as text; ``$input.json(x)``: the JSON text of what the JSONPath ``x``
  selects; ``$input.path(x)``: the value itself (maps, lists, strings, numbers), for ``.size()``,
  ``#foreach`` and the like; ``$input.params()``: the map ``{path, querystring, header}`` of the method
  request's parameters; ``$input.params(name)``: the value of ``name``, looked up in the path, then the
  query string, then the headers;
- ``$util.escapeJavaScript``, ``parseJson``, ``urlEncode``, ``urlDecode``, ``base64Encode``,
  ``base64Decode``.

Values parsed from JSON behave as API Gateway's (JSONPath over json-smart): an object is a Java map, printed
``{a=1, b=x}``; an array prints as JSON (``[1,"x"]``); null prints nothing at the top of a reference.
JSONPath is the subset ``parse_path`` documents. Pure: no AWS, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from lambda_patterns.local.validation import InvalidJSON, parse_json


class TemplateError(ValueError):
    """A template could not be rendered for this payload (e.g. the body is not JSON)."""


class UnsupportedTemplate(ValueError):
    """The template uses what the runner cannot render as API Gateway does."""


# JSONPath ---------------------------------------------------------------------------------------------

#: A step of a JSONPath: a member name, an index, or ``WILDCARD`` (every member or element).
WILDCARD = "*"
_PATH_STEP = re.compile(
    r"\.(?P<name>[A-Za-z_][A-Za-z0-9_-]*)|\.(?P<dotstar>\*)"
    r"|\[(?:'(?P<quoted>[^']*)'|\"(?P<dquoted>[^\"]*)\"|(?P<index>\d+)|(?P<star>\*))\]"
)


class _Wildcard:
    def __repr__(self) -> str:
        return "[*]"


_ANY = _Wildcard()


def parse_path(text: str) -> tuple[Any, ...]:
    """The steps of a JSONPath of the emulated subset: ``$``, then ``.name``, ``['name']``, ``[index]``,
    ``[*]`` or ``.*`` steps. UnsupportedTemplate for anything else (``..``, filters, slices, negative
    indexes), which the runner does not evaluate."""
    if not text.startswith("$"):
        raise UnsupportedTemplate(f"JSONPath {text!r} does not start at the root ($)")
    steps: list[Any] = []
    position = 1
    while position < len(text):
        match = _PATH_STEP.match(text, position)
        if match is None:
            raise UnsupportedTemplate(
                f"JSONPath {text!r}: only .name, ['name'], [index], [*] and .* steps are emulated locally"
            )
        if match.group("index") is not None:
            steps.append(int(match.group("index")))
        elif match.group("star") or match.group("dotstar"):
            steps.append(_ANY)
        else:
            steps.append(next(g for g in match.group("name", "quoted", "dquoted") if g is not None))
        position = match.end()
    return tuple(steps)


def select(document: Any, path: tuple[Any, ...]) -> Any:
    """What ``path`` selects: a definite path its value (None when absent); a path with a wildcard the
    list of every match, as JSONPath returns for an indefinite path."""
    if _ANY not in path:
        value = document
        for step in path:
            value = _step(value, step)
            if value is _MISSING:
                return None
        return value
    matches = [document]
    for step in path:
        found: list[Any] = []
        for value in matches:
            if step is _ANY:
                if isinstance(value, dict):
                    found.extend(value.values())
                elif isinstance(value, list):
                    found.extend(value)
            else:
                item = _step(value, step)
                if item is not _MISSING:
                    found.append(item)
        matches = found
    return matches


_MISSING = object()


def _step(value: Any, step: str | int) -> Any:
    if isinstance(step, int) and isinstance(value, list) and step < len(value):
        return value[step]
    if isinstance(step, str) and isinstance(value, dict) and step in value:
        return value[step]
    return _MISSING


# Java-like values ---------------------------------------------------------------------------------------


def java_string(value: Any, nested: bool = False) -> str:
    """How a value prints in a template: null nothing at the top (``null`` inside a map), booleans
    ``true``, maps ``{a=1}``, lists as JSON."""
    if value is None:
        return "null" if nested else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, JavaMap):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={java_string(item, True)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return str(value) if isinstance(value, (JavaList, KeySet)) else _json(value)
    return str(value)


def _json(value: Any) -> str:
    return json.dumps(plain(value), separators=(",", ":"), ensure_ascii=False)


def plain(value: Any) -> Any:
    """The Python value (dicts, lists) of a Java-like one, for JSON."""
    if isinstance(value, JavaMap):
        return {key: plain(item) for key, item in value._items.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def to_java(value: Any) -> Any:
    """A parsed JSON value as templates see it: objects ``JavaMap``, arrays ``JavaList``."""
    if isinstance(value, dict):
        return JavaMap({key: to_java(item) for key, item in value.items()})
    if isinstance(value, list):
        return JavaList(to_java(item) for item in value)
    return value


class JavaMap:
    """A Java map (``LinkedHashMap``): ``$m.key``, ``$m.get('key')``, ``$m.keySet()``, ``$m.size()``,
    ``#set($m.key = ...)``; ``#foreach`` walks its values, as Velocity does. Not a ``dict``: airspeed
    would walk a dict's keys."""

    def __init__(self, items: Mapping[str, Any] | None = None) -> None:
        self._items: dict[str, Any] = dict(items or {})

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._items[key] = value

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __eq__(self, other: object) -> bool:
        if isinstance(other, JavaMap):
            return self._items == other._items
        return isinstance(other, dict) and self._items == other

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return "{" + ", ".join(f"{key}={java_string(item, True)}" for key, item in self._items.items()) + "}"

    def get(self, key: str) -> Any:
        return self._items.get(key)

    def keySet(self) -> KeySet:  # noqa: N802 - Java's name, as templates call it
        return KeySet(self._items)

    def size(self) -> int:
        return len(self._items)

    def isEmpty(self) -> bool:  # noqa: N802
        return not self._items

    def containsKey(self, key: str) -> bool:  # noqa: N802
        return key in self._items

    def put(self, key: str, value: Any) -> Any:
        previous = self._items.get(key)
        self._items[key] = value
        return previous

    def toString(self) -> str:  # noqa: N802
        return str(self)


class JavaList(list):
    """A JSON array (json-smart's ``JSONArray``): prints as JSON; ``size``, ``get``, ``contains``,
    ``isEmpty``, ``add`` (its methods are registered with airspeed, which looks them up by exact type)."""

    def __str__(self) -> str:
        return _json(self)


class KeySet(list):
    """A map's ``keySet()``: prints as Java's ``[a, b]``."""

    def __str__(self) -> str:
        return "[" + ", ".join(java_string(item, True) for item in self) + "]"


_LIST_METHODS = {
    "size": len,
    "get": lambda items, index: items[index],
    "contains": lambda items, value: value in items,
    "isEmpty": lambda items: not items,
    "add": lambda items, value: items.append(value) or True,
    "toString": str,
}


@cache
def engine() -> Any:
    """airspeed's ``operators`` module, the list types' methods registered with it (its extension point:
    methods by exact type). Imported on first use: airspeed-ext is the ``local`` extra's, and the runner
    says so before importing it."""
    from airspeed import operators

    operators.__additional_methods__[JavaList] = _LIST_METHODS
    operators.__additional_methods__[KeySet] = _LIST_METHODS
    return operators


@cache
def methods() -> frozenset[str]:
    """Methods a template may call on the values it handles: JavaMap's, the lists' and airspeed's own on
    strings, lists and maps. A call of any other name is refused: airspeed would print nothing for it."""
    return frozenset(
        {"get", "keySet", "size", "isEmpty", "containsKey", "put", "toString", *_LIST_METHODS}
        | {name for table in engine().__additional_methods__.values() for name in table}
    )


# $input, $util ------------------------------------------------------------------------------------------


class Input:
    """``$input``: the payload (``body``) and the method request's parameters (path, querystring, header:
    name -> value)."""

    def __init__(self, body: str, params: Mapping[str, Mapping[str, str]]) -> None:
        self.body = body
        self._params = {kind: dict(params.get(kind) or {}) for kind in ("path", "querystring", "header")}
        self._document: Any = None
        self._parsed = False

    def document(self) -> Any:
        """The payload as JSON (an empty payload is an empty object, as in API Gateway), nested at most
        ``validation.MAX_DEPTH`` levels; TemplateError otherwise."""
        if not self._parsed:
            try:
                self._document = parse_json(self.body) if self.body.strip() else {}
            except InvalidJSON as error:
                raise TemplateError(f"the payload is {error}; $input.path/json need JSON") from None
            self._parsed = True
        return self._document

    def path(self, expression: str) -> Any:
        return to_java(select(self.document(), parse_path(expression)))

    def json(self, expression: str) -> str:
        value = select(self.document(), parse_path(expression))
        return "" if value is None else _json(value)

    def params(self, name: str | None = None) -> Any:
        if name is None:
            return JavaMap({kind: JavaMap(values) for kind, values in self._params.items()})
        for kind in ("path", "querystring"):
            if name in self._params[kind]:
                return self._params[kind][name]
        headers = self._params["header"]
        if name in headers:
            return headers[name]
        # Header names are case-insensitive in HTTP.
        return next((value for key, value in headers.items() if key.lower() == name.lower()), "")


#: Java's URLEncoder leaves these as they are (and writes a space as "+"); Python's quote_plus also keeps "~".
_URL_SAFE = "*"

_JS_ESCAPES = {"'": "\\'", '"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\n": "\\n", "\t": "\\t"}
_JS_ESCAPES |= {"\f": "\\f", "\r": "\\r"}


def escape_javascript(text: str) -> str:
    """``$util.escapeJavaScript``: Apache Commons Lang's ``escapeJavaScript``, which API Gateway uses.

    Quotes (single ones too, as the reference notes), backslash and ``/`` get a backslash; control
    characters their short escape or ``\\u00XX``; every character beyond ASCII ``\\uXXXX`` (uppercase hex,
    per UTF-16 unit, as Java). An unpaired surrogate (JSON's ``"\\ud800"`` parses to one) is a UTF-16 unit
    of its own, as in a Java string."""
    out: list[str] = []
    for char in text:
        if char in _JS_ESCAPES:
            out.append(_JS_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) > 0x7F:
            units = char.encode("utf-16-be", "surrogatepass")
            for index in range(0, len(units), 2):
                out.append(f"\\u{int.from_bytes(units[index : index + 2], 'big'):04X}")
        else:
            out.append(char)
    return "".join(out)


class Util:
    """``$util``: the reference's six functions. Each takes the value's printed form, as Java's
    ``String.valueOf`` of the argument."""

    #: The method names of ``$util``; a template calling another is refused.
    METHODS = ("escapeJavaScript", "parseJson", "urlEncode", "urlDecode", "base64Encode", "base64Decode")

    def escapeJavaScript(self, value: Any) -> str | None:  # noqa: N802
        return None if value is None else escape_javascript(java_string(value))

    def parseJson(self, value: Any) -> Any:  # noqa: N802
        try:
            return to_java(parse_json(java_string(value)))
        except InvalidJSON as error:
            raise TemplateError(f"$util.parseJson: the argument is {error}") from None

    def urlEncode(self, value: Any) -> str:  # noqa: N802
        return quote_plus(java_string(value), safe=_URL_SAFE, errors="replace").replace("~", "%7E")

    def urlDecode(self, value: Any) -> str:  # noqa: N802
        return unquote_plus(java_string(value))

    def base64Encode(self, value: Any) -> str:  # noqa: N802
        # Java's UTF-8 encoder writes "?" for an unpaired surrogate, where Python's raises.
        return base64.b64encode(java_string(value).encode("utf-8", "replace")).decode()

    def base64Decode(self, value: Any) -> str:  # noqa: N802
        try:
            return base64.b64decode(java_string(value), validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            raise TemplateError("$util.base64Decode: the argument is not base64") from None
