"""SNS subscriptions: ``AWS::SNS::Subscription`` and a topic's inline ``Subscription`` list; SQS subscribers
as they are, Lambda subscribers through a queue of the runner's."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lambda_patterns.local.assembly import Resource, Stack
from lambda_patterns.local.intrinsics import Scope, Unresolvable, resolve
from lambda_patterns.local.naming import last_part
from lambda_patterns.local.pollers import sns_event_from_body
from lambda_patterns.local.registry import register

if TYPE_CHECKING:
    from lambda_patterns.local.runner import LocalApp

log = logging.getLogger("lambda_patterns.local")

#: Subscription properties passed to moto as subscription attributes.
ATTRIBUTES = ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery")


@register("AWS::SNS::Subscription", order=60)
def wire_sns(app: LocalApp, stack: Stack, scope: Scope) -> None:
    """The stack's subscriptions, then the inline ones of its topics (topics are the resources family's)."""
    for resource in stack.resources("AWS::SNS::Subscription"):
        add_subscription(app, resource, scope, resource.properties)
    for resource in stack.resources("AWS::SNS::Topic"):
        for inline in resource.properties.get("Subscription", ()):
            add_subscription(app, resource, scope, {**inline, "TopicArn": {"Ref": resource.logical_id}})


def add_subscription(app: LocalApp, resource: Resource, scope: Scope, props: Mapping[str, Any]) -> None:
    """Subscribes the endpoint ``props`` declare, or says why it is not run locally."""
    where = resource.path
    try:
        protocol = resolve(props.get("Protocol"), scope)
        endpoint = str(resolve(props.get("Endpoint"), scope))
        topic = resolve(props.get("TopicArn"), scope)
    except Unresolvable as error:
        app.skipped.append(f"{where}: {error}")
        return
    attributes = {key: _attribute(resolve(props[key], scope)) for key in ATTRIBUTES if key in props}
    sns = app.client("sns")
    if protocol == "sqs":
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=endpoint,
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )
        log.info("trigger SNS %s -> SQS %s", last_part(topic), last_part(endpoint))
    elif protocol == "lambda":
        worker = app.worker_for(endpoint, scope)
        if worker is None:
            app.skipped.append(f"{where}: subscription of {endpoint} (function not run locally)")
            return
        # moto's SNS would invoke the function through its Docker-based Lambda; an SQS subscriber of
        # the runner's receives the same envelope instead, which becomes the Lambda SNS event.
        attributes.pop("RawMessageDelivery", None)
        url, queue_arn = app.internal_queue("sns", last_part(topic), worker.spec.name)
        subscription = sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        app.feed(url, worker, sns_event_from_body(subscription), f"SNS {last_part(topic)}")
        log.info("trigger SNS %s -> %s", last_part(topic), worker.spec.name)
    else:
        app.skipped.append(f"{where}: SNS protocol {protocol} is not emulated (lambda and sqs only)")


def _attribute(value: Any) -> str:
    """A subscription attribute as SNS takes it: JSON for a policy, ``true``/``false``, else text."""
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value).lower() if isinstance(value, bool) else str(value)
