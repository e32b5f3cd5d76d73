"""``S3Trigger``: objects created (or removed, or any other S3 event) in a bucket invoke a function."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as notifications
from constructs import Construct

from lambda_patterns.checks.recursion import check_no_self_trigger
from lambda_patterns.jsii_reads import node_of, path_of
from lambda_patterns.nag import RuleAcknowledgement, acknowledge_findings, acknowledge_rule
from lambda_patterns.profiles import compliance_rules
from lambda_patterns.steps.function import ServerlessFunction

# CDK's singleton that writes bucket notification configurations; its id is fixed by aws-cdk-lib.
_NOTIFICATIONS_HANDLER = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"

#: checkov's Lambda checks on that handler, which CloudFormation runs only while it deploys the stack.
_NOTIFICATIONS_HANDLER_CHECKS = (
    RuleAcknowledgement(
        "aws-cdk-lib's bucket-notifications handler is a custom resource CloudFormation invokes during "
        "deployment; a failure fails the deployment, so there is no event for a dead-letter queue to keep",
        checkov=("CKV_AWS_116",),
    ),
    RuleAcknowledgement(
        "aws-cdk-lib's bucket-notifications handler only calls the S3 API while a stack deploys; it needs "
        "no private network",
        checkov=("CKV_AWS_117",),
    ),
    RuleAcknowledgement(
        "aws-cdk-lib's bucket-notifications handler runs only when a deployment changes a bucket's "
        "notifications; reserving concurrency for it would only take from the account's pool",
        checkov=("CKV_AWS_115",),
    ),
)


class S3Trigger(Construct):
    """Invokes ``function`` asynchronously for each event of ``events`` (by default, each object created) in
    ``bucket`` that matches the filters.

    S3 invokes asynchronously, so retries and the on-failure queue of the ``ServerlessFunction`` apply.
    A synth-time error stops a trigger whose function causes the events it is triggered by: a write
    (``put_objects``, ``write_objects``) under the prefix of an ``OBJECT_CREATED*`` trigger, or a delete
    (``delete_objects``) under the prefix of an ``OBJECT_REMOVED*`` one.

    :param function: the function to invoke.
    :param bucket: the bucket to watch.
    :param prefix: only keys starting with this. Default: every key.
    :param suffix: only keys ending with this (e.g. ``.jpg``). Default: every key.
    :param events: Default: ``[s3.EventType.OBJECT_CREATED]``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: ServerlessFunction,
        bucket: s3.IBucket,
        prefix: str | None = None,
        suffix: str | None = None,
        events: Sequence[s3.EventType] = (s3.EventType.OBJECT_CREATED,),
    ) -> None:
        super().__init__(scope, id)
        where = f"S3Trigger {path_of(self)}"
        check_no_self_trigger(where, function.policy.permissions, path_of(bucket), prefix, suffix, events)
        filters = [s3.NotificationKeyFilter(prefix=prefix, suffix=suffix)] if prefix or suffix else []
        destination = notifications.LambdaDestination(function.target)
        for event in events:
            bucket.add_event_notification(event, destination, *filters)
        self._acknowledge_cdk_notifications_handler(bucket)

    def _acknowledge_cdk_notifications_handler(self, bucket: s3.IBucket) -> None:
        handler = Stack.of(self).node.try_find_child(_NOTIFICATIONS_HANDLER)
        if handler is None:
            return
        acknowledge_rule(
            handler,
            "AwsSolutions-IAM4",
            "aws-cdk-lib's bucket-notifications custom resource uses AWSLambdaBasicExecutionRole; "
            "it runs only during deployment",
            applies_to=[
                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
            ],
        )
        acknowledge_rule(
            handler,
            "AwsSolutions-IAM5",
            "s3:PutBucketNotification is granted by aws-cdk-lib's custom resource on every bucket it configures",
            applies_to=["Resource::*"],
        )
        acknowledge_findings(handler, *_NOTIFICATIONS_HANDLER_CHECKS)
        # The handler's role is shared by the stack; its policy is made per bucket, beside the bucket.
        notifications = node_of(bucket).try_find_child("Notifications")
        if notifications is not None:
            acknowledge_findings(
                notifications,
                RuleAcknowledgement(
                    "aws-cdk-lib's bucket-notifications handler keeps s3:PutBucketNotification in an inline "
                    "policy of its own role, one-to-one with it, used only while a stack deploys",
                    nag=compliance_rules("IAMNoInlinePolicy"),
                ),
            )
