"""``KinesisTrigger``: a Kinesis stream invokes a function, batch failures reported per item."""

from __future__ import annotations

from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_patterns.steps.function import ServerlessFunction
from lambda_patterns.triggers.stream import StreamOptions, wire_stream_source


class KinesisTrigger(Construct):
    """Invokes ``function`` with records of ``stream``; a poison record never blocks its shard.

    :param function: the function to invoke.
    :param stream: the Kinesis stream.
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
        stream: kinesis.IStream,
        options: StreamOptions | None = None,
        existing_failure_queue: sqs.IQueue | None = None,
        filters: list[dict] | None = None,
    ) -> None:
        super().__init__(scope, id)
        where = f"KinesisTrigger {self.node.path}"
        self._failure_queue, self._source = wire_stream_source(
            self,
            where,
            function,
            stream,
            options or StreamOptions(),
            existing_failure_queue,
            f"records of {stream.node.path}",
            lambda **kwargs: sources.KinesisEventSource(stream, filters=filters, **kwargs),
        )

    @property
    def failure_queue(self) -> sqs.IQueue:
        """Where batches that failed every retry are described."""
        return self._failure_queue

    @property
    def event_source(self) -> sources.KinesisEventSource:
        """The CDK event source."""
        return self._source
