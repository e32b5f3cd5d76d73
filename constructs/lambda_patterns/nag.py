"""Recording cdk-nag acknowledgements next to the resource they concern, each with its reason.

cdk-nag 3 reads acknowledgements that CDK's own ``Validations.of(scope).acknowledge`` records, so the
library needs no cdk-nag import at run time. An acknowledgement on a construct covers its whole subtree,
including resources created after the call (a role's default policy, for instance).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_cdk import Acknowledgment, Stack, Token, Validations
from constructs import IConstruct

from lambda_patterns.permissions import Acknowledgement


def nag_spelling(scope: IConstruct, value: str) -> str:
    """How cdk-nag spells a resource in a finding id: ``Ref`` as ``<Id>``, ``GetAtt`` as ``<Id.Attr>``,
    pseudo parameters as ``<AWS::Partition>``, joins concatenated."""
    if not Token.is_unresolved(value):
        return value
    return _render(Stack.of(scope).resolve(value))


def _render(node: Any) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and len(node) == 1:
        ((key, arg),) = node.items()
        if key == "Ref":
            return f"<{arg}>"
        if key == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if key == "Fn::Join":
            separator, parts = arg
            return separator.join(_render(p) for p in parts)
        if key == "Fn::ImportValue":
            return f"<ImportValue:{_render(arg)}>"
    return str(node)


def acknowledge(scope: IConstruct, acknowledgements: Iterable[Acknowledgement]) -> None:
    """Acknowledge each finding on ``scope`` and its subtree, with its reason."""
    for ack in acknowledgements:
        finding = (
            ack.rule_id if ack.applies_to is None else f"{ack.rule_id}[{nag_spelling(scope, ack.applies_to)}]"
        )
        Validations.of(scope).acknowledge(Acknowledgment(id=finding, reason=ack.reason))


def acknowledge_rule(
    scope: IConstruct, rule_id: str, reason: str, applies_to: list[str] | None = None
) -> None:
    """Acknowledge one rule on ``scope`` and its subtree, optionally only for some of its findings."""
    acknowledge(scope, [Acknowledgement(rule_id, a, reason) for a in (applies_to or [None])])
