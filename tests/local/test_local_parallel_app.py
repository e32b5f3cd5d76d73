"""ParallelizationFactor end to end on the local runner: a synthesized app whose function reads a one-shard
Kinesis stream with three concurrent batches per shard, and notes in a bucket when it handled each record.
Per partition key, the handler must see the records in sequence order, as Lambda guarantees.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import pytest

from local_apps import synthesize_seen_app
from mapping_doubles import wait_until

HANDLER = """
import base64
import os
import time

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    for record in event["Records"]:
        kinesis = record["kinesis"]
        key = f"seen/{kinesis['partitionKey']}/{time.time_ns():020d}-{kinesis['sequenceNumber']}"
        s3.put_object(Bucket=os.environ["SEEN_BUCKET"], Key=key, Body=base64.b64decode(kinesis["data"]))
"""


def _synthesize(folder: Path) -> Path:
    from aws_cdk import aws_kinesis as kinesis
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_lambda_event_sources as sources

    def wire(stack, function):
        stream = kinesis.Stream(stack, "Devices", shard_count=1, encryption=kinesis.StreamEncryption.MANAGED)
        function.add_event_source(
            sources.KinesisEventSource(
                stream,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=3,
                parallelization_factor=3,
            )
        )

    return synthesize_seen_app(folder, "Parallel", HANDLER, wire)


@pytest.mark.slow
def test_with_a_parallelization_factor_the_handler_sees_each_keys_records_in_order(tmp_path):
    from lambda_patterns.local import LocalApp
    from lambda_patterns.local.stream_poller import lane_of

    assembly = _synthesize(tmp_path)
    with LocalApp(assembly, schedule_scale=0, retry_delay=0.1) as app:
        assert not [message for message in app.skipped if "EventSourceMapping" in message], app.skipped
        kinesis, s3 = app.client("kinesis"), app.client("s3")
        stream = app.find("Parallel/Devices", "AWS::Kinesis::Stream")["Ref"]
        bucket = app.find("Parallel/Seen", "AWS::S3::Bucket")["Ref"]
        keys = [f"device-{number}" for number in range(6)]
        assert len({lane_of({"kinesis": {"partitionKey": key}}, 3) for key in keys}) > 1

        # Given four readings of each of six devices, interleaved, on one shard.
        put: dict[str, list[str]] = defaultdict(list)
        for reading in range(4):
            for key in keys:
                response = kinesis.put_record(
                    StreamName=stream, Data=f"{key}:{reading}".encode(), PartitionKey=key
                )
                put[key].append(response["SequenceNumber"])

        # When the mapping (ParallelizationFactor 3) has delivered them all.
        def handled():
            found = [
                item["Key"]
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="seen/")
                for item in page.get("Contents", [])
            ]
            return found if len(found) >= 24 else None

        names = wait_until(handled, timeout=60)
        time.sleep(0.5)

        # Then, per device, the handler handled the records in sequence order.
        seen: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for name in names:
            _, key, stamp = name.split("/")
            handled_at, sequence = stamp.split("-")
            seen[key].append((handled_at, sequence))
        for key in keys:
            assert [sequence for _, sequence in sorted(seen[key])] == put[key]
