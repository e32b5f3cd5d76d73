"""Steps 1 and 2: FunctionPolicy and FunctionRole."""

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from lambda_patterns.errors import ConfigurationError
from lambda_patterns.permissions import (
    Access,
    allow,
    batch_get_items,
    check_items,
    consume_stream,
    crud_items,
    delete_items,
    delete_objects,
    get_items,
    list_objects,
    publish,
    put_items,
    put_objects,
    put_records,
    query_items,
    read_objects,
    read_table,
    scan_items,
    send,
    send_messages,
    update_items,
    write_objects,
    write_table,
)
from lambda_patterns.steps.policy import FunctionPolicy
from lambda_patterns.steps.role import FunctionRole
from synth_helpers import new_app, synth_with_nag


def _bucket(stack):
    logs = s3.Bucket(stack, "Logs", enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL)
    cdk.Validations.of(logs).acknowledge(
        cdk.Acknowledgment(id="AwsSolutions-S1", reason="The test's log bucket")
    )
    return s3.Bucket(
        stack,
        "Bucket",
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        server_access_logs_bucket=logs,
    )


@pytest.mark.parametrize(
    ("intent", "statement"),
    [
        (
            lambda bucket: read_objects(bucket, "in/"),
            {
                "Action": "s3:GetObject",
                "Effect": "Allow",
                "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [Match.any_value(), "Arn"]}, "/in/*"]]},
            },
        ),
        (
            # ListBucket names the bucket, not its keys: the prefix can only narrow it as a condition.
            lambda bucket: list_objects(bucket, "uploads/"),
            {
                "Action": "s3:ListBucket",
                "Resource": {"Fn::GetAtt": [Match.any_value(), "Arn"]},
                "Condition": {"StringLike": {"s3:prefix": ["uploads/*"]}},
            },
        ),
    ],
    ids=["read_objects", "list_objects"],
)
def test_object_intents_are_scoped_to_their_prefix(intent, statement):
    stack = cdk.Stack(new_app(), "S")
    policy = FunctionPolicy(stack, "Policy", permissions=[intent(_bucket(stack))])
    FunctionRole(stack, "Role", policy=policy)

    Template.from_stack(stack).has_resource_properties(
        "AWS::IAM::Policy", {"PolicyDocument": {"Statement": [statement]}}
    )


def test_prefix_wildcards_are_refused():
    stack = cdk.Stack(new_app(), "S")

    with pytest.raises(ConfigurationError, match=r"S3 key prefix 'in/\*' must be literal"):
        read_objects(_bucket(stack), "in/*")


def test_wildcard_without_reason_is_refused():
    with pytest.raises(ConfigurationError, match=r"allow\(\): \* contains a wildcard; pass reason="):
        allow(["s3:ListAllMyBuckets"], ["*"])


def test_role_has_no_managed_policy_and_trusts_only_lambda():
    stack = cdk.Stack(new_app(), "S")
    FunctionRole(stack, "Role")

    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [{"Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]
            },
            "ManagedPolicyArns": Match.absent(),
        },
    )


def test_role_takes_a_permissions_boundary():
    stack = cdk.Stack(new_app(), "S")
    boundary = cdk.aws_iam.ManagedPolicy.from_managed_policy_name(stack, "Boundary", "team-boundary")
    FunctionRole(stack, "Role", permissions_boundary=boundary)

    Template.from_stack(stack).has_resource_properties(
        "AWS::IAM::Role",
        {"PermissionsBoundary": {"Fn::Join": ["", Match.array_with([":policy/team-boundary"])]}},
    )


def test_intent_wildcards_are_acknowledged_with_their_reason_and_nag_passes():
    app = new_app()
    stack = cdk.Stack(app, "S")
    bucket = _bucket(stack)
    table = cdk.aws_dynamodb.TableV2(
        stack,
        "Table",
        partition_key=cdk.aws_dynamodb.Attribute(name="pk", type=cdk.aws_dynamodb.AttributeType.STRING),
        point_in_time_recovery_specification=cdk.aws_dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
    )
    policy = FunctionPolicy(
        stack,
        "Policy",
        permissions=[
            read_objects(bucket, "in/"),
            write_objects(bucket, "out/"),
            read_table(table),
            allow(["ec2:DescribeRegions"], ["*"], reason="DescribeRegions has no resource-level permissions"),
        ],
    )
    FunctionRole(stack, "Role", policy=policy)

    _, findings = synth_with_nag(app)

    assert findings == []


def test_unacknowledged_wildcard_is_a_nag_finding():
    # Proves the nag test above can fail: a raw statement with a wildcard is reported.
    app = new_app()
    stack = cdk.Stack(app, "S")
    role = FunctionRole(stack, "Role")
    role.role.add_to_policy(cdk.aws_iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))

    _, findings = synth_with_nag(app)

    assert [f["rule"] for f in findings] == ["AwsSolutions-IAM5[Resource::*]"]


def test_consume_stream_reads_one_kinesis_stream_only():
    stack = cdk.Stack(new_app(), "S")
    stream = cdk.aws_kinesis.Stream(stack, "Clicks")

    (permission,) = consume_stream(stream)

    assert "kinesis:GetRecords" in permission.actions and "kinesis:PutRecord" not in permission.actions
    assert permission.resources == (stream.stream_arn,)


def test_consume_stream_of_a_table_reads_its_stream_and_acknowledges_list_streams():
    app = new_app()
    stack = cdk.Stack(app, "S")
    table = cdk.aws_dynamodb.TableV2(
        stack,
        "Table",
        partition_key=cdk.aws_dynamodb.Attribute(name="pk", type=cdk.aws_dynamodb.AttributeType.STRING),
        dynamo_stream=cdk.aws_dynamodb.StreamViewType.NEW_IMAGE,
        point_in_time_recovery_specification=cdk.aws_dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
    )
    FunctionRole(stack, "Role", policy=FunctionPolicy(stack, "Policy", permissions=[consume_stream(table)]))

    _, findings = synth_with_nag(app)

    assert findings == []


def _key_statements(stack, key):
    """The statements of every IAM policy in ``stack`` that reach ``key``."""
    key_arn = stack.resolve(key.key_arn)
    return [
        statement
        for policy in Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Resource"] == key_arn
    ]


def _encrypted(stack, kind, key):
    dynamodb, sqs, sns, kinesis = cdk.aws_dynamodb, cdk.aws_sqs, cdk.aws_sns, cdk.aws_kinesis
    if kind == "bucket":
        return s3.Bucket(stack, "Encrypted", encryption=s3.BucketEncryption.KMS, encryption_key=key)
    if kind == "table":
        return dynamodb.TableV2(
            stack,
            "Encrypted",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(key),
        )
    if kind == "queue":
        return sqs.Queue(stack, "Encrypted", encryption=sqs.QueueEncryption.KMS, encryption_master_key=key)
    if kind == "topic":
        return sns.Topic(stack, "Encrypted", master_key=key)
    return kinesis.Stream(stack, "Encrypted", encryption=kinesis.StreamEncryption.KMS, encryption_key=key)


@pytest.mark.parametrize(
    ("kind", "intent", "key_actions"),
    [
        ("bucket", lambda b: read_objects(b, "in/"), ["kms:Decrypt"]),
        ("bucket", lambda b: write_objects(b, "out/"), ["kms:Decrypt", "kms:GenerateDataKey"]),
        ("table", read_table, ["kms:Decrypt", "kms:DescribeKey"]),
        (
            "table",
            write_table,
            ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
        ),
        ("table", crud_items, ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]),
        ("table", get_items, ["kms:Decrypt", "kms:DescribeKey"]),
        ("table", batch_get_items, ["kms:Decrypt", "kms:DescribeKey"]),
        ("table", check_items, ["kms:Decrypt", "kms:DescribeKey"]),
        ("table", query_items, ["kms:Decrypt", "kms:DescribeKey"]),
        ("table", scan_items, ["kms:Decrypt", "kms:DescribeKey"]),
        ("table", put_items, ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]),
        ("table", update_items, ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]),
        ("table", delete_items, ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]),
        ("bucket", lambda b: read_objects(b, "in/", versions=True), ["kms:Decrypt"]),
        ("bucket", lambda b: put_objects(b, "out/"), ["kms:GenerateDataKey"]),
        ("queue", send, ["kms:Decrypt", "kms:GenerateDataKey"]),
        ("queue", send_messages, ["kms:Decrypt", "kms:GenerateDataKey"]),
        ("topic", publish, ["kms:Decrypt", "kms:GenerateDataKey"]),
        ("stream", put_records, ["kms:GenerateDataKey"]),
        ("stream", lambda s: consume_stream(s)[0], ["kms:Decrypt"]),
    ],
)
def test_intent_on_a_resource_with_a_customer_managed_key_may_use_that_key(kind, intent, key_actions):
    # Without the key grant every call on the resource is AccessDenied at run time, although the synthesized
    # policy allows each of its actions. (A table with a customer managed key needs a stack with a Region.)
    stack = cdk.Stack(new_app(), "S", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    key = cdk.aws_kms.Key(stack, "Key", enable_key_rotation=True)
    FunctionRole(
        stack,
        "Role",
        policy=FunctionPolicy(stack, "Policy", permissions=[intent(_encrypted(stack, kind, key))]),
    )

    (statement,) = _key_statements(stack, key)

    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    assert sorted(actions) == key_actions
    assert statement["Effect"] == "Allow"


def test_resources_encrypted_with_aws_managed_keys_need_no_key_grant():
    stack = cdk.Stack(new_app(), "S")
    table = cdk.aws_dynamodb.TableV2(
        stack,
        "Table",
        partition_key=cdk.aws_dynamodb.Attribute(name="pk", type=cdk.aws_dynamodb.AttributeType.STRING),
        encryption=cdk.aws_dynamodb.TableEncryptionV2.aws_managed_key(),
    )
    topic = cdk.aws_sns.Topic(
        stack, "Topic", master_key=cdk.aws_kms.Alias.from_alias_name(stack, "SnsKey", "alias/aws/sns")
    )
    FunctionRole(
        stack,
        "Role",
        policy=FunctionPolicy(stack, "Policy", permissions=[write_table(table), publish(topic)]),
    )

    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    assert "dynamodb:PutItem" in str(policies) and "kms:" not in str(policies)


def _table(stack, id="Table"):
    return cdk.aws_dynamodb.TableV2(
        stack,
        id,
        partition_key=cdk.aws_dynamodb.Attribute(name="pk", type=cdk.aws_dynamodb.AttributeType.STRING),
        point_in_time_recovery_specification=cdk.aws_dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
    )


@pytest.mark.parametrize(
    ("intent", "actions", "access"),
    [
        (get_items, ("dynamodb:GetItem", "dynamodb:BatchGetItem"), Access.READ),
        (batch_get_items, ("dynamodb:BatchGetItem",), Access.READ),
        (put_items, ("dynamodb:PutItem",), Access.WRITE),
        (update_items, ("dynamodb:UpdateItem",), Access.WRITE),
        (delete_items, ("dynamodb:DeleteItem",), Access.WRITE),
        (check_items, ("dynamodb:ConditionCheckItem",), Access.READ),
        (query_items, ("dynamodb:Query",), Access.READ),
        (scan_items, ("dynamodb:Scan",), Access.READ),
    ],
)
def test_item_intents_grant_one_action_family_on_the_table_alone(intent, actions, access):
    stack = cdk.Stack(new_app(), "S")
    table = _table(stack)

    permission = intent(table)

    assert permission.actions == actions
    assert permission.resources == (table.table_arn,)
    assert permission.access is access
    assert permission.resource_id == table.node.path
    assert permission.acknowledgements == ()


def test_query_items_reaches_named_indexes_only_and_refuses_wildcards():
    stack = cdk.Stack(new_app(), "S")
    table = _table(stack)

    permission = query_items(table, indexes=["by-customer"])

    assert permission.resources == (table.table_arn, f"{table.table_arn}/index/by-customer")
    with pytest.raises(ConfigurationError, match=r"index name '\*' must be literal"):
        query_items(table, indexes=["*"])


def test_put_objects_grants_put_object_only():
    stack = cdk.Stack(new_app(), "S")
    bucket = _bucket(stack)

    assert put_objects(bucket, "out/").actions == ("s3:PutObject",)
    assert put_objects(bucket, "out/").access is Access.WRITE
    assert read_objects(bucket, "in/", versions=True).actions == ("s3:GetObject", "s3:GetObjectVersion")


def test_delete_objects_grants_delete_object_under_the_prefix_marked_as_a_delete():
    stack = cdk.Stack(new_app(), "S")
    bucket = _bucket(stack)

    permission = delete_objects(bucket, "in/")

    assert permission.actions == ("s3:DeleteObject",)
    assert permission.resources == (bucket.arn_for_objects("in/*"),)
    # Not a write: the recursion check tells an ObjectRemoved loop from an ObjectCreated one by it.
    assert permission.access is Access.DELETE
    assert (permission.resource_id, permission.prefix) == (bucket.node.path, "in/")
    assert [(ack.rule_id, ack.reason) for ack in permission.acknowledgements] == [
        ("AwsSolutions-IAM5", "Object deletes need a key wildcard; scoped to prefix in/")
    ]
    assert delete_objects(bucket).resources == (bucket.arn_for_objects("*"),)
    with pytest.raises(ConfigurationError, match=r"S3 key prefix 'in/\*' must be literal") as error:
        delete_objects(bucket, "in/*")
    assert error.value.code == "LambdaPatterns.Permissions.LiteralScope"


def test_delete_objects_on_a_bucket_with_a_customer_managed_key_needs_no_key_grant():
    # A delete neither encrypts nor decrypts object data: S3 asks nothing of the key (CDK's grantDelete
    # grants none either), so the policy holds DeleteObject and no kms: action.
    stack = cdk.Stack(new_app(), "S")
    key = cdk.aws_kms.Key(stack, "Key", enable_key_rotation=True)
    bucket = _encrypted(stack, "bucket", key)
    FunctionRole(
        stack, "Role", policy=FunctionPolicy(stack, "Policy", permissions=[delete_objects(bucket, "in/")])
    )

    assert _key_statements(stack, key) == []
    policies = str(Template.from_stack(stack).find_resources("AWS::IAM::Policy"))
    assert "s3:DeleteObject" in policies and "kms:" not in policies


def test_send_messages_grants_send_message_only():
    stack = cdk.Stack(new_app(), "S")
    queue = cdk.aws_sqs.Queue(stack, "Queue")

    permission = send_messages(queue)

    assert permission.actions == ("sqs:SendMessage",)
    assert permission.resources == (queue.queue_arn,)
    assert permission.access is Access.WRITE


def test_list_objects_without_a_prefix_has_no_condition_and_a_wildcard_prefix_is_refused():
    bucket = _bucket(cdk.Stack(new_app(), "S"))

    assert list_objects(bucket).conditions is None
    with pytest.raises(ConfigurationError, match="must be literal"):
        list_objects(bucket, "up*")


def test_narrow_intents_need_no_acknowledgement_beyond_object_keys_and_nag_passes():
    app = new_app()
    stack = cdk.Stack(app, "S")
    bucket = _bucket(stack)
    table = _table(stack)
    queue = cdk.aws_sqs.Queue(stack, "Queue", enforce_ssl=True)
    cdk.Validations.of(queue).acknowledge(
        cdk.Acknowledgment(id="AwsSolutions-SQS3", reason="The test's queue")
    )
    policy = FunctionPolicy(
        stack,
        "Policy",
        permissions=[
            get_items(table),
            update_items(table),
            put_items(table),
            query_items(table, indexes=["by-customer"]),
            # Reading and writing one prefix: the same key-wildcard finding, acknowledged twice.
            read_objects(bucket, "out/"),
            put_objects(bucket, "out/"),
            delete_objects(bucket, "out/"),
            list_objects(bucket, "out/"),
            send_messages(queue),
        ],
    )
    FunctionRole(stack, "Role", policy=policy)

    _, findings = synth_with_nag(app)

    assert findings == []
