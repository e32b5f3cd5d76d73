"""Encrypted, SSL-only SQS queues: the dead-letter and on-failure queues every construct here creates."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.nag import RuleAcknowledgement, acknowledge_findings, acknowledge_profile
from lambda_patterns.profiles import hardened_key


def acknowledge_queue_encryption(queue: sqs.Queue) -> None:
    """Acknowledge checkov's customer-managed-key check on a queue this library made, when it is
    encrypted with SSE-SQS (overrides may have chosen a KMS key, which passes, or none, which must not)."""
    if queue.encryption_type == sqs.QueueEncryption.SQS_MANAGED:
        acknowledge_profile(queue, "queue_sse_sqs")


def queue_encryption(scope: Construct, profile: str | None = None) -> dict[str, Any]:
    """The encryption props of a queue this library makes in ``scope``: SSE-SQS in the standard profile,
    the stack's customer-managed key in the hardened one."""
    key = hardened_key(scope, profile)
    if key is None:
        return {"encryption": sqs.QueueEncryption.SQS_MANAGED}
    return {"encryption": sqs.QueueEncryption.KMS, "encryption_master_key": key}


def failure_queue(
    scope: Construct, id: str, purpose: str, *, profile: str | None = None, **overrides: Any
) -> sqs.Queue:
    """A queue that keeps what could not be processed, for inspection and redrive.

    It is itself the last stop, so it has no dead-letter queue of its own; that finding (AwsSolutions-SQS3,
    Serverless-SQSRedrivePolicy) is acknowledged here with that reason, as is checkov's KMS-key check
    in the standard profile. ``profile``: see ``lambda_patterns.profiles``; default: the context's.
    """
    props: dict[str, Any] = {
        **queue_encryption(scope, profile),
        "enforce_ssl": True,
        "retention_period": defaults.DLQ_RETENTION,
    }
    props.update(overrides)
    queue = sqs.Queue(scope, id, **props)
    acknowledge_findings(
        queue,
        RuleAcknowledgement(
            f"This queue is the dead-letter/on-failure destination for {purpose}; "
            "a queue for its own failures would have nothing to send there.",
            nag=("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"),
        ),
    )
    acknowledge_queue_encryption(queue)
    return queue
