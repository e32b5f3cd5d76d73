"""``StreamAggregator``: DynamoDB stream changes become count, sum, min and max per dimension and time bucket."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.checks import check_exclusive, check_function_props
from lambda_patterns.dashboard import CustomMetrics
from lambda_patterns.errors import ConfigurationError
from lambda_patterns.function import ServerlessFunction
from lambda_patterns.handlers import common_path, handler_path
from lambda_patterns.package import FunctionPackage
from lambda_patterns.permissions import get_items, update_items
from lambda_patterns.tables import secure_table
from lambda_patterns.triggers.dynamodb import DynamoDBStreamTrigger
from lambda_patterns.triggers.stream import StreamOptions

#: What the handler counts (EMF), per ``service``: shown on the stack's dashboard.
AGGREGATOR_METRICS = CustomMetrics(
    namespace="LambdaPatterns/Analytics",
    names=(
        "RecordsReceived",
        "ContributionsApplied",
        "PoisonRecords",
        "TtlDeletes",
        "AggregateWriteFailures",
    ),
    title="Records received, applied, poison; TTL deletes; write failures",
)


def _validate(
    where: str, dimensions: Sequence[str], value_attribute: str, time_attribute: str, bucket: str
) -> None:
    if not dimensions or any(not d or "," in d for d in dimensions):
        raise ConfigurationError(f"{where}: dimensions must name at least one attribute, without commas")
    if not value_attribute or not time_attribute:
        raise ConfigurationError(f"{where}: value_attribute and time_attribute are required")
    if bucket not in defaults.AGGREGATE_BUCKETS:
        raise ConfigurationError(
            f"{where}: bucket must be one of {defaults.AGGREGATE_BUCKETS}, got {bucket!r}"
        )


class StreamAggregator(Construct):
    """Keeps aggregates of a table's changes in a second table: INSERT adds, MODIFY applies the difference,
    REMOVE (and TTL expiry) subtracts, per dimension value and time bucket.

    One conditional write per aggregate item per batch, guarded by per-shard sequence-number marks, so a
    retried, bisected or replayed batch never counts twice. Items ``pk = "<dimension>#<value>"``,
    ``sk = "<bucket>#<start>"`` hold ``count``, ``sum``, ``min`` and ``max`` (min and max are observed
    extremes: a REMOVE cannot lower them).

    :param existing_source_table_obj: the table whose changes are aggregated; it needs a
        ``NEW_AND_OLD_IMAGES`` stream. Default: a new table keyed ``pk`` (S) with that stream.
    :param source_table_props: overrides for the new source table. Default: none.
    :param existing_aggregates_table_obj: keyed ``pk`` (S) + ``sk`` (S). Default: a new table.
    :param aggregates_table_props: overrides for the new aggregates table. Default: none.
    :param dimensions: attributes to group by; each gets its own series. Required.
    :param value_attribute: the numeric attribute summed. Required.
    :param time_attribute: ISO 8601 or epoch attribute that places a row in a bucket. Required.
    :param bucket: ``minute``, ``hour`` or ``day``. Default: ``hour``.
    :param subtract_ttl_deletes: whether rows expired by TTL leave the aggregates. Default: True.
    :param retention_days: aggregate items expire this long after their bucket (0 = never). Default: 0.
    :param stream_options: batch and failure settings. Default: ``StreamOptions`` with a 1-second tumbling
        window, so Lambda names the shard and marks are kept per shard.
    :param alarm_topic: where the function's alarms notify (errors, throttles, duration near the timeout,
        iterator age, failed records waiting in a queue). Default: none (alarms without actions).
    :param function_props: other ``ServerlessFunction`` props. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dimensions: Sequence[str],
        value_attribute: str,
        time_attribute: str,
        existing_source_table_obj: dynamodb.ITable | None = None,
        source_table_props: Mapping[str, Any] | None = None,
        existing_aggregates_table_obj: dynamodb.ITable | None = None,
        aggregates_table_props: Mapping[str, Any] | None = None,
        bucket: str = defaults.AGGREGATE_BUCKET,
        subtract_ttl_deletes: bool = True,
        retention_days: int = 0,
        stream_options: StreamOptions | None = None,
        alarm_topic: sns.ITopic | None = None,
        function_props: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(scope, id)
        where = f"StreamAggregator {self.node.path}"
        # Validate.
        check_exclusive(
            where,
            "existing_source_table_obj",
            existing_source_table_obj,
            "source_table_props",
            source_table_props,
        )
        check_exclusive(
            where,
            "existing_aggregates_table_obj",
            existing_aggregates_table_obj,
            "aggregates_table_props",
            aggregates_table_props,
        )
        _validate(where, dimensions, value_attribute, time_attribute, bucket)
        if retention_days < 0:
            raise ConfigurationError(
                f"{where}: retention_days must be 0 (keep) or more, got {retention_days}"
            )
        options = stream_options or StreamOptions(tumbling_window=defaults.AGGREGATOR_TUMBLING_WINDOW)
        if options.parallelization_factor != 1:
            raise ConfigurationError(
                f"{where}: parallelization_factor must stay 1: the exactly-once guard relies on per-shard order"
            )
        if options.tumbling_window is None:
            # Without a window Lambda does not name the shard, so every shard would share one high-water mark
            # and records of one shard below another's mark would be skipped as already applied.
            raise ConfigurationError(
                f"{where}: stream_options needs a tumbling_window (any length, e.g. Duration.seconds(1)): "
                "it makes Lambda name the shard, so sequence-number marks are kept per shard"
            )

        check_function_props(where, function_props, ("code", "description", "permissions", "environment"))

        # Build.
        self._source = existing_source_table_obj or secure_table(
            self,
            "Source",
            partition_key="pk",
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            overrides=source_table_props,
        )
        self._aggregates = existing_aggregates_table_obj or secure_table(
            self,
            "Aggregates",
            partition_key="pk",
            sort_key="sk",
            ttl_attribute=defaults.TABLE_TTL_ATTRIBUTE,
            overrides=aggregates_table_props,
        )
        self._function = ServerlessFunction(
            self,
            "Function",
            code=FunctionPackage(
                self, "Package", entry=handler_path("stream_aggregator"), shared=[common_path()]
            ),
            description="Aggregates changes of the source table into the aggregates table",
            # Reads (BatchGetItem, GetItem when a failed condition returns no item) and guarded updates,
            # in transactions too: nothing that could put, delete or scan aggregates.
            permissions=[get_items(self._aggregates), update_items(self._aggregates)],
            environment={
                "SERVICE_NAME": id,
                "AGGREGATES_TABLE": self._aggregates.table_name,
                "DIMENSIONS": ",".join(dimensions),
                "VALUE_ATTRIBUTE": value_attribute,
                "TIME_ATTRIBUTE": time_attribute,
                "BUCKET": bucket,
                "TTL_DELETES": "subtract" if subtract_ttl_deletes else "ignore",
                "RETENTION_DAYS": str(retention_days),
                # DynamoDB streams keep records 24 hours: a shard's marks are needed that long, plus a day.
                "MARK_TTL_SECONDS": str(
                    int(
                        defaults.DYNAMODB_STREAM_RETENTION.to_seconds()
                        + defaults.MARK_TTL_MARGIN.to_seconds()
                    )
                ),
                "METRICS_NAMESPACE": AGGREGATOR_METRICS.namespace,
            },
            # Only its event source mapping invokes it, synchronously: failures are handled there.
            **{
                "alarms": True,
                "alarm_topic": alarm_topic,
                "async_failure": "none",
                **dict(function_props or {}),
            },
        )

        # Wire.
        self._trigger = DynamoDBStreamTrigger(
            self, "OnChange", function=self._function, table=self._source, options=options
        )

    @property
    def source_table(self) -> dynamodb.ITable:
        """The table whose changes are aggregated."""
        return self._source

    @property
    def aggregates_table(self) -> dynamodb.ITable:
        """Aggregates, ``pk = <dimension>#<value>``, ``sk = <bucket>#<start>``."""
        return self._aggregates

    @property
    def function(self) -> ServerlessFunction:
        """The aggregating function."""
        return self._function

    @property
    def trigger(self) -> DynamoDBStreamTrigger:
        """The stream trigger, with its on-failure queue."""
        return self._trigger
