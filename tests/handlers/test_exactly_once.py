"""Exactly once, as Lambda really delivers: the stream and queue handlers driven through lambda_delivery.

Each property generates records, drives the REAL handler through the simulated event source mapping
(checkpoints, bisection, retry limits, several shards at once; SQS duplicates, lost deletes, redrive) with
faults injected into the handler's own AWS calls (which go to moto's server), and then compares what the
tables hold with a ground truth computed here in plain Python from the records.

What the truth is. A record the function *acknowledged* (some invocation returned normally with the record
in its batch and not reported as failed) must be applied exactly once. A record never acknowledged must
have been sent to the on-failure destination / dead-letter queue, and that is only legitimate for a record
that can never succeed (poison, malformed, invalid) or one delivered in an invocation into which a fault
was injected. Such a faulted record may have been applied once or not at all (a crash after its write), but
never twice: the comparison allows exactly those alternatives and no other. Records Lambda lists in an
on-failure batch are therefore excluded from the truth unless the function had acknowledged them: with a
partial batch response, the records after a poison record are applied (and reported as done) by the
function, yet Lambda's discarded range runs from the poison record to the end of its batch.

Only items whose keys do not start with ``mark#`` are aggregates (the handlers keep idempotency marks as
items of their own in the same tables).

Run: ``.venv/bin/python -m pytest -q -p no:cacheprovider tests/handlers/test_exactly_once.py`` (a few dozen examples
per property, ~30 s); ``HYPOTHESIS_PROFILE=thorough`` runs 400 per property (~8 minutes). A failing
property shrinks for up to 90 s in the fast profile; Hypothesis keeps the failing example in .hypothesis/
and replays it first on the next run. ``--hypothesis-show-statistics`` shows how often faults, discarded
batches, duplicate deliveries and repeated quarantine/rejection messages occurred.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations

import boto3
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import event as hypothesis_event
from hypothesis import note as hypothesis_note
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from conftest import AGGREGATES_TABLE, create_pk_table, load_handler
from lambda_delivery import (
    FAULT_KINDS,
    NO_FAULTS,
    FaultPlan,
    SqsConfig,
    SqsMapping,
    StreamConfig,
    StreamMapping,
    drain_queue,
    sequence_number,
)
from records import sns_envelope

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE", "").lower() == "thorough"


def profile(fast: int, thorough: int = 400) -> settings:
    return settings(
        max_examples=thorough if THOROUGH else fast,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@pytest.fixture(autouse=True)
def bounded_shrinking(monkeypatch):
    """On a failing handler Hypothesis shrinks for up to 5 minutes per property (every example is dozens of
    real requests to moto). The fast profile stops shrinking after 90 s; the example found so far is still
    minimal enough to read, it is saved in .hypothesis/, and the next run resumes shrinking from it."""
    try:
        from hypothesis.internal.conjecture import engine
    except ImportError:  # a Hypothesis without this internal module: keep its own limit
        return
    if not THOROUGH and hasattr(engine, "MAX_SHRINKING_SECONDS"):
        monkeypatch.setattr(engine, "MAX_SHRINKING_SECONDS", 90)


def note(text: str) -> None:
    """Hypothesis ``note`` (printed with a failing example); nothing outside a Hypothesis test."""
    with contextlib.suppress(InvalidArgument):
        hypothesis_note(text)


def event(text: str) -> None:
    """Hypothesis ``event`` (counted in --hypothesis-show-statistics); nothing outside a Hypothesis test."""
    with contextlib.suppress(InvalidArgument):
        hypothesis_event(text)


def reset_moto(endpoint: str) -> None:
    requests.post(f"{endpoint}/moto-api/reset", timeout=10)


def is_bookkeeping(item: dict) -> bool:
    """Idempotency state (``mark#...`` in the sort key, or in the partition key), not an aggregate."""
    return str(item.get("sk", "")).startswith("mark#") or str(item.get("pk", "")).startswith("mark#")


def scan(name: str) -> list[dict]:
    table = boto3.resource("dynamodb").Table(name)
    response = table.scan(ConsistentRead=True)
    items = response["Items"]
    while "LastEvaluatedKey" in response:
        response = table.scan(ConsistentRead=True, ExclusiveStartKey=response["LastEvaluatedKey"])
        items.extend(response["Items"])
    return items


@pytest.fixture
def no_sdk_retries(monkeypatch):
    """The handlers' clients make one attempt per call. Injected faults bypass botocore's retries anyway (see
    FaultPlan); this keeps moto's own deterministic errors (a 500 for an unencodable key) from costing a
    retry backoff each time. Set before the handlers are loaded, as their clients read it on creation."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")


fault_plans = st.builds(
    FaultPlan,
    seed=st.integers(0, 2**16),
    rate=st.sampled_from([0.0, 0.1, 0.2, 0.35]),
    kinds=st.sampled_from([FAULT_KINDS, ("throttle",), ("server_error",), ("crash",)]),
)


def within(got: tuple, fixed: list[tuple], options: list[tuple], fold, same) -> bool:
    """Whether ``got`` is ``fixed`` plus some subset of ``options`` (contributions that may or may not have
    landed, each at most once). Enumerated up to 12 options; beyond that only count and sum are bounded."""
    if len(options) <= 12:
        return any(
            same(got, fold([*fixed, *extra]))
            for n in range(len(options) + 1)
            for extra in combinations(options, n)
        )
    base = fold(fixed)
    for position in (0, 1):
        low = base[position] + sum(min(0, option[position]) for option in options)
        high = base[position] + sum(max(0, option[position]) for option in options)
        if not low <= got[position] <= high:
            return False
    return True


# ==========================================================================================================
# Stream aggregator (DynamoDB Streams)
# ==========================================================================================================

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-11-28T00:00:00.000"
# Few values, so that records meet on the same aggregate (and cancel out, and replay over each other) often.
CATEGORIES = ("books", "games")
TIMES = ("2026-11-28T12:10:00Z", "2026-11-28T12:50:00Z", "2026-11-28T13:05:00Z")
AMOUNTS = ("1", "5", "10", "2.5", "-3")
#: Values DynamoDB cannot store in a key: a lone surrogate is not UTF-8.
UNSTORABLE_CATEGORIES = ("\ud800", "bo\udfffoks")
WANTED = ("category", "amount", "created_at")


@dataclass(frozen=True)
class Img:
    """A row image: None for an attribute the image lacks. All None: a row that is not aggregated."""

    category: str | None
    amount: str | None
    at: str | None

    def __repr__(self) -> str:
        parts = [self.category, self.amount, self.at[11:16] if self.at else None]
        return "Img(" + "/".join("-" if p is None else repr(p) if "\\" in repr(p) else p for p in parts) + ")"

    @property
    def present(self) -> int:
        return sum(value is not None for value in (self.category, self.amount, self.at))

    @property
    def poison(self) -> bool:
        """Some but not all aggregated attributes: the aggregator must report it."""
        return 0 < self.present < 3

    @property
    def good(self) -> bool:
        return self.present == 3

    def dynamodb(self, row: str) -> dict:
        image = {"pk": {"S": row}}
        if self.present == 0:
            image["name"] = {"S": "an entity that is not aggregated"}
        if self.category is not None:
            image["category"] = {"S": self.category}
        if self.amount is not None:
            image["amount"] = {"N": self.amount}
        if self.at is not None:
            image["created_at"] = {"S": self.at}
        return image

    @property
    def key(self) -> tuple[str, str]:
        return f"category#{self.category}", f"hour#{self.at[:13]}:00:00Z"


good_images = st.builds(Img, st.sampled_from(CATEGORIES), st.sampled_from(AMOUNTS), st.sampled_from(TIMES))
poison_images = good_images.flatmap(
    lambda img: st.sampled_from(
        [Img(None, img.amount, img.at), Img(img.category, None, img.at), Img(img.category, img.amount, None)]
    )
)
unrelated_images = st.just(Img(None, None, None))
unstorable_images = st.builds(
    Img, st.sampled_from(UNSTORABLE_CATEGORIES), st.sampled_from(AMOUNTS), st.sampled_from(TIMES)
)


@dataclass(frozen=True)
class Step:
    """One change to a row: INSERT if the row is absent, else REMOVE (remove=True) or MODIFY to ``image``.

    ``lifetime``: instead, INSERT a new short-lived row with ``image`` and REMOVE it after that many further
    steps (a cart line added and dropped): its two records cancel out on their aggregate, with whatever
    happens in between (a poison record, a failed write) sitting between them.
    """

    row: int
    remove: bool
    image: Img
    twice: bool = False  # the stream record appears twice in a row (same sequence number)
    lifetime: int | None = None


@dataclass(frozen=True)
class Change:
    """One stream record as generated: its shard, sequence number and images."""

    shard: str
    sequence: str
    event: str
    old: Img | None
    new: Img | None

    @property
    def poison(self) -> bool:
        return any(image is not None and image.poison for image in (self.old, self.new))

    @property
    def unstorable(self) -> bool:
        return any(
            image is not None and image.category in UNSTORABLE_CATEGORIES and image.good
            for image in (self.old, self.new)
        )

    def deltas(self) -> dict[tuple[str, str], tuple[int, Decimal, tuple[Decimal, ...]]]:
        """What the record does to each aggregate: (count, sum, values added). Computed independently."""
        result: dict[tuple[str, str], list] = {}
        if self.old is not None and self.old.good and self.event in ("REMOVE", "MODIFY"):
            entry = result.setdefault(self.old.key, [0, Decimal(0), ()])
            entry[0] -= 1
            entry[1] -= Decimal(self.old.amount)
        if self.new is not None and self.new.good and self.event in ("INSERT", "MODIFY"):
            entry = result.setdefault(self.new.key, [0, Decimal(0), ()])
            entry[0] += 1
            entry[1] += Decimal(self.new.amount)
            entry[2] = (*entry[2], Decimal(self.new.amount))
        return {key: (c, s, v) for key, (c, s, v) in result.items()}


def stream_record(change: Change, row: str) -> dict:
    """A DynamoDB stream record in the shape Lambda delivers for a NEW_AND_OLD_IMAGES stream."""
    body = {
        "ApproximateCreationDateTime": 1795867205,
        "Keys": {"pk": {"S": row}},
        "SequenceNumber": change.sequence,
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if change.new is not None:
        body["NewImage"] = change.new.dynamodb(row)
    if change.old is not None:
        body["OldImage"] = change.old.dynamodb(row)
    return {
        "eventID": f"{int(change.sequence):032x}",
        "eventName": change.event,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": body,
        "eventSourceARN": STREAM_ARN,
    }


def shard_changes(steps: list[Step], shard_index: int, base: int) -> tuple[list[Change], list[dict]]:
    """Interpret a shard's steps into stream records. Sequence numbers interleave across shards."""
    shard = f"shardId-{shard_index:020d}"
    rows: dict[str, Img] = {}
    changes: list[Change] = []
    records: list[dict] = []
    removals: list[tuple[int, str]] = []  # (due after step n, short-lived row)

    def emit(event: str, row: str, old: Img | None, new: Img | None, twice: bool = False) -> None:
        change = Change(
            shard, str(base + len({c.sequence for c in changes}) * 10 + shard_index), event, old, new
        )
        for _ in range(2 if twice else 1):
            changes.append(change)
            records.append(stream_record(change, row))

    for position, step in enumerate(steps):
        if step.lifetime is not None:
            row = f"s{shard_index}-short{position}"
            emit("INSERT", row, None, step.image, step.twice)
            rows[row] = step.image
            removals.append((position + step.lifetime, row))
        else:
            row = f"s{shard_index}-row{step.row}"
            current = rows.get(row)
            if current is None:
                emit("INSERT", row, None, step.image, step.twice)
                rows[row] = step.image
            elif step.remove:
                emit("REMOVE", row, current, None, step.twice)
                del rows[row]
            else:
                emit("MODIFY", row, current, step.image, step.twice)
                rows[row] = step.image
        for due, row in [r for r in removals if r[0] <= position]:
            emit("REMOVE", row, rows.pop(row), None)
            removals.remove((due, row))
    for _due, row in removals:
        emit("REMOVE", row, rows.pop(row), None)
    return changes, records


def histories(images=None, twice=None, max_steps: int = 10):
    twice = st.just(False) if twice is None else twice
    if images is None:
        images = st.one_of(good_images, good_images, good_images, poison_images, unrelated_images)
    step = st.builds(Step, st.integers(0, 1), st.booleans(), images, twice)
    short_lived = st.builds(Step, st.just(0), st.just(False), images, twice, st.integers(0, 3))
    steps = st.one_of(step, step, short_lived)
    return st.lists(st.lists(steps, min_size=1, max_size=max_steps), min_size=1, max_size=3)


def stream_configs(retries=None, report=None):
    retries = st.integers(0, 3) if retries is None else retries
    report = st.sampled_from([True, True, True, False]) if report is None else report
    return st.builds(
        StreamConfig,
        source=st.just("dynamodb"),
        batch_size=st.integers(1, 6),
        report_batch_item_failures=report,
        bisect_batch_on_function_error=st.booleans(),
        maximum_retry_attempts=retries,
        tumbling_window=st.just(True),  # the construct always configures one
        final_window_invoke=st.just(True),
        max_invocations=st.just(300),
        event_source_arn=st.just(STREAM_ARN),
    )


sequence_bases = st.sampled_from([500000000000000000001, 999960, 7])


@pytest.fixture
def aggregator_environments(aws, aggregator_settings, no_sdk_retries):
    """Three execution environments of the stream aggregator (one per concurrent shard)."""
    return [load_handler("stream_aggregator") for _ in range(3)]


def aggregate_items() -> dict[tuple[str, str], tuple]:
    """Aggregates in the table, as (count, sum, min, max); items whose sk starts with mark# are bookkeeping."""
    found = {}
    for item in scan(AGGREGATES_TABLE):
        if is_bookkeeping(item):
            continue
        found[(item["pk"], item["sk"])] = (
            int(item.get("count", 0)),
            Decimal(item.get("sum", 0)),
            item.get("min"),
            item.get("max"),
        )
    return found


def fold(entries) -> tuple:
    count, total, values = 0, Decimal(0), []
    for c, s, v in entries:
        count += c
        total += s
        values.extend(v)
    return count, total, min(values) if values else None, max(values) if values else None


def _blank(value: tuple) -> bool:
    return value == (0, Decimal(0), None, None)


def drive_aggregator(environments, shards_steps, config, plan, base):
    mapping = StreamMapping(environments[: len(shards_steps)], config, plan)
    changes: list[Change] = []
    for index, steps in enumerate(shards_steps):
        shard_changes_, records = shard_changes(steps, index, base)
        changes.extend(shard_changes_)
        mapping.put(f"shardId-{index:020d}", records)
    run = mapping.run()
    note(f"config={config}\nfaults={plan}\n" + mapping.describe())
    return mapping, run, changes


def check_aggregates(mapping, run, changes, config, unstorable_is_poison: bool = False) -> None:
    """The aggregates equal the truth: acknowledged records exactly once, faulted ones at most once."""
    problems: list[str] = []
    assert not run.exhausted, f"a shard never drained (retried forever?): stuck at {run.stuck}"
    for invocation in mapping.invocations:
        if invocation.error and not invocation.faults:
            problems.append(f"the handler failed with no fault injected: {invocation.error}")
    by_record: dict[tuple[str, str], Change] = {}
    acknowledged: set[tuple[str, str]] = set()
    discarded: set[tuple[str, str]] = set()
    faulted: set[tuple[str, str]] = set()
    for outcome, change in zip(mapping.outcomes(), _in_mapping_order(mapping, changes), strict=True):
        key = (outcome.shard_id, sequence_number(outcome.record))
        by_record[key] = change
        if outcome.acknowledged:
            acknowledged.add(key)
        if outcome.on_failure:
            discarded.add(key)
        if outcome.faulted:
            faulted.add(key)
    cannot_land = {k for k, c in by_record.items() if c.poison or (unstorable_is_poison and c.unstorable)}
    truth: dict[tuple[str, str], list] = defaultdict(list)
    maybe: dict[tuple[str, str], list] = defaultdict(list)
    for key, change in by_record.items():
        if key in cannot_land:
            if config.report_batch_item_failures and key in acknowledged:
                problems.append(f"poison record {change} was not reported")
            continue
        if key not in acknowledged:
            if key not in discarded:
                problems.append(f"record {change} was neither acknowledged nor discarded: lost")
            if key not in faulted:
                problems.append(
                    f"record {change} went to the on-failure destination although nothing made it fail"
                )
        for item, delta in change.deltas().items():
            (truth if key in acknowledged else maybe)[item].append(delta)
    table = aggregate_items()
    for item in sorted(set(truth) | set(maybe) | set(table)):
        expected = fold(truth.get(item, []))
        got = table.get(item, (0, Decimal(0), None, None))
        options = maybe.get(item, [])
        if not within(
            got, truth.get(item, []), options, fold, lambda a, b: a == b or (_blank(a) and _blank(b))
        ):
            detail = f" (or with any of {len(options)} faulted records)" if options else ""
            problems.append(f"{item}: table has (count, sum, min, max) = {got}, expected {expected}{detail}")
    event(f"some records sent to on-failure: {bool(discarded)}")
    event(f"faults injected: {bool(mapping.faults_injected())}")
    assert not problems, "\n".join(problems)


def _in_mapping_order(mapping, changes: list[Change]) -> list[Change]:
    """The generated changes in the order ``mapping.outcomes()`` lists record positions."""
    by_shard: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        by_shard[change.shard].append(change)
    return [change for shard in mapping.shards for change in by_shard[shard]]


def assert_aggregated_exactly_once(
    aws, environments, shards, config, plan, base, unstorable_is_poison: bool = False
) -> None:
    """One example of an aggregator property: fresh tables (Hypothesis runs every example within one
    test, so the ``aws`` fixture's reset comes too late), the records driven through the mapping, and
    the aggregates compared with the truth."""
    reset_moto(aws)
    create_pk_table(AGGREGATES_TABLE)
    mapping, run, changes = drive_aggregator(environments, shards, config, plan, base)
    check_aggregates(mapping, run, changes, config, unstorable_is_poison)


@profile(fast=30)
@given(shards=histories(), config=stream_configs(), base=sequence_bases)
def test_aggregator_applies_each_record_exactly_once_through_retries_and_bisection(
    aws, aggregator_environments, shards, config, base
):
    assert_aggregated_exactly_once(aws, aggregator_environments, shards, config, NO_FAULTS, base)


@profile(fast=30)
@given(shards=histories(), config=stream_configs(report=st.just(True)), plan=fault_plans, base=sequence_bases)
def test_aggregator_applies_each_record_exactly_once_under_injected_faults(
    aws, aggregator_environments, shards, config, plan, base
):
    assert_aggregated_exactly_once(aws, aggregator_environments, shards, config, plan, base)


@profile(fast=25)
@given(
    shards=histories(images=good_images, twice=st.sampled_from([False, False, True])),
    config=stream_configs(),
    base=sequence_bases,
)
def test_aggregator_counts_a_record_delivered_twice_in_one_batch_once(
    aws, aggregator_environments, shards, config, base
):
    assert_aggregated_exactly_once(aws, aggregator_environments, shards, config, NO_FAULTS, base)


@profile(fast=15)
@given(
    shards=histories(images=st.one_of(good_images, good_images, unstorable_images), max_steps=6),
    # Not -1: a poison record reported forever is what infinite retries mean, for any poison record.
    config=stream_configs(retries=st.sampled_from([0, 2])),
    base=sequence_bases,
)
def test_aggregator_treats_a_dimension_value_dynamodb_cannot_store_as_poison_not_a_stall(
    aws, aggregator_environments, shards, config, base
):
    assert_aggregated_exactly_once(
        aws, aggregator_environments, shards, config, NO_FAULTS, base, unstorable_is_poison=True
    )


def test_regression_cancelling_contributions_then_a_restart_between_them_count_once(
    aws, aggregator_environments
):
    """The reported case: books has 1 and 10; then one batch [INSERT r3 books 5, a row without amount,
    REMOVE r3 books 5]. The poison row is reported, Lambda restarts at it, and the REMOVE must not be
    applied a second time: books stays count 2, sum 11."""
    create_pk_table(AGGREGATES_TABLE)
    config = StreamConfig(
        batch_size=10,
        report_batch_item_failures=True,
        maximum_retry_attempts=1,
        tumbling_window=True,
        event_source_arn=STREAM_ARN,
    )
    mapping = StreamMapping(aggregator_environments[:1], config)
    shard = "shardId-00000000000000000000"
    at = "2026-11-28T12:10:00Z"
    earlier = [
        Change(shard, "500000000000000000001", "INSERT", None, Img("books", "1", at)),
        Change(shard, "500000000000000000002", "INSERT", None, Img("books", "10", at)),
    ]
    mapping.put(shard, [stream_record(c, f"r{i + 1}") for i, c in enumerate(earlier)])
    mapping.run()
    batch = [
        (Change(shard, "500000000000000000003", "INSERT", None, Img("books", "5", at)), "r3"),
        (Change(shard, "500000000000000000004", "INSERT", None, Img("books", None, at)), "r4"),
        (Change(shard, "500000000000000000005", "REMOVE", Img("books", "5", at), None), "r3"),
    ]
    mapping.put(shard, [stream_record(c, row) for c, row in batch])

    run = mapping.run()

    assert [[r["dynamodb"]["SequenceNumber"][-1] for r in d.records] for d in run.on_failure] == [["4", "5"]]
    count, total, _low, _high = aggregate_items()[("category#books", "hour#2026-11-28T12:00:00Z")]
    assert (count, total) == (2, Decimal(11)), mapping.describe()


# ==========================================================================================================
# Clickstream (Kinesis)
# ==========================================================================================================

COUNTS_TABLE = "click-counts"
MALFORMED_QUEUE = "malformed-clicks"
KINESIS_BASE = 49590338271490256608559692538361571095921575989136588898
KINESIS_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
CLICK_TIMES = {
    "2026-11-28T12:00:05Z": "2026-11-28T12:00Z",
    "2026-11-28T12:01:59.999Z": "2026-11-28T12:01Z",
    1795867265000: "2026-11-28T12:01Z",  # epoch milliseconds
}


@dataclass(frozen=True)
class Click:
    """A click record's payload: ``kind`` good, or one of the malformed shapes, or unstorable."""

    kind: str
    screen: str = "home"
    event_type: str = "tap"
    at: str | int = "2026-11-28T12:00:05Z"

    def __repr__(self) -> str:
        if self.kind == "good":
            at = "epoch-ms" if isinstance(self.at, int) else self.at[11:19]
            return f"Click({self.screen}/{self.event_type}/{at})"
        return f"Click({self.kind})"

    def data(self) -> bytes | str:
        click = {"screen": self.screen, "event_type": self.event_type, "timestamp": self.at, "user_id": "u"}
        if self.kind == "not-base64":
            return "%%% not base64 %%%"
        if self.kind == "not-json":
            return b"nope, not json"
        if self.kind == "no-screen":
            click.pop("screen")
        if self.kind == "bad-time":
            click["timestamp"] = "yesterday"
        if self.kind == "array":
            return b"[1, 2, 3]"
        if self.kind == "long-event-type":
            click["event_type"] = "\U0001f600" * 256  # 256 characters, 1024 UTF-8 bytes: sk > 1024 bytes
        if self.kind == "surrogate":
            click["screen"] = "\ud800home"  # JSON can carry it ("\\ud800"); UTF-8, and DynamoDB, cannot
        return json.dumps(click).encode()

    @property
    def count_key(self) -> tuple[str, str]:
        return f"screen#{self.screen}", f"{CLICK_TIMES[self.at]}#{self.event_type}"


MALFORMED_KINDS = ("not-base64", "not-json", "no-screen", "bad-time", "array")
UNSTORABLE_KINDS = ("long-event-type", "surrogate")
good_clicks = st.builds(
    Click,
    st.just("good"),
    st.sampled_from(["home", "cart"]),
    st.sampled_from(["tap", "view"]),
    st.sampled_from(list(CLICK_TIMES)),
)
malformed_clicks = st.sampled_from(MALFORMED_KINDS).map(Click)
unstorable_clicks = st.sampled_from(UNSTORABLE_KINDS).map(Click)


def kinesis_record(click: Click, shard: str, sequence: str) -> dict:
    data = click.data()
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": f"user-{sequence[-3:]}",
            "sequenceNumber": sequence,
            "data": data if isinstance(data, str) else base64.b64encode(data).decode(),
            "approximateArrivalTimestamp": 1795867205.123,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/clicks",
        "awsRegion": "us-east-1",
        "eventSourceARN": KINESIS_ARN,
    }


