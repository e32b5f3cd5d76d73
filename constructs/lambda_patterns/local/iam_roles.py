"""A function's role as synthesized, gathered into the document the worker's IAM check evaluates.

The role is the ``AWS::IAM::Role`` the function's ``Role`` names. Its identity policies are the role's own
``Policies``, every ``AWS::IAM::Policy`` and ``AWS::IAM::ManagedPolicy`` of the stack attached to it, and the
managed policies its ``ManagedPolicyArns`` name: one of the template by its document, an AWS managed one by
``AWS_MANAGED`` when its content is known here, else as unknown (it may allow anything; calls only it could
allow are allowed and reported unverified). ``PermissionsBoundary`` is read the same way.

Intrinsics are resolved with the runner's ``intrinsics.resolve`` against the stack's local names and ARNs,
entry by entry: a resource ARN that cannot be resolved becomes None (unknown) in its statement, never a
guess.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from lambda_patterns.local.assembly import Resource, Stack
from lambda_patterns.local.intrinsics import Scope, Unresolvable, referenced_ids, resolve

_LOGS = {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]}

#: AWS managed policies the runner knows the content of (their published documents, 2025), by name.
AWS_MANAGED: Mapping[str, list[dict[str, Any]]] = {
    "service-role/AWSLambdaBasicExecutionRole": [{**_LOGS, "Resource": ["*"]}],
    "service-role/AWSLambdaSQSQueueExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            "Resource": ["*"],
        },
        {**_LOGS, "Resource": ["*"]},
    ],
    "service-role/AWSLambdaDynamoDBExecutionRole": [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
            ],
            "Resource": ["*"],
        },
        {**_LOGS, "Resource": ["*"]},
    ],
    "service-role/AWSLambdaKinesisExecutionRole": [
        {
            "Effect": "Allow",
            "Action": [
                "kinesis:DescribeStream",
                "kinesis:DescribeStreamSummary",
                "kinesis:GetRecords",
                "kinesis:GetShardIterator",
                "kinesis:ListShards",
                "kinesis:ListStreams",
                "kinesis:SubscribeToShard",
            ],
            "Resource": ["*"],
        },
        {**_LOGS, "Resource": ["*"]},
    ],
    "AWSXRayDaemonWriteAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": ["*"],
        }
    ],
    "AdministratorAccess": [{"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}],
}
AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"


def statement(raw: Mapping[str, Any], scope: Scope) -> dict[str, Any]:
    """One policy statement with its intrinsics resolved; what cannot be resolved is marked unknown."""
    out: dict[str, Any] = {"Effect": raw.get("Effect", "Allow")}
    for key in ("Action", "NotAction", "Condition"):
        if key in raw:
            try:
                out[key] = resolve(raw[key], scope)
            except Unresolvable as error:
                out["unknown"] = f"its {key} cannot be resolved locally ({error})"
    for key in ("Resource", "NotResource"):
        if key in raw:
            items = raw[key] if isinstance(raw[key], list) else [raw[key]]
            out[key] = [_resolved_or_none(item, scope) for item in items]
    return out


def _resolved_or_none(value: Any, scope: Scope) -> str | None:
    try:
        resolved = resolve(value, scope)
    except Unresolvable:
        return None
    return resolved if isinstance(resolved, str) else None


def policy(name: str, document: Any, scope: Scope) -> dict[str, Any]:
    """A policy document (object or JSON text) as the evaluator reads it."""
    if isinstance(document, str):
        document = json.loads(document)
    raw = (document or {}).get("Statement", [])
    statements = raw if isinstance(raw, list) else [raw]
    return {"name": name, "statements": [statement(item, scope) for item in statements]}


def _refers_to(value: Any, logical_id: str, local_name: str, scope: Scope) -> bool:
    """Whether a ``Roles`` entry (or list) names the role: by reference, or by its name as a literal."""
    if logical_id in referenced_ids(value):
        return True
    return local_name in (value if isinstance(value, list) else [value])


def managed_policy(reference: Any, stack: Stack, scope: Scope) -> dict[str, Any]:
    """A ``ManagedPolicyArns`` or ``PermissionsBoundary`` entry: the template's policy, a known AWS
    managed one, or an unknown one."""
    for resource in stack.resources("AWS::IAM::ManagedPolicy"):
        if resource.logical_id in referenced_ids(reference):
            return policy(_name(resource, scope), resource.properties.get("PolicyDocument"), scope)
    try:
        arn = str(resolve(reference, scope))
    except Unresolvable as error:
        return {"name": "managed policy", "unknown": f"its ARN cannot be resolved locally ({error})"}
    known = (
        AWS_MANAGED.get(arn.removeprefix(AWS_MANAGED_PREFIX)) if arn.startswith(AWS_MANAGED_PREFIX) else None
    )
    if known is not None:
        return {"name": arn, "statements": [statement(item, scope) for item in known]}
    what = (
        "an AWS managed policy"
        if arn.startswith(AWS_MANAGED_PREFIX)
        else "a managed policy not in the template"
    )
    return {"name": arn, "unknown": f"{what} whose content is not known locally"}


def _name(resource: Resource, scope: Scope) -> str:
    for key in ("PolicyName", "ManagedPolicyName"):
        try:
            value = resolve(resource.properties.get(key), scope)
        except Unresolvable:
            value = None
        if isinstance(value, str):
            return value
    return resource.logical_id


def role_of(stack: Stack, function: Resource) -> Resource | None:
    """The template role the function's ``Role`` names, if it is one of this stack."""
    ids = referenced_ids(function.properties.get("Role"))
    return next((role for role in stack.resources("AWS::IAM::Role") if role.logical_id in ids), None)


