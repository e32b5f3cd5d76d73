"""The local runner and a function deployed through CodeDeploy: its triggers invoke the ``live`` alias, which
locally is the synthesized code at once; the runner says that traffic shifting is not emulated and reports
no CodeDeploy resource as skipped."""

from __future__ import annotations

import json
import logging
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
    for record in event["Records"]:
        s3.put_object(Bucket=os.environ["SEEN_BUCKET"], Key="seen/" + record["messageId"], Body=record["body"])
    return {"batchItemFailures": []}
"""


def _synthesize(folder: Path) -> Path:
    from lambda_patterns import Deployment
    from lambda_patterns.triggers import SqsTrigger

    return synthesize_seen_app(
        folder,
        "Deployed",
        HANDLER,
        lambda stack, function: SqsTrigger(stack, "Orders", function=function),
        alarms=True,
        deployment=Deployment.canary(10, 5),
    )


@pytest.mark.slow
def test_a_canary_deployed_function_is_served_through_its_alias_with_a_note(tmp_path, caplog):
    from lambda_patterns.local import LocalApp
    from lambda_patterns.local.wire_codedeploy import NOT_EMULATED

    assembly = _synthesize(tmp_path)
    template = json.loads((assembly / "Deployed.template.json").read_text())
    (mapping,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert ":live" in json.dumps(mapping["Properties"]["FunctionName"])  # the trigger is on the alias

    caplog.set_level(logging.INFO, logger="lambda_patterns.local")
    with LocalApp(assembly, schedule_scale=0, retry_delay=0.1) as app:
        assert app.skipped == []
        queue = app.find("Deployed/Orders/Queue", "AWS::SQS::Queue")["QueueUrl"]
        bucket = app.find("Deployed/Seen", "AWS::S3::Bucket")["Ref"]
        app.client("sqs").send_message(QueueUrl=queue, MessageBody="order-1")
        deadline, seen = time.monotonic() + 60, []
        while time.monotonic() < deadline and not seen:
            seen = app.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])
            time.sleep(0.25)

    assert len(seen) == 1
    assert any(NOT_EMULATED in record.getMessage() for record in caplog.records)
