"""``KinesisTrigger``: a Kinesis stream invokes a function, batch failures reported per item."""

from __future__ import annotations

from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_patterns.jsii_reads import path_of
from lambda_patterns.steps.function import ServerlessFunction
from lambda_patterns.triggers.stream import StreamOptions, StreamTrigger


class KinesisTrigger(StreamTrigger):
    """Invokes ``function`` with records of ``stream``; as in every :class:`StreamTrigger`, a poison record
    never blocks its shard.

    :param function: the function to invoke.
    :param stream: the Kinesis stream.
    :param options: batch and failure settings. Default: ``StreamOptions()``.
    :param existing_failure_queue: where failed batches go. Default: a new encrypted, SSL-only queue.
    :param filters: Lambda event filter patterns, matched against each record's JSON ``data``, e.g.
        ``[FilterCriteria.filter({"data": {"event_type": FilterRule.is_equal("tap")}})]``. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: ServerlessFunction,
        stream: kinesis.IStream,
        options: StreamOptions | None = None,
        existing_failure_queue: sqs.IQueue | None = None,
        filters: list[dict] | None = None,
    ) -> None:
        super().__init__(scope, id)
        self._source = self._wire(
            f"KinesisTrigger {path_of(self)}",
            function,
            stream,
            sources.KinesisEventSource,
            options=options,
            existing_failure_queue=existing_failure_queue,
            filters=filters,
            purpose=f"records of {path_of(stream)}",
        )

    @property
    def event_source(self) -> sources.KinesisEventSource:
        """The CDK event source of the Kinesis stream."""
        return self._source
