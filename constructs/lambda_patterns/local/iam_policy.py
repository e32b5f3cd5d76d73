"""IAM's evaluation of identity-based policies and a permissions boundary, for one request of a function.

Standard library only, with no import of the package: the worker process loads this file by its path
(``iam_guard.py``), where the runner's own modules are not on ``sys.path``.

Every match is three-valued: True, False, or None when the policy holds something the runner cannot
evaluate (an unresolvable resource, a policy variable, a condition key the request context does not model,
an AWS managed policy whose content is not known). An unknown never denies: a request that nothing denies
for certain and that only an unknown could allow is allowed, and reported as unverified.

Policies are plain JSON documents as ``iam_roles.py`` writes them:
``{"name": ..., "statements": [statement, ...]}`` or ``{"name": ..., "unknown": "why"}``; a statement is a
policy statement whose ``Resource``/``NotResource`` entries are strings or None (unresolvable).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Outcomes of ``evaluate``.
ALLOW, DENY, UNKNOWN = "allow", "deny", "unknown"

_GLOB_CACHE: dict[tuple[str, bool], re.Pattern[str]] = {}


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcards: ``*`` any run of characters, ``?`` one character, the rest literal."""
    key = (pattern, ignore_case)
    compiled = _GLOB_CACHE.get(key)
    if compiled is None:
        body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        compiled = re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))
        _GLOB_CACHE[key] = compiled
    return compiled.fullmatch(value) is not None


def action_matches(pattern: str, action: str) -> bool:
    """An ``Action`` entry against ``service:Operation``; IAM compares actions case-insensitively."""
    return glob_match(pattern, action, ignore_case=True)


def arn_matches(pattern: str, arn: str) -> bool:
    """A ``Resource`` entry (or ``ArnLike`` value) against an ARN: ``*`` alone matches everything, otherwise
    each of the six colon-separated parts is matched on its own, as IAM does."""
    if pattern == "*":
        return True
    pattern_parts, arn_parts = pattern.split(":", 5), arn.split(":", 5)
    if len(pattern_parts) != 6 or len(arn_parts) != 6:
        return glob_match(pattern, arn)
    return all(glob_match(p, a) for p, a in zip(pattern_parts, arn_parts, strict=True))


def _three_valued(results: Iterable[bool | None], decisive: bool) -> bool | None:
    """``decisive`` as soon as one result is, else None (unknown) if one result is, else ``not decisive``."""
    unknown = False
    for result in results:
        if result is decisive:
            return decisive
        unknown = unknown or result is None
    return None if unknown else not decisive


def any_of(results: Iterable[bool | None]) -> bool | None:
    """Three-valued OR."""
    return _three_valued(results, True)


def all_of(results: Iterable[bool | None]) -> bool | None:
    """Three-valued AND."""
    return _three_valued(results, False)


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _resource_entry(pattern: Any, resource: str) -> bool | None:
    # A policy variable (${aws:username}) would need the principal's tags and session: not modelled.
    if not isinstance(pattern, str) or "${" in pattern:
        return None
    return arn_matches(pattern, resource)


def _compare(operator: str, expected: str, actual: str) -> bool | None:
    """One value of a condition against one value of the request, for the positive form of ``operator``."""
    if operator in ("StringEquals", "ArnEquals"):
        return expected == actual if operator == "StringEquals" else arn_matches(expected, actual)
    if operator == "StringEqualsIgnoreCase":
        return expected.lower() == actual.lower()
    if operator == "StringLike":
        return glob_match(expected, actual)
    if operator == "ArnLike":
        return arn_matches(expected, actual)
    if operator == "Bool":
        return expected.lower() == actual.lower()
    if operator.startswith("Numeric"):
        try:
            left, right = float(actual), float(expected)
        except ValueError:
            return False
        return {
            "NumericEquals": left == right,
            "NumericLessThan": left < right,
            "NumericLessThanEquals": left <= right,
            "NumericGreaterThan": left > right,
            "NumericGreaterThanEquals": left >= right,
        }.get(operator)
    return None


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
}
_POSITIVE = {
    "StringEquals",
    "StringEqualsIgnoreCase",
    "StringLike",
    "ArnEquals",
    "ArnLike",
    "Bool",
    "NumericEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
}


def condition_matches(operator: str, key: str, expected: Any, context: Mapping[str, Any]) -> bool | None:
    """One ``operator: {key: values}`` entry of a ``Condition`` block.

    ``context`` maps lowercase condition keys to the request's values: a list of strings, or None for a key
    the request is known not to carry. A key missing from ``context`` is one the runner does not model.
    """
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    name = name.removesuffix("IfExists")
    key = key.lower()
    if key not in context:
        return None
    values = context[key]
    present = values is not None
    if name == "Null":
        wanted = _text(_listed(expected)[0]).lower() == "true"
        return wanted != present
    negated = name in _NEGATED
    base = _NEGATED.get(name, name)
    if base not in _POSITIVE:
        return None
    if not present:
        # IAM: a missing key fails a positive operator and satisfies a negated one, ...IfExists or not.
        if if_exists or qualifier == "ForAllValues":
            return True
        return False if qualifier == "ForAnyValue" else negated
    expected_values = [_text(item) for item in _listed(expected)]

    def one(actual: str) -> bool | None:
        matched = any_of(_compare(base, wanted, actual) for wanted in expected_values)
        return matched if matched is None or not negated else not matched

    actual_values = [_text(item) for item in _listed(values)]
    if qualifier == "ForAllValues":
        return all_of(one(actual) for actual in actual_values)
    return any_of(one(actual) for actual in actual_values)


