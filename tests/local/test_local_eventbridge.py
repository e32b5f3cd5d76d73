"""The local runner's EventBridge event-pattern rules, end to end.

No stack of app.py uses an event pattern, so this test synthesizes a tiny app of its own: one function
behind an ``EventBridgeTrigger(event_pattern=...)``, whose handler writes each event it receives to a
bucket. The runner creates the rule on moto's default bus; events put there with ``PutEvents`` must reach
the function when, and only when, they match.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from local_apps import synthesize_seen_app

HANDLER = """
import json
import os

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    s3.put_object(Bucket=os.environ["SEEN_BUCKET"], Key="seen/" + event["id"], Body=json.dumps(event))
"""


def _synthesize(folder: Path) -> Path:
    from aws_cdk import aws_events as events

    from lambda_patterns.triggers import EventBridgeTrigger

    def wire(stack, function):
        EventBridgeTrigger(
            stack,
            "OnBigOrder",
            function=function,
            event_pattern=events.EventPattern(
                source=["shop.orders"],
                detail_type=["OrderPlaced"],
                detail={"amount": [{"numeric": [">", 100]}]},
            ),
        )

    return synthesize_seen_app(folder, "Events", HANDLER, wire)


def _event(source: str, detail_type: str, amount: int) -> dict:
    return {"Source": source, "DetailType": detail_type, "Detail": json.dumps({"amount": amount})}


@pytest.mark.slow
def test_an_event_pattern_rule_invokes_its_function_for_matching_events_only(tmp_path):
    from lambda_patterns.local import LocalApp

    assembly = _synthesize(tmp_path)
    with LocalApp(assembly, schedule_scale=0, retry_delay=0.1) as app:
        s3 = app.client("s3")
        bucket = app.find("Events/Seen", "AWS::S3::Bucket")["Ref"]
        (worker,) = app.workers.values()

        # Three that miss the pattern (source, detail type, amount), then the one that matches, last: the
        # runner delivers in order, so once the match is seen the misses would have been too.
        entries = [
            _event("shop.returns", "OrderPlaced", 500),
            _event("shop.orders", "OrderCancelled", 500),
            _event("shop.orders", "OrderPlaced", 50),
            _event("shop.orders", "OrderPlaced", 250),
        ]
        for entry in entries:
            result = app.client("events").put_events(Entries=[entry])
            assert result["FailedEntryCount"] == 0

        deadline = time.monotonic() + 60
        seen: list[str] = []
        while time.monotonic() < deadline and not seen:
            seen = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
            time.sleep(0.25)

        assert len(seen) == 1, f"expected the one matching event, saw {seen}"
        event = json.loads(s3.get_object(Bucket=bucket, Key=seen[0])["Body"].read())
        assert (event["source"], event["detail-type"], event["detail"]) == (
            "shop.orders",
            "OrderPlaced",
            {"amount": 250},
        )
        assert worker.invocations == 1
