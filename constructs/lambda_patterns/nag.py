"""Recording rule-pack acknowledgements next to the resource they concern, each with its reason.

One record (``RuleAcknowledgement``) names the cdk-nag rules and the checkov checks a finding raises, with
one reason, and ``acknowledge_findings`` writes both from it, so the two packs never disagree:

- cdk-nag 3 reads the acknowledgements that CDK's own ``Validations.of(scope).acknowledge`` records (no
  cdk-nag import at run time); they cover the whole subtree of ``scope``.
- checkov reads ``Metadata.checkov.skip`` of each CloudFormation resource. An Aspect writes it at synth on
  every L1 of the check's resource type in the subtree, so resources created after the call (a role's
  default policy, a function's event source mapping) are covered too; skips already there are kept.

Each call also records the whole record in the construct's metadata (``AUDIT_METADATA_KEY``, in the
assembly's manifest), which tests use to tie every acknowledgement in a template back to this helper.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsii
from aws_cdk import Acknowledgment, Aspects, CfnResource, IAspect, Stack, Token, Validations
from constructs import IConstruct, Node

from lambda_patterns.checks.acknowledgement_reason import check_acknowledgement_reason
from lambda_patterns.checks.acknowledgement_rules import check_acknowledgement_rules
from lambda_patterns.jsii_reads import node_of
from lambda_patterns.permissions import Acknowledgement
from lambda_patterns.profiles import compliance_rules

#: Construct metadata holding each record this helper wrote: ``{"reason", "nag", "checkov"}``.
AUDIT_METADATA_KEY = "lambda-patterns:acknowledgement"

#: The resource type each checkov check this library acknowledges inspects: a skip is written on the L1s
#: of that type only, never on a log group for a Lambda check.
CHECKOV_RESOURCE_TYPES: Mapping[str, str] = {
    "CKV_AWS_18": "AWS::S3::Bucket",  # server access logging
    "CKV_AWS_27": "AWS::SQS::Queue",  # encryption with a KMS key
    "CKV_AWS_111": "AWS::IAM::Policy",  # write access without resource constraints
    "CKV_AWS_115": "AWS::Lambda::Function",  # reserved concurrency
    "CKV_AWS_116": "AWS::Lambda::Function",  # dead-letter queue
    "CKV_AWS_117": "AWS::Lambda::Function",  # inside a VPC
    "CKV_AWS_173": "AWS::Lambda::Function",  # environment variables encrypted with a KMS key
    "CKV_AWS_120": "AWS::ApiGateway::Stage",  # response caching
    "CKV_AWS_158": "AWS::Logs::LogGroup",  # encryption with a KMS key
}


@dataclass(frozen=True)
class RuleAcknowledgement:
    """One accepted finding: the cdk-nag rule ids (``AwsSolutions-SQS3``, ``Serverless-LambdaDLQ``, with
    ``[detail]`` for a granular finding) and the checkov check ids it raises, and the one reason for all."""

    reason: str
    nag: tuple[str, ...] = ()
    checkov: tuple[str, ...] = ()


def _until_hardened(check: str, now: str, hardened: str, *compliance: str) -> RuleAcknowledgement:
    """The standard profile's acknowledgement of checkov's ``check`` and of the compliance packs' rules
    ``compliance``: what it does ``now``, and what the hardened profile adds instead."""
    return RuleAcknowledgement(
        f"{now}; {hardened} is what the hardened profile adds",
        nag=compliance_rules(*compliance),
        checkov=(check,),
    )


#: The acknowledgements of the standard profile that are the same for every resource of a kind: what the
#: coming hardened profile turns on (customer-managed keys, reserved concurrency, VPC) and what this
#: library leaves to the user on purpose. Reasons naming one resource's role are written where it is made.
STANDARD_PROFILE: Mapping[str, RuleAcknowledgement] = {
    "queue_sse_sqs": _until_hardened(
        "CKV_AWS_27", "Encrypted at rest with SSE-SQS (SQS-managed keys)", "a customer-managed KMS key"
    ),
    "log_group_service_key": _until_hardened(
        "CKV_AWS_158",
        "CloudWatch Logs encrypts this log group at rest with its service-owned key",
        "a customer-managed KMS key",
        "CloudWatchLogGroupEncrypted",
    ),
    "environment_service_key": _until_hardened(
        "CKV_AWS_173",
        "Lambda encrypts these environment variables at rest with the AWS-managed key aws/lambda (secrets "
        "belong in Secrets Manager, not here)",
        "a customer-managed key",
    ),
    "unreserved_concurrency": _until_hardened(
        "CKV_AWS_115",
        "No reserved_concurrency given: the function draws on the account's unreserved concurrency",
        "reserving concurrency per function",
        "LambdaConcurrency",
    ),
    "outside_vpc": _until_hardened(
        "CKV_AWS_117",
        "No vpc given: the function reaches AWS services through their public TLS endpoints, authorized "
        "by IAM, and needs no private network",
        "VPC placement",
        "LambdaInsideVPC",
    ),
    "stage_without_cache": RuleAcknowledgement(
        "Stage caching is off: a cache cluster is billed by the hour and would serve stale reads after "
        "writes; enable it in rest_api_props' deploy_options for read-heavy GET routes",
        checkov=("CKV_AWS_120",),
    ),
}


def check_acknowledgement(record: RuleAcknowledgement) -> None:
    """Refuse a record whose reason is too short to be specific, that names no rule, or that names a
    checkov check whose resource type this module does not know (``ConfigurationError``)."""
    check_acknowledgement_reason((*record.nag, *record.checkov), record.reason)
    check_acknowledgement_rules(record.nag, record.checkov, CHECKOV_RESOURCE_TYPES, record.reason)


def merged_checkov_metadata(
    existing: Mapping[str, Any] | None, skips: Iterable[tuple[str, str]]
) -> dict[str, Any]:
    """The ``checkov`` metadata ``existing`` with the skips ``(check id, comment)`` added. Other keys and
    skips already there are kept: a check skipped before keeps its first comment."""
    merged = dict(existing or {})
    entries = [dict(s) for s in merged.get("skip", [])]
    present = {e.get("id") for e in entries}
    for check_id, comment in skips:
        if check_id not in present:
            entries.append({"id": check_id, "comment": comment})
            present.add(check_id)
    merged["skip"] = entries
    return merged


def skip_checkov(resource: CfnResource, record: RuleAcknowledgement) -> None:
    """Write the record's checks that apply to ``resource``'s type into its ``Metadata.checkov.skip``."""
    _write_skips(resource, _resource_type(resource), (record,))


def _write_skips(resource: CfnResource, resource_type: str, records: Iterable[RuleAcknowledgement]) -> None:
    skips = [(c, r.reason) for r in records for c in r.checkov if CHECKOV_RESOURCE_TYPES[c] == resource_type]
    if skips:
        resource.add_metadata("checkov", merged_checkov_metadata(resource.get_metadata("checkov"), skips))


#: The CloudFormation type of each generated L1 class, read once per class: ``cfn_resource_type`` is a jsii
#: round trip per resource, ``CFN_RESOURCE_TYPE_NAME`` one per class.
_TYPE_OF_CLASS: dict[type, str | None] = {}


def _resource_type(resource: CfnResource) -> str:
    cls = type(resource)
    if cls not in _TYPE_OF_CLASS:
        # Only a class that declares the constant is a generated L1 of that type: a user's subclass, or a
        # plain CfnResource of any type, asks the instance.
        _TYPE_OF_CLASS[cls] = cls.CFN_RESOURCE_TYPE_NAME if "CFN_RESOURCE_TYPE_NAME" in vars(cls) else None
    return _TYPE_OF_CLASS[cls] or resource.cfn_resource_type


@jsii.implements(IAspect)
class _CheckovSkips:
    """Writes the checkov skips of the records made on one construct on every matching L1 of its subtree:
    one Aspect per construct, not per record, since CDK calls each Aspect back once per construct visited."""

    def __init__(self) -> None:
        self.records: list[RuleAcknowledgement] = []
        self._types = frozenset[str]()

    def add(self, record: RuleAcknowledgement) -> None:
        self.records.append(record)
        self._types |= {CHECKOV_RESOURCE_TYPES[c] for c in record.checkov}

    def visit(self, node: IConstruct) -> None:
        # isinstance, not CfnResource.is_cfn_resource: no jsii round trip for every construct visited.
        if isinstance(node, CfnResource):
            resource_type = _resource_type(node)
            if resource_type in self._types:
                _write_skips(node, resource_type, self.records)


class _Written:
    """What this helper has written on one construct: the records acknowledged there, so that a shared
    construct acknowledged again is not repeated, the Aspect writing their checkov skips, and the construct's
    node and Validations, fetched from jsii once."""

    def __init__(self, scope: IConstruct) -> None:
        self.records: set[RuleAcknowledgement] = set()
        self.aspect: _CheckovSkips | None = None
        self._scope = scope

    @property
    def node(self) -> Node:
        return node_of(self._scope)

    @functools.cached_property
    def validations(self) -> Validations:
        return Validations.of(self._scope)


#: By jsii reference: reading the construct's metadata back costs four jsii round trips per entry already
#: there, and its node and Validations one each per call. The proxy objects of one construct can differ (each
#: lookup of a CDK singleton makes one), its reference does not, and jsii never reuses a reference in a process.
_WRITTEN: dict[str, _Written] = {}


def acknowledge_findings(scope: IConstruct, *records: RuleAcknowledgement) -> None:
    """Acknowledge each record on ``scope`` and its subtree: its cdk-nag rules through CDK's
    ``Validations``, its checkov checks in the metadata of each matching CloudFormation resource. A record
    already made on ``scope`` is not repeated. Raises ``ConfigurationError`` for an invalid record."""
    for record in records:
        check_acknowledgement(record)
    ref = scope.__jsii_ref__.ref
    written = _WRITTEN.get(ref)
    if written is None:
        written = _WRITTEN[ref] = _Written(scope)
    for record in dict.fromkeys(records):
        if record in written.records:
            continue  # a shared construct (CDK's singletons) acknowledged by each construct that uses it
        written.records.add(record)
        if record.nag:
            written.validations.acknowledge(
                *(Acknowledgment(id=rule, reason=record.reason) for rule in record.nag)
            )
        if record.checkov:
            if written.aspect is None:
                written.aspect = _CheckovSkips()
                Aspects.of(scope).add(written.aspect)
            written.aspect.add(record)
        written.node.add_metadata(
            AUDIT_METADATA_KEY,
            {"reason": record.reason, "nag": list(record.nag), "checkov": list(record.checkov)},
        )


def nag_spelling(scope: IConstruct, value: str) -> str:
    """How cdk-nag spells a resource in a finding id: ``Ref`` as ``<Id>``, ``GetAtt`` as ``<Id.Attr>``,
    pseudo parameters as ``<AWS::Partition>``, joins concatenated."""
    # CDK's own test for a string starts with this substring check; it saves a jsii round trip per literal.
    if "Token[" not in value or not Token.is_unresolved(value):
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
    """Acknowledge each cdk-nag finding of a permission on ``scope`` and its subtree, with its reason."""
    acknowledge_findings(
        scope,
        *(
            RuleAcknowledgement(
                ack.reason,
                nag=(
                    ack.rule_id
                    if ack.applies_to is None
                    else f"{ack.rule_id}[{nag_spelling(scope, ack.applies_to)}]",
                ),
            )
            for ack in acknowledgements
        ),
    )


def acknowledge_profile(scope: IConstruct, *names: str) -> None:
    """Acknowledge the ``STANDARD_PROFILE`` entries ``names`` on ``scope`` and its subtree."""
    acknowledge_findings(scope, *(STANDARD_PROFILE[name] for name in names))


def acknowledge_rule(
    scope: IConstruct,
    rule_id: str,
    reason: str,
    applies_to: list[str] | None = None,
    checkov: tuple[str, ...] = (),
) -> None:
    """Acknowledge one cdk-nag rule (optionally only some of its findings) and the checkov checks the same
    finding raises on ``scope`` and its subtree, with one reason."""
    findings = tuple(
        rule_id if a is None else f"{rule_id}[{nag_spelling(scope, a)}]" for a in applies_to or [None]
    )
    acknowledge_findings(scope, RuleAcknowledgement(reason, nag=findings, checkov=checkov))