def click_streams(clicks=None, max_size: int = 10):
    if clicks is None:
        clicks = st.one_of(good_clicks, good_clicks, good_clicks, malformed_clicks)
    return st.lists(st.lists(clicks, min_size=1, max_size=max_size), min_size=1, max_size=3)


def kinesis_configs(retries=None):
    retries = st.integers(0, 3) if retries is None else retries
    return st.builds(
        StreamConfig,
        source=st.just("kinesis"),
        batch_size=st.integers(1, 6),
        report_batch_item_failures=st.just(True),  # the construct turns it on
        bisect_batch_on_function_error=st.booleans(),
        maximum_retry_attempts=retries,
        max_invocations=st.just(300),
        event_source_arn=st.just(KINESIS_ARN),
    )


@pytest.fixture
def clickstream_environments(aws, monkeypatch, no_sdk_retries):
    monkeypatch.setenv("COUNTS_TABLE", COUNTS_TABLE)
    monkeypatch.setenv("MALFORMED_QUEUE_URL", f"{aws}/123456789012/{MALFORMED_QUEUE}")
    return [load_handler("clickstream") for _ in range(3)]


def drive_clickstream(aws, environments, streams, config, plan):
    reset_moto(aws)
    create_pk_table(COUNTS_TABLE)
    queue_url = boto3.client("sqs").create_queue(QueueName=MALFORMED_QUEUE)["QueueUrl"]
    assert queue_url == environments[0].MALFORMED_QUEUE_URL
    mapping = StreamMapping(environments[: len(streams)], config, plan)
    clicks: dict[str, Click] = {}  # by eventID
    for index, stream in enumerate(streams):
        shard = f"shardId-{index:012d}"
        records = []
        for position, click in enumerate(stream):
            record = kinesis_record(click, shard, str(KINESIS_BASE + position * 10 + index))
            clicks[record["eventID"]] = click
            records.append(record)
        mapping.put(shard, records)
    run = mapping.run()
    note(f"config={config}\nfaults={plan}\n" + mapping.describe())
    reports = [json.loads(m["Body"]) for m in drain_queue(boto3.client("sqs"), queue_url)]
    return mapping, run, clicks, reports


