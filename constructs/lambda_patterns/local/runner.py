"""``LocalApp``: the whole cloud assembly running on this machine (moto's server + worker processes)."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import socket
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from lambda_patterns.local.api import (
    GATEWAY_ERRORS,
    ApiServer,
    GatewayResponse,
    IntegrationResponse,
    Method,
    RestApiSpec,
    Route,
    function_arn_of,
    resource_paths,
    service_action_of,
)
from lambda_patterns.local.assembly import Resource, Stack, code_folder, read_assembly
from lambda_patterns.local.events import parse_json, rate_seconds, scheduled_event
from lambda_patterns.local.functions import AsyncInvoker, FunctionSpec, FunctionWorker, Outcome
from lambda_patterns.local.intrinsics import REGION, Scope, Unresolvable, referenced_ids, resolve
from lambda_patterns.local.naming import arn, local_name, queue_url, service_of
from lambda_patterns.local.pollers import (
    Poller,
    QueueFeeder,
    Schedule,
    SqsMappingPoller,
    StreamMappingPoller,
    StreamOptions,
    s3_event_from_body,
    sns_event_from_body,
)
from lambda_patterns.local.provision import (
    NOT_ENFORCED_PREFIXES,
    Provisioner,
    alias_attributes,
    base_attributes,
)
from lambda_patterns.local.services import EMULATED_ACTIONS, call_service
from lambda_patterns.local.validation import BodyValidator, UnsupportedModel
from lambda_patterns.local.vtl import UnsupportedTemplate, compile_template

log = logging.getLogger("lambda_patterns.local")

#: Types the runner creates or wires; anything else (and not in NOT_ENFORCED_PREFIXES) is reported skipped.
HANDLED_TYPES = {
    "AWS::S3::Bucket",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    "AWS::Kinesis::Stream",
    "AWS::Lambda::Function",
    "AWS::Lambda::Alias",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Events::Rule",
    "AWS::ApiGateway::RestApi",
    "AWS::ApiGateway::Resource",
    "AWS::ApiGateway::Method",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::Model",
    "AWS::ApiGateway::RequestValidator",
    "AWS::ApiGateway::GatewayResponse",
    "Custom::S3BucketNotifications",
}


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def internal_queue_name(purpose: str, *parts: str) -> str:
    """Name of a queue the runner creates to receive a service's deliveries for a function."""
    return local_name("lp-local", f"{purpose}-{'-'.join(parts)}", "AWS::SQS::Queue", {})


