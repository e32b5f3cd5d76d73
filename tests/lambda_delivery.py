"""A simulator of how Lambda's event source mappings deliver records to a function, with fault injection.

Unit tests call a handler with one hand-made event. Lambda does more: it re-delivers, bisects, resumes from
a checkpoint, runs shards side by side and, for SQS, hands the same message out twice. Exactly-once claims
are only tested when the handler is driven like that, so this module plays Lambda's poller:

- ``StreamMapping``: a Kinesis or DynamoDB Streams event source mapping (ParallelizationFactor 1).
- ``SqsMapping``: an SQS event source mapping over an in-memory queue (visibility timeout, receive counts,
  redrive to a dead-letter queue, duplicate deliveries, lost deletes).
- ``FaultPlan`` / ``FaultInjector``: errors and crashes injected between any two AWS calls a handler makes.

What is simulated and what is real. The delivery semantics (the poller, the queue, checkpoints) are
simulated in memory, as Lambda's poller is not something moto offers. The handler's own AWS calls are real
calls to moto's server, so what a handler writes is what DynamoDB/SQS (as moto implements them) stored.

The behaviour follows AWS's documentation; each rule below cites the page it comes from:

[KIN-ERR]  https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
           (and services-dynamodb-errors / with-ddb for DynamoDB Streams, which say the same)
[KIN-PBR]  https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html
           https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html
[WINDOWS]  https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html (and -kinesis-windows)
[SQS-ERR]  https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
[SQS-VIS]  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html
[SQS-ALO]  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/standard-queues-at-least-once-delivery.html
[SQS-DLQ]  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html

Everything is bounded: each ``run()`` stops after ``max_invocations`` invocations and then reports
``exhausted`` (a handler that can never succeed on some record would otherwise stall a shard until the
record expires, which is what Lambda really does with MaximumRetryAttempts -1).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import random
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.client import BaseClient

from conftest import LambdaContext

REGION = "us-east-1"
ACCOUNT = "123456789012"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:simulated"


# --------------------------------------------------------------------------------------------------------
# Fault injection
# --------------------------------------------------------------------------------------------------------


class SimulatedCrash(BaseException):
    """The execution environment died (out of memory, timeout, a kill): raised from an ``after-call`` hook,
    so the AWS call it follows DID take effect, yet the invocation fails.

    A BaseException, so that no ``except Exception`` in a handler can swallow it, just as no handler code
    runs after a real crash. Once an environment has crashed, every further AWS call of that invocation
    (on any of the handler's threads) raises it too, before reaching the network: the process is gone.
    """


#: throttle: ProvisionedThroughputExceededException / ThrottlingException (HTTP 400);
#: server_error: InternalServerError (HTTP 500); crash: SimulatedCrash after the call succeeded.
FAULT_KINDS = ("throttle", "server_error", "crash")


@dataclass(frozen=True)
class InjectedFault:
    """One fault the injector caused."""

    lane: str
    invocation: int
    service: str
    operation: str
    kind: str
    code: str


@dataclass(frozen=True)
class FaultPlan:
    """A seeded, reproducible schedule of faults.

    Whether a call is faulted is a pure function of (seed, lane, the lane's invocation number, service,
    operation, a fingerprint of the call's parameters, how many times that same call was made earlier in
    the invocation). It does not depend on thread timing inside an invocation, so a Hypothesis example
    replays the same faults. (Across *concurrent* lanes the interleaving of moto requests is real and not
    controlled, so a handler's own retry loops may make different calls on a replay.)

    Faults are injected *after botocore's retries*: the ``before-call`` hook short-circuits the call with a
    ready-made error response, which botocore treats as final (its retry handler only runs around real HTTP
    requests). An injected throttle is therefore the throttle that outlasted every retry. Real errors from
    moto still go through the client's own retry configuration.

    :param rate: probability that a given call is faulted (0 disables the plan).
    :param kinds: the fault kinds drawn from, see ``FAULT_KINDS``.
    :param operations: only these operation names (``UpdateItem``, ``SendMessageBatch``...) are faulted.
    :param until_invocation: only a lane's invocations numbered below this are faulted (keeps faults
        transient, so that even infinite retries terminate).
    """

    seed: int = 0
    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    operations: frozenset[str] | None = None
    until_invocation: int | None = None

    def decide(self, lane: str, invocation: int, service: str, operation: str, fingerprint: str, n: int):
        """The fault kind for this call, or None."""
        if self.rate <= 0 or not self.kinds:
            return None
        if self.operations is not None and operation not in self.operations:
            return None
        if self.until_invocation is not None and invocation >= self.until_invocation:
            return None
        key = "\x1f".join(map(str, (self.seed, lane, invocation, service, operation, fingerprint, n)))
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
        if int.from_bytes(digest[:8], "big") / 2**64 >= self.rate:
            return None
        return self.kinds[int.from_bytes(digest[8:12], "big") % len(self.kinds)]


NO_FAULTS = FaultPlan()


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _item_key(item: Mapping[str, Any] | None) -> Any:
    # Items carry timestamps (recorded_at, updated_at); only their key identifies the call.
    return {name: value for name, value in (item or {}).items() if name in ("pk", "sk", "id")}


def call_fingerprint(params: Mapping[str, Any]) -> str:
    """What identifies one AWS call regardless of timestamps in its payload: keys, tables, queues, bodies."""
    picked: dict[str, Any] = {}
    for name in ("TableName", "Key", "QueueUrl", "ReceiptHandle"):
        if name in params:
            picked[name] = params[name]
    if "Item" in params:
        picked["Item"] = _item_key(params["Item"])
    if "RequestItems" in params:
        picked["RequestItems"] = {
            table: request.get("Keys") if isinstance(request, dict) else len(request)
            for table, request in params["RequestItems"].items()
        }
    if "TransactItems" in params:
        picked["TransactItems"] = [
            {kind: body.get("Key") or _item_key(body.get("Item")) for kind, body in entry.items()}
            for entry in params["TransactItems"]
        ]
    if "Entries" in params:
        picked["Entries"] = [(e.get("Id"), _digest(e.get("MessageBody"))) for e in params["Entries"]]
    if "MessageBody" in params:
        picked["MessageBody"] = _digest(params["MessageBody"])
    return _digest(picked)


def _error_response(service: str, kind: str, pick: int) -> tuple[AWSResponse, dict[str, Any], str]:
    if kind == "throttle":
        if service == "dynamodb":
            code = ("ProvisionedThroughputExceededException", "ThrottlingException")[pick % 2]
        else:
            code = "ThrottlingException"
        status, message = 400, "Rate exceeded (injected by lambda_delivery)"
    else:
        code, status, message = (
            "InternalServerError",
            500,
            "Internal server error (injected by lambda_delivery)",
        )
    parsed = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0},
    }
    return AWSResponse("https://fault.invalid/", status, {}, None), parsed, code


def clients_of(target: Any) -> list[BaseClient]:
    """The botocore clients a handler module keeps at module level (``dynamodb = boto3.client(...)``)."""
    try:
        values = list(vars(target).values())
    except TypeError:
        return []
    found: list[BaseClient] = []
    for value in values:
        if isinstance(value, BaseClient) and all(value is not seen for seen in found):
            found.append(value)
    return found


class FaultInjector:
    """Injects a ``FaultPlan`` into every call of some botocore clients, through their event system.

    Registers ``before-parameter-build`` (fingerprints the call), ``before-call`` (short-circuits it with an
    error response) and ``after-call`` (raises ``SimulatedCrash`` after a successful call). Calls made
    outside ``begin()``/``end()`` are never faulted. One injector serves one execution environment, which
    runs one invocation at a time (the handler may still use several threads inside it).
    """

    def __init__(self, clients: Iterable[BaseClient], plan: FaultPlan = NO_FAULTS) -> None:
        self.clients = list(clients)
        self.plan = plan
        self._id = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._local = threading.local()
        self._lane: str | None = None
        self._invocation = 0
        self._occurrences: Counter = Counter()
        self._crashed = False
        self._faults: list[InjectedFault] = []
        #: AWS calls that reached moto (or would have) during invocations, for tests and reports.
        self.calls = 0

    def install(self) -> FaultInjector:
        for index, client in enumerate(self.clients):
            events = client.meta.events
            events.register("before-parameter-build", self._fingerprint, unique_id=f"{self._id}-p{index}")
            events.register("before-call", self._before_call, unique_id=f"{self._id}-b{index}")
            events.register("after-call", self._after_call, unique_id=f"{self._id}-a{index}")
        return self

    def uninstall(self) -> None:
        for index, client in enumerate(self.clients):
            events = client.meta.events
            events.unregister("before-parameter-build", unique_id=f"{self._id}-p{index}")
            events.unregister("before-call", unique_id=f"{self._id}-b{index}")
            events.unregister("after-call", unique_id=f"{self._id}-a{index}")

    def __enter__(self) -> FaultInjector:
        return self.install()

    def __exit__(self, *exc_info: Any) -> None:
        self.uninstall()

    def begin(self, lane: str, invocation: int) -> None:
        with self._lock:
            self._lane, self._invocation = lane, invocation
            self._occurrences.clear()
            self._crashed = False
            self._faults = []

    def end(self) -> list[InjectedFault]:
        with self._lock:
            faults, self._faults, self._lane = self._faults, [], None
            return faults

    # botocore hooks -------------------------------------------------------------------------------------

    def _fingerprint(self, params: Mapping[str, Any], model: Any = None, **_: Any) -> None:
        self._local.fingerprint = call_fingerprint(params) if isinstance(params, Mapping) else ""

    def _before_call(self, model: Any, **_: Any):
        self._local.crash_after = None
        with self._lock:
            if self._lane is None:
                return None
            service = model.service_model.service_id.hyphenize()
            if self._crashed:
                raise SimulatedCrash(f"{service}.{model.name} called after the environment crashed")
            self.calls += 1
            fingerprint = getattr(self._local, "fingerprint", "")
            key = (service, model.name, fingerprint)
            n = self._occurrences[key]
            self._occurrences[key] += 1
            kind = self.plan.decide(self._lane, self._invocation, service, model.name, fingerprint, n)
            if kind is None:
                return None
            if kind == "crash":
                self._local.crash_after = (service, model.name)
                return None
            response, parsed, code = _error_response(service, kind, n + len(fingerprint))
            self._faults.append(InjectedFault(self._lane, self._invocation, service, model.name, kind, code))
            return response, parsed

    def _after_call(self, http_response: Any, model: Any, **_: Any) -> None:
        pending, self._local.crash_after = getattr(self._local, "crash_after", None), None
        if pending is None or http_response is None or http_response.status_code >= 300:
            return
        service, operation = pending
        with self._lock:
            self._crashed = True
            self._faults.append(
                InjectedFault(
                    self._lane or "?", self._invocation, service, operation, "crash", "SimulatedCrash"
                )
            )
        raise SimulatedCrash(f"crashed after {service}.{operation} succeeded")


class _Environment:
    """One execution environment: a handler module (or a plain function) and, if it has clients, an injector.

    Lambda runs concurrent invocations in separate environments, each with its own module globals and
    clients; pass one module per concurrent slot to get the same isolation.
    """

    def __init__(self, target: Any, plan: FaultPlan) -> None:
        self.target = target
        self.handler = target.handler if hasattr(target, "handler") else target
        if not callable(self.handler):
            raise TypeError(f"{target!r} is neither a handler function nor a module with a handler")
        clients = clients_of(target)
        if plan.rate > 0 and not clients:
            raise ValueError(f"{target!r} has no module-level botocore clients to inject faults into")
        self.injector = FaultInjector(clients, plan)

    def invoke(self, event: dict[str, Any], lane: str, number: int) -> Outcome:
        context = LambdaContext(function_name="simulated", invoked_function_arn=FUNCTION_ARN)
        self.injector.begin(lane, number)
        response: Any = None
        error: BaseException | None = None
        try:
            response = self.handler(event, context)
            # Lambda serializes the response to JSON; what does not serialize is a function error.
            response = json.loads(json.dumps(response))
        except (Exception, SimulatedCrash) as raised:
            error, response = raised, None
        finally:
            faults = self.injector.end()
        return Outcome(response, error, faults)


@dataclass
class Outcome:
    """What one invocation returned (``response``) or raised (``error``), and the faults injected into it."""

    response: Any
    error: BaseException | None
    faults: list[InjectedFault]

    @property
    def error_text(self) -> str | None:
        return None if self.error is None else f"{type(self.error).__name__}: {self.error}"


def _environments(function: Any, slots: int, plan: FaultPlan) -> list[_Environment]:
    """One environment per concurrent slot. A list gives one target per slot; a single target is shared."""
    if isinstance(function, (list, tuple)):
        if len(function) < slots:
            raise ValueError(f"{slots} concurrent slots need {slots} environments, got {len(function)}")
        return [_Environment(target, plan) for target in function[:slots]]
    if plan.rate > 0 and slots > 1:
        raise ValueError("fault injection needs one environment (handler module) per concurrent slot")
    shared = _Environment(function, plan)
    return [shared] * slots


class _EventSourceMapping:
    """What the stream and the SQS mapping share: the function, its configuration, the faults to inject,
    and the execution environments, created at the first run and kept (module globals survive) after it."""

    def __init__(self, function: Any, config: Any, faults: FaultPlan) -> None:
        self.function = function
        self.config = config
        self.faults = faults
        self._environments: list[_Environment] | None = None

    @contextlib.contextmanager
    def _installed(self, slots: int) -> Iterator[list[_Environment]]:
        """At least ``slots`` environments, their fault injectors installed until the run ends."""
        if self._environments is None or len(self._environments) < slots:
            self._environments = _environments(self.function, slots, self.faults)
        # A single target serves every slot through one environment: install its injector once.
        distinct = list({id(env): env for env in self._environments}.values())
        for env in distinct:
            env.injector.install()
        try:
            yield self._environments
        finally:
            for env in distinct:
                env.injector.uninstall()


def _batch_item_failures(response: Any, valid: Sequence[str]) -> tuple[str, list[str]]:
    """Classify a partial batch response: ("success", []), ("partial", identifiers) or ("invalid", []).

    [KIN-PBR] / [SQS-ERR]: a complete success is an empty or null ``batchItemFailures``, or an empty or null
    response. A complete failure is an itemIdentifier that is null, an empty string, under a bad key name,
    or (documented for SQS; applied to streams too, where it cannot name a checkpoint) not in the batch.
    """
    if response is None or (isinstance(response, Mapping) and not response):
        return "success", []
    if not isinstance(response, Mapping):
        return "invalid", []
    failures = response.get("batchItemFailures")
    if failures is None or failures == []:
        return "success", []
    if not isinstance(failures, list):
        return "invalid", []
    identifiers: list[str] = []
    for failure in failures:
        if not isinstance(failure, Mapping) or "itemIdentifier" not in failure:
            return "invalid", []
        identifier = failure["itemIdentifier"]
        if not isinstance(identifier, str) or not identifier or identifier not in valid:
            return "invalid", []
        identifiers.append(identifier)
    return "partial", identifiers


class _Budget:
    """The invocations a run may still make, shared by its threads."""

    def __init__(self, limit: int) -> None:
        self._left = limit
        self._lock = threading.Lock()
        self.exhausted = False

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0:
                self.exhausted = True
                return False
            self._left -= 1
            return True


# --------------------------------------------------------------------------------------------------------
# Streams: Kinesis and DynamoDB Streams
# --------------------------------------------------------------------------------------------------------


def sequence_number(record: Mapping[str, Any]) -> str:
    """A stream record's sequence number (DynamoDB ``dynamodb.SequenceNumber``, Kinesis ``kinesis.sequenceNumber``)."""
    if "dynamodb" in record:
        return record["dynamodb"]["SequenceNumber"]
    return record["kinesis"]["sequenceNumber"]


@dataclass(frozen=True)
class StreamConfig:
    """The event source mapping settings the simulator honours.

    ``maximum_retry_attempts`` -1 means infinite (Lambda then retries until the record expires, which this
    simulator does not model: ``max_invocations`` ends the run instead and marks it ``exhausted``).
    """

    source: str = "dynamodb"  # or "kinesis"
    batch_size: int = 100
    report_batch_item_failures: bool = True
    bisect_batch_on_function_error: bool = False
    maximum_retry_attempts: int = -1
    tumbling_window: bool = False
    #: With a tumbling window, end each run with the window's final invocation (no records,
    #: ``isFinalInvokeForWindow`` true), retried until it succeeds [WINDOWS].
    final_window_invoke: bool = False
    max_invocations: int = 1000
    event_source_arn: str = ""

    @property
    def arn(self) -> str:
        if self.event_source_arn:
            return self.event_source_arn
        if self.source == "dynamodb":
            return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/simulated/stream/2026-11-28T00:00:00.000"
        return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/simulated"


@dataclass
class StreamInvocation:
    """One invocation of the function for a shard, and what the mapping did with its result."""

    shard_id: str
    number: int  # the shard's invocation counter (also the fault plan's invocation number)
    first: int  # index of the batch's first record in the shard
    end: int  # index after its last record
    final_window: bool
    response: Any
    error: str | None
    faults: list[InjectedFault]
    #: success | partial | invalid-response | function-error | bisected | discarded (to on-failure)
    action: str = ""
    checkpoint_after: int = 0


@dataclass
class OnFailureRecord:
    """A batch discarded after its retries: the records Lambda describes to the on-failure destination."""

    shard_id: str
    first: int
    end: int
    records: list[dict[str, Any]]
    attempts: int
    function_error: bool
    source: str
    stream_arn: str

    def message(self) -> dict[str, Any]:
        """The document Lambda sends to an on-failure destination [KIN-ERR]: the batch's coordinates."""
        info_key = "DDBStreamBatchInfo" if self.source == "dynamodb" else "KinesisBatchInfo"
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if self.function_error:
            response["functionError"] = "Unhandled"
        return {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": FUNCTION_ARN,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": self.attempts,
            },
            "responseContext": response,
            "version": "1.0",
            info_key: {
                "shardId": self.shard_id,
                "startSequenceNumber": sequence_number(self.records[0]),
                "endSequenceNumber": sequence_number(self.records[-1]),
                "batchSize": len(self.records),
                "streamArn": self.stream_arn,
            },
        }


