"""``ClickstreamAnalytics``: mobile click events -> per-minute counts per event type and screen."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.checks.retention_days import check_retention_days
from lambda_patterns.checks.shard_order import check_shard_order
from lambda_patterns.jsii_reads import path_of
from lambda_patterns.nag import RuleAcknowledgement, acknowledge_findings, acknowledge_rule
from lambda_patterns.operations.dashboard import CustomMetrics
from lambda_patterns.patterns.pattern_function import (
    MAPPING_INVOKED,
    PatternConstruct,
    build_pattern_function,
)
from lambda_patterns.permissions import get_items, send_messages, update_items
from lambda_patterns.profiles import compliance_rules
from lambda_patterns.resources.queue import failure_queue
from lambda_patterns.resources.rest_api import SecureRestApi
from lambda_patterns.resources.streams import mark_ttl_seconds, secure_stream, stream_retention_period
from lambda_patterns.resources.tables import secure_table
from lambda_patterns.steps.deployment import Deployment
from lambda_patterns.triggers.kinesis import KinesisTrigger
from lambda_patterns.triggers.stream import StreamOptions

USER_ID_PATTERN = "^[A-Za-z0-9_.:@+=/-]+$"

#: What API Gateway accepts before anything reaches the stream; the handler re-checks it.
CLICK_EVENT_SCHEMA = apigw.JsonSchema(
    schema=apigw.JsonSchemaVersion.DRAFT4,
    type=apigw.JsonSchemaType.OBJECT,
    required=["event_type", "screen", "timestamp", "user_id"],
    properties={
        "event_type": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1, max_length=64),
        "screen": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1, max_length=128),
        "timestamp": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=10, max_length=40),
        # The user id becomes the record's partition key inside a JSON request template, where
        # $util.escapeJavaScript would turn a quote into \' (invalid JSON): ids are limited to safe characters.
        "user_id": apigw.JsonSchema(
            type=apigw.JsonSchemaType.STRING, min_length=1, max_length=128, pattern=USER_ID_PATTERN
        ),
    },
)

# Kinesis PutRecord through API Gateway's AWS integration: the body becomes the record, the user id its
# partition key, so one user's clicks stay in order on one shard.
_PUT_RECORD_TEMPLATE = {
    "Data": "$util.base64Encode($input.body)",
    "PartitionKey": "$util.escapeJavaScript($input.path('$.user_id'))",
}

#: What the handler counts (EMF), per ``service``: shown on the stack's dashboard.
CLICKSTREAM_METRICS = CustomMetrics(
    namespace="LambdaPatterns/Clickstream",
    names=("RecordsReceived", "ClicksCounted", "MalformedRecords", "CountWriteFailures"),
    title="Clicks received, counted, malformed; write failures",
)


def _mark_ttl_seconds(
    stream_retention: Duration | None,
    existing_stream_obj: kinesis.IStream | None,
    stream_props: Mapping[str, Any] | kinesis.StreamProps | None,
) -> int:
    if stream_retention is None:
        # An imported stream's retention cannot be read: assume Kinesis' longest.
        stream_retention = (
            defaults.KINESIS_MAX_RETENTION
            if existing_stream_obj is not None
            else stream_retention_period(stream_props)
        )
    return mark_ttl_seconds(stream_retention)


class ClickstreamAnalytics(PatternConstruct):
    """Apps POST click events to ``/clicks``; API Gateway writes them straight to an encrypted Kinesis
    stream (no function on the ingest path: cheaper, and it scales with the stream); a function counts
    them per minute, event type and screen into a table a dashboard queries
    (``pk = "screen#<screen>"``, ``sk = "<minute>#<event_type>"``).

    Malformed records (bad base64, bad JSON, missing fields) never block a shard: the function moves them to
    a quarantine queue for inspection, logs and counts them, and carries on.

    Besides its own props below, it takes those of every pattern (``alarm_topic``, ``deployment``,
    ``function_props`` and ``profile``: see :class:`PatternConstruct`).

    :param existing_stream_obj: the click stream. Default: a new on-demand stream encrypted with the
        AWS-managed Kinesis key.
    :param stream_props: overrides for the new stream. Default: none.
    :param existing_counts_table_obj: keyed ``pk`` (S) + ``sk`` (S). Default: a new table.
    :param counts_table_props: overrides for the new table. Default: none.
    :param retention_days: count items expire this long after their minute (0 = never). Default: 0.
    :param stream_retention: how long the stream keeps records; the function's idempotency marks (one item
        per count item and shard) outlive their last write by this plus a day, so a replay from the
        stream's oldest record still lands once. Default: the new stream's ``retention_period`` (24 hours
        unless ``stream_props`` sets it); with ``existing_stream_obj``, 365 days (Kinesis' maximum: the
        construct cannot read an imported stream's retention, so give it to keep fewer marks).
    :param create_ingest_api: put the REST API in front of the stream. Default: True.
    :param throttle_rate_limit: ingest requests per second. Default: 100.
    :param throttle_burst_limit: Default: 200.
    :param stream_options: batch and failure settings. Default: ``StreamOptions()``.
    :param alarm_topic: also notified of the click stream's iterator age and of batches in the trigger's
        on-failure queue.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        existing_stream_obj: kinesis.IStream | None = None,
        stream_props: Mapping[str, Any] | kinesis.StreamProps | None = None,
        existing_counts_table_obj: dynamodb.ITable | None = None,
        counts_table_props: Mapping[str, Any] | dynamodb.TablePropsV2 | None = None,
        retention_days: int = 0,
        stream_retention: Duration | None = None,
        create_ingest_api: bool = True,
        throttle_rate_limit: int = defaults.API_THROTTLE_RATE,
        throttle_burst_limit: int = defaults.API_THROTTLE_BURST,
        function_props: Mapping[str, Any] | None = None,
        deployment: Deployment | None = None,
        stream_options: StreamOptions | None = None,
        alarm_topic: sns.ITopic | None = None,
        profile: str | None = None,
    ) -> None:
        super().__init__(scope, id, alarm_topic, deployment, function_props, profile)
        # Validate.
        self._check_existing_or_props(
            stream=(existing_stream_obj, stream_props),
            counts_table=(existing_counts_table_obj, counts_table_props),
        )
        check_retention_days(self._where, retention_days)
        options = stream_options or StreamOptions()
        check_shard_order(self._where, options.parallelization_factor)

        # Build.
        self._stream = existing_stream_obj or secure_stream(self, "Clicks", overrides=stream_props)
        self._counts = existing_counts_table_obj or secure_table(
            self,
            "Counts",
            partition_key="pk",
            sort_key="sk",
            ttl_attribute=defaults.TABLE_TTL_ATTRIBUTE,
            overrides=counts_table_props,
        )
        self._malformed = failure_queue(
            self, "MalformedRecords", "malformed click records kept for inspection"
        )
        self._pattern_function = build_pattern_function(
            self,
            handler="clickstream",
            description="Counts click events per minute, event type and screen",
            default_props=MAPPING_INVOKED,
            # Counts are read by key and changed by guarded updates; malformed records are sent by URL.
            permissions=[
                get_items(self._counts, batch=False),
                update_items(self._counts),
                send_messages(self._malformed),
            ],
            environment={
                "COUNTS_TABLE": self._counts.table_name,
                "MALFORMED_QUEUE_URL": self._malformed.queue_url,
                "RETENTION_DAYS": str(retention_days),
                "MARK_TTL_SECONDS": str(
                    _mark_ttl_seconds(stream_retention, existing_stream_obj, stream_props)
                ),
                "METRICS_NAMESPACE": CLICKSTREAM_METRICS.namespace,
            },
            **self._function_options,
        )
        self._api: SecureRestApi | None = None
        if create_ingest_api:
            self._api = self._build_ingest_api(throttle_rate_limit, throttle_burst_limit)

        # Wire.
        self._trigger = KinesisTrigger(
            self, "OnClicks", function=self.function, stream=self._stream, options=options
        )

    def _build_ingest_api(self, rate: int, burst: int) -> SecureRestApi:
        api = SecureRestApi(self, "Ingest", throttle_rate_limit=rate, throttle_burst_limit=burst)
        role = iam.Role(
            self,
            "IngestRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="Lets the ingest API put click records on the stream",
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["kinesis:PutRecord"], resources=[self._stream.stream_arn])
        )
        key = self._stream.encryption_key
        if key is not None:
            # Kinesis asks for a data key under the caller's identity for each record it encrypts.
            role.add_to_policy(iam.PolicyStatement(actions=["kms:GenerateDataKey"], resources=[key.key_arn]))
        # Both profiles: the compliance packs flag the inline policy either way.
        acknowledge_findings(
            role,
            RuleAcknowledgement(
                f"{path_of(role)} is assumed by this ingest API only; its inline policy puts records on "
                "one stream and stays one-to-one with the role, unlike a managed policy",
                nag=compliance_rules("IAMNoInlinePolicy"),
            ),
        )
        model = api.api.add_model("ClickEvent", content_type="application/json", schema=CLICK_EVENT_SCHEMA)
        template = {"StreamName": self._stream.stream_name, **_PUT_RECORD_TEMPLATE}
        error_body = '{"error": {"code": "IngestFailed", "message": "the event could not be stored; retry"}}'
        integration = apigw.AwsIntegration(
            service="kinesis",
            action="PutRecord",
            integration_http_method="POST",
            options=apigw.IntegrationOptions(
                credentials_role=role,
                passthrough_behavior=apigw.PassthroughBehavior.NEVER,
                request_parameters={
                    "integration.request.header.Content-Type": "'application/x-amz-json-1.1'"
                },
                request_templates={"application/json": json.dumps(template)},
                integration_responses=[
                    apigw.IntegrationResponse(
                        status_code="200",
                        response_templates={
                            "application/json": '{"accepted": true, "sequence_number": "$input.path(\'$.SequenceNumber\')"}'
                        },
                    ),
                    apigw.IntegrationResponse(
                        status_code="503",
                        selection_pattern="(4|5)\\d{2}",
                        response_templates={"application/json": error_body},
                    ),
                ],
            ),
        )
        api.api.root.add_resource(defaults.CLICKS_PATH).add_method(
            "POST",
            integration,
            authorization_type=apigw.AuthorizationType.IAM,
            request_validator=api.request_validator,
            request_models={"application/json": model},
            method_responses=[
                apigw.MethodResponse(status_code="200"),
                apigw.MethodResponse(status_code="503"),
            ],
        )
        acknowledge_rule(
            api.api,
            "AwsSolutions-COG4",
            "Apps sign ingest requests with IAM credentials (e.g. from a Cognito identity pool); SigV4 is checked",
        )
        return api

    @property
    def stream(self) -> kinesis.IStream:
        """The Kinesis stream the ingest API writes clicks to."""
        return self._stream

    @property
    def counts_table(self) -> dynamodb.ITable:
        """Per-minute counts, ``pk = screen#<screen>``, ``sk = <minute>#<event_type>``."""
        return self._counts

    @property
    def malformed_queue(self) -> sqs.IQueue:
        """Where malformed records are kept for inspection."""
        return self._malformed

    @property
    def ingest_api(self) -> apigw.RestApi | None:
        """The REST API apps POST clicks to, unless ``create_ingest_api=False``."""
        return self._api.api if self._api else None

    @property
    def trigger(self) -> KinesisTrigger:
        """The Kinesis trigger, with its on-failure queue."""
        return self._trigger
