"""The events Lambda's pollers and services build, from what moto's APIs return. Pure functions."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from lambda_patterns.local.intrinsics import ACCOUNT_ID, REGION


def jsonable(value: Any) -> Any:
    """boto3's parsed values as JSON: datetimes as epoch seconds, bytes as base64 (as Lambda's events)."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return value


def iso_now() -> str:
    """Now in the ISO 8601 form Lambda's records use (milliseconds, ``Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sqs_record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    """One record of an SQS event from a ``ReceiveMessage`` message."""
    attributes = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        entry: dict[str, Any] = {
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType"),
        }
        if "StringValue" in value:
            entry["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            entry["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        attributes[name] = entry
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message.get("Body", "").encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def dynamodb_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """One record of a DynamoDB stream event from a ``GetRecords`` record."""
    converted = jsonable(dict(record))
    converted["eventSourceARN"] = stream_arn
    converted.setdefault("awsRegion", REGION)
    return converted


def kinesis_record(
    record: Mapping[str, Any], shard_id: str, stream_arn: str, role_arn: str
) -> dict[str, Any]:
    """One record of a Kinesis event from a ``GetRecords`` record."""
    arrival = record.get("ApproximateArrivalTimestamp")
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": base64.b64encode(record["Data"]).decode(),
            "approximateArrivalTimestamp": arrival.timestamp() if isinstance(arrival, datetime) else arrival,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role_arn,
        "awsRegion": REGION,
        "eventSourceARN": stream_arn,
    }


def sequence_number(record: Mapping[str, Any]) -> str:
    """The sequence number of a stream event record (DynamoDB or Kinesis)."""
    if "kinesis" in record:
        return record["kinesis"]["sequenceNumber"]
    return record["dynamodb"]["SequenceNumber"]


def arrival_time(record: Mapping[str, Any]) -> float | None:
    """When a stream record arrived (epoch seconds), if known."""
    if "kinesis" in record:
        return record["kinesis"].get("approximateArrivalTimestamp")
    return record.get("dynamodb", {}).get("ApproximateCreationDateTime")


def stream_failure_record(
    *,
    kind: str,
    records: Sequence[Mapping[str, Any]],
    shard_id: str,
    stream_arn: str,
    function_arn: str,
    request_id: str | None,
    attempts: int,
    function_error: bool,
    condition: str = "RetryAttemptsExhausted",
    invoked: bool = True,
) -> dict[str, Any]:
    """What Lambda sends to a stream mapping's on-failure destination: the batch's coordinates, not its
    data (read the records again from the stream with them). ``condition``: ``RetryAttemptsExhausted`` or
    ``RecordAgeExceeded`` (MaximumRecordAgeInSeconds). Records discarded before any invocation of theirs
    (``invoked`` false) have no ``responseContext``.
    https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html"""
    document: dict[str, Any] = {
        "requestContext": {
            "requestId": request_id or str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
    }
    if invoked:
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if function_error:
            response["functionError"] = "Unhandled"
        document["responseContext"] = response
    info_key = "DDBStreamBatchInfo" if kind == "dynamodb" else "KinesisBatchInfo"
    document.update(
        {
            "version": "1.0",
            "timestamp": iso_now(),
            info_key: {
                "shardId": shard_id,
                "startSequenceNumber": sequence_number(records[0]),
                "endSequenceNumber": sequence_number(records[-1]),
                "approximateArrivalOfFirstRecord": _iso(arrival_time(records[0])),
                "approximateArrivalOfLastRecord": _iso(arrival_time(records[-1])),
                "batchSize": len(records),
                "streamArn": stream_arn,
            },
        }
    )
    return document


def sns_event(envelope: Mapping[str, Any], subscription_arn: str) -> dict[str, Any]:
    """The SNS event Lambda receives, from the JSON SNS delivers to an SQS subscriber."""
    return {
        "Records": [
            {
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "EventSource": "aws:sns",
                "Sns": {
                    "SignatureVersion": envelope.get("SignatureVersion", "1"),
                    "Timestamp": envelope.get("Timestamp"),
                    "Signature": envelope.get("Signature", ""),
                    "SigningCertUrl": envelope.get("SigningCertURL", ""),
                    "MessageId": envelope.get("MessageId"),
                    "Message": envelope.get("Message"),
                    "MessageAttributes": envelope.get("MessageAttributes") or {},
                    "Type": envelope.get("Type", "Notification"),
                    "UnsubscribeUrl": envelope.get("UnsubscribeURL", ""),
                    "TopicArn": envelope.get("TopicArn"),
                    "Subject": envelope.get("Subject"),
                },
            }
        ]
    }


def scheduled_event(rule_arn: str) -> dict[str, Any]:
    """The event EventBridge sends for a schedule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [rule_arn],
        "detail": {},
    }


_RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def rate_seconds(expression: str) -> float | None:
    """Seconds between runs of ``rate(N unit)``; None for ``cron(...)`` or anything else."""
    text = expression.strip()
    if not (text.startswith("rate(") and text.endswith(")")):
        return None
    value, _, unit = text[5:-1].strip().partition(" ")
    if unit.strip() not in _RATE_UNITS or not value.isdigit():
        return None
    return int(value) * _RATE_UNITS[unit.strip()]


def parse_json(text: str) -> Any:
    """JSON text, or the text itself when it is not JSON."""
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text
