"""Tumbling windows end to end on the local runner: a synthesized app whose function sums a Kinesis stream's
values per window, and the AnalyticsStack's stream aggregator (a 1-second tumbling window on a DynamoDB
stream), each run with ``LocalApp`` and checked against a ground truth the test computes itself from the
stream's records.
"""

from __future__ import annotations

import calendar
import json
import math
import os
import random
import threading
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from local_apps import synthesize_seen_app
from mapping_doubles import wait_until

ROOT = Path(__file__).resolve().parents[2]

SUMMING_HANDLER = """
import base64
import json
import os

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    state = dict(event["state"])
    for record in event["Records"]:
        state["sum"] = state.get("sum", 0) + int(base64.b64decode(record["kinesis"]["data"]))
        state["count"] = state.get("count", 0) + 1
    if event["isFinalInvokeForWindow"]:
        key = "seen/" + event["shardId"] + "/" + event["window"]["start"]
        s3.put_object(Bucket=os.environ["SEEN_BUCKET"], Key=key, Body=json.dumps(
            {"state": event["state"], "records": len(event["Records"]), "window": event["window"]}
        ))
    return {"state": state, "batchItemFailures": []}
"""


def _synthesize_summing_app(folder: Path) -> Path:
    import aws_cdk as cdk
    from aws_cdk import aws_kinesis as kinesis
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_lambda_event_sources as sources

    def wire(stack, function):
        stream = kinesis.Stream(stack, "Readings", shard_count=2, encryption=kinesis.StreamEncryption.MANAGED)
        function.add_event_source(
            sources.KinesisEventSource(
                stream,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=3,
                tumbling_window=cdk.Duration.seconds(1),
            )
        )

    return synthesize_seen_app(folder, "Windows", SUMMING_HANDLER, wire)


def _stream_records(kinesis, stream: str) -> list[dict]:
    """Every record of the stream with its shard, read from the start of each shard."""
    found = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = kinesis.get_records(ShardIterator=iterator, Limit=10000)["Records"]
        found.extend({"shard": shard["ShardId"], **record} for record in records)
    return found


@pytest.mark.slow
def test_the_final_invocation_of_each_window_receives_the_sum_of_the_windows_records(tmp_path):
    from lambda_patterns.local import LocalApp

    assembly = _synthesize_summing_app(tmp_path)
    with LocalApp(assembly, schedule_scale=0, retry_delay=0.1) as app:
        assert not [message for message in app.skipped if "EventSourceMapping" in message], app.skipped
        kinesis, s3 = app.client("kinesis"), app.client("s3")
        stream = app.find("Windows/Readings", "AWS::Kinesis::Stream")["Ref"]
        bucket = app.find("Windows/Seen", "AWS::S3::Bucket")["Ref"]

        # Given values put over about three seconds, under several partition keys (so on both shards).
        for value in range(1, 31):
            kinesis.put_record(
                StreamName=stream, Data=str(value).encode(), PartitionKey=f"sensor-{value % 7}"
            )
            time.sleep(0.1)

        # The ground truth: per shard and window (by arrival time), the sum and count of the values.
        truth: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"sum": 0, "count": 0})
        for record in _stream_records(kinesis, stream):
            start = math.floor(record["ApproximateArrivalTimestamp"].timestamp())
            window = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start))
            truth[(record["shard"], window)]["sum"] += int(record["Data"])
            truth[(record["shard"], window)]["count"] += 1
        assert len({shard for shard, _ in truth}) == 2

        # When every window has ended and had its final invocation.
        def finals():
            keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
            return keys if len(keys) >= len(truth) else None

        keys = wait_until(finals, timeout=60)

        # Then each final invocation got no records and its window's whole sum.
        got = {}
        for key in keys:
            _, shard, window = key.split("/")
            final = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            assert final["records"] == 0
            assert final["window"]["start"] == window
            got[(shard, window)] = final["state"]
        assert got == dict(truth)


# The AnalyticsStack's stream aggregator ------------------------------------------------------------------


@pytest.fixture(scope="module")
def analytics_assembly(tmp_path_factory) -> Path:
    """The AnalyticsStack alone, synthesized with bundling (the aggregator's real package)."""
    import aws_cdk as cdk

    from stacks.analytics_stack import AnalyticsStack

    out = tmp_path_factory.mktemp("analytics") / "cdk.out"
    context = {
        **json.loads((ROOT / "cdk.json").read_text()).get("context", {}),
        "aws:cdk:enable-path-metadata": True,
        "aws:cdk:enable-asset-metadata": True,
    }
    os.environ.setdefault("LAMBDA_PATTERNS_WHEELHOUSE", str(ROOT / ".wheelhouse"))
    app = cdk.App(outdir=str(out), context=context)
    AnalyticsStack(app, "AnalyticsStack")
    app.synth()
    return out