class LocalApp:
    """Runs a cloud assembly locally. Use as a context manager, or call ``start()`` and ``stop()``.

    :param assembly: the cloud assembly folder (``cdk.out``).
    :param stacks: only these stacks (and those they depend on). Default: all.
    :param port_base: moto's server listens on this port and the REST APIs on the following ones.
        Default 0: free ports.
    :param schedule_scale: a ``rate(...)`` schedule fires this many times faster (60: a minute becomes a
        second). 0: schedules fire only through ``fire_schedule``.
    :param retry_delay: first wait between async retries, in seconds (Lambda waits a minute).
    :param retry_visibility: seconds before a failed SQS message is received again (instead of the queue's
        visibility timeout).
    """

    def __init__(
        self,
        assembly: str | Path = "cdk.out",
        stacks: Sequence[str] | None = None,
        port_base: int = 0,
        schedule_scale: float = 60.0,
        poll_interval: float = 0.2,
        retry_delay: float = 0.5,
        retry_visibility: int = 1,
    ) -> None:
        self.assembly = Path(assembly)
        self.stack_names = list(stacks or [])
        self.port_base = port_base
        self.schedule_scale = schedule_scale
        self.poll_interval = poll_interval
        self.retry_delay = retry_delay
        self.retry_visibility = retry_visibility
        self.endpoint = ""
        self.stacks: list[Stack] = []
        self.scopes: dict[str, Scope] = {}
        self.workers: dict[str, FunctionWorker] = {}
        self.apis: list[ApiServer] = []
        self.skipped: list[str] = []
        self._by_arn: dict[str, FunctionWorker] = {}
        self._invokers: dict[str, AsyncInvoker] = {}
        self._pollers: list[Poller] = []
        self._schedules: dict[str, list[tuple[FunctionWorker, Any, str]]] = {}
        self._exports: dict[str, Any] = {}
        self._server: Any = None
        self._workdir: Path | None = None
        self._clients: dict[str, Any] = {}
        self._next_port = 0

    # Life cycle -------------------------------------------------------------------------------------

    def __enter__(self) -> LocalApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalApp:
        """Reads the assembly, starts moto's server, creates the resources, workers, triggers and APIs."""
        from lambda_patterns.local.moto_server import SerializedMotoServer

        self.stacks = read_assembly(self.assembly, self.stack_names or None)
        # moto's server logs every request through werkzeug; the runner logs what matters itself.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        port = self.port_base or free_port()
        self._next_port = self.port_base + 1 if self.port_base else 0
        self._server = SerializedMotoServer(port=port)
        self._server.start()
        self.endpoint = f"http://127.0.0.1:{port}"
        try:
            # moto keeps its state per process: start from an empty account.
            self._reset_moto()
            self._workdir = Path(tempfile.mkdtemp(prefix="lambda-patterns-local-"))
            for stack in self.stacks:
                self._start_stack(stack)
            for poller in self._pollers:
                poller.start()
            for api in self.apis:
                api.start()
                log.info("REST API %s: %s", api.api.name, api.url)
            for message in self.skipped:
                log.warning("skipped: %s", message)
            log.info(
                "local app ready: moto at %s, %d functions, %d triggers, %d APIs",
                self.endpoint,
                len(self.workers),
                len(self._pollers),
                len(self.apis),
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stops every server, thread and worker process, and removes the task roots."""
        for api in self.apis:
            with contextlib.suppress(Exception):
                api.stop()
        for poller in self._pollers:
            poller.stop()
        for invoker in self._invokers.values():
            invoker.stop()
        for worker in self.workers.values():
            worker.stop()
        if self._server is not None:
            with contextlib.suppress(Exception):
                self._reset_moto()
            self._server.stop()
            self._server = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        self.apis, self._pollers, self._invokers = [], [], {}

    def _reset_moto(self) -> None:
        import urllib.request

        urllib.request.urlopen(
            urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"), timeout=10
        ).read()

    # Public helpers ---------------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        """A boto3 client of moto's server (fake credentials, us-east-1)."""
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,
                endpoint_url=self.endpoint,
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                aws_session_token="testing",
                config=Config(retries={"mode": "standard", "max_attempts": 3}),
            )
        return self._clients[service]

    def find(self, path: str, resource_type: str | None = None) -> dict[str, Any]:
        """Ref and attributes of the one resource whose construct path contains ``path`` (for example
        ``FileProcessingStack/Thumbnails/Source``), optionally of ``resource_type``."""
        matches = []
        for stack in self.stacks:
            for resource in stack.resources(*(resource_type,) if resource_type else ()):
                attributes = self.scopes[stack.name].attributes.get(resource.logical_id)
                if attributes and path in resource.path:
                    matches.append((resource.path, attributes))
        if len(matches) != 1:
            found = ", ".join(match[0] for match in matches) or "none"
            raise LookupError(f"{len(matches)} resources match {path!r}: {found}")
        return dict(matches[0][1])

    def api_url(self, stack: str | None = None) -> str:
        """The base URL of the only REST API (of ``stack``)."""
        urls = [api.url for api in self.apis if stack is None or api.api.stack == stack]
        if len(urls) != 1:
            raise LookupError(f"{len(urls)} REST APIs match stack {stack!r}")
        return urls[0]

    def fire_schedule(self, rule: str) -> int:
        """Fires an EventBridge schedule now, by the rule's local name or a part of its construct path;
        returns how many targets were invoked."""
        fired = 0
        for name, targets in self._schedules.items():
            if rule in name:
                for worker, event, trigger in targets:
                    self._async(worker).submit(event, trigger)
                    fired += 1
        return fired

    def invoke(self, function_arn: str, event: Any, trigger: str) -> Outcome | None:
        """Synchronous invocation of the function with that ARN (qualifier ignored)."""
        worker = self._by_arn.get(":".join(function_arn.split(":")[:7]))
        return worker.invoke(event, trigger) if worker else None

    def deliver(self, destination: str, document: Any) -> None:
        """Sends a failure/success record or a dead-lettered event to an SQS, SNS or Lambda destination."""
        service = service_of(destination)
        body = json.dumps(document)
        if service == "sqs":
            name = destination.rsplit(":", 1)[-1]
            self.client("sqs").send_message(QueueUrl=queue_url(self.endpoint, name), MessageBody=body)
        elif service == "sns":
            self.client("sns").publish(TopicArn=destination, Message=body)
        elif service == "lambda" and ":".join(destination.split(":")[:7]) in self._by_arn:
            self._async(self._by_arn[":".join(destination.split(":")[:7])]).submit(document, "destination")
        else:
            log.warning(
                "cannot deliver to %s locally (only SQS, SNS and local functions): %s",
                destination,
                body[:500],
            )

    # Stacks -----------------------------------------------------------------------------------------

    def _start_stack(self, stack: Stack) -> None:
        scope = Scope(stack=stack.name, exports=self._exports, parameters=stack.parameter_defaults())
        scope.attributes = {}
        self.scopes[stack.name] = scope
        not_enforced: dict[str, int] = {}
        for resource in stack.resources():
            attributes = base_attributes(resource, self.endpoint)
            if attributes is not None:
                scope.attributes[resource.logical_id] = attributes
            if resource.type.startswith(NOT_ENFORCED_PREFIXES):
                not_enforced[resource.type] = not_enforced.get(resource.type, 0) + 1
            elif resource.type not in HANDLED_TYPES and not self._is_custom_resource(resource):
                self.skipped.append(
                    f"{resource.type} {resource.path}: this resource type is not emulated locally"
                )
        for resource in stack.resources("AWS::Lambda::Alias", "AWS::Lambda::Version"):
            try:
                scope.attributes[resource.logical_id] = alias_attributes(resource, scope)
            except Unresolvable as error:
                self.skipped.append(f"{resource.path}: {error}")
        if not_enforced:
            log.info(
                "%s: not enforced locally (IAM, resource policies, logging, deployment plumbing): %s",
                stack.name,
                ", ".join(f"{count} {kind}" for kind, count in sorted(not_enforced.items())),
            )
        Provisioner({name: self.client(name) for name in ("s3", "sqs", "sns", "dynamodb", "kinesis")}).create(
            stack, scope
        )
        providers = self._custom_resource_providers(stack)
        for resource in stack.resources("AWS::Lambda::Function"):
            self._add_function(stack, resource, scope, providers)
        for resource in stack.resources("AWS::Lambda::EventSourceMapping"):
            self._add_mapping(resource, scope)
        for resource in stack.resources("Custom::S3BucketNotifications"):
            self._add_bucket_notifications(resource, scope, resource.properties.get("BucketName"))
        for resource in stack.resources("AWS::S3::Bucket"):
            if "NotificationConfiguration" in resource.properties:
                self._add_bucket_notifications(
                    resource, scope, {"Ref": resource.logical_id}, "NotificationConfiguration"
                )
        for resource in stack.resources("AWS::SNS::Subscription"):
            self._add_subscription(resource, scope, resource.properties)
        for resource in stack.resources("AWS::SNS::Topic"):
            for inline in resource.properties.get("Subscription", ()):
                self._add_subscription(resource, scope, {**inline, "TopicArn": {"Ref": resource.logical_id}})
        for resource in stack.resources("AWS::Events::Rule"):
            self._add_rule(resource, scope)
        for resource in stack.resources("AWS::ApiGateway::RestApi"):
            self._add_api(stack, resource, scope)
        for name, output in stack.template.get("Outputs", {}).items():
            export = output.get("Export", {}).get("Name")
            try:
                value = resolve(output.get("Value"), scope)
            except Unresolvable as error:
                log.info("%s output %s is not available locally: %s", stack.name, name, error)
                continue
            log.info("%s output %s = %s", stack.name, name, value)
            if export is not None:
                self._exports[resolve(export, scope)] = value

    @staticmethod
    def _is_custom_resource(resource: Resource) -> bool:
        return resource.type.startswith("Custom::") or resource.type == "AWS::CloudFormation::CustomResource"

    def _custom_resource_providers(self, stack: Stack) -> set[str]:
        providers: set[str] = set()
        for resource in stack.resources():
            if self._is_custom_resource(resource):
                providers |= referenced_ids(resource.properties.get("ServiceToken"))
        return providers

    # Functions --------------------------------------------------------------------------------------

    def _async(self, worker: FunctionWorker) -> AsyncInvoker:
        if worker.spec.name not in self._invokers:
            self._invokers[worker.spec.name] = AsyncInvoker(worker, self.deliver, self.retry_delay)
        return self._invokers[worker.spec.name]

    def _worker_for(self, reference: Any, scope: Scope) -> FunctionWorker | None:
        value = str(resolve(reference, scope))
        function_arn = (
            ":".join(value.split(":")[:7]) if value.startswith("arn:") else arn("lambda", f"function:{value}")
        )
        return self._by_arn.get(function_arn)

    def _add_function(self, stack: Stack, resource: Resource, scope: Scope, providers: set[str]) -> None:
        props = resource.properties
        where = resource.path
        if resource.logical_id in providers:
            log.info("%s: deploy-time custom resource handler, not run locally", where)
            return
        runtime = str(props.get("Runtime", ""))
        if props.get("PackageType") == "Image" or not runtime.startswith("python"):
            self.skipped.append(
                f"{where}: runtime {runtime or 'container image'} is not emulated (Python only)"
            )
            return
        folder = code_folder(stack, resource)
        inline = props.get("Code", {}).get("ZipFile")
        if folder is None and not isinstance(inline, str):
            self.skipped.append(f"{where}: its code is not in the assembly (no staged asset, no inline code)")
            return
        if props.get("Layers"):
            log.warning(
                "%s: layers are not emulated; code the handler imports from a layer will be missing", where
            )
        try:
            environment = {
                key: str(value)
                for key, value in resolve(
                    (props.get("Environment") or {}).get("Variables") or {}, scope
                ).items()
            }
        except Unresolvable as error:
            self.skipped.append(f"{where}: an environment variable cannot be resolved locally: {error}")
            return
        attributes = scope.attributes[resource.logical_id]
        invoke_config = self._invoke_config(stack, scope, attributes["Ref"])
        destinations = invoke_config.get("DestinationConfig") or {}
        try:
            on_failure = resolve((destinations.get("OnFailure") or {}).get("Destination"), scope)
            on_success = resolve((destinations.get("OnSuccess") or {}).get("Destination"), scope)
            dead_letter = resolve((props.get("DeadLetterConfig") or {}).get("TargetArn"), scope)
        except Unresolvable as error:
            self.skipped.append(f"{where}: a destination cannot be resolved locally: {error}")
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
        )
        assert self._workdir is not None
        worker = FunctionWorker(spec, self.endpoint, self._workdir)
        worker.prepare()
        self.workers[spec.name] = worker
        self._by_arn[spec.arn] = worker
        log.info(
            "function %s (%s, %s MB, %s, %s s)",
            spec.name,
            spec.handler,
            spec.memory_mb,
            spec.architecture,
            spec.timeout_s,
        )

    def _invoke_config(self, stack: Stack, scope: Scope, function_name: str) -> dict[str, Any]:
        for resource in stack.resources("AWS::Lambda::EventInvokeConfig"):
            try:
                if resolve(resource.properties.get("FunctionName"), scope) == function_name:
                    return dict(resource.properties)
            except Unresolvable:
                continue
        return {}

    # Triggers ---------------------------------------------------------------------------------------

    def _add_mapping(self, resource: Resource, scope: Scope) -> None:
        props = resource.properties
        where = resource.path
        try:
            worker = self._worker_for(props.get("FunctionName"), scope)
            source = str(resolve(props.get("EventSourceArn"), scope))
            on_failure = resolve(
                ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"), scope
            )
        except Unresolvable as error:
            self.skipped.append(f"{where}: {error}")
            return
        if worker is None:
            self.skipped.append(f"{where}: its function is not run locally")
            return
        if props.get("Enabled") is False:
            log.info("%s: disabled in the template", where)
            return
        if props.get("FilterCriteria"):
            self.skipped.append(
                f"{where}: event filtering (FilterCriteria) is not emulated, so the mapping is not run"
            )
            return
        for unsupported in (
            "TumblingWindowInSeconds",
            "MaximumRecordAgeInSeconds",
            "MaximumBatchingWindowInSeconds",
        ):
            if props.get(unsupported) not in (None, 0, -1):
                log.info(
                    "%s: %s is not emulated (records are delivered as they are read)", where, unsupported
                )
        report = "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or [])
        service = service_of(source)
        if service == "sqs":
            name = source.rsplit(":", 1)[-1]
            self._pollers.append(
                SqsMappingPoller(
                    self.client("sqs"),
                    queue_url(self.endpoint, name),
                    source,
                    worker,
                    int(props.get("BatchSize", 10)),
                    report,
                    interval=self.poll_interval,
                    retry_visibility=self.retry_visibility,
                )
            )
        elif service in ("dynamodb", "kinesis"):
            options = StreamOptions(
                batch_size=int(props.get("BatchSize", 100)),
                starting_position=str(props.get("StartingPosition", "TRIM_HORIZON")),
                report_failures=report,
                max_retries=int(props.get("MaximumRetryAttempts", -1)),
                bisect=bool(props.get("BisectBatchOnFunctionError", False)),
                on_failure=on_failure,
            )
            client = self.client("dynamodbstreams" if service == "dynamodb" else "kinesis")
            self._pollers.append(
                StreamMappingPoller(
                    service, client, source, worker, options, self.deliver, interval=self.poll_interval
                )
            )
        else:
            self.skipped.append(
                f"{where}: event source {source} is not emulated (SQS, DynamoDB streams, Kinesis only)"
            )
            return
        log.info("trigger %s -> %s", source, worker.spec.name)

    def _internal_queue(self, purpose: str, *parts: str) -> tuple[str, str]:
        name = internal_queue_name(purpose, *parts)
        url = self.client("sqs").create_queue(QueueName=name)["QueueUrl"]
        return url, arn("sqs", name)

    def _add_bucket_notifications(
        self, resource: Resource, scope: Scope, bucket_ref: Any, key: str = "NotificationConfiguration"
    ) -> None:
        where = resource.path
        try:
            bucket = resolve(bucket_ref, scope)
            config = resolve(resource.properties.get(key) or {}, scope)
        except Unresolvable as error:
            self.skipped.append(f"{where}: {error}")
            return
        request: dict[str, Any] = {}
        # moto's server delivers S3 notifications to SQS queues (and SNS topics) itself but cannot invoke a
        # function without Docker; so each function gets a queue of its own here, fed by moto, that the
        # runner reads and turns into async invocations. The events are S3's own, filters applied by moto.
        for entry in config.get("LambdaFunctionConfigurations", []):
            worker = self._worker_for(entry.get("LambdaFunctionArn") or entry.get("Function"), scope)
            if worker is None:
                self.skipped.append(
                    f"{where}: notifications to {entry.get('LambdaFunctionArn')} (function not run locally)"
                )
                continue
            url, queue_arn = self._internal_queue("s3", bucket, worker.spec.name)
            queue_entry = {"QueueArn": queue_arn, "Events": entry["Events"]}
            if entry.get("Filter"):
                queue_entry["Filter"] = _lowercase_rule_names(entry["Filter"])
            request.setdefault("QueueConfigurations", []).append(queue_entry)
            self._pollers.append(
                QueueFeeder(
                    self.client("sqs"),
                    url,
                    self._async(worker),
                    s3_event_from_body,
                    f"S3 {bucket}",
                    self.poll_interval,
                )
            )
            log.info("trigger S3 %s %s -> %s", bucket, ",".join(entry["Events"]), worker.spec.name)
        for kind, target in (("QueueConfigurations", "QueueArn"), ("TopicConfigurations", "TopicArn")):
            for entry in config.get(kind, []):
                passed = {
                    target: entry.get(target) or entry.get(target.replace("Arn", "")),
                    "Events": entry["Events"],
                }
                if entry.get("Filter"):
                    passed["Filter"] = _lowercase_rule_names(entry["Filter"])
                request.setdefault(kind, []).append(passed)
        if "EventBridgeConfiguration" in config:
            request["EventBridgeConfiguration"] = {}
        if request:
            self.client("s3").put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration=request
            )

    def _add_subscription(self, resource: Resource, scope: Scope, props: dict[str, Any]) -> None:
        where = resource.path
        try:
            protocol = resolve(props.get("Protocol"), scope)
            endpoint = str(resolve(props.get("Endpoint"), scope))
            topic = resolve(props.get("TopicArn"), scope)
        except Unresolvable as error:
            self.skipped.append(f"{where}: {error}")
            return
        attributes = {}
        for key in ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery"):
            if key in props:
                value = resolve(props[key], scope)
                attributes[key] = (
                    json.dumps(value)
                    if isinstance(value, dict)
                    else str(value).lower()
                    if isinstance(value, bool)
                    else str(value)
                )
        sns = self.client("sns")
        if protocol == "sqs":
            sns.subscribe(
                TopicArn=topic,
                Protocol="sqs",
                Endpoint=endpoint,
                Attributes=attributes,
                ReturnSubscriptionArn=True,
            )
            log.info("trigger SNS %s -> SQS %s", topic.rsplit(":", 1)[-1], endpoint.rsplit(":", 1)[-1])
        elif protocol == "lambda":
            worker = self._worker_for(endpoint, scope)
            if worker is None:
                self.skipped.append(f"{where}: subscription of {endpoint} (function not run locally)")
                return
            # moto's SNS would invoke the function through its Docker-based Lambda; an SQS subscriber of
            # the runner's receives the same envelope instead, which becomes the Lambda SNS event.
            attributes.pop("RawMessageDelivery", None)
            url, queue_arn = self._internal_queue("sns", topic.rsplit(":", 1)[-1], worker.spec.name)
            subscription = sns.subscribe(
                TopicArn=topic,
                Protocol="sqs",
                Endpoint=queue_arn,
                Attributes=attributes,
                ReturnSubscriptionArn=True,
            )["SubscriptionArn"]
            self._pollers.append(
                QueueFeeder(
                    self.client("sqs"),
                    url,
                    self._async(worker),
                    sns_event_from_body(subscription),
                    f"SNS {topic.rsplit(':', 1)[-1]}",
                    self.poll_interval,
                )
            )
            log.info("trigger SNS %s -> %s", topic.rsplit(":", 1)[-1], worker.spec.name)
        else:
            self.skipped.append(f"{where}: SNS protocol {protocol} is not emulated (lambda and sqs only)")

    def _add_rule(self, resource: Resource, scope: Scope) -> None:
        props = resource.properties
        where = resource.path
        if props.get("State", "ENABLED") != "ENABLED":
            log.info("%s: disabled in the template", where)
            return
        name = scope.attributes[resource.logical_id]["Ref"]
        rule_arn = scope.attributes[resource.logical_id]["Arn"]
        expression = props.get("ScheduleExpression")
        targets = []
        for target in props.get("Targets", []):
            try:
                target_arn = str(resolve(target.get("Arn"), scope))
            except Unresolvable as error:
                self.skipped.append(f"{where}: target {target.get('Id')}: {error}")
                continue
            worker = self._by_arn.get(":".join(target_arn.split(":")[:7]))
            if worker is None:
                self.skipped.append(f"{where}: target {target_arn} is not a local function; not emulated")
                continue
            if target.get("InputPath") or target.get("InputTransformer"):
                log.warning(
                    "%s: InputPath/InputTransformer are not emulated; the target gets the whole event", where
                )
            targets.append((worker, target))
        if expression:
            fired = []
            for worker, target in targets:
                event = parse_json(target["Input"]) if target.get("Input") else scheduled_event(rule_arn)
                fired.append((worker, event, f"schedule {expression}"))
            self._schedules[f"{resource.path} {name}"] = fired
            seconds = rate_seconds(expression)
            if seconds is None or self.schedule_scale <= 0:
                log.info("%s: %s fires on demand only (LocalApp.fire_schedule)", where, expression)
                return
            interval = seconds / self.schedule_scale
            self._pollers.append(Schedule(lambda rule=name: self.fire_schedule(rule), interval, name))
            log.info(
                "trigger schedule %s (every %.1f s locally) -> %s",
                expression,
                interval,
                ", ".join(w.spec.name for w, _ in targets),
            )
            return
        if "EventPattern" in props:
            events = self.client("events")
            bus = str(resolve(props.get("EventBusName", "default"), scope))
            bus_name = bus.rsplit("/", 1)[-1]
            if bus_name != "default":
                with contextlib.suppress(events.exceptions.ResourceAlreadyExistsException):
                    events.create_event_bus(Name=bus_name)
            events.put_rule(
                Name=name,
                EventPattern=json.dumps(resolve(props["EventPattern"], scope)),
                EventBusName=bus_name,
            )
            for worker, target in targets:
                url, queue_arn = self._internal_queue("events", name, worker.spec.name)
                events.put_targets(
                    Rule=name,
                    EventBusName=bus_name,
                    Targets=[{"Id": target.get("Id", "t"), "Arn": queue_arn}],
                )
                self._pollers.append(
                    QueueFeeder(
                        self.client("sqs"),
                        url,
                        self._async(worker),
                        json.loads,
                        f"EventBridge {name}",
                        self.poll_interval,
                    )
                )
                log.info("trigger EventBridge rule %s on bus %s -> %s", name, bus_name, worker.spec.name)

    def _add_api(self, stack: Stack, resource: Resource, scope: Scope) -> None:
        api_attributes = scope.attributes[resource.logical_id]
        api_id = api_attributes["Ref"]
        resources: dict[str, tuple[str, str]] = {}
        for item in stack.resources("AWS::ApiGateway::Resource"):
            if resolve(item.properties.get("RestApiId"), scope) != api_id:
                continue
            resources[scope.attributes[item.logical_id]["Ref"]] = (
                resolve(item.properties["ParentId"], scope),
                item.properties["PathPart"],
            )
        paths = resource_paths(api_attributes["RootResourceId"], resources)
        routes = {resource_id: Route(path) for resource_id, path in paths.items()}
        models, body_validators = self._api_models(stack, scope, api_id)
        unchecked: set[str] = set()
        for item in stack.resources("AWS::ApiGateway::Method"):
            props = item.properties
            try:
                if resolve(props.get("RestApiId"), scope) != api_id:
                    continue
                method = self._method(item, scope)
                if method is not None:
                    method.body_validator = self._body_validator(item, scope, models, body_validators)
            except (Unresolvable, UnsupportedModel) as error:
                self.skipped.append(f"{item.path}: {error}")
                continue
            if method is None:
                continue
            if method.authorization not in ("NONE", None):
                unchecked.add(method.authorization)
            routes[resolve(props["ResourceId"], scope)].methods[method.http_method] = method
        stage = "prod"
        for item in stack.resources("AWS::ApiGateway::Stage"):
            if resolve(item.properties.get("RestApiId"), scope) == api_id:
                stage = item.properties.get("StageName", stage)
        spec = RestApiSpec(
            stack=stack.name,
            logical_id=resource.logical_id,
            api_id=api_id,
            name=resource.path.removesuffix("/Resource"),
            stage=stage,
            routes=[route for route in routes.values() if route.methods],
            binary_media_types=list(resource.properties.get("BinaryMediaTypes") or []),
            gateway_responses=self._gateway_responses(stack, scope, api_id),
        )
        if unchecked:
            log.warning(
                "%s: %s authorization cannot be checked locally: requests pass through unauthenticated",
                resource.path,
                " and ".join(sorted(unchecked)),
            )
        port = self._next_port
        if port:
            self._next_port += 1
        self.apis.append(ApiServer(spec, port, self.invoke, self._service_integration))

    def _gateway_responses(self, stack: Stack, scope: Scope, api_id: str) -> dict[str, GatewayResponse]:
        """The API's gateway responses the runner applies (to the errors it answers itself)."""
        applied = {*GATEWAY_ERRORS, "DEFAULT_4XX"}
        found: dict[str, GatewayResponse] = {}
        for item in stack.resources("AWS::ApiGateway::GatewayResponse"):
            props = item.properties
            if resolve(props.get("RestApiId"), scope) != api_id:
                continue
            kind = str(props.get("ResponseType"))
            if kind not in applied:
                log.info("%s: gateway response %s is not applied locally", item.path, kind)
                continue
            try:
                templates = {
                    media.lower(): compile_template(str(text))
                    for media, text in resolve(props.get("ResponseTemplates") or {}, scope).items()
                }
            except UnsupportedTemplate as error:
                self.skipped.append(
                    f"{item.path}: gateway response {kind} (API Gateway's default used): {error}"
                )
                continue
            found[kind] = GatewayResponse(
                status=int(props["StatusCode"]) if props.get("StatusCode") else None,
                templates=templates,
                headers={
                    key.rsplit(".", 1)[-1]: value.strip("'")
                    for key, value in (props.get("ResponseParameters") or {}).items()
                    if key.startswith("gatewayresponse.header.")
                    and isinstance(value, str)
                    and value.startswith("'")
                },
            )
        return found

    def _api_models(
        self, stack: Stack, scope: Scope, api_id: str
    ) -> tuple[dict[str, Any], dict[str, tuple[bool, bool]]]:
        """The API's model schemas by name, and its request validators: id -> (bodies, parameters)."""
        models: dict[str, Any] = {}
        for item in stack.resources("AWS::ApiGateway::Model"):
            if resolve(item.properties.get("RestApiId"), scope) == api_id:
                models[scope.attributes[item.logical_id]["Ref"]] = resolve(
                    item.properties.get("Schema"), scope
                )
        validators: dict[str, tuple[bool, bool]] = {}
        for item in stack.resources("AWS::ApiGateway::RequestValidator"):
            if resolve(item.properties.get("RestApiId"), scope) == api_id:
                validators[scope.attributes[item.logical_id]["Ref"]] = (
                    bool(item.properties.get("ValidateRequestBody")),
                    bool(item.properties.get("ValidateRequestParameters")),
                )
        return models, validators

    def _body_validator(
        self,
        item: Resource,
        scope: Scope,
        models: dict[str, Any],
        validators: dict[str, tuple[bool, bool]],
    ) -> BodyValidator | None:
        """What checks the method's bodies: its models, when its request validator validates bodies."""
        props = item.properties
        validator_id = props.get("RequestValidatorId")
        bodies, parameters = (
            validators.get(resolve(validator_id, scope), (False, False)) if validator_id else (False, False)
        )
        if parameters and any(props.get("RequestParameters", {}).values()):
            log.warning("%s: required request parameters are not checked locally", item.path)
        request_models = resolve(props.get("RequestModels") or {}, scope)
        if not bodies or not request_models:
            return None
        schemas = {}
        for kind, name in request_models.items():
            if name == "Empty" or name not in models:
                continue  # API Gateway's built-in Empty model accepts anything.
            schemas[kind] = models[name]
        if not schemas:
            return None
        try:
            return BodyValidator(schemas)
        except ImportError:
            log.warning(
                "%s: request bodies are NOT validated: jsonschema is not installed (a development dependency; "
                "pip install -r requirements-dev.txt)",
                item.path,
            )
            return None

    def _method(self, item: Resource, scope: Scope) -> Method | None:
        props = item.properties
        integration = props.get("Integration") or {}
        kind = integration.get("Type", "")
        http_method = props.get("HttpMethod", "ANY")
        authorization = props.get("AuthorizationType", "NONE")
        if kind == "AWS_PROXY":
            uri = str(resolve(integration.get("Uri"), scope))
            function_arn = function_arn_of(uri)
            if function_arn is None or function_arn not in self._by_arn:
                self.skipped.append(f"{item.path}: integration {uri} does not invoke a local function")
                return None
            return Method(http_method, kind, authorization, function_arn=function_arn)
        if kind == "MOCK":
            responses = integration.get("IntegrationResponses") or [{}]
            headers = {}
            for key, value in (responses[0].get("ResponseParameters") or {}).items():
                if key.startswith("method.response.header.") and isinstance(value, str):
                    headers[key.rsplit(".", 1)[-1]] = value.strip("'")
            return Method(
                http_method,
                kind,
                authorization,
                mock_status=int(responses[0].get("StatusCode", 200)),
                mock_headers=headers,
            )
        if kind == "AWS":
            return self._service_method(item, scope, integration, http_method, authorization)
        self.skipped.append(f"{item.path}: integration type {kind or 'none'} is not emulated")
        return None

    def _service_method(
        self, item: Resource, scope: Scope, integration: dict[str, Any], http_method: str, authorization: str
    ) -> Method | None:
        """An AWS service integration the runner performs (Kinesis PutRecord/PutRecords), its templates in
        the VTL subset of ``vtl``; anything else is skipped, named."""
        uri = str(resolve(integration.get("Uri"), scope))
        found = service_action_of(uri)
        if found is None or found not in EMULATED_ACTIONS:
            emulated = ", ".join(f"{service}:{action}" for service, action in sorted(EMULATED_ACTIONS))
            self.skipped.append(
                f"{item.path}: AWS service integration {uri} is not emulated (only {emulated})"
            )
            return None
        try:
            templates = {
                kind.lower(): compile_template(str(text))
                for kind, text in resolve(integration.get("RequestTemplates") or {}, scope).items()
            }
            responses = [
                IntegrationResponse(
                    status=int(entry.get("StatusCode", 200)),
                    pattern=entry.get("SelectionPattern") or None,
                    templates={
                        kind.lower(): compile_template(str(text))
                        for kind, text in resolve(entry.get("ResponseTemplates") or {}, scope).items()
                    },
                    headers={
                        key.rsplit(".", 1)[-1]: value.strip("'")
                        for key, value in (entry.get("ResponseParameters") or {}).items()
                        if key.startswith("method.response.header.")
                        and isinstance(value, str)
                        and value.startswith("'")
                    },
                )
                for entry in integration.get("IntegrationResponses") or []
            ]
        except UnsupportedTemplate as error:
            self.skipped.append(
                f"{item.path}: the mapping template of {found[0]}:{found[1]} uses VTL outside the emulated "
                f"subset: {error}"
            )
            return None
        log.info("%s: AWS service integration %s:%s emulated on moto", item.path, *found)
        return Method(
            http_method,
            "AWS",
            authorization,
            service=found[0],
            action=found[1],
            request_templates=templates,
            passthrough=str(integration.get("PassthroughBehavior", "WHEN_NO_MATCH")),
            responses=responses,
        )

    def _service_integration(self, service: str, action: str, payload: str) -> tuple[int, str]:
        return call_service(self.client, service, action, payload)


def _lowercase_rule_names(filter_config: dict[str, Any]) -> dict[str, Any]:
    # S3 accepts Prefix/prefix alike; moto's server matches only the lowercase names.
    rules = filter_config.get("Key", {}).get("FilterRules", [])
    return {
        "Key": {"FilterRules": [{"Name": rule["Name"].lower(), "Value": rule["Value"]} for rule in rules]}
    }


def stack_names(stacks: Iterable[Stack]) -> list[str]:
    """Names of the stacks, for messages."""
    return [stack.name for stack in stacks]
