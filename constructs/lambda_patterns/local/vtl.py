"""A small, explicit subset of API Gateway's mapping-template language (Velocity, VTL), for local runs.

Supported, and nothing else:

- ``$input.body``: the payload as text;
- ``$input.json('<path>')``: the JSON text of what the path selects;
- ``$input.path('<path>')``: the value the path selects (a string renders as itself);
- ``$util.base64Encode(<x>)`` and ``$util.escapeJavaScript(<x>)``, ``<x>`` one of these references or a
  quoted literal;
- ``$context.requestId``;
- in gateway responses, ``$context.error.message``, ``$context.error.messageString`` (the message as a
  JSON string) and ``$context.error.responseType`` (empty elsewhere, as in API Gateway).

Paths are ``$`` followed by ``.name``, ``['name']`` or ``[index]`` steps. A template using anything else
(a directive such as ``#set``/``#if``/``#foreach``, a comment, ``${...}`` or ``$!`` references, another
variable or method, a method called on a result, an escaped reference, a wildcard path) is refused when it
is compiled, with ``UnsupportedTemplate`` naming what was found: the runner then skips the route at
start-up rather than render it wrongly. Pure: no AWS, no I/O.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lambda_patterns.local.validation import InvalidJSON, parse_json

#: The references this subset knows, and whether each takes one argument.
REFERENCES = {
    "input.body": False,
    "input.json": True,
    "input.path": True,
    "util.base64Encode": True,
    "util.escapeJavaScript": True,
    "context.requestId": False,
    "context.error.message": False,
    "context.error.messageString": False,
    "context.error.responseType": False,
}
_PATH_ARGUMENT = {"input.json", "input.path"}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_PATH_STEP = re.compile(
    r"\.(?P<name>[A-Za-z_][A-Za-z0-9_-]*)|\[(?:'(?P<quoted>[^']*)'|\"(?P<dquoted>[^\"]*)\"|(?P<index>\d+))\]"
)
# Velocity's directives, comments and macro calls; any other "#" (as in "screen#home") is text.
_DIRECTIVE = re.compile(
    r"#(?:\{|#|\*|(?:set|if|elseif|else|end|foreach|break|stop|macro|parse|include|evaluate|define)\b"
    r"|[A-Za-z_]\w*\s*\()"
)
_INTERPOLATION = re.compile(r"\$[A-Za-z{!]")


class UnsupportedTemplate(ValueError):
    """The template uses VTL outside the subset the runner evaluates."""


class TemplateError(ValueError):
    """A supported template could not be rendered for this payload (e.g. the body is not JSON)."""


@dataclass(frozen=True)
class Literal:
    """A literal argument."""

    text: str


@dataclass(frozen=True)
class Reference:
    """One supported reference, such as ``$input.path('$.user_id')``."""

    name: str
    argument: Reference | Literal | None = None
    path: tuple[str | int, ...] = ()


@dataclass
class RenderContext:
    """What a template is rendered against: the payload (request or integration response) and request id."""

    body: str
    request_id: str = ""
    #: A gateway response's error: its message and response type (``BAD_REQUEST_BODY``).
    error_message: str | None = None
    error_type: str | None = None
    _document: Any = None
    _parsed: bool = False

    def document(self) -> Any:
        """The payload parsed as JSON (an empty payload is an empty object, as in API Gateway), by
        ``validation.parse_json``: a payload nested too deeply for it is a TemplateError too, so nothing
        rendered from a document recurses past its depth limit."""
        if not self._parsed:
            try:
                self._document = parse_json(self.body) if self.body.strip() else {}
            except InvalidJSON as error:
                raise TemplateError(f"the payload is {error}; $input.path/json need JSON") from None
            self._parsed = True
        return self._document


def parse_path(text: str) -> tuple[str | int, ...]:
    """Steps of a JSONPath of the subset (``$``, ``$.a.b``, ``$['a'][0]``); UnsupportedTemplate otherwise."""
    if not text.startswith("$"):
        raise UnsupportedTemplate(f"JSONPath {text!r} does not start at the root ($)")
    steps: list[str | int] = []
    position = 1
    while position < len(text):
        match = _PATH_STEP.match(text, position)
        if match is None:
            raise UnsupportedTemplate(
                f"JSONPath {text!r}: only .name, ['name'] and [index] steps are emulated locally"
            )
        if match.group("index") is not None:
            steps.append(int(match.group("index")))
        else:
            steps.append(next(g for g in match.group("name", "quoted", "dquoted") if g is not None))
        position = match.end()
    return tuple(steps)


def select(document: Any, path: Sequence[str | int]) -> Any:
    """What ``path`` selects in ``document``; None when it selects nothing."""
    value = document
    for step in path:
        if (
            isinstance(step, int)
            and isinstance(value, list)
            and step < len(value)
            or isinstance(step, str)
            and isinstance(value, dict)
            and step in value
        ):
            value = value[step]
        else:
            return None
    return value


def java_string(value: Any) -> str:
    """How VTL prints a value from parsed JSON (Java's ``toString``): null prints nothing, maps ``{a=1}``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={java_string(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(java_string(item) for item in value) + "]"
    return str(value)


_JS_ESCAPES = {"'": "\\'", '"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\n": "\\n", "\t": "\\t"}
_JS_ESCAPES |= {"\f": "\\f", "\r": "\\r"}


def escape_javascript(text: str) -> str:
    """``$util.escapeJavaScript``: Apache Commons Lang's ``escapeJavaScript``, which API Gateway uses.

    Quotes (single ones too), backslash and ``/`` get a backslash; control characters their short escape
    or ``\\u00XX``; every character beyond ASCII ``\\uXXXX`` (uppercase hex, per UTF-16 unit, as Java). An
    unpaired surrogate (JSON's ``"\\ud800"`` parses to one) is a UTF-16 unit of its own, as in a Java string."""
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


class Template:
    """A compiled template: literal text and references, rendered with ``render``."""

    def __init__(self, source: str, parts: Sequence[str | Reference]) -> None:
        self.source = source
        self._parts = tuple(parts)

    @property
    def references(self) -> list[str]:
        """The names of the references used, for messages."""
        return [part.name for part in self._parts if isinstance(part, Reference)]

    def render(self, context: RenderContext) -> str:
        """The template's output for this payload; TemplateError if a path needs JSON and it is not."""
        return "".join(
            part if isinstance(part, str) else java_string(_evaluate(part, context)) for part in self._parts
        )


def _evaluate(reference: Reference | Literal, context: RenderContext) -> Any:
    if isinstance(reference, Literal):
        return reference.text
    name = reference.name
    if name == "input.body":
        return context.body
    if name == "context.requestId":
        return context.request_id
    if name == "context.error.message":
        return context.error_message
    if name == "context.error.messageString":
        return None if context.error_message is None else json.dumps(context.error_message)
    if name == "context.error.responseType":
        return context.error_type
    if name == "input.path":
        return select(context.document(), reference.path)
    if name == "input.json":
        value = select(context.document(), reference.path)
        return "" if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert reference.argument is not None
    text = java_string(_evaluate(reference.argument, context))
    if name == "util.base64Encode":
        # Java's UTF-8 encoder writes "?" for an unpaired surrogate, where Python's raises.
        return base64.b64encode(text.encode("utf-8", "replace")).decode()
    return escape_javascript(text)


def compile_template(source: str) -> Template:
    """Compiles ``source``; UnsupportedTemplate names the first construct outside the subset."""
    parts: list[str | Reference] = []
    literal: list[str] = []
    position = 0
    while position < len(source):
        char = source[position]
        if char == "\\" and source[position + 1 : position + 2] in ("$", "#"):
            raise UnsupportedTemplate(
                f"escaped reference {source[position : position + 12]!r}... (VTL escaping)"
            )
        if char == "#" and _DIRECTIVE.match(source, position):
            raise UnsupportedTemplate(f"VTL directive or comment {_snippet(source, position)!r}")
        if char == "$" and _INTERPOLATION.match(source, position):
            reference, position = _reference(source, position)
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(reference)
            continue
        literal.append(char)
        position += 1
    if literal:
        parts.append("".join(literal))
    return Template(source, parts)


def _snippet(source: str, position: int) -> str:
    return source[position : position + 30]


def _reference(source: str, position: int) -> tuple[Reference, int]:
    """Parses the reference starting at ``source[position] == "$"``; returns it and the position after it."""
    follower = source[position + 1]
    if follower in "{!":
        raise UnsupportedTemplate(
            f"{'formal ${...}' if follower == '{' else 'quiet $!'} reference {_snippet(source, position)!r}"
        )
    match = _NAME.match(source, position + 1)
    assert match is not None
    name = match.group(0)
    if name not in REFERENCES:
        raise UnsupportedTemplate(
            f"${name} is not in the emulated VTL subset ({', '.join(sorted(REFERENCES))})"
        )
    end = match.end()
    takes_argument = REFERENCES[name]
    if source[end : end + 1] != "(":
        if takes_argument:
            raise UnsupportedTemplate(f"${name} must be called with one argument")
        return Reference(name), end
    if not takes_argument:
        raise UnsupportedTemplate(f"${name}(...) is not a method")
    argument, end = _argument(source, end + 1, name)
    if name in _PATH_ARGUMENT:
        if not isinstance(argument, Literal):
            raise UnsupportedTemplate(
                f"${name} takes a literal JSONPath here, not {_snippet(source, position)!r}"
            )
        reference = Reference(name, path=parse_path(argument.text))
    else:
        reference = Reference(name, argument=argument)
    if re.match(r"\.[A-Za-z_]", source[end : end + 2]):
        raise UnsupportedTemplate(
            f"a method called on ${name}(...) ({_snippet(source, end)!r}) is not emulated"
        )
    return reference, end


def _argument(source: str, position: int, name: str) -> tuple[Reference | Literal, int]:
    while position < len(source) and source[position].isspace():
        position += 1
    quote = source[position : position + 1]
    if quote in ("'", '"'):
        close = source.find(quote, position + 1)
        if close < 0:
            raise UnsupportedTemplate(f"unterminated string in ${name}(...)")
        text = source[position + 1 : close]
        if quote == '"' and (_INTERPOLATION.search(text) or _DIRECTIVE.search(text)):
            raise UnsupportedTemplate(f'interpolated string "{text}" in ${name}(...)')
        argument: Reference | Literal = Literal(text)
        end = close + 1
    elif quote == "$" and _INTERPOLATION.match(source, position):
        argument, end = _reference(source, position)
    else:
        raise UnsupportedTemplate(f"argument {_snippet(source, position)!r} of ${name}(...) is not emulated")
    while end < len(source) and source[end].isspace():
        end += 1
    if source[end : end + 1] != ")":
        raise UnsupportedTemplate(f"${name}(...) takes exactly one argument")
    return argument, end + 1
