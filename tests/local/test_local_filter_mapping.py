"""The local runner's event filtering (``FilterCriteria``) on an SQS event source mapping, end to end.

No stack of app.py filters a mapping, so this test synthesizes a tiny app of its own: one function reading a
queue through ``SqsEventSource(filters=[...])``, whose handler writes the body of each record it receives to
a bucket. Only the messages matching a filter must reach it; the others must be gone from the queue, as
Lambda deletes them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from local_apps import synthesize_seen_app

HANDLER = """
import os

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    for record in event["Records"]:
        s3.put_object(Bucket=os.environ["SEEN_BUCKET"], Key="seen/" + record["messageId"], Body=record["body"])
"""


def _synthesize(folder: Path) -> Path:
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_lambda_event_sources as sources
    from aws_cdk import aws_sqs as sqs

    def wire(stack, function):
        queue = sqs.Queue(stack, "Orders", visibility_timeout=cdk.Duration.minutes(5))
        function.add_event_source(
            sources.SqsEventSource(
                queue,
                filters=[
                    # Two filters, OR-ed: big orders, or any order of a VIP.
                    lambda_.FilterCriteria.filter(
                        {"body": {"amount": lambda_.FilterRule.between(100, 1000)}}
                    ),
                    lambda_.FilterCriteria.filter(
                        {"body": {"customer": lambda_.FilterRule.begins_with("vip-")}}
                    ),
                ],
            )
        )

    return synthesize_seen_app(folder, "Filtered", HANDLER, wire)


@pytest.mark.slow
def test_only_messages_matching_a_filter_reach_the_function_and_the_others_leave_the_queue(tmp_path):
    from lambda_patterns.local import LocalApp

    assembly = _synthesize(tmp_path)
    with LocalApp(assembly, schedule_scale=0, retry_delay=0.1) as app:
        assert not [message for message in app.skipped if "EventSourceMapping" in message], app.skipped
        sqs = app.client("sqs")
        s3 = app.client("s3")
        queue = app.find("Filtered/Orders", "AWS::SQS::Queue")["Ref"]
        bucket = app.find("Filtered/Seen", "AWS::S3::Bucket")["Ref"]

        bodies = [
            json.dumps({"amount": 50, "customer": "ada"}),  # neither filter
            "not json",  # a plain string, never a JSON object
            json.dumps({"amount": 5000, "customer": "bob"}),  # above the range
            json.dumps({"amount": 250, "customer": "cy"}),  # the first filter
            json.dumps({"amount": 1, "customer": "vip-dee"}),  # the second filter
        ]
        for body in bodies:
            sqs.send_message(QueueUrl=queue, MessageBody=body)

        deadline = time.monotonic() + 60
        seen: list[str] = []
        while time.monotonic() < deadline:
            keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
            seen = sorted(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode() for key in keys)
            attributes = sqs.get_queue_attributes(
                QueueUrl=queue,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            if len(seen) >= 2 and all(value == "0" for value in attributes.values()):
                break
            time.sleep(0.2)

        assert seen == sorted([bodies[3], bodies[4]])
        assert attributes == {
            "ApproximateNumberOfMessages": "0",
            "ApproximateNumberOfMessagesNotVisible": "0",
        }


class _FakeStream:
    """A one-shard Kinesis or DynamoDB Streams client holding ``records``, read in one GetRecords."""

    def __init__(self, records: list[dict]) -> None:
        self._records = records

    def list_shards(self, **_: object) -> dict:
        return {"Shards": [{"ShardId": "shard-0"}]}

    def describe_stream(self, **_: object) -> dict:
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-0"}]}}

    def get_shard_iterator(self, **_: object) -> dict:
        return {"ShardIterator": "it-0"}

    def get_records(self, **_: object) -> dict:
        records, self._records = self._records, []
        return {"Records": records, "NextShardIterator": "it-1"}


class _RecordingWorker:
    """A function worker that records the events it is invoked with and succeeds."""

    def __init__(self) -> None:
        from types import SimpleNamespace

        self.spec = SimpleNamespace(name="Fn", arn="arn:aws:lambda:us-east-1:123456789012:function:Fn")
        self.events: list[dict] = []

    def invoke(self, event: dict, trigger: str):
        from lambda_patterns.local.functions import Outcome

        self.events.append(event)
        return Outcome(ok=True)


def _kinesis_record(number: int, data: dict) -> dict:
    return {"SequenceNumber": str(number), "PartitionKey": "p", "Data": json.dumps(data).encode()}


def _dynamodb_record(number: int, event_name: str, status: str) -> dict:
    return {
        "eventName": event_name,
        "dynamodb": {"SequenceNumber": str(number), "NewImage": {"Status": {"S": status}}},
    }


# (kind, stream ARN, records in the stream, FilterCriteria pattern, sequence numbers delivered)
STREAMS = [
    (
        "kinesis",
        "arn:aws:kinesis:us-east-1:123456789012:stream/Clicks",
        [_kinesis_record(1, {"t": 15}), _kinesis_record(2, {"t": 25}), _kinesis_record(3, {"t": 30})],
        {"data": {"t": [{"numeric": [">", 20]}]}},
        ["2", "3"],
    ),
    (
        "dynamodb",
        "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2026",
        [
            _dynamodb_record(1, "INSERT", "PENDING"),
            _dynamodb_record(2, "MODIFY", "SHIPPED"),
            _dynamodb_record(3, "REMOVE", "SHIPPED"),
        ],
        {"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"Status": {"S": ["SHIPPED"]}}}},
        ["2"],
    ),
    (
        "kinesis",
        "arn:aws:kinesis:us-east-1:123456789012:stream/Clicks",
        [_kinesis_record(1, {"t": 1})],
        {"t": [1]},
        [],
    ),
]


@pytest.mark.parametrize(("kind", "arn", "records", "pattern", "delivered"), STREAMS)
def test_a_stream_mapping_delivers_only_the_records_matching_its_filters(
    kind, arn, records, pattern, delivered
):
    from lambda_patterns.local.events import sequence_number
    from lambda_patterns.local.pollers import PollerSettings, StreamMappingPoller

    worker = _RecordingWorker()
    poller = StreamMappingPoller(
        kind, _FakeStream(records), arn, worker, PollerSettings(filters=[pattern]), lambda *_: None
    )
    poller._discover()
    poller.poll_once()
    got = [sequence_number(record) for event in worker.events for record in event["Records"]]
    # A batch left empty by the filters is no invocation at all, as in Lambda.
    assert got == delivered
    assert len(worker.events) == (1 if delivered else 0)
