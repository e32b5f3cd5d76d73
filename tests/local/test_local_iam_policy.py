"""The local IAM check's policy evaluator (``local/iam_policy.py``) and the role documents it reads
(``local/iam_roles.py``): pure, no server."""

from __future__ import annotations

import pytest

from lambda_patterns.local.iam_policy import ALLOW, DENY, UNKNOWN, Request, denial_message, evaluate
from lambda_patterns.local.iam_roles import policy, role_document
from lambda_patterns.local.intrinsics import Scope

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders"
BUCKET = "arn:aws:s3:::photos"


def _policy(*statements: dict, name: str = "P") -> dict:
    return {"name": name, "statements": list(statements)}


def _allow(action, resource, **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_an_allowed_action_on_its_resource_is_allowed_and_another_action_is_not():
    identity = [_policy(_allow(["dynamodb:GetItem", "dynamodb:Query"], [TABLE]))]

    assert evaluate(identity, Request("dynamodb:GetItem", TABLE)).effect == ALLOW
    denied = evaluate(identity, Request("dynamodb:PutItem", TABLE))
    assert denied.effect == DENY
    assert denied.reason == "because no identity-based policy allows the dynamodb:PutItem action"
    assert evaluate(identity, Request("dynamodb:GetItem", TABLE + "2")).effect == DENY


def test_an_explicit_deny_wins_over_an_allow_in_another_policy():
    identity = [
        _policy(_allow("dynamodb:*", "*"), name="Broad"),
        _policy({"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": TABLE}, name="Guard"),
    ]

    decision = evaluate(identity, Request("dynamodb:DeleteItem", TABLE))

    assert (decision.effect, decision.where) == (DENY, "Guard")
    assert decision.reason == "with an explicit deny in an identity-based policy"
    assert evaluate(identity, Request("dynamodb:PutItem", TABLE)).effect == ALLOW


@pytest.mark.parametrize(
    ("action", "resource", "expected"),
    [
        ("s3:GetObject", "arn:aws:s3:::photos/in/cat.jpg", ALLOW),
        ("s3:GetObjectVersion", "arn:aws:s3:::photos/in/a/b/c.jpg", ALLOW),  # * crosses slashes
        ("S3:getobject", "arn:aws:s3:::photos/in/cat.jpg", ALLOW),  # actions compare case-insensitively
        ("s3:GetObject", "arn:aws:s3:::photos/out/cat.jpg", DENY),
        ("s3:GetObject", "arn:aws:s3:::PHOTOS/in/cat.jpg", DENY),  # resources do not
        ("s3:PutObject", "arn:aws:s3:::photos/in/cat.jpg", DENY),
        ("s3:GetObjectAcl", "arn:aws:s3:::photos/in/cat.jpg", DENY),  # ? is one character
    ],
)
def test_wildcards_in_actions_and_resources(action, resource, expected):
    identity = [_policy(_allow(["s3:GetObjec?", "s3:GetObjectV*"], ["arn:aws:s3:::photos/in/*"]))]

    assert evaluate(identity, Request(action, resource)).effect == expected


def test_a_wildcard_region_and_account_match_segment_by_segment():
    identity = [_policy(_allow("dynamodb:GetItem", "arn:aws:dynamodb:*:*:table/Orders"))]

    assert evaluate(identity, Request("dynamodb:GetItem", TABLE)).effect == ALLOW
    assert evaluate(identity, Request("dynamodb:GetItem", TABLE + "/index/ByDate")).effect == DENY


def test_s3_prefix_condition_with_string_like_limits_listings_to_the_prefix():
    # As permissions.list_objects(bucket, "in/") synthesizes it.
    identity = [_policy(_allow("s3:ListBucket", BUCKET, Condition={"StringLike": {"s3:prefix": ["in/*"]}}))]

    def listing(prefix: str):
        return evaluate(identity, Request("s3:ListBucket", BUCKET, {"s3:prefix": [prefix]})).effect

    assert listing("in/") == ALLOW
    assert listing("in/2026/") == ALLOW
    assert listing("out/") == DENY
    assert listing("") == DENY  # a listing without a prefix is the whole bucket


def test_a_condition_key_the_request_does_not_model_is_unknown_not_a_denial():
    identity = [
        _policy(_allow("dynamodb:GetItem", TABLE, Condition={"StringEquals": {"aws:SourceVpce": "v"}}))
    ]

    decision = evaluate(identity, Request("dynamodb:GetItem", TABLE))

    assert decision.effect == UNKNOWN and "P:" in decision.unknown[0]


def test_negated_and_if_exists_operators_on_a_key_the_request_lacks():
    absent = {"s3:prefix": None}
    for operator, expected in (("StringNotLike", ALLOW), ("StringLikeIfExists", ALLOW), ("StringLike", DENY)):
        identity = [_policy(_allow("s3:ListBucket", BUCKET, Condition={operator: {"s3:prefix": "in/*"}}))]
        assert evaluate(identity, Request("s3:ListBucket", BUCKET, absent)).effect == expected, operator


def test_not_action_allows_every_other_action_and_not_resource_every_other_resource():
    identity = [
        _policy({"Effect": "Allow", "NotAction": "dynamodb:DeleteItem", "Resource": TABLE}),
        _policy({"Effect": "Allow", "Action": "sqs:SendMessage", "NotResource": ["arn:aws:sqs:*:*:secret"]}),
    ]

    assert evaluate(identity, Request("dynamodb:PutItem", TABLE)).effect == ALLOW
    assert evaluate(identity, Request("dynamodb:DeleteItem", TABLE)).effect == DENY
    assert evaluate(identity, Request("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:jobs")).effect == ALLOW
    assert evaluate(identity, Request("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:secret")).effect == DENY


def test_a_deny_with_not_action_denies_everything_else():
    identity = [
        _policy(_allow("*", "*")),
        _policy({"Effect": "Deny", "NotAction": ["dynamodb:GetItem"], "Resource": "*"}, name="OnlyReads"),
    ]

    assert evaluate(identity, Request("dynamodb:GetItem", TABLE)).effect == ALLOW
    assert evaluate(identity, Request("dynamodb:PutItem", TABLE)).where == "OnlyReads"


def test_a_permissions_boundary_caps_what_the_identity_policies_allow():
    identity = [_policy(_allow("dynamodb:*", TABLE))]
    boundary = [_policy(_allow(["dynamodb:GetItem", "dynamodb:PutItem"], "*"), name="Boundary")]

    assert evaluate(identity, Request("dynamodb:PutItem", TABLE), boundary=boundary).effect == ALLOW
    capped = evaluate(identity, Request("dynamodb:DeleteItem", TABLE), boundary=boundary)
    assert capped.effect == DENY
    assert capped.reason == "because no permissions boundary allows the dynamodb:DeleteItem action"
    # The boundary grants nothing by itself.
    assert evaluate([], Request("dynamodb:GetItem", TABLE), boundary=boundary).effect == DENY
    denying = [_policy(_allow("*", "*"), {"Effect": "Deny", "Action": "dynamodb:PutItem", "Resource": "*"})]
    explicit = evaluate(identity, Request("dynamodb:PutItem", TABLE), boundary=denying)
    assert explicit.reason == "with an explicit deny in a permissions boundary"


def test_an_unknown_managed_policy_or_resource_allows_as_unverified_but_never_overrides_a_deny():
    unknown = {"name": "arn:aws:iam::aws:policy/ReadOnlyAccess", "unknown": "not known locally"}
    identity = [unknown, _policy({"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"})]

    assert evaluate(identity, Request("s3:GetObject", BUCKET + "/a")).effect == UNKNOWN
    assert evaluate(identity, Request("s3:PutObject", BUCKET + "/a")).effect == DENY
    unresolved = [_policy(_allow("sqs:SendMessage", [None]))]
    assert evaluate(unresolved, Request("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q")).effect == UNKNOWN
    assert evaluate(unresolved, Request("sqs:DeleteMessage", "arn:aws:sqs:us-east-1:1:q")).effect == DENY


def test_the_denial_message_has_aws_form():
    principal = "arn:aws:sts::123456789012:assumed-role/R/fn"
    request = Request("dynamodb:PutItem", TABLE)

    message = denial_message(principal, request, evaluate([], request))

    assert message == (
        f"User: {principal} is not authorized to perform: dynamodb:PutItem on resource: {TABLE} "
        "because no identity-based policy allows the dynamodb:PutItem action"
    )
    metrics = Request("cloudwatch:PutMetricData", "*")
    assert " on resource" not in denial_message(principal, metrics, evaluate([], metrics))


def test_policy_resolves_intrinsics_entry_by_entry_and_marks_the_unresolvable_unknown():
    scope = Scope(stack="S", attributes={"Table": {"Ref": "S-Table", "Arn": TABLE}})
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "dynamodb:GetItem",
                "Resource": [
                    {"Fn::GetAtt": ["Table", "Arn"]},
                    {"Fn::Join": ["", [{"Fn::GetAtt": ["Table", "Arn"]}, "/index/*"]]},
                    {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/X"},
                    {"Fn::GetAtt": ["NotLocal", "Arn"]},
                ],
            }
        ]
    }

    resolved = policy("P", document, scope)["statements"][0]["Resource"]

    assert resolved == [TABLE, TABLE + "/index/*", "arn:aws:dynamodb:us-east-1:123456789012:table/X", None]