def check_clicks(mapping, run, clicks: dict[str, Click], reports: list[dict], quarantine_kinds) -> None:
    """Counts exact; every record that cannot be counted quarantined; nothing lost, nothing twice."""
    problems: list[str] = []
    assert not run.exhausted, f"a shard never drained (retried forever?): stuck at {run.stuck}"
    for invocation in mapping.invocations:
        if invocation.error and not invocation.faults:
            problems.append(f"the handler failed with no fault injected: {invocation.error}")
    truth: Counter = Counter()
    maybe: Counter = Counter()
    quarantined = Counter(report.get("event_id") for report in reports)
    for outcome in mapping.outcomes():
        event_id = outcome.record["eventID"]
        click = clicks[event_id]
        if not outcome.acknowledged:
            if not outcome.on_failure:
                problems.append(f"{click} at {event_id[-6:]} neither acknowledged nor discarded: lost")
            if not outcome.faulted:
                problems.append(f"{click} at {event_id[-6:]} went to the on-failure destination unprovoked")
        if click.kind == "good":
            (truth if outcome.acknowledged else maybe)[click.count_key] += 1
            if quarantined[event_id]:
                problems.append(f"good {click} was quarantined")
        elif click.kind in quarantine_kinds and outcome.acknowledged and not quarantined[event_id]:
            problems.append(f"{click} at {event_id[-6:]} was skipped without being quarantined")
    table = {(i["pk"], i["sk"]): int(i.get("count", 0)) for i in scan(COUNTS_TABLE) if not is_bookkeeping(i)}
    for key in sorted(set(truth) | set(maybe) | set(table)):
        got, low, high = table.get(key, 0), truth[key], truth[key] + maybe[key]
        if not low <= got <= high:
            expected = low if low == high else f"{low}..{high}"
            problems.append(f"{key}: count {got}, expected {expected}")
    unknown = [r for r in reports if r.get("event_id") not in clicks]
    if unknown:
        problems.append(f"quarantine messages for records never sent: {unknown[:3]}")
    duplicates = sum(quarantined.values()) - len(quarantined)
    crashed = any(f.kind == "crash" for f in mapping.faults_injected())
    event(f"quarantine messages sent more than once: {duplicates > 0} (crash injected: {crashed})")
    assert not problems, "\n".join(problems)


