"""The example service's handler: one bad message never fails the others."""

import json

from conftest import load_event, load_handler


def test_greeting_is_made_from_the_name():
    hello = load_handler("hello")

    assert hello.greeting('{"name": " Ada "}') == "Hello, Ada!"


def test_malformed_message_is_reported_alone_in_batch_item_failures(lambda_context, capsys):
    hello = load_handler("hello")
    event = load_event("sqs_hello_batch")

    result = hello.handler(event, lambda_context)

    assert result == {"batchItemFailures": [{"itemIdentifier": "msg-2"}]}
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert emf[-1]["Greeted"] == [1.0, 1.0] and emf[-1]["Rejected"] == 1.0


def test_deeply_nested_body_is_rejected_alone_not_a_batch_crash(lambda_context):
    hello = load_handler("hello")
    event = load_event("sqs_hello_batch")
    event["Records"][0]["body"] = "[" * 100_000

    result = hello.handler(event, lambda_context)

    assert result == {"batchItemFailures": [{"itemIdentifier": "msg-1"}, {"itemIdentifier": "msg-2"}]}
