"""checks.recursion: a trigger never fires on what its own function does to the triggering resource.

Event-aware for S3: a write loops under an ObjectCreated trigger, a delete under an ObjectRemoved one, and
neither under the other; a stream, queue or topic (``events=None``) fires on every write or delete.
"""

import pytest
from aws_cdk import aws_s3 as s3

from lambda_patterns.checks.recursion import check_no_self_trigger
from lambda_patterns.errors import ConfigurationError
from lambda_patterns.permissions import Access, Permission
from test_checks_support import refusal

CODE = "LambdaPatterns.Trigger.Recursion"
BUCKET = "S/Bucket"
CREATED, REMOVED = s3.EventType.OBJECT_CREATED, s3.EventType.OBJECT_REMOVED
WRITE_ADVICE = "Use another bucket/table/queue for the output, or disjoint key prefixes for input and output."
DELETE_ADVICE = "Watch ObjectCreated events only, or keep the keys it deletes out of the trigger's prefix."


def _grant(access, prefix=None, resource_id=BUCKET):
    return Permission(
        actions=("x:Y",), resources=("arn",), access=access, resource_id=resource_id, prefix=prefix
    )


@pytest.mark.parametrize(
    ("events", "grant", "trigger_prefix"),
    [
        # A delete under a creation trigger, a write under a removal trigger: not what the trigger fires on.
        ([CREATED], _grant(Access.DELETE, "in/"), "in/"),
        ([s3.EventType.OBJECT_CREATED_PUT], _grant(Access.DELETE), None),
        ([REMOVED], _grant(Access.WRITE, "in/"), "in/"),
        ([s3.EventType.OBJECT_REMOVED_DELETE], _grant(Access.WRITE), None),
        # The right kind of change, but elsewhere.
        ([CREATED], _grant(Access.WRITE, "out/"), "in/"),
        ([REMOVED], _grant(Access.DELETE, "archive/"), "in/"),
        ([CREATED, REMOVED], _grant(Access.WRITE, resource_id="S/Other"), None),
        (None, _grant(Access.WRITE, resource_id="S/Other"), None),
        # Grants that change nothing, and events that no put or delete makes S3 report.
        ([CREATED], _grant(Access.READ, "in/"), "in/"),
        ([CREATED], _grant(Access.OTHER), None),
        (None, _grant(Access.READ), None),
        ([s3.EventType.OBJECT_TAGGING, s3.EventType.OBJECT_RESTORE_COMPLETED], _grant(Access.WRITE), None),
        ([s3.EventType.LIFECYCLE_EXPIRATION], _grant(Access.DELETE), None),
        ([], _grant(Access.WRITE), None),
    ],
)
def test_accepts_a_function_that_causes_nothing_its_trigger_fires_on(events, grant, trigger_prefix):
    check_no_self_trigger("W", [grant], BUCKET, trigger_prefix, None, events)


# Grants beside the looping one that must not change the verdict: a read, and a write to another resource.
HARMLESS = [_grant(Access.READ, "in/"), _grant(Access.WRITE, resource_id="S/Other")]


@pytest.mark.parametrize(
    ("events", "grant_prefix", "trigger_prefix", "suffix", "loop"),
    [
        (
            [CREATED],
            "uploads/thumbs/",
            "uploads/",
            None,
            "S/Bucket under prefix 'uploads/thumbs/', which triggers it with prefix 'uploads/'",
        ),
        # The suffix filter does not help: the function may write keys with any suffix.
        (
            [s3.EventType.OBJECT_CREATED_COPY],
            None,
            "in/",
            ".jpg",
            "S/Bucket, which triggers it with prefix 'in/'",
        ),
        (
            [s3.EventType.OBJECT_CREATED_COMPLETE_MULTIPART_UPLOAD],
            "in/",
            None,
            None,
            "S/Bucket under prefix 'in/', which triggers it",
        ),
        (None, None, None, None, "S/Bucket, which triggers it"),
    ],
)
def test_refuses_a_function_that_writes_what_its_trigger_fires_on(
    events, grant_prefix, trigger_prefix, suffix, loop
):
    grants = [*HARMLESS, _grant(Access.WRITE, grant_prefix)]

    error = refusal(check_no_self_trigger, "W", grants, BUCKET, trigger_prefix, suffix, events)

    assert (error.code, str(error)) == (
        CODE,
        f"W: the function writes to {loop}: every write would invoke it again. {WRITE_ADVICE}",
    )


@pytest.mark.parametrize(
    ("events", "grant_prefix", "trigger_prefix", "loop"),
    [
        ([REMOVED], "in/", "in/", "S/Bucket under prefix 'in/', which triggers it with prefix 'in/'"),
        (
            [s3.EventType.OBJECT_REMOVED_DELETE_MARKER_CREATED],
            None,
            "in/",
            "S/Bucket, which triggers it with prefix 'in/'",
        ),
        (
            [CREATED, REMOVED],
            "in/a/",
            "in/",
            "S/Bucket under prefix 'in/a/', which triggers it with prefix 'in/'",
        ),
        (None, None, None, "S/Bucket, which triggers it"),
    ],
)
def test_refuses_a_function_that_deletes_what_its_trigger_fires_on(
    events, grant_prefix, trigger_prefix, loop
):
    grants = [*HARMLESS, _grant(Access.DELETE, grant_prefix)]

    error = refusal(check_no_self_trigger, "W", grants, BUCKET, trigger_prefix, None, events)

    assert (error.code, str(error)) == (
        CODE,
        f"W: the function deletes from {loop}: every delete would invoke it again. {DELETE_ADVICE}",
    )


@pytest.mark.parametrize("event", list(s3.EventType), ids=lambda event: event.value)
def test_a_put_loops_on_object_created_events_and_a_delete_on_object_removed_ones(event):
    loops = set()
    for access in (Access.WRITE, Access.DELETE):
        try:
            check_no_self_trigger("W", [_grant(access)], BUCKET, events=(event,))
        except ConfigurationError as error:
            assert error.code == CODE
            loops.add(access)

    expected = {Access.WRITE} if event.value.startswith("OBJECT_CREATED") else set()
    expected |= {Access.DELETE} if event.value.startswith("OBJECT_REMOVED") else set()
    assert loops == expected


def test_events_may_be_any_iterable_read_once():
    events = iter([CREATED])

    with pytest.raises(ConfigurationError, match="every write would invoke it again"):
        check_no_self_trigger("W", [_grant(Access.READ), _grant(Access.WRITE)], BUCKET, events=events)