def assert_clicks_counted_exactly_once(
    aws, environments, streams, config, plan, quarantine_kinds=MALFORMED_KINDS
) -> tuple:
    """One example of a clickstream property: the clicks driven through the mapping, then the counts and
    the quarantine compared with the truth. Returns the mapping, the clicks by eventID and the quarantine
    messages, for a property that checks more."""
    mapping, run, clicks, reports = drive_clickstream(aws, environments, streams, config, plan)
    check_clicks(mapping, run, clicks, reports, quarantine_kinds)
    return mapping, clicks, reports


@profile(fast=30)
@given(streams=click_streams(), config=kinesis_configs(), plan=fault_plans)
def test_clickstream_counts_each_click_exactly_once_and_quarantines_every_malformed_record(
    aws, clickstream_environments, streams, config, plan
):
    assert_clicks_counted_exactly_once(aws, clickstream_environments, streams, config, plan)


@profile(fast=20)
@given(streams=click_streams(), config=kinesis_configs(), plan=fault_plans)
def test_clickstream_quarantine_messages_carry_one_stable_quarantine_id_per_malformed_record(
    aws, clickstream_environments, streams, config, plan
):
    mapping, clicks, reports = assert_clicks_counted_exactly_once(
        aws, clickstream_environments, streams, config, plan
    )

    ids_by_record: dict[str, set] = defaultdict(set)
    records_by_id: dict[object, set] = defaultdict(set)
    for report in reports:
        assert "quarantine_id" in report, f"a quarantine message without quarantine_id: {sorted(report)}"
        ids_by_record[report["event_id"]].add(report["quarantine_id"])
        records_by_id[report["quarantine_id"]].add(report["event_id"])
    malformed_acknowledged = {
        o.record["eventID"]
        for o in mapping.outcomes()
        if o.acknowledged and clicks[o.record["eventID"]].kind != "good"
    }
    assert all(len(ids) == 1 for ids in ids_by_record.values()), f"unstable ids: {dict(ids_by_record)}"
    assert all(len(records) == 1 for records in records_by_id.values()), "one id shared by two records"
    assert malformed_acknowledged <= set(ids_by_record)
    duplicates = len(reports) - len(records_by_id)
    event(f"duplicate quarantine messages: {min(duplicates, 5)}{'+' if duplicates >= 5 else ''}")


