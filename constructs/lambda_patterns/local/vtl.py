"""API Gateway's mapping templates (Velocity, VTL), rendered for local runs by airspeed-ext, the Velocity
engine for AWS templates that LocalStack uses.

A template is compiled once, when the runner wires its API: ``compile_template`` parses it and checks it
uses only what renders as API Gateway does (see "Mapping template transformations for REST APIs",
https://docs.aws.amazon.com/apigateway/latest/developerguide/models-mappings.html), else raises
``UnsupportedTemplate`` naming what was found; the runner then skips the integration rather than render it
wrongly. Rendered, a template sees ``$input``, ``$util`` (``vtl_objects``), ``$context`` and
``$stageVariables``.

Supported: text, references (``$x``, ``$!x``, ``${x}``), ``#set``, ``#if``/``#elseif``/``#else``,
``#foreach`` (with ``$foreach.hasNext``, ``$foreach.index``, ``$velocityCount``), comments, literals and
operators; method calls named in ``vtl_objects.methods()``. Refused: ``#macro``, ``#define``, ``#include``,
``#parse``, ``#evaluate``, ``#stop``, ``#break``, escaped references (``\\$x``), any ``$input``/``$util``
member but the documented ones, a ``$input.path``/``$input.json`` argument that is not a literal JSONPath
of ``vtl_objects.parse_path``'s subset, ``$context`` variables the runner cannot know (the caller's
identity and the authorizer's output on a method that authenticates, ``requestOverride``,
``responseOverride``) or does not emulate.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambda_patterns.local.vtl_objects import (
    Input,
    JavaMap,
    TemplateError,
    UnsupportedTemplate,
    Util,
    engine,
    escape_javascript,
    java_string,
    methods,
    parse_path,
)

log = logging.getLogger("lambda_patterns.local")

__all__ = [
    "RenderContext",
    "Template",
    "TemplateError",
    "UnsupportedTemplate",
    "compile_template",
    "escape_javascript",
    "java_string",
]

#: ``$context`` variables the runner knows for every request (from ``api.proxy_event``'s request context).
REQUEST_CONTEXT = frozenset(
    {
        "accountId",
        "apiId",
        "domainName",
        "extendedRequestId",
        "httpMethod",
        "path",
        "protocol",
        "requestId",
        "requestTime",
        "requestTimeEpoch",
        "resourceId",
        "resourcePath",
        "stage",
        "identity.sourceIp",
        "identity.userAgent",
    }
)
#: A gateway response's error, empty elsewhere (as in API Gateway).
ERROR_CONTEXT = frozenset({"error.message", "error.messageString", "error.responseType"})
#: Who called: null when the method does not authenticate (``AuthorizationType`` ``NONE``); otherwise what
#: the runner cannot know, since it does not authenticate.
CALLER_CONTEXT = frozenset(
    {
        "identity.accountId",
        "identity.caller",
        "identity.user",
        "identity.userArn",
        "identity.accessKey",
        "identity.principalOrgId",
        "identity.cognitoAuthenticationProvider",
        "identity.cognitoAuthenticationType",
        "identity.cognitoIdentityId",
        "identity.cognitoIdentityPoolId",
    }
)
#: The API key: null unless the method requires one (which the runner does not check).
API_KEY_CONTEXT = frozenset({"identity.apiKey", "identity.apiKeyId"})
_INPUT_MEMBERS = {"body": None, "json": (1,), "path": (1,), "params": (0, 1)}
_PYTHON_METHOD = re.compile(r"<(?:bound method|built-in method|function) [\w.]+")
_ESCAPE = re.compile(r"\\[$#]")
# Velocity directives airspeed leaves as text (#break) or that would be text in the braced form.
_TEXT_DIRECTIVE = re.compile(
    r"#\{?(break|stop|set|if|elseif|else|end|foreach|macro|define|include|parse|evaluate)\b"
)
_ALLOWED_ELEMENTS = (  # noqa: SIM905 - a name a line would bury the rules
    "TemplateBody Block Text FallthroughHashText Comment FormalReference VariableExpression NameOrCall "
    "SubExpression ParameterList ValueList Value NullLiteral IntegerLiteral FloatingPointLiteral "
    "BooleanLiteral StringLiteral InterpolatedStringLiteral ArrayLiteral Range DictionaryLiteral "
    "ParenthesizedExpression Expression BinaryOperator UnaryOperatorValue Condition IfDirective ElseBlock "
    "ElseifBlock End SetDirective Assignment AssignmentTerm DotDictAccessTerm BracketedValueTerm "
    "ForeachDirective ArrayIndex AlternateValue"
).split()


@dataclass
class RenderContext:
    """What a template is rendered against: the payload (request, or integration response), the request id,
    and for a method's templates the request (``from_event``); for a gateway response, its error."""

    body: str
    request_id: str = ""
    #: A gateway response's error: its message and response type (``BAD_REQUEST_BODY``).
    error_message: str | None = None
    error_type: str | None = None
    #: The method request's parameters: ``path``, ``querystring``, ``header`` -> name -> value.
    params: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: ``$context`` variables beyond ``requestId`` and ``error`` (``httpMethod``, ``identity``, ...).
    context: Mapping[str, Any] = field(default_factory=dict)
    stage_variables: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_event(
        cls,
        event: Mapping[str, Any],
        body: str,
        resource_id: str = "",
        stage_variables: Mapping[str, str] | None = None,
    ) -> RenderContext:
        """The context of a method's templates for the request ``event`` (``api.proxy_event``'s), ``body``
        the payload (the request's, or the integration's response)."""
        request = dict(event["requestContext"])
        identity = dict(request.pop("identity", {}))
        request["identity"] = {"sourceIp": identity.get("sourceIp"), "userAgent": identity.get("userAgent")}
        if resource_id:
            request["resourceId"] = resource_id
        return cls(
            body,
            request_id=request["requestId"],
            params={
                "path": event.get("pathParameters") or {},
                "querystring": event.get("queryStringParameters") or {},
                "header": event.get("headers") or {},
            },
            context=request,
            stage_variables=dict(stage_variables or {}),
        )

    def namespace(self) -> dict[str, Any]:
        """The variables a template sees."""
        context: dict[str, Any] = {key: _java_tree(value) for key, value in self.context.items()}
        context.setdefault("identity", JavaMap())
        context["authorizer"] = JavaMap()
        context["requestId"] = self.request_id
        message = self.error_message
        context["error"] = JavaMap(
            {
                "message": message,
                "messageString": None if message is None else json.dumps(message),
                "responseType": self.error_type,
            }
        )
        return {
            "input": Input(self.body, self.params),
            "util": Util(),
            "context": JavaMap(context),
            "stageVariables": JavaMap(self.stage_variables),
        }


