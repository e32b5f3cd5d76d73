"""Functions: each Python ``AWS::Lambda::Function`` becomes a warm worker process; aliases resolve to it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lambda_patterns.local.assembly import Resource, Stack, code_folder, source_folders
from lambda_patterns.local.functions import FunctionSpec
from lambda_patterns.local.iam_roles import role_document
from lambda_patterns.local.intrinsics import Scope, Unresolvable, referenced_ids, resolve
from lambda_patterns.local.provision import alias_attributes
from lambda_patterns.local.registry import is_custom_resource, register

if TYPE_CHECKING:
    from lambda_patterns.local.runner import LocalApp

log = logging.getLogger("lambda_patterns.local")


@register("AWS::Lambda::Alias", order=10)
def wire_aliases(app: LocalApp, stack: Stack, scope: Scope) -> None:
    """The attributes of aliases and versions (the function's ARN plus the qualifier), before anything
    resolves them."""
    for resource in stack.resources("AWS::Lambda::Alias", "AWS::Lambda::Version"):
        try:
            scope.attributes[resource.logical_id] = alias_attributes(resource, scope)
        except Unresolvable as error:
            app.skipped.append(f"{resource.path}: {error}")


@register("AWS::Lambda::Function", order=30)
def wire_functions(app: LocalApp, stack: Stack, scope: Scope) -> None:
    """A worker for every Python function of the stack, except deploy-time custom resource handlers."""
    providers = custom_resource_providers(stack)
    for resource in stack.resources("AWS::Lambda::Function"):
        add_function(app, stack, resource, scope, providers)


def custom_resource_providers(stack: Stack) -> set[str]:
    """Logical ids the stack's custom resources name as their ``ServiceToken``."""
    providers: set[str] = set()
    for resource in stack.resources():
        if is_custom_resource(resource.type):
            providers |= referenced_ids(resource.properties.get("ServiceToken"))
    return providers


def add_function(app: LocalApp, stack: Stack, resource: Resource, scope: Scope, providers: set[str]) -> None:
    """Starts the function's worker, or says why it is not run locally."""
    props = resource.properties
    where = resource.path
    if resource.logical_id in providers:
        log.info("%s: deploy-time custom resource handler, not run locally", where)
        return
    runtime = str(props.get("Runtime", ""))
    if props.get("PackageType") == "Image" or not runtime.startswith("python"):
        app.skipped.append(f"{where}: runtime {runtime or 'container image'} is not emulated (Python only)")
        return
    folder = code_folder(stack, resource)
    inline = props.get("Code", {}).get("ZipFile")
    if folder is None and not isinstance(inline, str):
        app.skipped.append(f"{where}: its code is not in the assembly (no staged asset, no inline code)")
        return
    if props.get("Layers"):
        log.warning(
            "%s: layers are not emulated; code the handler imports from a layer will be missing", where
        )
    try:
        environment = {
            key: str(value)
            for key, value in resolve((props.get("Environment") or {}).get("Variables") or {}, scope).items()
        }
    except Unresolvable as error:
        app.skipped.append(f"{where}: an environment variable cannot be resolved locally: {error}")
        return
    attributes = scope.attributes[resource.logical_id]
    invoke_config = _invoke_config(stack, scope, attributes["Ref"])
    destinations = invoke_config.get("DestinationConfig") or {}
    try:
        on_failure = resolve((destinations.get("OnFailure") or {}).get("Destination"), scope)
        on_success = resolve((destinations.get("OnSuccess") or {}).get("Destination"), scope)
        dead_letter = resolve((props.get("DeadLetterConfig") or {}).get("TargetArn"), scope)
    except Unresolvable as error:
        app.skipped.append(f"{where}: a destination cannot be resolved locally: {error}")
        on_failure = on_success = dead_letter = None
    architectures = props.get("Architectures") or ["x86_64"]
    spec = FunctionSpec(
        stack=stack.name,
        logical_id=resource.logical_id,
        path=where,
        name=attributes["Ref"],
        arn=attributes["Arn"],
        handler=str(props.get("Handler", "index.handler")),
        runtime=runtime,
        memory_mb=int(props.get("MemorySize", 128)),
        timeout_s=float(props.get("Timeout", 3)),
        architecture=architectures[0],
        environment=environment,
        code_folder=folder,
        inline_code=inline if folder is None else None,
        retry_attempts=int(invoke_config.get("MaximumRetryAttempts", 2)),
        on_failure=on_failure,
        on_success=on_success,
        dead_letter=dead_letter,
        reserved_concurrency=_reserved_concurrency(props.get("ReservedConcurrentExecutions"), scope),
        source=source_folders(stack, resource) if folder is not None else None,
    )
    worker = app.add_worker(spec)
    if app.enforce_iam:
        extra = (spec.on_failure, spec.on_success, spec.dead_letter)
        document, why = role_document(stack, resource, scope, spec.name, extra)
        app.check_iam(worker, document, why)
    log.info(
        "function %s (%s, %s MB, %s, %s s, up to %d at once)",
        spec.name,
        spec.handler,
        spec.memory_mb,
        spec.architecture,
        spec.timeout_s,
        worker.concurrency,
    )


def _reserved_concurrency(value: Any, scope: Scope) -> int | None:
    if value is None:
        return None
    try:
        return int(resolve(value, scope))
    except (Unresolvable, TypeError, ValueError):
        return None


def _invoke_config(stack: Stack, scope: Scope, function_name: str) -> dict[str, Any]:
    for resource in stack.resources("AWS::Lambda::EventInvokeConfig"):
        try:
            if resolve(resource.properties.get("FunctionName"), scope) == function_name:
                return dict(resource.properties)
        except Unresolvable:
            continue
    return {}