@profile(fast=15)
@given(
    streams=click_streams(st.one_of(good_clicks, good_clicks, unstorable_clicks), max_size=6),
    config=kinesis_configs(retries=st.sampled_from([-1, 0, 2])),
)
def test_clickstream_quarantines_a_click_whose_key_dynamodb_cannot_store_instead_of_retrying_it(
    aws, clickstream_environments, streams, config
):
    assert_clicks_counted_exactly_once(
        aws, clickstream_environments, streams, config, NO_FAULTS, MALFORMED_KINDS + UNSTORABLE_KINDS
    )


# ==========================================================================================================
# Purchases (SNS -> SQS)
# ==========================================================================================================

PURCHASES = "purchases"
PURCHASE_AGGREGATES = "purchase-aggregates"
REJECTED_QUEUE = "purchases-rejected"
PRICES = ("10.00", "2.50", "0.01", "19.99")
PURCHASE_TIMES = ("2026-11-28T12:00:00Z", "2026-11-28T13:30:00+01:00", "2026-11-28T12:45:10.5Z")


def stored_time(at: str) -> str:
    """purchased_at as the processor stores it (UTC, milliseconds), computed independently."""
    return {
        "2026-11-28T12:00:00Z": "2026-11-28T12:00:00.000Z",
        "2026-11-28T13:30:00+01:00": "2026-11-28T12:30:00.000Z",
        "2026-11-28T12:45:10.5Z": "2026-11-28T12:45:10.500Z",
    }[at]