def identity_policies(stack: Stack, role: Resource, scope: Scope) -> list[dict[str, Any]]:
    """Every identity-based policy of the role (see the module's docstring)."""
    name = scope.attributes[role.logical_id]["Ref"]
    found = [
        policy(f"{name}/{item.get('PolicyName', 'inline')}", item.get("PolicyDocument"), scope)
        for item in role.properties.get("Policies") or []
    ]
    attached_managed: set[str] = set()
    for resource in stack.resources("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        if _refers_to(resource.properties.get("Roles") or [], role.logical_id, name, scope):
            found.append(policy(_name(resource, scope), resource.properties.get("PolicyDocument"), scope))
            attached_managed.add(resource.logical_id)
    for reference in role.properties.get("ManagedPolicyArns") or []:
        if not referenced_ids(reference) & attached_managed:
            found.append(managed_policy(reference, stack, scope))
    return found


def lambda_resources(
    stack: Stack, function: Resource, scope: Scope, extra: Iterable[str | None]
) -> list[str]:
    """ARNs Lambda itself uses with the function's role (event source mappings' sources and failure
    destinations, async destinations, the dead-letter queue): the runner does that work with its own
    clients, so the report counts those grants as Lambda's, not as unused."""
    ids = {function.logical_id}
    for alias in stack.resources("AWS::Lambda::Alias", "AWS::Lambda::Version"):
        if function.logical_id in referenced_ids(alias.properties.get("FunctionName")):
            ids.add(alias.logical_id)
    found = [item for item in extra if item]
    for mapping in stack.resources("AWS::Lambda::EventSourceMapping"):
        if ids & referenced_ids(mapping.properties.get("FunctionName")):
            destination = ((mapping.properties.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
                "Destination"
            )
            found += [_resolved_or_none(mapping.properties.get("EventSourceArn"), scope)]
            found += [_resolved_or_none(destination, scope)] if destination else []
    return [item for item in dict.fromkeys(found) if item]


def role_document(
    stack: Stack, function: Resource, scope: Scope, name: str, extra: Iterable[str | None] = ()
) -> tuple[dict[str, Any] | None, str]:
    """The IAM document of the function named ``name``, or None and why its calls cannot be checked."""
    role = role_of(stack, function)
    if role is None:
        return None, "its role is not a role of its stack's template"
    attributes = scope.attributes[role.logical_id]
    boundary = role.properties.get("PermissionsBoundary")
    principal = f"arn:aws:sts::{scope.account}:assumed-role/{attributes['Ref']}/{name}"
    document = {
        "function": name,
        "role": attributes["Ref"],
        "role_arn": attributes["Arn"],
        "principal": principal,
        "region": scope.region,
        "account": scope.account,
        "identity": identity_policies(stack, role, scope),
        "boundary": [managed_policy(boundary, stack, scope)] if boundary else None,
        # What IAM knows of every call a Lambda function makes with its role.
        "context": {
            "aws:principalarn": [attributes["Arn"]],
            "aws:principalaccount": [scope.account],
            "aws:principaltype": ["AssumedRole"],
            "aws:requestedregion": [scope.region],
            "aws:securetransport": ["true"],
        },
        "lambda_resources": lambda_resources(stack, function, scope, extra),
    }
    return document, ""
