"""Event records in the shape Lambda delivers them, shared by the handler tests and the least-privilege
test: a Kinesis click record and an SQS message carrying an SNS notification envelope."""

from __future__ import annotations

import base64
import json

KINESIS_SEQ = 49590338271490256608559692538361571095921575989136588898
CLICK_STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"


def sns_envelope(message: str, message_id: str) -> str:
    """The JSON body SNS delivers to a subscribed SQS queue (raw message delivery off)."""
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:purchases",
            "Message": message,
            "Timestamp": "2026-11-28T12:00:06.000Z",
        }
    )


def kinesis_record(i: int, data: dict | bytes, shard: str = "shardId-000000000000") -> dict:
    """A Kinesis record as Lambda delivers it: base64 data, sequence number, shard in the eventID."""
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    sequence = str(KINESIS_SEQ + i)
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": f"user-{i}",
            "sequenceNumber": sequence,
            "data": base64.b64encode(raw).decode(),
            "approximateArrivalTimestamp": 1795867205.123,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard}:{sequence}",
        "eventName": "aws:kinesis:record",
        "awsRegion": "us-east-1",
        "eventSourceARN": CLICK_STREAM_ARN,
    }


def sqs_message(body: dict | str, n: int, queue: str = "purchases") -> dict:
    """An SQS record whose body is an SNS notification envelope of ``body`` (a string is the body itself)."""
    if isinstance(body, dict):
        body = sns_envelope(json.dumps(body), f"sns-{n}")
    return {
        "messageId": f"msg-{n}",
        "receiptHandle": f"handle-{n}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
        "awsRegion": "us-east-1",
    }