def _capture(worker) -> list[dict]:
    """Every event the poller hands to ``worker`` (then run by its real handler)."""
    events: list[dict] = []
    lock = threading.Lock()
    invoke = worker.invoke

    def capturing(event, trigger):
        with lock:
            events.append(json.loads(json.dumps(event)))
        return invoke(event, trigger)

    worker.invoke = capturing
    return events


def _trace(events: list[dict]) -> str:
    """One line per event: window start, final or not, the records' creation times."""
    return "\n".join(
        f"{event['window']['start']} final={event['isFinalInvokeForWindow']} "
        f"{[record['dynamodb']['ApproximateCreationDateTime'] for record in event['Records']]}"
        for event in events
    )


@pytest.mark.slow
def test_the_aggregators_tumbling_window_events_and_aggregates_are_as_on_lambda(analytics_assembly):
    from lambda_patterns.local import LocalApp

    with LocalApp(analytics_assembly, schedule_scale=0, retry_delay=0.1) as app:
        dynamodb, streams = app.client("dynamodb"), app.client("dynamodbstreams")
        source = app.find("OrderAggregates/Source", None)
        aggregates = app.find("OrderAggregates/Aggregates/", None)["Ref"]
        (worker,) = [
            w for w in app.workers.values() if w.spec.environment.get("AGGREGATES_TABLE") == aggregates
        ]
        events = _capture(worker)

        # Given orders written over about two seconds, in two categories and three regions.
        rng = random.Random(7)
        orders = []
        for number in range(24):
            order = {
                "pk": f"o-{number}",
                "category": rng.choice(["books", "games"]),
                "region": rng.choice(["eu", "us", "apac"]),
                "amount": Decimal(rng.randint(1, 5000)) / 100,
            }
            orders.append(order)
            dynamodb.put_item(
                TableName=source["Ref"],
                Item={
                    "pk": {"S": order["pk"]},
                    "category": {"S": order["category"]},
                    "region": {"S": order["region"]},
                    "amount": {"N": str(order["amount"])},
                    "created_at": {"S": "2026-11-28T12:10:00Z"},
                },
            )
            time.sleep(0.08)

        # The ground truth, computed from the orders: count and sum per dimension value in hour 12.
        truth: dict[str, tuple[int, Decimal]] = {}
        for dimension in ("category", "region"):
            for order in orders:
                pk = f"{dimension}#{order[dimension]}"
                count, total = truth.get(pk, (0, Decimal(0)))
                truth[pk] = (count + 1, total + order["amount"])

        # When the aggregator has caught up.
        def aggregated():
            items = dynamodb.scan(TableName=aggregates)["Items"]
            found = {
                item["pk"]["S"]: (int(item["count"]["N"]), Decimal(item["sum"]["N"]))
                for item in items
                if not item["pk"]["S"].startswith("mark#") and "count" in item and "sum" in item
            }
            return found if found == truth else None

        wait_until(aggregated, timeout=60)
        # and the last window's final invocation has come.
        wait_until(lambda: events and events[-1]["isFinalInvokeForWindow"], timeout=30)

        # Then the aggregates equal the ground truth (above), and every event was a tumbling-window event
        # of the stream's shard: 1-second windows holding the records that arrived in them, the state
        # the previous invocation returned ({} from this handler), the final ones without records.
        (shard,) = streams.describe_stream(StreamArn=source["StreamArn"])["StreamDescription"]["Shards"]
        finals = [event for event in events if event["isFinalInvokeForWindow"]]
        assert finals and all(event["Records"] == [] for event in finals)
        delivered = []
        for event in events:
            assert event["shardId"] == shard["ShardId"]
            assert event["eventSourceARN"] == source["StreamArn"]
            assert event["state"] == {}
            assert event["isWindowTerminatedEarly"] is False
            start = calendar.timegm(time.strptime(event["window"]["start"], "%Y-%m-%dT%H:%M:%SZ"))
            end = calendar.timegm(time.strptime(event["window"]["end"], "%Y-%m-%dT%H:%M:%SZ"))
            assert end - start == 1
            for record in event["Records"]:
                assert start <= record["dynamodb"]["ApproximateCreationDateTime"] < end
                delivered.append(record["dynamodb"]["Keys"]["pk"]["S"])
        assert set(delivered) == {order["pk"] for order in orders}
        # each window's records came before its final invocation, and no window twice after its final.
        closed: set[str] = set()
        for event in events:
            assert event["window"]["start"] not in closed, _trace(events)
            if event["isFinalInvokeForWindow"]:
                closed.add(event["window"]["start"])
        assert len(closed) >= 2
