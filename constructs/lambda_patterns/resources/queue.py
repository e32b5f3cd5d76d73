"""Encrypted, SSL-only SQS queues: the dead-letter and on-failure queues every construct here creates."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.nag import acknowledge_rule


def failure_queue(scope: Construct, id: str, purpose: str, **overrides: Any) -> sqs.Queue:
    """A queue that keeps what could not be processed, for inspection and redrive.

    It is itself the last stop, so it has no dead-letter queue of its own; that cdk-nag finding (SQS3) is
    acknowledged here with that reason.
    """
    props: dict[str, Any] = {
        "encryption": sqs.QueueEncryption.SQS_MANAGED,
        "enforce_ssl": True,
        "retention_period": defaults.DLQ_RETENTION,
    }
    props.update(overrides)
    queue = sqs.Queue(scope, id, **props)
    acknowledge_rule(
        queue,
        "AwsSolutions-SQS3",
        f"This queue is the dead-letter/on-failure destination for {purpose}; "
        "a queue for its own failures would have nothing to send there.",
    )
    return queue