@dataclass
class StreamShard:
    """A shard: its records in order, the mapping's checkpoint, and the batch being retried."""

    shard_id: str
    records: list[dict[str, Any]] = field(default_factory=list)
    #: Index of the first record not yet checkpointed; every record before it is done (or discarded).
    checkpoint: int = 0
    #: Batches awaiting (re)delivery as (first, end) ranges; the first one starts at the checkpoint.
    pending: deque = field(default_factory=deque)
    attempts: int = 0
    invocations: int = 0
    window_state: dict[str, Any] = field(default_factory=dict)
    window_open: bool = False
    window_number: int = 0
    acknowledged: set[int] = field(default_factory=set)
    delivered: Counter = field(default_factory=Counter)

    def next_batch(self, batch_size: int) -> tuple[int, int] | None:
        if not self.pending:
            if self.checkpoint >= len(self.records):
                return None
            self.pending.append((self.checkpoint, min(self.checkpoint + batch_size, len(self.records))))
        return self.pending[0]


@dataclass(frozen=True)
class RecordOutcome:
    """Everything the mapping did with one record (one position in a shard)."""

    shard_id: str
    index: int
    record: dict[str, Any]
    #: Some invocation returned normally with the record in its batch and NOT reported as failed: the
    #: function claimed it done (whatever Lambda then did with its checkpoint).
    acknowledged: bool
    #: The record lies in a batch that was discarded to the on-failure destination.
    on_failure: bool
    #: Some invocation delivering the record had a fault injected.
    faulted: bool
    deliveries: int