def conditions_match(block: Any, context: Mapping[str, Any]) -> bool | None:
    """A whole ``Condition`` block: every operator, every key (AND); any value of a key (OR)."""
    if block is None:
        return True
    if not isinstance(block, Mapping):
        return None
    return all_of(
        condition_matches(operator, key, expected, context)
        for operator, keys in block.items()
        for key, expected in (keys.items() if isinstance(keys, Mapping) else [("", None)])
    )


@dataclass(frozen=True)
class Request:
    """What one call asks of IAM: the action, the resource ARN (``*`` for actions without resources) and
    the condition keys this call supplies (lowercase key -> list of values, or None when absent)."""

    action: str
    resource: str
    context: Mapping[str, Any] = field(default_factory=dict)


def statement_matches(
    statement: Mapping[str, Any], request: Request, context: Mapping[str, Any]
) -> bool | None:
    """Whether a statement applies to the request (its effect aside)."""
    if statement.get("unknown"):
        return None
    if "Action" in statement:
        action = any(action_matches(str(item), request.action) for item in _listed(statement["Action"]))
    elif "NotAction" in statement:
        action = not any(
            action_matches(str(item), request.action) for item in _listed(statement["NotAction"])
        )
    else:
        return None
    if not action:
        return False
    if "Resource" in statement:
        resource = any_of(_resource_entry(item, request.resource) for item in _listed(statement["Resource"]))
    elif "NotResource" in statement:
        hit = any_of(_resource_entry(item, request.resource) for item in _listed(statement["NotResource"]))
        resource = None if hit is None else not hit
    else:
        return None
    return all_of([resource, conditions_match(statement.get("Condition"), context)])


@dataclass(frozen=True)
class Decision:
    """The outcome for one request: ``effect`` (ALLOW, DENY or UNKNOWN); for a denial, ``reason`` is the
    end of AWS's message and ``where`` names the deciding policy; for UNKNOWN, ``unknown`` says why."""

    effect: str
    reason: str = ""
    where: str = ""
    unknown: tuple[str, ...] = ()


def _scan(policies: Sequence[Mapping[str, Any]], request: Request, context: Mapping[str, Any]):
    """Over ``policies``: the policy denying for certain, the one allowing for certain, and why an Allow,
    or a Deny, might apply without the runner being able to tell."""
    deny = allow = None
    allow_doubts: list[str] = []
    deny_doubts: list[str] = []
    for policy in policies:
        name = str(policy.get("name", "policy"))
        if policy.get("unknown"):
            # AWS managed policies only allow: one that is not known can only add permissions.
            allow_doubts.append(f"{name}: {policy['unknown']}")
            continue
        for statement in policy.get("statements", ()):
            hit = statement_matches(statement, request, context)
            is_deny = statement.get("Effect", "Allow") == "Deny"
            if hit is True and is_deny:
                deny = deny or name
            elif hit is True:
                allow = allow or name
            elif hit is None:
                why = statement.get("unknown") or "a statement that cannot be evaluated locally"
                (deny_doubts if is_deny else allow_doubts).append(f"{name}: {why}")
    return deny, allow, allow_doubts, deny_doubts


def evaluate(
    identity: Sequence[Mapping[str, Any]],
    request: Request,
    *,
    boundary: Sequence[Mapping[str, Any]] | None = None,
    global_context: Mapping[str, Any] | None = None,
) -> Decision:
    """IAM's decision for ``request`` under the role's identity policies and its permissions boundary (None:
    the role has none): an explicit Deny anywhere wins, then the identity policies and the boundary must
    each allow."""
    context = {**(global_context or {}), **{key.lower(): value for key, value in request.context.items()}}
    deny, allow, allow_doubts, deny_doubts = _scan(identity, request, context)
    if deny:
        return Decision(DENY, "with an explicit deny in an identity-based policy", deny)
    b_deny, b_allow, b_allow_doubts, b_deny_doubts = _scan(boundary or (), request, context)
    if b_deny:
        return Decision(DENY, "with an explicit deny in a permissions boundary", b_deny)
    if not allow and not allow_doubts:
        return Decision(DENY, f"because no identity-based policy allows the {request.action} action")
    if boundary is not None and not b_allow and not b_allow_doubts:
        reason = f"because no permissions boundary allows the {request.action} action"
        return Decision(DENY, reason, "permissions boundary")
    doubts = [*([] if allow else allow_doubts), *deny_doubts, *b_deny_doubts]
    if boundary is not None and not b_allow:
        doubts += b_allow_doubts
    if doubts:
        return Decision(UNKNOWN, unknown=tuple(dict.fromkeys(doubts)))
    return Decision(ALLOW, where=allow or "")


def denial_message(principal: str, request: Request, decision: Decision) -> str:
    """AWS's AccessDenied message: ``User: <principal> is not authorized to perform: <action> on resource:
    <arn> because ...`` (no resource part for actions that take none)."""
    where = "" if request.resource == "*" else f" on resource: {request.resource}"
    return f"User: {principal} is not authorized to perform: {request.action}{where} {decision.reason}"
