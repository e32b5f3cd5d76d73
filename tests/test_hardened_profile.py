"""The hardened profile (issue 14 part 2): app.py's stacks synthesized with ``lambda-patterns:profile=hardened``
have no unacknowledged finding in any of cdk-nag's AwsSolutions, Serverless, HIPAA Security, NIST 800-53 R5
and PCI DSS 3.2.1 packs, nor in checkov, and have what the profile promises: one rotated key per stack that
everything encrypted uses, reserved concurrency, functions in isolated subnets reaching AWS through VPC
endpoints, no NAT.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest

from lambda_patterns import ConfigurationError, LambdaService
from lambda_patterns.checks.acknowledgement_reason import MIN_REASON_LENGTH
from lambda_patterns.defaults import HARDENED_RESERVED_CONCURRENCY
from lambda_patterns.nag import AUDIT_METADATA_KEY
from lambda_patterns.profiles import PROFILE_CONTEXT
from lambda_patterns.steps.handlers import common_path, handler_path
from synth_helpers import checkov_failures, new_app, synth_with_packs
from test_rule_packs import ANNOTATION_PREFIX, NAG_ACKNOWLEDGED, _app_py, _by_path, _checkov_skips

PACKS = ("AwsSolutions", "Serverless", "HIPAASecurity", "NIST80053R5", "PCIDSS321")
HARDENED = {PROFILE_CONTEXT: "hardened"}
# What aws-cdk-lib adds for its own custom resources, which run only while CloudFormation deploys.
CDK_HANDLER_PREFIXES = ("BucketNotificationsHandler", "CustomVpcRestrictDefaultSG")
# aws-cdk-lib acknowledges CloudFormation's own validation warnings on its VPC and flow log itself.
CDK_OWN_ACKNOWLEDGEMENTS = "CloudFormation-Validate::"


@pytest.fixture(scope="module")
def synthesized():
    app = new_app(**HARDENED)
    _app_py(app)
    assembly, findings = synth_with_packs(app, PACKS)
    assert assembly is not None, findings
    return assembly, findings


def _templates(assembly) -> dict[str, dict]:
    return {stack.stack_name: stack.template["Resources"] for stack in assembly.stacks}


def _of_type(resources: dict, kind: str) -> dict[str, dict]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def _our_functions(resources: dict) -> dict[str, dict]:
    return {
        name: r
        for name, r in _of_type(resources, "AWS::Lambda::Function").items()
        if not name.startswith(CDK_HANDLER_PREFIXES)
    }


def _the_key(resources: dict) -> str:
    keys = _of_type(resources, "AWS::KMS::Key")
    assert len(keys) == 1, sorted(keys)
    return next(iter(keys))


def _uses(value, key: str) -> bool:
    return value in ({"Fn::GetAtt": [key, "Arn"]}, {"Ref": key})


def test_no_pack_finds_anything_unacknowledged(synthesized):
    assert synthesized[1] == []


def test_checkov_finds_nothing_unacknowledged(synthesized):
    assert checkov_failures(synthesized[0].directory) == []


def test_every_acknowledgement_has_a_reason_and_comes_from_the_helper(synthesized):
    assembly = synthesized[0]
    audits = _by_path(assembly, AUDIT_METADATA_KEY)
    acknowledged = _by_path(assembly, NAG_ACKNOWLEDGED)
    compliance = [
        rule
        for entries in acknowledged.values()
        for entry in entries
        for rule in entry
        if rule.removeprefix(ANNOTATION_PREFIX).startswith(("HIPAA", "NIST", "PCI"))
    ]
    assert compliance
    for path, entries in acknowledged.items():
        for entry in entries:
            for rule, reason in entry.items():
                rule = rule.removeprefix(ANNOTATION_PREFIX)
                assert len(reason) >= MIN_REASON_LENGTH, (path, rule, reason)
                if rule.startswith(CDK_OWN_ACKNOWLEDGEMENTS):
                    continue
                assert any(rule in r["nag"] and reason == r["reason"] for r in audits.get(path, [])), (
                    path,
                    rule,
                )
    for stack, path, skip in _checkov_skips(assembly):
        assert len(skip["comment"]) >= MIN_REASON_LENGTH, (stack, path, skip)


def test_one_rotated_key_per_stack_whose_policy_names_the_services_that_use_it(synthesized):
    for stack, resources in _templates(synthesized[0]).items():
        key = _of_type(resources, "AWS::KMS::Key")[_the_key(resources)]["Properties"]
        assert key["EnableKeyRotation"] is True, stack
        statements = {s.get("Sid"): s for s in key["KeyPolicy"]["Statement"]}
        logs = statements["AllowCloudWatchLogsOfThisAccount"]
        assert logs["Principal"] == {
            "Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
        }
        assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnLike"]
        # CloudWatch only where an alarm topic uses the key: ExampleServiceStack has none.
        alarms = statements.get("AllowCloudWatchAlarmsOfThisAccount")
        if stack == "ExampleServiceStack":
            assert alarms is None
        else:
            assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
            assert alarms["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
        # Only the account's root (IAM decides) and the services that use the key.
        principals = [s["Principal"] for s in statements.values()]
        assert all("AWS" in p or "Service" in p for p in principals), stack
    analytics = _templates(synthesized[0])["AnalyticsStack"]
    statements = _of_type(analytics, "AWS::KMS::Key")[_the_key(analytics)]["Properties"]["KeyPolicy"][
        "Statement"
    ]
    sns = [s for s in statements if s["Principal"].get("Service") == "sns.amazonaws.com"]
    assert sns and all("Condition" in s for s in sns)


def test_everything_encrypted_uses_the_stack_key(synthesized):
    checked = set()
    for stack, resources in _templates(synthesized[0]).items():
        key = _the_key(resources)
        for name, queue in _of_type(resources, "AWS::SQS::Queue").items():
            assert _uses(queue["Properties"].get("KmsMasterKeyId"), key), (stack, name)
            checked.add("queue")
        for name, topic in _of_type(resources, "AWS::SNS::Topic").items():
            assert _uses(topic["Properties"].get("KmsMasterKeyId"), key), (stack, name)
            checked.add("topic")
        for name, group in _of_type(resources, "AWS::Logs::LogGroup").items():
            assert _uses(group["Properties"].get("KmsKeyId"), key), (stack, name)
            checked.add("log group")
        for name, table in _of_type(resources, "AWS::DynamoDB::Table").items():
            assert _uses(table["Properties"]["SSESpecification"].get("KMSMasterKeyId"), key), (stack, name)
            checked.add("table")
        for name, stream in _of_type(resources, "AWS::Kinesis::Stream").items():
            assert _uses(stream["Properties"]["StreamEncryption"]["KeyId"], key), (stack, name)
            checked.add("stream")
        for name, bucket in _of_type(resources, "AWS::S3::Bucket").items():
            (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            default = rule["ServerSideEncryptionByDefault"]
            if "LoggingConfiguration" in bucket["Properties"]:
                assert default["SSEAlgorithm"] == "aws:kms" and _uses(default["KMSMasterKeyID"], key)
                checked.add("bucket")
            else:  # the server access log bucket: S3 delivers logs only to SSE-S3 buckets
                assert default == {"SSEAlgorithm": "AES256"}, (stack, name)
    assert checked == {"queue", "topic", "log group", "table", "stream", "bucket"}


def test_every_function_has_reserved_concurrency_an_encrypted_environment_and_isolated_subnets(synthesized):
    count = 0
    for stack, resources in _templates(synthesized[0]).items():
        key = _the_key(resources)
        isolated = {
            name
            for name, subnet in _of_type(resources, "AWS::EC2::Subnet").items()
            if subnet["Properties"]["MapPublicIpOnLaunch"] is False
        }
        assert len(isolated) == 2, stack
        for name, function in _our_functions(resources).items():
            props = function["Properties"]
            assert props["ReservedConcurrentExecutions"] == HARDENED_RESERVED_CONCURRENCY, (stack, name)
            assert _uses(props["KmsKeyArn"], key), (stack, name)
            subnets = {s["Ref"] for s in props["VpcConfig"]["SubnetIds"]}
            assert subnets == isolated, (stack, name)
            (group,) = props["VpcConfig"]["SecurityGroupIds"]
            group_props = resources[group["Fn::GetAtt"][0]]["Properties"]
            assert "SecurityGroupIngress" not in group_props, (stack, name)
            assert [r["FromPort"] for r in group_props["SecurityGroupEgress"]] == [443]
            count += 1
    assert count == 7  # hello, thumbnails, the aggregator, clicks, purchases, recommendations, items


def test_endpoints_serve_what_the_handlers_call_and_there_is_no_nat(synthesized):
    def service(endpoint):
        return json.dumps(endpoint["Properties"]["ServiceName"]).rsplit(".", 1)[-1].strip('"]}')

    found = {}
    for stack, resources in _templates(synthesized[0]).items():
        assert _of_type(resources, "AWS::EC2::NatGateway") == {}, stack
        assert _of_type(resources, "AWS::EC2::InternetGateway") == {}, stack
        found[stack] = sorted(
            (e["Properties"].get("VpcEndpointType", "Gateway"), service(e))
            for e in _of_type(resources, "AWS::EC2::VPCEndpoint").values()
        )
    assert found == {
        "ExampleServiceStack": [],  # the hello handler calls no AWS API
        "FileProcessingStack": [("Gateway", "s3")],
        "AnalyticsStack": [("Gateway", "dynamodb"), ("Interface", "sqs")],  # quarantine and rejected queues
        "WebBackendStack": [("Gateway", "dynamodb")],
    }


def test_the_prop_chooses_the_profile_where_the_context_does_not():
    app = new_app()
    stack = cdk.Stack(app, "Mixed")
    common = {"shared": [common_path()]}
    LambdaService(stack, "Hard", entry=handler_path("hello"), profile="hardened", **common)
    LambdaService(stack, "Plain", entry=handler_path("hello"), **common)
    resources = app.synth().get_stack_by_name("Mixed").template["Resources"]
    functions = {name[:4]: r["Properties"] for name, r in _our_functions(resources).items()}

    assert set(functions) == {"Hard", "Plai"}
    assert "VpcConfig" in functions["Hard"] and "KmsKeyArn" in functions["Hard"]
    assert "VpcConfig" not in functions["Plai"] and "KmsKeyArn" not in functions["Plai"]
    assert "ReservedConcurrentExecutions" not in functions["Plai"]
    assert len(_of_type(resources, "AWS::KMS::Key")) == 1


def test_the_prop_overrides_the_context():
    app = new_app(**HARDENED)
    stack = cdk.Stack(app, "Standard")
    LambdaService(stack, "Plain", entry=handler_path("hello"), shared=[common_path()], profile="standard")
    resources = app.synth().get_stack_by_name("Standard").template["Resources"]

    assert _of_type(resources, "AWS::KMS::Key") == {}
    assert _of_type(resources, "AWS::EC2::VPC") == {}


@pytest.mark.parametrize("where", ["context", "prop"])
def test_an_unknown_profile_is_refused_at_synth(where):
    app = new_app(**({PROFILE_CONTEXT: "hardend"} if where == "context" else {}))
    stack = cdk.Stack(app, "Bad")
    with pytest.raises(ConfigurationError) as error:
        LambdaService(
            stack,
            "Hello",
            entry=handler_path("hello"),
            shared=[common_path()],
            **({"profile": "hardend"} if where == "prop" else {}),
        )

    assert error.value.code == "LambdaPatterns.Profile.Unknown"
    assert "'hardend'" in str(error.value)
