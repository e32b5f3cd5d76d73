"""Example service: reads greeting requests from SQS and logs a greeting for each.

A message whose body is not a JSON object with a ``name`` is reported in ``batchItemFailures``, so SQS
redelivers only that message and, after the queue's maxReceiveCount, moves it to the dead-letter queue.
"""

from __future__ import annotations

import gc

# Frozen before lambda_common is compiled, not only after: a collection its compiling tips then skips the
# objects Lambda's runtime has just made (on Python 3.11 that collection walked them for ~0.6 ms, an eighth
# of this init; where none falls due, freezing early costs nothing). Plain gc: importing
# lambda_common.coldstart would compile the package first.
gc.freeze()

from lambda_common import Metrics, get_logger, log_context  # noqa: E402
from lambda_common.batch import batch_response  # noqa: E402
from lambda_common.coldstart import freeze_init_objects  # noqa: E402
from lambda_common.parsing import parse_json  # noqa: E402

freeze_init_objects()
logger = get_logger()
metrics = Metrics()


def greeting(body: str) -> str:
    """The greeting for one message body; ValueError if the body is not ``{"name": "<non-empty>"}``."""
    request = parse_json(body)
    if (
        not isinstance(request, dict)
        or not isinstance(request.get("name"), str)
        or not request["name"].strip()
    ):
        raise ValueError('expected a JSON object with a non-empty "name"')
    return f"Hello, {request['name'].strip()}!"


def handler(event, context):
    """Greet every message of an SQS batch; report the ones that are not greeting requests."""
    with log_context(context):
        failures = []
        for record in event.get("Records", []):
            try:
                logger.info(greeting(record["body"]))
                metrics.add("Greeted")
            except (ValueError, KeyError) as error:
                logger.warning(
                    "rejected message",
                    extra={"fields": {"message_id": record.get("messageId"), "reason": str(error)}},
                )
                metrics.add("Rejected")
                failures.append(record["messageId"])
        metrics.flush()
        return batch_response(failures)