@dataclass(frozen=True)
class Buy:
    """A purchase message. ``invalid``: None, or why the processor must reject it. ``repeat``: re-publish
    the n-th earlier message (SNS delivers at least once; the same purchase arrives as a new message)."""

    customer: int = 0
    product: int = 0
    quantity: int = 1
    price: str = "10.00"
    currency: str = "EUR"
    at: str = "2026-11-28T12:00:00Z"
    invalid: str | None = None
    repeat: int | None = None

    def __repr__(self) -> str:
        if self.repeat is not None:
            return f"Buy(repeat #{self.repeat})"
        what = (
            f"c{self.customer} s{self.product} {self.quantity}x{self.price}{self.currency} @{self.at[11:16]}"
        )
        return f"Buy({what}{f' INVALID {self.invalid}' if self.invalid else ''})"

    def body(self, purchase_id: str, sns_id: str) -> str:
        data: dict = {
            "purchase_id": purchase_id,
            "customer_id": f"c-{self.customer}",
            "product_id": f"sku-{self.product}",
            "quantity": self.quantity,
            "unit_price": self.price,
            "currency": self.currency,
            "purchased_at": self.at,
        }
        if self.invalid == "quantity-0":
            data["quantity"] = 0
        elif self.invalid == "bad-price":
            data["unit_price"] = "abc"
        elif self.invalid == "no-currency":
            data.pop("currency")
        elif self.invalid == "not-json":
            return f"this is not JSON ({sns_id})"
        return sns_envelope(json.dumps(data), sns_id)


