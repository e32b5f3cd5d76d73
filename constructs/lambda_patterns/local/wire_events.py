"""EventBridge rules: schedules fire on a timer of the runner's (or on demand), event patterns are rules on
moto's bus with a queue of the runner's as target."""

from __future__ import annotations

import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any

from lambda_patterns.local.assembly import Resource
from lambda_patterns.local.events import parse_json, rate_seconds, scheduled_event
from lambda_patterns.local.functions import FunctionWorker
from lambda_patterns.local.intrinsics import Scope, Unresolvable, resolve
from lambda_patterns.local.pollers import Schedule
from lambda_patterns.local.registry import register_each

if TYPE_CHECKING:
    from lambda_patterns.local.runner import LocalApp

log = logging.getLogger("lambda_patterns.local")

Target = tuple[FunctionWorker, Any]


@register_each("AWS::Events::Rule", order=70)
def add_rule(app: LocalApp, resource: Resource, scope: Scope) -> None:
    """Wires the local targets of an enabled rule to its schedule or its event pattern."""
    props = resource.properties
    where = resource.path
    if props.get("State", "ENABLED") != "ENABLED":
        log.info("%s: disabled in the template", where)
        return
    targets = _targets(app, resource, scope)
    if props.get("ScheduleExpression"):
        _add_schedule(app, resource, scope, targets)
    elif "EventPattern" in props:
        _add_pattern(app, resource, scope, targets)


def _targets(app: LocalApp, resource: Resource, scope: Scope) -> list[Target]:
    """The rule's targets that are local functions; the others are reported skipped."""
    where = resource.path
    targets = []
    for target in resource.properties.get("Targets", []):
        try:
            target_arn = str(resolve(target.get("Arn"), scope))
        except Unresolvable as error:
            app.skipped.append(f"{where}: target {target.get('Id')}: {error}")
            continue
        worker = app.local_worker(target_arn)
        if worker is None:
            app.skipped.append(f"{where}: target {target_arn} is not a local function; not emulated")
            continue
        if target.get("InputPath") or target.get("InputTransformer"):
            log.warning(
                "%s: InputPath/InputTransformer are not emulated; the target gets the whole event", where
            )
        targets.append((worker, target))
    return targets


def _add_schedule(app: LocalApp, resource: Resource, scope: Scope, targets: list[Target]) -> None:
    """A ``rate(...)`` schedule fires on a timer at the app's scale; any schedule fires on demand."""
    name = scope.attributes[resource.logical_id]["Ref"]
    rule_arn = scope.attributes[resource.logical_id]["Arn"]
    expression = resource.properties["ScheduleExpression"]
    fired = []
    for worker, target in targets:
        event = parse_json(target["Input"]) if target.get("Input") else scheduled_event(rule_arn)
        fired.append((worker, event, f"schedule {expression}"))
    app.add_schedule(f"{resource.path} {name}", fired)
    seconds = rate_seconds(expression)
    if seconds is None or app.schedule_scale <= 0:
        log.info("%s: %s fires on demand only (LocalApp.fire_schedule)", resource.path, expression)
        return
    interval = seconds / app.schedule_scale
    app.add_poller(Schedule(lambda rule=name: app.fire_schedule(rule), interval, name))
    log.info(
        "trigger schedule %s (every %.1f s locally) -> %s",
        expression,
        interval,
        ", ".join(worker.spec.name for worker, _ in targets),
    )


def _add_pattern(app: LocalApp, resource: Resource, scope: Scope, targets: list[Target]) -> None:
    """The rule on moto's bus (created unless it is the default one), a queue of the runner's per target."""
    props = resource.properties
    name = scope.attributes[resource.logical_id]["Ref"]
    events = app.client("events")
    bus = str(resolve(props.get("EventBusName", "default"), scope))
    bus_name = bus.rsplit("/", 1)[-1]
    if bus_name != "default":
        with contextlib.suppress(events.exceptions.ResourceAlreadyExistsException):
            events.create_event_bus(Name=bus_name)
    events.put_rule(
        Name=name, EventPattern=json.dumps(resolve(props["EventPattern"], scope)), EventBusName=bus_name
    )
    for worker, target in targets:
        url, queue_arn = app.internal_queue("events", name, worker.spec.name)
        events.put_targets(
            Rule=name, EventBusName=bus_name, Targets=[{"Id": target.get("Id", "t"), "Arn": queue_arn}]
        )
        app.feed(url, worker, json.loads, f"EventBridge {name}")
        log.info("trigger EventBridge rule %s on bus %s -> %s", name, bus_name, worker.spec.name)
