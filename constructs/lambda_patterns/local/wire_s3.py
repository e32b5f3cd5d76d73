"""S3 notifications: CDK's ``Custom::S3BucketNotifications`` and a bucket's own
``NotificationConfiguration``, put on moto's buckets with a queue of the runner's per function."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lambda_patterns.local.assembly import Resource, Stack
from lambda_patterns.local.intrinsics import Scope, Unresolvable, resolve
from lambda_patterns.local.pollers import s3_event_from_body
from lambda_patterns.local.registry import register

if TYPE_CHECKING:
    from lambda_patterns.local.runner import LocalApp

log = logging.getLogger("lambda_patterns.local")


@register("Custom::S3BucketNotifications", order=50)
def wire_s3(app: LocalApp, stack: Stack, scope: Scope) -> None:
    """The notifications of CDK's custom resource, then those buckets declare themselves (buckets are the
    resources family's; only their ``NotificationConfiguration`` is read here)."""
    for resource in stack.resources("Custom::S3BucketNotifications"):
        add_bucket_notifications(app, resource, scope, resource.properties.get("BucketName"))
    for resource in stack.resources("AWS::S3::Bucket"):
        if "NotificationConfiguration" in resource.properties:
            add_bucket_notifications(app, resource, scope, {"Ref": resource.logical_id})


def add_bucket_notifications(app: LocalApp, resource: Resource, scope: Scope, bucket_ref: Any) -> None:
    """Puts the resource's ``NotificationConfiguration`` on the bucket ``bucket_ref`` names."""
    where = resource.path
    try:
        bucket = resolve(bucket_ref, scope)
        config = resolve(resource.properties.get("NotificationConfiguration") or {}, scope)
    except Unresolvable as error:
        app.skipped.append(f"{where}: {error}")
        return
    request: dict[str, Any] = {}
    # moto's server delivers S3 notifications to SQS queues (and SNS topics) itself but cannot invoke a
    # function without Docker; so each function gets a queue of its own here, fed by moto, that the
    # runner reads and turns into async invocations. The events are S3's own, filters applied by moto.
    for entry in config.get("LambdaFunctionConfigurations", []):
        worker = app.worker_for(entry.get("LambdaFunctionArn") or entry.get("Function"), scope)
        if worker is None:
            app.skipped.append(
                f"{where}: notifications to {entry.get('LambdaFunctionArn')} (function not run locally)"
            )
            continue
        url, queue_arn = app.internal_queue("s3", bucket, worker.spec.name)
        queue_entry = {"QueueArn": queue_arn, "Events": entry["Events"]}
        if entry.get("Filter"):
            queue_entry["Filter"] = lowercase_rule_names(entry["Filter"])
        request.setdefault("QueueConfigurations", []).append(queue_entry)
        app.feed(url, worker, s3_event_from_body, f"S3 {bucket}")
        log.info("trigger S3 %s %s -> %s", bucket, ",".join(entry["Events"]), worker.spec.name)
    for kind, target in (("QueueConfigurations", "QueueArn"), ("TopicConfigurations", "TopicArn")):
        for entry in config.get(kind, []):
            passed = {
                target: entry.get(target) or entry.get(target.replace("Arn", "")),
                "Events": entry["Events"],
            }
            if entry.get("Filter"):
                passed["Filter"] = lowercase_rule_names(entry["Filter"])
            request.setdefault(kind, []).append(passed)
    if "EventBridgeConfiguration" in config:
        request["EventBridgeConfiguration"] = {}
    if request:
        app.client("s3").put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=request
        )


def lowercase_rule_names(filter_config: dict[str, Any]) -> dict[str, Any]:
    """The filter with its rule names lowercased: S3 accepts Prefix/prefix alike, moto's server matches only
    the lowercase names."""
    rules = filter_config.get("Key", {}).get("FilterRules", [])
    return {
        "Key": {"FilterRules": [{"Name": rule["Name"].lower(), "Value": rule["Value"]} for rule in rules]}
    }