valid_buys = st.builds(
    Buy,
    customer=st.integers(0, 2),
    product=st.integers(0, 3),
    quantity=st.integers(1, 3),
    price=st.sampled_from(PRICES),
    currency=st.sampled_from(["EUR", "EUR", "USD"]),
    at=st.sampled_from(PURCHASE_TIMES),
)
invalid_buys = st.sampled_from(["quantity-0", "bad-price", "no-currency", "not-json"]).map(
    lambda reason: Buy(invalid=reason)
)
repeat_buys = st.integers(0, 20).map(lambda n: Buy(repeat=n))
buy_lists = st.lists(
    st.one_of(valid_buys, valid_buys, valid_buys, invalid_buys, repeat_buys), min_size=1, max_size=12
)
sqs_configs = st.builds(
    SqsConfig,
    batch_size=st.integers(1, 10),
    report_batch_item_failures=st.just(True),
    visibility_timeout=st.integers(1, 3),
    max_receive_count=st.integers(1, 4),
    concurrency=st.integers(1, 3),
    duplicate_rate=st.sampled_from([0.0, 0.3, 0.6]),
    lost_delete_rate=st.sampled_from([0.0, 0.2, 0.4]),
    seed=st.integers(0, 2**16),
    max_invocations=st.just(300),
)


@pytest.fixture
def purchase_environments(aws, monkeypatch, no_sdk_retries):
    monkeypatch.setenv("PURCHASES_TABLE", PURCHASES)
    monkeypatch.setenv("AGGREGATES_TABLE", PURCHASE_AGGREGATES)
    monkeypatch.setenv("REJECTED_QUEUE_URL", f"{aws}/123456789012/{REJECTED_QUEUE}")
    return [load_handler("purchase_processor") for _ in range(3)]


@dataclass(frozen=True)
class Sent:
    message_id: str
    purchase_id: str
    buy: Buy
    body: str


def send_purchases(mapping: SqsMapping, buys: list[Buy]) -> list[Sent]:
    sent: list[Sent] = []
    for n, buy in enumerate(buys):
        if buy.repeat is not None:
            if not sent:
                continue
            original = sent[buy.repeat % len(sent)]
            buy, purchase_id = original.buy, original.purchase_id
        else:
            purchase_id = f"p-{n}"
        message_id = f"msg-{n}"
        body = buy.body(purchase_id, f"sns-{n}")
        mapping.send(body, message_id=message_id)
        sent.append(Sent(message_id, purchase_id, buy, body))
    return sent


def purchase_truth(stored: dict[str, Buy]) -> dict[tuple[str, str], dict]:
    """Aggregates that the stored purchases imply, computed here from scratch."""
    truth: dict[tuple[str, str], dict] = defaultdict(lambda: defaultdict(Decimal))
    buyers: dict[str, set] = defaultdict(set)
    latest: dict[str, list] = defaultdict(list)
    for purchase_id, buy in stored.items():
        amount = Decimal(buy.price) * buy.quantity
        product = truth[(f"product#sku-{buy.product}", "totals")]
        product["purchases"] += 1
        product["units_sold"] += buy.quantity
        product[f"revenue_{buy.currency}"] += amount
        buyers[f"product#sku-{buy.product}"].add(buy.customer)
        truth[(f"product#sku-{buy.product}", f"buyer#c-{buy.customer}")]["purchases"] += 1
        customer = truth[(f"customer#c-{buy.customer}", "totals")]
        customer["purchases"] += 1
        customer[f"spend_{buy.currency}"] += amount
        latest[f"customer#c-{buy.customer}"].append((stored_time(buy.at), purchase_id))
    for product, customers in buyers.items():
        truth[(product, "totals")]["buyers"] = Decimal(len(customers))
    # Co-purchases: all these purchases fall within one window and under the caps, so each customer who
    # bought two distinct products counts once for the pair, in both directions, whatever the order.
    bought: dict[int, set[int]] = defaultdict(set)
    for buy in stored.values():
        bought[buy.customer].add(buy.product)
    for products in bought.values():
        for a in products:
            for b in products - {a}:
                truth[(f"related#sku-{a}", f"sku-{b}")]["score"] += 1
    for customer, purchases in latest.items():
        at = max(when for when, _ in purchases)
        truth[(customer, "totals")]["last_purchase_at"] = at
        truth[(customer, "totals")]["last_purchase_id"] = {pid for when, pid in purchases if when == at}
    return truth


