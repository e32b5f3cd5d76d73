"""``StreamAggregator``: DynamoDB stream changes become count, sum, min and max per dimension and time bucket."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sns as sns
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.checks.aggregator_attributes import check_aggregated_attributes
from lambda_patterns.checks.aggregator_bucket import check_bucket
from lambda_patterns.checks.aggregator_dimensions import check_dimensions
from lambda_patterns.checks.aggregator_window import check_aggregator_window
from lambda_patterns.checks.retention_days import check_retention_days
from lambda_patterns.checks.shard_order import check_shard_order
from lambda_patterns.operations.dashboard import CustomMetrics
from lambda_patterns.patterns.pattern_function import (
    MAPPING_INVOKED,
    PatternConstruct,
    build_pattern_function,
)
from lambda_patterns.permissions import get_items, update_items
from lambda_patterns.resources.streams import mark_ttl_seconds
from lambda_patterns.resources.tables import secure_table
from lambda_patterns.steps.deployment import Deployment
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


class StreamAggregator(PatternConstruct):
    """Keeps aggregates of a table's changes in a second table: INSERT adds, MODIFY applies the difference,
    REMOVE (and TTL expiry) subtracts, per dimension value and time bucket.

    One conditional write per aggregate item per batch, guarded by per-shard sequence-number marks, so a
    retried, bisected or replayed batch never counts twice. Items ``pk = "<dimension>#<value>"``,
    ``sk = "<bucket>#<start>"`` hold ``count``, ``sum``, ``min`` and ``max`` (min and max are observed
    extremes: a REMOVE cannot lower them).

    Besides its own props below, it takes those of every pattern (``alarm_topic``, ``deployment``,
    ``function_props`` and ``profile``: see :class:`PatternConstruct`).

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
    :param alarm_topic: also notified of the source table's stream falling behind (iterator age) and of
        batches in the trigger's on-failure queue.
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
        source_table_props: Mapping[str, Any] | dynamodb.TablePropsV2 | None = None,
        existing_aggregates_table_obj: dynamodb.ITable | None = None,
        aggregates_table_props: Mapping[str, Any] | dynamodb.TablePropsV2 | None = None,
        bucket: str = defaults.AGGREGATE_BUCKET,
        subtract_ttl_deletes: bool = True,
        retention_days: int = 0,
        stream_options: StreamOptions | None = None,
        alarm_topic: sns.ITopic | None = None,
        function_props: Mapping[str, Any] | None = None,
        deployment: Deployment | None = None,
        profile: str | None = None,
    ) -> None:
        super().__init__(scope, id, alarm_topic, deployment, function_props, profile)
        # Validate.
        self._check_existing_or_props(
            source_table=(existing_source_table_obj, source_table_props),
            aggregates_table=(existing_aggregates_table_obj, aggregates_table_props),
        )
        check_dimensions(self._where, dimensions)
        check_aggregated_attributes(self._where, value_attribute, time_attribute)
        check_bucket(self._where, bucket)
        check_retention_days(self._where, retention_days)
        options = stream_options or StreamOptions(tumbling_window=defaults.AGGREGATOR_TUMBLING_WINDOW)
        check_shard_order(self._where, options.parallelization_factor)
        check_aggregator_window(self._where, options.tumbling_window)

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
        self._pattern_function = build_pattern_function(
            self,
            handler="stream_aggregator",
            description="Aggregates changes of the source table into the aggregates table",
            default_props=MAPPING_INVOKED,
            # Reads (BatchGetItem, GetItem when a failed condition returns no item) and guarded updates,
            # in transactions too: nothing that could put, delete or scan aggregates.
            permissions=[get_items(self._aggregates), update_items(self._aggregates)],
            environment={
                "AGGREGATES_TABLE": self._aggregates.table_name,
                "DIMENSIONS": ",".join(dimensions),
                "VALUE_ATTRIBUTE": value_attribute,
                "TIME_ATTRIBUTE": time_attribute,
                "BUCKET": bucket,
                "TTL_DELETES": "subtract" if subtract_ttl_deletes else "ignore",
                "RETENTION_DAYS": str(retention_days),
                # DynamoDB streams keep records 24 hours: a shard's marks are needed that long, plus a day.
                "MARK_TTL_SECONDS": str(mark_ttl_seconds(defaults.DYNAMODB_STREAM_RETENTION)),
                "METRICS_NAMESPACE": AGGREGATOR_METRICS.namespace,
            },
            **self._function_options,
        )

        # Wire.
        self._trigger = DynamoDBStreamTrigger(
            self, "OnChange", function=self.function, table=self._source, options=options
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
    def trigger(self) -> DynamoDBStreamTrigger:
        """The stream trigger, with its on-failure queue."""
        return self._trigger