def _java_tree(value: Any) -> Any:
    return (
        JavaMap({key: _java_tree(item) for key, item in value.items()}) if isinstance(value, dict) else value
    )


class Template:
    """A compiled template, rendered with ``render``."""

    def __init__(self, source: str, compiled: Any) -> None:
        self.source = source
        self._compiled = compiled

    def render(self, context: RenderContext) -> str:
        """The template's output for this payload and request; TemplateError if it cannot be rendered (a
        path over a payload that is not JSON, ``$util.parseJson`` of text that is not)."""
        try:
            output = self._compiled.merge(context.namespace())
        except engine().TemplateExecutionError as error:
            cause = error.__cause__
            if isinstance(cause, TemplateError):
                raise cause from None
            raise TemplateError(f"the template failed: {error.msg}") from None
        except RecursionError:
            raise TemplateError("the template nests too deeply to render") from None
        leaked = _PYTHON_METHOD.search(output)
        if leaked:
            # airspeed reads ``$value.name`` as a Python attribute when no such key exists (``$text.title``
            # on a string): Velocity prints nothing there, so the output would be wrong.
            raise TemplateError(f"a reference printed a Python method ({leaked.group(0)}...): not emulated")
        return output


def compile_template(
    source: str, *, authorization: str = "NONE", api_key_required: bool = False, gateway: bool = False
) -> Template:
    """Compiles ``source``; UnsupportedTemplate names the first construct the runner cannot render as API
    Gateway does.

    :param authorization: the method's ``AuthorizationType``: unless ``NONE``, the caller's identity and
        the authorizer's output are refused (the runner does not authenticate).
    :param api_key_required: the method's ``ApiKeyRequired``: then ``$context.identity.apiKey`` is refused.
    :param gateway: a gateway response's template: ``$context`` holds only ``requestId`` and ``error``.
    """
    escaped = _ESCAPE.search(source)
    if escaped:
        raise UnsupportedTemplate(f"escaped reference {source[escaped.start() : escaped.start() + 12]!r}")
    operators = engine()
    compiled = operators.Template(source)
    try:
        compiled.ensure_compiled()
    except operators.TemplateSyntaxError as error:
        raise UnsupportedTemplate(f"the template is not valid VTL: {error}") from None
    if gateway:
        known = {"requestId"} | ERROR_CONTEXT
    else:
        known = set(REQUEST_CONTEXT | ERROR_CONTEXT)
        if authorization in ("NONE", None):
            known |= CALLER_CONTEXT
        if not api_key_required:
            known |= API_KEY_CONTEXT
    # An open method has no authorizer: its output is empty, as in API Gateway.
    empty_authorizer = not gateway and authorization in ("NONE", None)
    for element in _elements(compiled.root_element, operators._Element):
        _check(element, known, empty_authorizer)
        if type(element) is operators.ForeachDirective:
            element.value = _Capped(element.value)
    return Template(source, compiled)


