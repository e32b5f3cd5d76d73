"""``LocalApp``: the whole cloud assembly running on this machine (moto's server + worker processes).

``LocalApp`` keeps the life cycle (moto's server, workers, pollers, APIs), the clients and the lookups;
what each resource family does with its resources is in the family's ``wire_*`` module, found through the
registry (``registry.py``; ``docs/adding-a-trigger.md``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from lambda_patterns.local import registry
from lambda_patterns.local.api import ApiServer
from lambda_patterns.local.api_spec import HttpApiSpec, RestApiSpec
from lambda_patterns.local.assembly import Stack, read_assembly
from lambda_patterns.local.functions import (
    DEFAULT_CONCURRENCY,
    AsyncInvoker,
    FunctionSpec,
    FunctionWorker,
    Outcome,
)
from lambda_patterns.local.iam_report import FunctionIam, build_report, report_lines
from lambda_patterns.local.intrinsics import REGION, Scope, Unresolvable, resolve
from lambda_patterns.local.naming import (
    arn,
    internal_queue_name,
    lambda_arn,
    last_part,
    queue_url,
    service_of,
    unqualified,
)
from lambda_patterns.local.pollers import Poller, QueueFeeder
from lambda_patterns.local.provision import NOT_ENFORCED_PREFIXES, base_attributes
from lambda_patterns.local.reload import SourceWatcher
from lambda_patterns.local.services import call_service

log = logging.getLogger("lambda_patterns.local")

registry.load_families()

#: Types the runner creates or wires (the registry's keys, a live view); anything else (and not in
#: NOT_ENFORCED_PREFIXES, nor a custom resource) is reported skipped.
HANDLED_TYPES = registry.handled_types()

__all__ = ["HANDLED_TYPES", "LocalApp", "free_port", "internal_queue_name", "stack_names"]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    :param iam: check every AWS call a handler makes against its function's role as synthesized; an
        ungranted call fails with AWS's AccessDenied (``docs/local.md``). False: calls go unchecked.
    :param iam_report: where ``stop`` writes the least-privilege report as JSON (it is printed anyway).
    :param concurrency: how many invocations of a function without reserved concurrency run at the same
        time, each in its own worker process. A function's ``ReservedConcurrentExecutions`` replaces it.
        Default: 4.
    :param watch: replace a function's workers when its source folders change (hot reload; needs the
        asset metadata ``cdk synth`` writes). Default: False.
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
        iam: bool = True,
        iam_report: str | Path | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        watch: bool = False,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
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
        self._invokers_lock = threading.Lock()
        self._stopping = False
        self._pollers: list[Poller] = []
        self._schedules: dict[str, list[tuple[FunctionWorker, Any, str]]] = {}
        self._exports: dict[str, Any] = {}
        self._server: Any = None
        self._workdir: Path | None = None
        self._clients: dict[str, Any] = {}
        self._next_port = 0
        self.enforce_iam = iam
        self.iam_report_path = Path(iam_report) if iam_report else None
        self._iam: dict[str, FunctionIam] = {}
        self._iam_unchecked: dict[str, str] = {}
        self.concurrency = concurrency
        self.watch = watch
        self._watcher: SourceWatcher | None = None

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
        self._server.lambda_api.attach(self)  # Invoke, ListFunctions, GetFunction on the endpoint
        self.endpoint = f"http://127.0.0.1:{port}"
        try:
            # moto keeps its state per process: start from an empty account.
            self._reset_moto()
            self._workdir = Path(tempfile.mkdtemp(prefix="lambda-patterns-local-"))
            for stack in self.stacks:
                self._start_stack(stack)
            for poller in self._pollers:
                poller.start()
            if self.watch:
                self._watcher = SourceWatcher(list(self.workers.values()))
                self._watcher.start()
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
        """Stops every server, thread and worker process, and removes the task roots; invocations in flight
        end with the worker processes (they fail)."""
        if self._server is not None:
            self._server.lambda_api.detach()  # no invocation through the API restarts a stopped worker
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        for api in self.apis:
            with contextlib.suppress(Exception):
                api.stop()
        # Every thread is told first and the worker processes end next, so an invocation in flight fails
        # at once rather than holding stop() for up to its function's timeout; then the threads are joined.
        with self._invokers_lock:
            self._stopping = True  # a queue asked for from now on starts stopped
            invokers = list(self._invokers.values())
        for poller in self._pollers:
            poller.signal_stop()
        for invoker in invokers:
            invoker.signal_stop()
        for worker in self.workers.values():
            worker.stop()
        for poller in self._pollers:
            poller.stop()
        with self._invokers_lock:
            # Those a delivery asked for meanwhile (a failed event's Lambda destination).
            invokers = [invoker for invoker in self._invokers.values() if invoker not in invokers] + invokers
        for invoker in invokers:
            invoker.stop()
        if self._iam or self._iam_unchecked:
            self.print_iam_report()
        if self._server is not None:
            with contextlib.suppress(Exception):
                self._reset_moto()
            self._server.stop()
            self._server = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        self.apis, self._pollers, self._invokers = [], [], {}
        self._iam, self._iam_unchecked = {}, {}
        self._stopping = False

    def iam_report(self) -> dict[str, Any]:
        """The least-privilege report so far: per role, the actions granted, used, denied and granted but
        never used (``iam_report.build_report``)."""
        return build_report(self._iam.values(), self._iam_unchecked)

    def print_iam_report(self) -> dict[str, Any]:
        """Prints the report to the console (and writes it to ``iam_report``, if given); returns it."""
        report = self.iam_report()
        for line in report_lines(report):
            log.info("%s", line)
        if self.iam_report_path is not None:
            self.iam_report_path.parent.mkdir(parents=True, exist_ok=True)
            self.iam_report_path.write_text(json.dumps(report, indent=2) + "\n")
            log.info("IAM report written to %s", self.iam_report_path)
        return report

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

    def api_url(self, stack: str | None = None, route: str | None = None) -> str:
        """The base URL of the only REST API (of ``stack``, serving ``route`` such as ``/clicks``)."""
        urls = [
            api.url
            for api in self.apis
            if (stack is None or api.api.stack == stack)
            and (route is None or any(r.path == route for r in api.api.routes))
        ]
        if len(urls) != 1:
            raise LookupError(f"{len(urls)} REST APIs match stack {stack!r} and route {route!r}")
        return urls[0]

    def fire_schedule(self, rule: str) -> int:
        """Fires an EventBridge schedule now, by the rule's local name or a part of its construct path;
        returns how many targets were invoked."""
        fired = 0
        for name, targets in self._schedules.items():
            if rule in name:
                for worker, event, trigger in targets:
                    self.async_invoker(worker).submit(event, trigger)
                    fired += 1
        return fired

    def invoke(self, function_arn: str, event: Any, trigger: str) -> Outcome | None:
        """Synchronous invocation of the function with that ARN (qualifier ignored). Beyond the function's
        reserved concurrency, the outcome is Lambda's throttle (``TooManyRequestsException``)."""
        worker = self.local_worker(function_arn)
        return worker.invoke(event, trigger, throttle=True) if worker else None

    def deliver(self, destination: str, document: Any) -> None:
        """Sends a failure/success record or a dead-lettered event to an SQS, SNS or Lambda destination."""
        service = service_of(destination)
        body = json.dumps(document)
        worker = self.local_worker(destination) if service == "lambda" else None
        if service == "sqs":
            queue = queue_url(self.endpoint, last_part(destination))
            self.client("sqs").send_message(QueueUrl=queue, MessageBody=body)
        elif service == "sns":
            self.client("sns").publish(TopicArn=destination, Message=body)
        elif worker is not None:
            self.async_invoker(worker).submit(document, "destination")
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
            if self.enforce_iam and resource.type.startswith("AWS::IAM::"):
                continue  # read by the IAM check (iam_roles.py)
            if resource.type.startswith(NOT_ENFORCED_PREFIXES):
                not_enforced[resource.type] = not_enforced.get(resource.type, 0) + 1
            elif resource.type not in HANDLED_TYPES and not registry.is_custom_resource(resource.type):
                self.skipped.append(
                    f"{resource.type} {resource.path}: this resource type is not emulated locally"
                )
        if not_enforced:
            log.info(
                "%s: not enforced locally (%sresource policies, logging, deployment plumbing): %s",
                stack.name,
                "" if self.enforce_iam else "IAM, ",
                ", ".join(f"{count} {kind}" for kind, count in sorted(not_enforced.items())),
            )
        for wiring in registry.wirings():
            wiring.wire(self, stack, scope)
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

    # For the families' wirings ----------------------------------------------------------------------

    def local_worker(self, any_function_arn: str) -> FunctionWorker | None:
        """The worker of the function with that ARN (qualifier ignored), if it runs locally."""
        return self._by_arn.get(unqualified(any_function_arn))

    def worker_for(self, reference: Any, scope: Scope) -> FunctionWorker | None:
        """The worker of the function a template value names (its name or ARN), if it runs locally."""
        return self._by_arn.get(lambda_arn(str(resolve(reference, scope))))

    def add_worker(self, spec: FunctionSpec) -> FunctionWorker:
        """Prepares the worker of a function (its task root) and makes it addressable by name and ARN."""
        assert self._workdir is not None
        worker = FunctionWorker(spec, self.endpoint, self._workdir, self.concurrency)
        worker.prepare()
        self.workers[spec.name] = worker
        self._by_arn[spec.arn] = worker
        return worker

    def check_iam(self, worker: FunctionWorker, document: dict[str, Any] | None, why: str) -> None:
        """Makes the worker check its calls against ``document`` (``iam_roles.role_document``); with None,
        logs ``why`` its calls go unchecked."""
        assert self._workdir is not None
        if document is None:
            self._iam_unchecked[worker.spec.name] = why
            log.warning("IAM: %s: calls are not checked: %s", worker.spec.name, why)
            return
        worker.iam = FunctionIam(document, self._workdir / f"{worker.spec.name}.iam.json")
        self._iam[worker.spec.name] = worker.iam

    def async_invoker(self, worker: FunctionWorker) -> AsyncInvoker:
        """The function's event queue for asynchronous invocations (one per function). Thread-safe: the
        Invoke API's request threads may ask for a function's first queue at the same time."""
        with self._invokers_lock:
            if worker.spec.name not in self._invokers:
                invoker = AsyncInvoker(worker, self.deliver, self.retry_delay)
                if self._stopping:
                    invoker.signal_stop()  # the app is stopping: its events are not delivered
                self._invokers[worker.spec.name] = invoker
            return self._invokers[worker.spec.name]

    def add_poller(self, poller: Poller) -> None:
        """A background thread to start with the app (after every stack is wired) and stop with it."""
        self._pollers.append(poller)

    def internal_queue(self, purpose: str, *parts: str) -> tuple[str, str]:
        """Creates a queue of the runner's for a service's deliveries to a function: (URL, ARN)."""
        name = internal_queue_name(purpose, *parts)
        url = self.client("sqs").create_queue(QueueName=name)["QueueUrl"]
        return url, arn("sqs", name)

    def feed(self, url: str, worker: FunctionWorker, parse: Callable[[str], Any], label: str) -> None:
        """Invokes ``worker`` asynchronously with ``parse(body)`` of each message on the queue at ``url``."""
        sqs = self.client("sqs")
        self.add_poller(QueueFeeder(sqs, url, self.async_invoker(worker), parse, label, self.poll_interval))

    def add_schedule(self, key: str, targets: list[tuple[FunctionWorker, Any, str]]) -> None:
        """Targets ``fire_schedule`` invokes for a rule (``key``: construct path and local name)."""
        self._schedules[key] = targets

    def serve_api(self, spec: RestApiSpec | HttpApiSpec) -> None:
        """A REST or HTTP API to serve when the app starts, on the next port (or a free one)."""
        port = self._next_port
        if port:
            self._next_port += 1
        self.apis.append(ApiServer(spec, port, self.invoke, self._service_integration))

    def _service_integration(self, service: str, action: str, payload: str) -> tuple[int, str]:
        return call_service(self.client, service, action, payload)


def stack_names(stacks: Iterable[Stack]) -> list[str]:
    """Names of the stacks, for messages."""
    return [stack.name for stack in stacks]