def rejected_messages() -> list[dict]:
    """What the processor sent to the rejected-messages queue: bodies and message attribute values."""
    client = boto3.client("sqs")
    try:
        url = client.get_queue_url(QueueName=REJECTED_QUEUE)["QueueUrl"]
    except client.exceptions.QueueDoesNotExist:
        return []
    return [
        {
            "body": m["Body"],
            "attributes": {k: v.get("StringValue") for k, v in (m.get("MessageAttributes") or {}).items()},
        }
        for m in drain_queue(client, url)
    ]


@profile(fast=30)
@given(buys=buy_lists, config=sqs_configs, plan=fault_plans)
def test_purchases_store_each_valid_purchase_once_with_exact_aggregates_and_reject_invalid_ones(
    aws, purchase_environments, buys, config, plan
):
    reset_moto(aws)
    create_pk_table(PURCHASES, sort_key=False)
    create_pk_table(PURCHASE_AGGREGATES)
    boto3.client("sqs").create_queue(QueueName=REJECTED_QUEUE)
    mapping = SqsMapping(purchase_environments[: config.concurrency], config, plan)
    sent = send_purchases(mapping, buys)

    run = mapping.run()

    note(f"config={config}\nfaults={plan}\n" + mapping.describe())
    assert not run.exhausted, "the queue never drained"
    problems: list[str] = []
    for invocation in run.invocations:
        if invocation.error and not invocation.faults:
            problems.append(f"the handler failed with no fault injected: {invocation.error}")
    dead = {m.message_id for m in run.dead_letters}
    faulted = mapping.faulted_message_ids()
    rejected = rejected_messages()
    required: set[str] = set()
    allowed: set[str] = set()
    for message in sent:
        acknowledged = mapping.acknowledged[message.message_id] > 0
        if message.buy.invalid:
            copies = [
                r
                for r in rejected
                if r["body"] == message.body or message.message_id in r["attributes"].values()
            ]
            if len(copies) > 1:
                event("an invalid purchase was rejected more than once")
            if acknowledged and not copies:
                problems.append(f"invalid {message.buy} ({message.message_id}) acknowledged but not rejected")
            if not acknowledged and message.message_id not in dead:
                problems.append(
                    f"invalid {message.buy} ({message.message_id}) neither rejected nor dead-lettered"
                )
            continue
        if acknowledged:
            required.add(message.purchase_id)
            allowed.add(message.purchase_id)
        elif message.message_id in faulted:
            allowed.add(message.purchase_id)
        else:
            problems.append(
                f"valid {message.buy} ({message.message_id}) dead-lettered although nothing failed it"
            )
    items = {item["pk"]: item for item in scan(PURCHASES)}
    if not required <= set(items):
        problems.append(f"purchases lost: {sorted(required - set(items))}")
    if not set(items) <= allowed:
        problems.append(f"purchases stored that should not be: {sorted(set(items) - allowed)}")
    buys_by_id = {m.purchase_id: m.buy for m in sent if not m.buy.invalid}
    stored = {pid: buys_by_id[pid] for pid in items if pid in buys_by_id}
    for pid, buy in stored.items():
        item = items[pid]
        if (item["quantity"], item["amount"], item["currency"]) != (
            buy.quantity,
            Decimal(buy.price) * buy.quantity,
            buy.currency,
        ):
            problems.append(f"purchase {pid} stored as {item}, sent as {buy}")
    aggregates = {(i["pk"], i["sk"]): i for i in scan(PURCHASE_AGGREGATES)}
    truth = purchase_truth(stored)
    for key in sorted(set(truth) | set(aggregates)):
        want, got = truth.get(key, {}), aggregates.get(key, {})
        for attribute, value in want.items():
            ok = got.get(attribute) in value if isinstance(value, set) else got.get(attribute) == value
            if not ok:
                problems.append(f"{key}.{attribute} = {got.get(attribute)!r}, expected {value!r}")
        for attribute in ("purchases", "units_sold", "buyers", "score"):
            if attribute in got and attribute not in want:
                problems.append(f"{key}.{attribute} = {got[attribute]!r}, expected nothing")
    event(f"duplicate deliveries: {run.duplicate_deliveries > 0}; lost deletes: {run.lost_deletes > 0}")
    assert not problems, "\n".join(problems)


# ==========================================================================================================
# Hello (the example service): stateless, so at-least-once is enough
# ==========================================================================================================


class Greetings(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


names = st.sampled_from(["Ada", "Grace", "Linus"])
hello_bodies = st.one_of(
    names.map(lambda n: ("valid", json.dumps({"name": n}))),
    st.sampled_from(["not json", '{"name": ""}', "[1]", '{"nom": "x"}']).map(lambda b: ("invalid", b)),
)


@profile(fast=40, thorough=1000)
@given(bodies=st.lists(hello_bodies, min_size=1, max_size=15), config=sqs_configs)
def test_hello_greets_every_valid_message_and_dead_letters_every_invalid_one(bodies, config):
    hello = load_handler("hello")
    greetings = Greetings()
    hello.logger.addHandler(greetings)
    try:
        mapping = SqsMapping(hello, config)
        sent = [(mapping.send(body, message_id=f"m{n}"), kind, body) for n, (kind, body) in enumerate(bodies)]
        run = mapping.run()
    finally:
        hello.logger.removeHandler(greetings)

    note(mapping.describe())
    assert not run.exhausted
    dead = {m.message_id: m.receive_count for m in run.dead_letters}
    for message_id, kind, body in sent:
        if kind == "valid":
            assert mapping.acknowledged[message_id] >= 1
            assert f"Hello, {json.loads(body)['name']}!" in greetings.lines
            if message_id in dead:  # only a lost delete can bring a greeted message back that often
                assert run.lost_deletes > 0
        else:
            assert mapping.acknowledged[message_id] == 0
            assert dead.get(message_id) == config.max_receive_count
