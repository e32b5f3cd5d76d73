"""Event source mappings: SQS queues, DynamoDB streams and Kinesis streams read by a poller of the runner's,
as Lambda's mappings read them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lambda_patterns.local.assembly import Resource
from lambda_patterns.local.filter_patterns import InvalidFilterPattern, parse_filters
from lambda_patterns.local.intrinsics import Scope, Unresolvable, resolve
from lambda_patterns.local.naming import last_part, queue_url, service_of
from lambda_patterns.local.pollers import PollerSettings, SqsMappingPoller, StreamMappingPoller
from lambda_patterns.local.registry import register_each

if TYPE_CHECKING:
    from lambda_patterns.local.runner import LocalApp

log = logging.getLogger("lambda_patterns.local")

#: Mapping properties the pollers do not honour (records are delivered as they are read).
NOT_EMULATED = ("TumblingWindowInSeconds", "MaximumRecordAgeInSeconds", "MaximumBatchingWindowInSeconds")


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
    for unsupported in NOT_EMULATED:
        if props.get(unsupported) not in (None, 0, -1):
            log.info("%s: %s is not emulated (records are delivered as they are read)", where, unsupported)
    service = service_of(source)
    options = PollerSettings(
        batch_size=int(props.get("BatchSize", 10 if service == "sqs" else 100)),
        starting_position=str(props.get("StartingPosition", "TRIM_HORIZON")),
        report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
        max_retries=int(props.get("MaximumRetryAttempts", -1)),
        bisect=bool(props.get("BisectBatchOnFunctionError", False)),
        on_failure=on_failure,
        filters=filters,
    )
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
    log.info("trigger %s -> %s", source, worker.spec.name)