@dataclass
class StreamRun:
    """The result of ``StreamMapping.run()`` (cumulative over every run of the mapping)."""

    invocations: list[StreamInvocation]
    on_failure: list[OnFailureRecord]
    #: The invocation budget ran out before every shard was drained (a stuck shard, or a retry storm).
    exhausted: bool
    #: For an exhausted run: the batches still pending, per shard.
    stuck: dict[str, tuple[int, int]]


class StreamMapping(_EventSourceMapping):
    """A Kinesis / DynamoDB Streams event source mapping, ParallelizationFactor 1.

    Per shard [KIN-ERR, KIN-PBR]:

    - A batch is up to BatchSize records starting at the shard's checkpoint; one invocation per shard is in
      flight at a time and batches of a shard are delivered in order. Shards are processed concurrently,
      each on its own thread and in its own execution environment.
    - Success: the checkpoint moves past the batch. Without ReportBatchItemFailures the response body is
      ignored ("these responses will not be processed by Lambda unless ReportBatchItemFailures is turned
      on"): records the function reported are checkpointed anyway, i.e. dropped (not acknowledged).
    - Partial batch response (ReportBatchItemFailures): "Lambda uses the record with the lowest sequence
      number as the checkpoint. Lambda then retries all records starting from that checkpoint." Records
      before it are done; the retry is the rest of the same batch. With BisectBatchOnFunctionError also on,
      "the batch is bisected at the returned sequence number and Lambda retries only the remaining
      records" - the same thing. It counts as a retry of the batch.
    - Complete failure: a null/empty itemIdentifier, a bad key name, an identifier not in the batch, a
      response that is not a JSON object, or, with a tumbling window, a response without ``state``
      ("Lambda treats it as a failed invocation" [WINDOWS]). The whole batch is retried (not bisected:
      bisection is for function errors; a missing ``state`` is treated as a function error).
    - Function error (the handler raised, crashed, or returned something that is not JSON): the batch is
      retried whole; with BisectBatchOnFunctionError it is split in two and the halves are retried
      separately, first half first. "Splitting a batch does not count towards the retry quota."
    - After MaximumRetryAttempts retries (the count resets when a batch completes or is discarded), the
      remaining records of the batch go to the on-failure destination (``on_failure``) and the checkpoint
      moves past them: "Lambda discards the records and continues processing batches from the stream".

    Not modelled: MaximumRecordAgeInSeconds/expiry, batching windows, resharding (parent before child),
    ParallelizationFactor > 1, event filtering, throttled invocations (they never reach the function).
    """

    config: StreamConfig

    def __init__(self, function: Any, config: StreamConfig, faults: FaultPlan = NO_FAULTS) -> None:
        super().__init__(function, config, faults)
        self.shards: dict[str, StreamShard] = {}
        self.invocations: list[StreamInvocation] = []
        self.on_failure: list[OnFailureRecord] = []
        self._lock = threading.Lock()

    def put(self, shard_id: str, records: Iterable[Mapping[str, Any]]) -> StreamShard:
        """Append records to a shard (creating it). Records appended after a run are read by the next run."""
        shard = self.shards.setdefault(shard_id, StreamShard(shard_id))
        shard.records.extend(copy.deepcopy(list(records)))
        return shard

    def run(self) -> StreamRun:
        """Deliver every record of every shard (concurrently across shards) until drained or out of budget."""
        shard_ids = list(self.shards)
        budget = _Budget(self.config.max_invocations)
        errors: list[BaseException] = []
        with self._installed(max(1, len(shard_ids))) as environments:
            threads = [
                threading.Thread(
                    target=self._drain_guarded,
                    args=(self.shards[shard_id], environments[slot], budget, errors),
                    name=f"shard-{shard_id}",
                    daemon=True,
                )
                for slot, shard_id in enumerate(shard_ids)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        if errors:
            raise errors[0]
        stuck = {s.shard_id: s.pending[0] for s in self.shards.values() if s.pending}
        stuck.update(
            {
                s.shard_id: (s.checkpoint, len(s.records))
                for s in self.shards.values()
                if not s.pending and s.checkpoint < len(s.records)
            }
        )
        return StreamRun(list(self.invocations), list(self.on_failure), budget.exhausted, stuck)

    # one shard ------------------------------------------------------------------------------------------

    def _drain_guarded(self, shard: StreamShard, env: _Environment, budget: _Budget, errors: list) -> None:
        try:
            self._drain(shard, env, budget)
        except BaseException as error:  # a bug in the simulator itself: surface it in the test
            errors.append(error)

    def _drain(self, shard: StreamShard, env: _Environment, budget: _Budget) -> None:
        config = self.config
        while True:
            batch = shard.next_batch(config.batch_size)
            if batch is None:
                if config.tumbling_window and config.final_window_invoke and shard.window_open:
                    if not budget.take():
                        return
                    self._final_window(shard, env)
                    continue
                return
            if not budget.take():
                return
            first, end = batch
            self._settle(shard, first, end, self._invoke(shard, env, first, end, final=False))

    def _event(self, shard: StreamShard, records: list[dict[str, Any]], final: bool) -> dict[str, Any]:
        event: dict[str, Any] = {"Records": copy.deepcopy(records)}
        if self.config.tumbling_window:
            # [WINDOWS]: the window, the state returned by the previous invocation of the window, the shard.
            event.update(
                {
                    "window": {
                        "start": f"2026-11-28T12:{shard.window_number % 60:02d}:00Z",
                        "end": f"2026-11-28T12:{shard.window_number % 60:02d}:01Z",
                    },
                    "state": copy.deepcopy(shard.window_state),
                    "shardId": shard.shard_id,
                    "eventSourceARN": self.config.arn,
                    "isFinalInvokeForWindow": final,
                    "isWindowTerminatedEarly": False,
                }
            )
        return event

    def _invoke(
        self, shard: StreamShard, env: _Environment, first: int, end: int, final: bool
    ) -> tuple[Outcome, int]:
        records = shard.records[first:end]
        number = shard.invocations
        shard.invocations += 1
        for index in range(first, end):
            shard.delivered[index] += 1
        shard.window_open = self.config.tumbling_window
        return env.invoke(self._event(shard, records, final), shard.shard_id, number), number

    def _record(self, shard, number, first, end, final, outcome: Outcome, action: str) -> None:
        with self._lock:
            self.invocations.append(
                StreamInvocation(
                    shard.shard_id,
                    number,
                    first,
                    end,
                    final,
                    outcome.response,
                    outcome.error_text,
                    outcome.faults,
                    action,
                    shard.checkpoint,
                )
            )

    def _final_window(self, shard: StreamShard, env: _Environment) -> None:
        (outcome, number) = self._invoke(shard, env, shard.checkpoint, shard.checkpoint, final=True)
        ok = outcome.error is None and isinstance(outcome.response, Mapping)
        if ok:
            # The window is complete: its state is dropped and the next invocation opens a new one.
            shard.window_open = False
            shard.window_state = {}
            shard.window_number += 1
        else:
            shard.window_open = True  # "suspends further processing until a successful invocation"
        self._record(
            shard,
            number,
            shard.checkpoint,
            shard.checkpoint,
            True,
            outcome,
            "success" if ok else "function-error",
        )

    def _settle(self, shard: StreamShard, first: int, end: int, invoked: tuple[Outcome, int]) -> None:
        outcome, number = invoked
        config = self.config
        records = shard.records[first:end]
        sequences = [sequence_number(r) for r in records]
        function_error = outcome.error is not None
        if not function_error and config.tumbling_window:
            state = outcome.response.get("state") if isinstance(outcome.response, Mapping) else None
            if not isinstance(state, Mapping):
                function_error = True
                if outcome.error is None:
                    outcome.error = RuntimeError("tumbling-window response without a state object")
        if function_error:
            if config.bisect_batch_on_function_error and end - first > 1:
                middle = first + (end - first) // 2
                shard.pending.popleft()
                shard.pending.appendleft((middle, end))
                shard.pending.appendleft((first, middle))
                shard.attempts = 0
                self._record(shard, number, first, end, False, outcome, "bisected")
                return
            self._retry_or_discard(shard, invoked, "function-error", delivered=first)
            return
        if config.tumbling_window:
            shard.window_state = dict(outcome.response["state"])
        verdict, identifiers = _batch_item_failures(outcome.response, sequences)
        if not config.report_batch_item_failures:
            # Lambda ignores the response, so the batch is checkpointed; what the function reported as
            # failed is nevertheless not acknowledged (it is dropped: the mapping should report failures).
            claimed = [
                i
                for i in range(first, end)
                if verdict != "partial" or sequences[i - first] not in identifiers
            ]
            shard.acknowledged.update(claimed)
            self._checkpoint_batch(shard, invoked, "success (response ignored)", delivered=first)
            return
        if verdict == "success":
            shard.acknowledged.update(range(first, end))
            self._checkpoint_batch(shard, invoked, "success", delivered=first)
            return
        if verdict == "invalid":
            self._retry_or_discard(shard, invoked, "invalid-response", delivered=first)
            return
        reported = set(identifiers)
        shard.acknowledged.update(
            i for i in range(first, end) if sequence_number(shard.records[i]) not in reported
        )
        lowest = min(reported, key=int)
        restart = first + sequences.index(lowest)
        shard.checkpoint = restart
        shard.pending[0] = (restart, end)
        self._retry_or_discard(shard, invoked, "partial", delivered=first)

    def _retry_or_discard(
        self, shard: StreamShard, invoked: tuple[Outcome, int], action: str, delivered: int
    ) -> None:
        """Count a retry of the batch at the head of ``shard.pending``; past the limit, discard it.
        ``delivered``: where the invocation's batch began, which is before the head's first record when a
        partial response moved the checkpoint. Only an ``action`` of "function-error" is a function error."""
        outcome, number = invoked
        first, end = shard.pending[0]
        function_error = action == "function-error"
        shard.attempts += 1
        limit = self.config.maximum_retry_attempts
        if limit != -1 and shard.attempts > limit:
            with self._lock:
                self.on_failure.append(
                    OnFailureRecord(
                        shard.shard_id,
                        first,
                        end,
                        copy.deepcopy(shard.records[first:end]),
                        shard.attempts,
                        function_error,
                        self.config.source,
                        self.config.arn,
                    )
                )
            self._checkpoint_batch(shard, invoked, f"{action}; discarded", delivered)
            return
        self._record(shard, number, delivered, end, False, outcome, action)

    def _checkpoint_batch(
        self, shard: StreamShard, invoked: tuple[Outcome, int], action: str, delivered: int
    ) -> None:
        """Move the checkpoint past the batch at the head of ``shard.pending`` (done with, or discarded),
        so that the next batch starts with a fresh retry count; ``delivered`` as for ``_retry_or_discard``."""
        outcome, number = invoked
        _, end = shard.pending.popleft()
        shard.checkpoint = end
        shard.attempts = 0
        self._record(shard, number, delivered, end, False, outcome, action)

    # reading the results --------------------------------------------------------------------------------

    def outcomes(self) -> list[RecordOutcome]:
        """One entry per record position in every shard."""
        discarded = {(f.shard_id, i) for f in self.on_failure for i in range(f.first, f.end)}
        faulted: set[tuple[str, int]] = set()
        for invocation in self.invocations:
            if invocation.faults:
                faulted.update((invocation.shard_id, i) for i in range(invocation.first, invocation.end))
        return [
            RecordOutcome(
                shard.shard_id,
                index,
                record,
                index in shard.acknowledged,
                (shard.shard_id, index) in discarded,
                (shard.shard_id, index) in faulted,
                shard.delivered[index],
            )
            for shard in self.shards.values()
            for index, record in enumerate(shard.records)
        ]

    def faults_injected(self) -> list[InjectedFault]:
        return [fault for invocation in self.invocations for fault in invocation.faults]

    def describe(self, limit: int = 60) -> str:
        """A readable trace of the invocations (for Hypothesis ``note()`` and failure messages)."""
        return "\n".join(_trace(self.invocations, limit, self._describe_invocation))

    def _describe_invocation(self, inv: StreamInvocation) -> str:
        seqs = [sequence_number(r) for r in self.shards[inv.shard_id].records[inv.first : inv.end]]
        failures = (
            [f.get("itemIdentifier") for f in inv.response.get("batchItemFailures") or []]
            if isinstance(inv.response, Mapping)
            else None
        )
        return (
            f"{inv.shard_id}#{inv.number} [{inv.first}:{inv.end}] seqs={_short(seqs)}"
            f"{' FINAL' if inv.final_window else ''} -> {inv.error or f'failures={_short(failures)}'}"
            f"{_faults_note(inv.faults)} => {inv.action}, checkpoint {inv.checkpoint_after}"
        )


def _trace(invocations: Sequence[Any], limit: int, describe: Callable[[Any], str]) -> list[str]:
    """``describe`` of each of the first ``limit`` invocations, then how many more there were."""
    lines = [describe(inv) for inv in invocations[:limit]]
    if len(invocations) > limit:
        lines.append(f"... {len(invocations) - limit} more invocations")
    return lines


def _faults_note(faults: Sequence[InjectedFault]) -> str:
    """`` faults=kind@Operation,...`` for a trace line; nothing when no fault was injected."""
    return f" faults={','.join(f'{f.kind}@{f.operation}' for f in faults)}" if faults else ""


def _short(values: Sequence[Any] | None) -> str:
    if values is None:
        return "-"
    return "[" + ",".join(str(v)[-4:] if isinstance(v, str) else str(v) for v in values) + "]"


# --------------------------------------------------------------------------------------------------------
# SQS
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SqsConfig:
    """An SQS queue (standard) and its event source mapping. Time is counted in polling rounds."""

    batch_size: int = 10
    report_batch_item_failures: bool = True
    #: Rounds a received message stays invisible [SQS-VIS]. At least 1.
    visibility_timeout: int = 2
    #: The redrive policy's maxReceiveCount [SQS-DLQ]; None: no dead-letter queue.
    max_receive_count: int | None = 3
    #: Concurrent invocations per round (Lambda scales SQS pollers; each invocation is its own environment).
    concurrency: int = 2
    #: Probability that a received message is ALSO handed to another concurrent invocation [SQS-ALO].
    duplicate_rate: float = 0.0
    #: Probability that Lambda's delete of a successfully processed message is lost, so the message comes
    #: back after its visibility timeout [SQS-ALO: "a copy of the message might not be deleted"].
    lost_delete_rate: float = 0.0
    seed: int = 0
    max_invocations: int = 500
    queue_arn: str = f"arn:aws:sqs:{REGION}:{ACCOUNT}:simulated"


@dataclass
class SqsMessage:
    """A message in the simulated queue."""

    message_id: str
    body: str
    message_attributes: dict[str, Any]
    sent_at: int
    receive_count: int = 0
    visible_at: int = 0
    #: queued | deleted | dead (moved to the dead-letter queue)
    state: str = "queued"
    first_received_at: int | None = None


@dataclass
class SqsInvocation:
    """One invocation: which messages (with their receive counts) it got, and what became of them."""

    slot: int
    number: int
    round: int
    message_ids: list[str]
    receive_counts: list[int]
    receipt_handles: list[str]
    response: Any
    error: str | None
    faults: list[InjectedFault]
    succeeded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    verdict: str = ""


@dataclass
class SqsRun:
    """The result of ``SqsMapping.run()``."""

    invocations: list[SqsInvocation]
    dead_letters: list[SqsMessage]
    exhausted: bool
    lost_deletes: int
    duplicate_deliveries: int


class SqsMapping(_EventSourceMapping):
    """A standard SQS queue with an event source mapping, in memory.

    - Each round, up to ``concurrency`` invocations each receive up to BatchSize visible messages. Receiving
      increments ``ApproximateReceiveCount`` and hides the message for ``visibility_timeout`` rounds
      [SQS-VIS]; a message in flight is invisible to other receives...
    - ...except when SQS hands it out again anyway: with ``duplicate_rate`` a received message is also put
      into another concurrent invocation of the same round, with its own receipt handle and receive count
      [SQS-ALO: "more than one copy of a message might be delivered"].
    - After an invocation Lambda deletes the messages it succeeded on. Success: all (without
      ReportBatchItemFailures the response is ignored); a valid partial response: all but the reported ones
      [SQS-ERR]; a function error, or a complete-failure response (null/empty itemIdentifier, bad key name,
      a message ID not in the batch): none. What is not deleted comes back when its visibility timeout ends.
      ``lost_delete_rate`` loses some deletes: the message comes back although it was processed.
    - A message whose receive count has reached maxReceiveCount is moved to the dead-letter queue on its
      next receive instead of being delivered [SQS-DLQ].
    - Messages the handler sends to other queues are real SQS calls to moto, not part of this queue.

    Not modelled: FIFO queues and message groups, delay queues, retention expiry, Lambda's backoff of
    concurrency after errors, batching windows, changing visibility from the handler.
    """

    config: SqsConfig

    def __init__(self, function: Any, config: SqsConfig, faults: FaultPlan = NO_FAULTS) -> None:
        if config.visibility_timeout < 1:
            raise ValueError("visibility_timeout must be at least one round")
        super().__init__(function, config, faults)
        self.messages: dict[str, SqsMessage] = {}
        self.invocations: list[SqsInvocation] = []
        self.dead_letters: list[SqsMessage] = []
        #: message id -> times an invocation returned normally without reporting it (the function claimed it
        #: done). Without ReportBatchItemFailures a reported message is deleted anyway, yet not acknowledged.
        self.acknowledged: Counter = Counter()
        self.lost_deletes = 0
        self.duplicate_deliveries = 0
        self.round = 0
        self._random = random.Random(config.seed)

    def send(self, body: str, message_id: str | None = None, attributes: dict[str, Any] | None = None) -> str:
        message_id = message_id or str(uuid.UUID(int=self._random.getrandbits(128)))
        if message_id in self.messages:
            raise ValueError(f"message id {message_id} already sent")
        self.messages[message_id] = SqsMessage(
            message_id, body, attributes or {}, self.round, visible_at=self.round
        )
        return message_id

    def _receive(self, message: SqsMessage) -> dict[str, Any]:
        message.receive_count += 1
        message.visible_at = self.round + self.config.visibility_timeout
        if message.first_received_at is None:
            message.first_received_at = self.round
        handle = f"{message.message_id}#{message.receive_count}#{self._random.getrandbits(32):08x}"
        return {
            "messageId": message.message_id,
            "receiptHandle": handle,
            "body": message.body,
            "attributes": {
                "ApproximateReceiveCount": str(message.receive_count),
                "SentTimestamp": str(1795867200000 + message.sent_at * 1000),
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": str(1795867200000 + message.first_received_at * 1000),
            },
            "messageAttributes": copy.deepcopy(message.message_attributes),
            "md5OfBody": hashlib.md5(message.body.encode("utf-8", "surrogatepass")).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.config.queue_arn,
            "awsRegion": REGION,
        }

    def _live(self) -> list[SqsMessage]:
        return [m for m in self.messages.values() if m.state == "queued"]

    def run(self) -> SqsRun:
        """Poll until the queue is empty (every message deleted or dead-lettered) or the budget is spent."""
        config = self.config
        exhausted = False
        with self._installed(config.concurrency):
            while self._live():
                if len(self.invocations) >= config.max_invocations:
                    exhausted = True
                    break
                visible = [m for m in self._live() if m.visible_at <= self.round]
                if not visible:
                    self.round = min(m.visible_at for m in self._live())
                    continue
                batches = self._poll(visible)
                if batches:
                    self._deliver(batches)
                self.round += 1
        return SqsRun(
            list(self.invocations),
            list(self.dead_letters),
            exhausted,
            self.lost_deletes,
            self.duplicate_deliveries,
        )

    def _poll(self, visible: list[SqsMessage]) -> list[list[tuple[SqsMessage, dict[str, Any]]]]:
        config = self.config
        batches: list[list[tuple[SqsMessage, dict[str, Any]]]] = []
        queue = deque(visible)
        while queue and len(batches) < config.concurrency:
            batch: list[tuple[SqsMessage, dict[str, Any]]] = []
            while queue and len(batch) < config.batch_size:
                message = queue.popleft()
                if config.max_receive_count is not None and message.receive_count >= config.max_receive_count:
                    message.state = "dead"
                    self.dead_letters.append(message)
                    continue
                batch.append((message, self._receive(message)))
            if batch:
                batches.append(batch)
        if config.duplicate_rate > 0 and config.concurrency > 1:
            for index, batch in enumerate(list(batches)):
                for message, _record in list(batch):
                    if self._random.random() >= config.duplicate_rate:
                        continue
                    if (
                        config.max_receive_count is not None
                        and message.receive_count >= config.max_receive_count
                    ):
                        continue
                    targets = [
                        i
                        for i, other in enumerate(batches)
                        if i != index
                        and len(other) < config.batch_size
                        and all(m.message_id != message.message_id for m, _ in other)
                    ]
                    if not targets and len(batches) < config.concurrency:
                        batches.append([])
                        targets = [len(batches) - 1]
                    if not targets:
                        continue
                    target = targets[self._random.randrange(len(targets))]
                    batches[target].append((message, self._receive(message)))
                    self.duplicate_deliveries += 1
        return batches

    def _deliver(self, batches: list[list[tuple[SqsMessage, dict[str, Any]]]]) -> None:
        numbers = list(range(len(self.invocations), len(self.invocations) + len(batches)))
        outcomes: list[Outcome | None] = [None] * len(batches)

        def invoke(slot: int) -> None:
            event = {"Records": [copy.deepcopy(record) for _, record in batches[slot]]}
            outcomes[slot] = self._environments[slot].invoke(event, "sqs", numbers[slot])

        threads = [threading.Thread(target=invoke, args=(slot,), daemon=True) for slot in range(len(batches))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for slot, batch in enumerate(batches):
            outcome = outcomes[slot]
            ids = [m.message_id for m, _ in batch]
            invocation = SqsInvocation(
                slot,
                numbers[slot],
                self.round,
                ids,
                [int(r["attributes"]["ApproximateReceiveCount"]) for _, r in batch],
                [r["receiptHandle"] for _, r in batch],
                outcome.response,
                outcome.error_text,
                outcome.faults,
            )
            report = self.config.report_batch_item_failures
            if outcome.error is not None:
                invocation.verdict, claimed, succeeded = "function-error", [], []
            else:
                verdict, reported = _batch_item_failures(outcome.response, ids)
                if verdict == "partial":
                    claimed = [i for i in ids if i not in reported]
                else:
                    claimed = [] if report and verdict == "invalid" else ids
                # Without ReportBatchItemFailures Lambda ignores the response and deletes the whole batch.
                invocation.verdict = verdict if report else "success (response ignored)"
                succeeded = claimed if report else ids
            invocation.succeeded = succeeded
            invocation.failed = [i for i in ids if i not in succeeded]
            for message_id in claimed:
                self.acknowledged[message_id] += 1
            for message, _record in batch:
                if message.message_id not in succeeded:
                    continue  # back to the queue when its visibility timeout ends
                if message.state != "queued":
                    continue
                if self.config.lost_delete_rate and self._random.random() < self.config.lost_delete_rate:
                    self.lost_deletes += 1
                    continue
                message.state = "deleted"
            self.invocations.append(invocation)

    def faulted_message_ids(self) -> set[str]:
        """Messages delivered to at least one invocation into which a fault was injected."""
        return {i for inv in self.invocations if inv.faults for i in inv.message_ids}

    def describe(self, limit: int = 60) -> str:
        """A readable trace of the invocations and the dead letters (for Hypothesis ``note()``)."""
        lines = _trace(self.invocations, limit, _describe_sqs_invocation)
        lines.append(f"dead letters: {[m.message_id for m in self.dead_letters]}")
        return "\n".join(lines)


def _describe_sqs_invocation(inv: SqsInvocation) -> str:
    receives = [f"{i}(x{c})" for i, c in zip(inv.message_ids, inv.receive_counts, strict=True)]
    return (
        f"round {inv.round} slot {inv.slot} #{inv.number} {receives}"
        f" -> {inv.error or inv.verdict} failed={inv.failed}{_faults_note(inv.faults)}"
    )


def drain_queue(client: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message now in a (moto) queue, received with a long visibility timeout so none comes twice."""
    messages: list[dict[str, Any]] = []
    while True:
        batch = client.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=600,
            WaitTimeSeconds=0,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            return messages
        messages.extend(batch)


__all__ = [
    "FAULT_KINDS",
    "FaultInjector",
    "FaultPlan",
    "InjectedFault",
    "NO_FAULTS",
    "OnFailureRecord",
    "RecordOutcome",
    "SimulatedCrash",
    "SqsConfig",
    "SqsInvocation",
    "SqsMapping",
    "SqsMessage",
    "SqsRun",
    "StreamConfig",
    "StreamInvocation",
    "StreamMapping",
    "StreamRun",
    "StreamShard",
    "call_fingerprint",
    "clients_of",
    "drain_queue",
    "sequence_number",
]
