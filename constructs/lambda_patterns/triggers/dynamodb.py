"""``DynamoDBStreamTrigger``: a table's stream invokes a function, batch failures reported per item."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_patterns.checks.table_stream import check_table_stream
from lambda_patterns.jsii_reads import path_of
from lambda_patterns.nag import acknowledge_rule
from lambda_patterns.steps.function import ServerlessFunction
from lambda_patterns.triggers.stream import StreamOptions, StreamTrigger


class DynamoDBStreamTrigger(StreamTrigger):
    """Invokes ``function`` with the changes of ``table``. As in every :class:`StreamTrigger`, failures are
    reported per item, and records that still fail are described in an on-failure queue (metadata of the
    failed batch, for replay from the stream).

    :param function: the function to invoke.
    :param table: a table with a stream (``stream=NEW_AND_OLD_IMAGES`` or another view type).
    :param options: batch and failure settings. Default: ``StreamOptions()``.
    :param existing_failure_queue: where failed batches go. Default: a new encrypted, SSL-only queue.
    :param filters: Lambda event filter patterns, matched against each change record, e.g.
        ``[FilterCriteria.filter({"eventName": FilterRule.is_equal("INSERT")})]``. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: ServerlessFunction,
        table: dynamodb.ITable,
        options: StreamOptions | None = None,
        existing_failure_queue: sqs.IQueue | None = None,
        filters: list[dict] | None = None,
    ) -> None:
        super().__init__(scope, id)
        where = f"DynamoDBStreamTrigger {path_of(self)}"
        check_table_stream(where, path_of(table), table.table_stream_arn, "set stream= on the table")
        self._source = self._wire(
            where,
            function,
            table,
            sources.DynamoEventSource,
            options=options,
            existing_failure_queue=existing_failure_queue,
            filters=filters,
            purpose=f"stream batches of {path_of(table)}",
        )
        acknowledge_rule(
            function.function_role,
            "AwsSolutions-IAM5",
            "dynamodb:ListStreams supports no resource-level permissions (CDK's grantStreamRead)",
            applies_to=["Resource::*"],
        )

    @property
    def event_source(self) -> sources.DynamoEventSource:
        """The CDK event source of the table's stream."""
        return self._source
