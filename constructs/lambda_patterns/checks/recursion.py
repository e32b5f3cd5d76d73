"""A trigger must not fire on what its own function does to the triggering resource: that is an endless,
billed loop.

Lambda's recursive loop detection stops such a loop only after about 16 invocations, and only for some
services; this check stops it at synth time.

Whether a grant loops depends on what the trigger fires on. A stream, a queue or a topic fires on every
change, so any write or delete reaching it (``Access.WRITE``, ``Access.DELETE``) loops. An S3 trigger fires on
the event types it names, and S3 reports a put (or copy, or multipart upload) as ``ObjectCreated`` and a
delete (or a delete marker) as ``ObjectRemoved``: a write loops under a creation trigger, a delete under a
removal trigger, and neither under the other.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import aws_s3 as s3

from lambda_patterns.checks.prefixes import prefixes_overlap
from lambda_patterns.errors import ConfigurationError
from lambda_patterns.permissions import Access, Permission

CODE = "LambdaPatterns.Trigger.Recursion"

#: The S3 event types each access makes S3 report, as the start of the event type's name.
S3_EVENT_FAMILIES = {Access.WRITE: "OBJECT_CREATED", Access.DELETE: "OBJECT_REMOVED"}
#: How the message says what the function does, why it loops, and what to do instead.
_SAYS = {
    Access.WRITE: (
        "writes to",
        "every write",
        "Use another bucket/table/queue for the output, or disjoint key prefixes for input and output.",
    ),
    Access.DELETE: (
        "deletes from",
        "every delete",
        "Watch ObjectCreated events only, or keep the keys it deletes out of the trigger's prefix.",
    ),
}


def check_no_self_trigger(
    where: str,
    permissions: Iterable[Permission],
    source_id: str,
    source_prefix: str | None = None,
    source_suffix: str | None = None,
    events: Iterable[s3.EventType] | None = None,
) -> None:
    """Raise if a write or delete permission of the function reaches the resource that triggers it, with
    an effect the trigger fires on.

    ``source_id`` is the trigger resource's node path. For S3, ``events`` are the trigger's event types and
    the prefix filters decide whether the keys the function changes can match the trigger (a suffix filter
    alone proves nothing: the function may use any suffix). ``events=None``: a source that fires on every
    change (a stream, a queue, a topic).
    """
    events = None if events is None else tuple(events)
    for permission in permissions:
        if permission.resource_id != source_id or not _fires(permission.access, events):
            continue
        if prefixes_overlap(permission.prefix, source_prefix):
            does, every, instead = _SAYS[permission.access]
            changed = f" under prefix {permission.prefix!r}" if permission.prefix else ""
            watched = f" with prefix {source_prefix!r}" if source_prefix else ""
            raise ConfigurationError(
                f"{where}: the function {does} {source_id}{changed}, which triggers it{watched}: "
                f"{every} would invoke it again. {instead}",
                code=CODE,
            )


def _fires(access: Access, events: tuple[s3.EventType, ...] | None) -> bool:
    """Whether a change made with ``access`` is something the trigger fires on."""
    family = S3_EVENT_FAMILIES.get(access)
    if family is None:
        return False
    return events is None or any(event.value.startswith(family) for event in events)