#: "Number of iterations in a #foreach ... #end loop in mapping templates": 1,000 (API Gateway's REST API
#: quotas: https://docs.aws.amazon.com/apigateway/latest/developerguide/
#: api-gateway-execution-service-limits-table.html).
MAX_FOREACH = 1000


class _Capped:
    """A ``#foreach``'s collection, cut to its first ``MAX_FOREACH`` items (as Velocity's
    ``directive.foreach.maxloops`` stops a loop), so a range or a body's array of millions cannot hold a
    request thread for minutes. Set on the parsed template once, when it is compiled."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def calculate(self, namespace: Any, loader: Any) -> Any:
        iterable = self._value.calculate(namespace, loader)
        if iterable is None:
            return None
        if hasattr(iterable, "keys"):
            iterable = iterable.keys()  # what airspeed iterates of a map
        try:
            size = len(iterable)
        except TypeError:
            return iterable  # airspeed says what is wrong with it
        if size <= MAX_FOREACH:
            return iterable
        log.warning(
            "mapping template: #foreach over %d items stops after %d iterations, as in API Gateway",
            size,
            MAX_FOREACH,
        )
        return list(itertools.islice(iterable, MAX_FOREACH))


def _elements(root: Any, element_type: type) -> list[Any]:
    """Every element of airspeed's parse tree under ``root`` (children are held in attributes, lists,
    dicts and bound ``calculate`` methods)."""
    found: list[Any] = []
    seen: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, (list, tuple)):
            pending.extend(node)
        elif isinstance(node, dict):
            pending.extend([*node.keys(), *node.values()])
        elif isinstance(getattr(node, "__self__", None), element_type):
            pending.append(node.__self__)
        elif isinstance(node, element_type) and id(node) not in seen:
            seen.add(id(node))
            found.append(node)
            pending.extend(vars(node).values())
    return found


def _check(element: Any, known: set[str], empty_authorizer: bool) -> None:
    operators = engine()
    kind = type(element)
    if kind.__name__ not in _ALLOWED_ELEMENTS or getattr(operators, kind.__name__) is not kind:
        raise UnsupportedTemplate(f"{_text(element)!r}: {kind.__name__} is not emulated locally")
    if kind is operators.FallthroughHashText:
        directive = _TEXT_DIRECTIVE.match(element.full_text(), element.start)
        if directive:
            raise UnsupportedTemplate(f"the directive #{directive.group(1)} is not emulated locally")
    elif kind is operators.Assignment and element.root_term in ("context", "input", "util"):
        raise UnsupportedTemplate(f"#set(${element.root_term}...) is not emulated locally")
    elif kind is operators.FormalReference and element.expression is not None:
        _check_reference(_text(element), _chain(element.expression), known, empty_authorizer)


def _text(element: Any) -> str:
    return element.full_text()[element.start : element.end][:60]


@dataclass(frozen=True)
class _Step:
    """One step of a reference: ``.name``, ``.name(args)`` (``arguments`` not None) or ``[index]``."""

    name: str | None
    arguments: list[Any] | None = None


def _chain(expression: Any) -> list[_Step]:
    steps: list[_Step] = []
    node = expression
    while node is not None:
        part = node.part
        arguments = None
        if part.parameters is not None:
            arguments = list(getattr(part.parameters.values, "values", []))
        steps.append(_Step(part.name, arguments))
        if part.index is not None:
            steps.append(_Step(None))
        sub, node = node.subexpression, None
        while sub is not None:
            if isinstance(sub.expression, engine().VariableExpression):
                node = sub.expression
                break
            steps.append(_Step(None))
            sub = getattr(sub, "subexpression", None)
    return steps


def _check_reference(text: str, steps: list[_Step], known: set[str], empty_authorizer: bool) -> None:
    root, rest = steps[0].name, steps[1:]
    if root == "input":
        if not rest or rest[0].name not in _INPUT_MEMBERS:
            raise UnsupportedTemplate(f"{text!r}: $input offers only {', '.join(_INPUT_MEMBERS)}")
        member, arity = rest[0], _INPUT_MEMBERS[rest[0].name]
        if arity is None and member.arguments is not None or arity and member.arguments is None:
            raise UnsupportedTemplate(f"{text!r}: $input.{member.name} is called wrongly")
        if member.arguments is not None and len(member.arguments) not in arity:
            raise UnsupportedTemplate(f"{text!r}: $input.{member.name} takes {' or '.join(map(str, arity))}")
        if member.name in ("path", "json"):
            parse_path(_literal(member.arguments[0], text))
        rest = rest[1:]
    elif root == "util":
        if not rest or rest[0].name not in Util.METHODS or rest[0].arguments is None:
            raise UnsupportedTemplate(f"{text!r}: $util offers only {', '.join(Util.METHODS)}")
        if len(rest[0].arguments) != 1:
            raise UnsupportedTemplate(f"{text!r}: $util.{rest[0].name} takes one argument")
        rest = rest[1:]
    elif root == "context":
        rest = _check_context(text, rest, known, empty_authorizer)
    for step in rest:
        _check_step(text, step)


def _check_context(text: str, steps: list[_Step], known: set[str], empty_authorizer: bool) -> list[_Step]:
    names: list[str] = []
    for step in steps:
        if step.name is None or step.arguments is not None:
            break
        names.append(step.name)
    if names[:1] == ["authorizer"]:
        if not empty_authorizer:
            raise UnsupportedTemplate(
                f"{text!r}: the authorizer's output is not known locally (the runner does not authenticate)"
            )
        return []
    for size in range(len(names), 0, -1):
        if ".".join(names[:size]) in known:
            return steps[size:]
    variable = ".".join(names) or "(the whole map)"
    reason = "not known locally for this method" if variable.startswith("identity.") else "not emulated"
    raise UnsupportedTemplate(f"{text!r}: $context.{variable} is {reason}")


def _check_step(text: str, step: _Step) -> None:
    if step.name is None:
        return
    if step.arguments is not None:
        if step.name not in methods():
            raise UnsupportedTemplate(f"{text!r}: the method {step.name}() is not emulated locally")
    elif step.name.startswith("_"):
        raise UnsupportedTemplate(f"{text!r}: the property .{step.name} is not emulated locally")


def _literal(value: Any, text: str) -> str:
    operators = engine()
    literal = value.expression
    if type(literal) is operators.StringLiteral or (
        type(literal) is operators.InterpolatedStringLiteral
        and all(type(child) is operators.Text for child in literal.block.children)
    ):
        return literal.value
    raise UnsupportedTemplate(f"{text!r}: the JSONPath must be a string literal here")
