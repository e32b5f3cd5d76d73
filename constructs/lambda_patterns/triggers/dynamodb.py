"""``DynamoDBStreamTrigger``: a table's stream invokes a function, batch failures reported per item."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_patterns.checks.table_stream import check_table_stream
from lambda_patterns.nag import acknowledge_rule
from lambda_patterns.steps.function import ServerlessFunction
from lambda_patterns.triggers.stream import StreamOptions, wire_stream_source


class DynamoDBStreamTrigger(Construct):
    """Invokes ``function`` with the changes of ``table``.

    ReportBatchItemFailures, bisect-on-error, bounded retries and record age are on, and records that still
    fail go to an on-failure queue (metadata of the failed batch, for replay from the stream).

    :param function: the function to invoke.
    :param table: a table with a stream (``stream=NEW_AND_OLD_IMAGES`` or another view type).
    :param options: batch and failure settings. Default: ``StreamOptions()``.
    :param existing_failure_queue: where failed batches go. Default: a new encrypted, SSL-only queue.
    :param filters: Lambda event filter patterns. Default: none.
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
        where = f"DynamoDBStreamTrigger {self.node.path}"
        check_table_stream(where, table.node.path, table.table_stream_arn, "set stream= on the table")
        self._failure_queue, self._source = wire_stream_source(
            self,
            where,
            function,
            table,
            options or StreamOptions(),
            existing_failure_queue,
            f"stream batches of {table.node.path}",
            lambda **kwargs: sources.DynamoEventSource(table, filters=filters, **kwargs),
        )
        acknowledge_rule(
            function.function_role,
            "AwsSolutions-IAM5",
            "dynamodb:ListStreams supports no resource-level permissions (CDK's grantStreamRead)",
            applies_to=["Resource::*"],
        )

    @property
    def failure_queue(self) -> sqs.IQueue:
        """Where batches that failed every retry are described."""
        return self._failure_queue

    @property
    def event_source(self) -> sources.DynamoEventSource:
        """The CDK event source."""
        return self._source
