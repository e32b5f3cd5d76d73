"""Event source mappings: SQS queues, DynamoDB streams and Kinesis streams read by a poller of the runner's,
as Lambda's mappings read them (``sqs_poller.py``, ``stream_poller.py``), every setting of the template that
changes delivery honoured: BatchSize, MaximumBatchingWindowInSeconds, FilterCriteria, FunctionResponseTypes,
for SQS ScalingConfig.MaximumConcurrency, and for streams StartingPosition, ParallelizationFactor,
TumblingWindowInSeconds, MaximumRecordAgeInSeconds, MaximumRetryAttempts, BisectBatchOnFunctionError and
DestinationConfig.OnFailure."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lambda_patterns.local.assembly import Resource
from lambda_patterns.local.filter_patterns import InvalidFilterPattern, parse_filters
from lambda_patterns.local.intrinsics import Scope, Unresolvable, resolve
from lambda_patterns.local.naming import last_part, queue_url, service_of
from lambda_patterns.local.pollers import PollerSettings
from lambda_patterns.local.registry import register_each
from lambda_patterns.local.sqs_poller import SqsMappingPoller
from lambda_patterns.local.stream_poller import StreamMappingPoller

if TYPE_CHECKING:
    from lambda_patterns.local.runner import LocalApp

log = logging.getLogger("lambda_patterns.local")


class InvalidMapping(ValueError):
    """A mapping property Lambda would refuse (``CreateEventSourceMapping`` answers
    InvalidParameterValueException)."""


def mapping_settings(
    props: dict[str, Any], service: str, on_failure: str | None = None, filters=None
) -> PollerSettings:
    """The poller settings of a mapping's template properties (``service``: sqs, dynamodb or kinesis).
    Raises ``InvalidMapping`` for what Lambda refuses: ParallelizationFactor outside 1 to 10, a
    MaximumRecordAgeInSeconds other than -1 below 60 or above 604,800, a tumbling window over 900 seconds or
    with a ParallelizationFactor above 1 (the window's state is kept per shard), a batching window over 300
    seconds, an SQS ScalingConfig MaximumConcurrency outside 2 to 1000.
    https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html"""
    stream = service != "sqs"
    parallelization = int(props.get("ParallelizationFactor", 1)) if stream else 1
    max_age = int(props.get("MaximumRecordAgeInSeconds", -1)) if stream else -1
    tumbling = int(props.get("TumblingWindowInSeconds", 0)) if stream else 0
    batching = float(props.get("MaximumBatchingWindowInSeconds", 0))
    if not 1 <= parallelization <= 10:
        raise InvalidMapping(f"ParallelizationFactor {parallelization} is not between 1 and 10")
    if max_age != -1 and not 60 <= max_age <= 604_800:
        raise InvalidMapping(f"MaximumRecordAgeInSeconds {max_age} is neither -1 nor between 60 and 604800")
    if not 0 <= tumbling <= 900:
        raise InvalidMapping(f"TumblingWindowInSeconds {tumbling} is not between 0 and 900")
    if tumbling and parallelization > 1:
        raise InvalidMapping(
            f"TumblingWindowInSeconds needs ParallelizationFactor 1 (got {parallelization}): "
            "a window's state is kept per shard"
        )
    if not 0 <= batching <= 300:
        raise InvalidMapping(f"MaximumBatchingWindowInSeconds {batching:g} is not between 0 and 300")
    scaling = (props.get("ScalingConfig") or {}).get("MaximumConcurrency") if not stream else None
    max_concurrency = None if scaling is None else int(scaling)
    if max_concurrency is not None and not 2 <= max_concurrency <= 1000:
        raise InvalidMapping(f"ScalingConfig MaximumConcurrency {max_concurrency} is not between 2 and 1000")
    return PollerSettings(
        batch_size=int(props.get("BatchSize", 10 if service == "sqs" else 100)),
        starting_position=str(props.get("StartingPosition", "TRIM_HORIZON")),
        report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
        max_retries=int(props.get("MaximumRetryAttempts", -1)),
        bisect=bool(props.get("BisectBatchOnFunctionError", False)),
        on_failure=on_failure,
        filters=list(filters or []),
        batching_window=batching,
        max_record_age=max_age,
        tumbling_window=tumbling,
        parallelization=parallelization,
        max_concurrency=max_concurrency,
    )


@register_each("AWS::Lambda::EventSourceMapping", order=40)
def add_mapping(app: LocalApp, resource: Resource, scope: Scope) -> None:
    """Starts the poller of an enabled mapping of a local function, or says why it is not run locally."""
    props = resource.properties
    where = resource.path
    try:
        worker = app.worker_for(props.get("FunctionName"), scope)
        source = str(resolve(props.get("EventSourceArn"), scope))
        on_failure = resolve(
            ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"), scope
        )
    except Unresolvable as error:
        app.skipped.append(f"{where}: {error}")
        return
    if worker is None:
        app.skipped.append(f"{where}: its function is not run locally")
        return
    if props.get("Enabled") is False:
        log.info("%s: disabled in the template", where)
        return
    try:
        filters = parse_filters(props.get("FilterCriteria"))
    except InvalidFilterPattern as error:
        app.skipped.append(f"{where}: FilterCriteria: {error}")
        return
    service = service_of(source)
    try:
        options = mapping_settings(props, service, on_failure, filters)
    except (InvalidMapping, TypeError, ValueError) as error:
        app.skipped.append(f"{where}: {error}")
        return
    if service == "sqs":
        app.add_poller(
            SqsMappingPoller(
                app.client("sqs"),
                queue_url(app.endpoint, last_part(source)),
                source,
                worker,
                options,
                interval=app.poll_interval,
                retry_visibility=app.retry_visibility,
            )
        )
    elif service in ("dynamodb", "kinesis"):
        client = app.client("dynamodbstreams" if service == "dynamodb" else "kinesis")
        app.add_poller(
            StreamMappingPoller(
                service, client, source, worker, options, app.deliver, interval=app.poll_interval
            )
        )
    else:
        app.skipped.append(
            f"{where}: event source {source} is not emulated (SQS, DynamoDB streams, Kinesis only)"
        )
        return
    log.info("trigger %s -> %s: %s", source, worker.spec.name, options.describe(stream=service != "sqs"))