def test_role_document_gathers_inline_attached_managed_and_boundary_policies():
    from lambda_patterns.local.assembly import Stack

    template = {
        "Resources": {
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}}},
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [
                        {"PolicyName": "own", "PolicyDocument": {"Statement": [_allow("sqs:*", "*")]}}
                    ],
                    "ManagedPolicyArns": [
                        {
                            "Fn::Join": [
                                "",
                                ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/ReadOnlyAccess"],
                            ]
                        },
                        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                        {"Ref": "Managed"},
                    ],
                    "PermissionsBoundary": {"Ref": "Boundary"},
                },
            },
            "Attached": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyName": "attached",
                    "Roles": [{"Ref": "Role"}],
                    "PolicyDocument": {
                        "Statement": [_allow("dynamodb:GetItem", {"Fn::GetAtt": ["Table", "Arn"]})]
                    },
                },
            },
            "Other": {
                "Type": "AWS::IAM::Policy",
                "Properties": {"Roles": [{"Ref": "Elsewhere"}], "PolicyDocument": {"Statement": []}},
            },
            "Managed": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {"PolicyDocument": {"Statement": [_allow("sns:Publish", "*")]}},
            },
            "Boundary": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {"PolicyDocument": {"Statement": [_allow("dynamodb:*", "*")]}},
            },
        }
    }
    stack = Stack(name="S", template=template, assets={})
    scope = Scope(
        stack="S",
        attributes={
            "Table": {"Ref": "S-Table", "Arn": TABLE},
            "Role": {"Ref": "S-Role", "Arn": "arn:aws:iam::123456789012:role/S-Role"},
        },
    )
    function = next(stack.resources("AWS::Lambda::Function"))

    document, why = role_document(stack, function, scope, "S-Fn")

    assert why == ""
    assert document["principal"] == "arn:aws:sts::123456789012:assumed-role/S-Role/S-Fn"
    names = [item["name"] for item in document["identity"]]
    assert names == [
        "S-Role/own",
        "attached",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "Managed",
    ]
    assert "unknown" in document["identity"][2] and "statements" in document["identity"][3]
    assert evaluate(document["identity"], Request("dynamodb:GetItem", TABLE)).effect == ALLOW
    boundary = document["boundary"]
    assert evaluate(document["identity"], Request("sns:Publish", "*"), boundary=boundary).effect == DENY
