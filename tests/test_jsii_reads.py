"""lambda_patterns.jsii_reads: what is fixed on a CDK object is read across the jsii bridge once per object."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from jsii._kernel.providers import process

from lambda_patterns.jsii_reads import milliseconds_of, name_of, node_of, path_of, seconds_of
from synth_helpers import new_app


@contextlib.contextmanager
def jsii_requests() -> Iterator[list[str]]:
    """The kinds of the jsii requests made in the block, in order."""
    made: list[str] = []
    send = process._NodeProcess.send

    def counting(self, request, response_type):
        made.append(type(request).__name__)
        return send(self, request, response_type)

    process._NodeProcess.send = counting
    try:
        yield made
    finally:
        process._NodeProcess.send = send


def test_a_construct_path_is_its_node_path_and_read_once():
    stack = cdk.Stack(new_app(), "Stack")
    construct = Construct(Construct(stack, "Outer"), "Inner")

    with jsii_requests() as first:
        assert path_of(construct) == "Stack/Outer/Inner"
    with jsii_requests() as again:
        assert path_of(construct) == "Stack/Outer/Inner"
        # The node was kept on the way: only this read of its id crosses.
        assert node_of(construct).id == "Inner"

    assert first == ["GetRequest", "GetRequest"]  # .node, then .path
    assert again == ["GetRequest"]


def test_two_proxies_of_one_object_share_what_was_read():
    stack = cdk.Stack(new_app(), "Stack")
    construct = Construct(stack, "Child")
    path_of(construct)
    # Found again through jsii: a new Python proxy of the same JavaScript object.
    (found,) = [c for c in stack.node.children if c.node.id == "Child"]

    with jsii_requests() as made:
        assert path_of(found) == "Stack/Child"

    assert made == []


def test_a_runtime_name_and_a_duration_are_read_once():
    runtime, timeout = lambda_.Runtime.PYTHON_3_12, cdk.Duration.minutes(2)
    expected = ("python3.12", 120, 120_000)
    assert (name_of(runtime), seconds_of(timeout), milliseconds_of(timeout)) == expected

    with jsii_requests() as made:
        assert (name_of(runtime), seconds_of(timeout), milliseconds_of(timeout)) == expected

    assert made == []


def test_a_duration_that_is_no_whole_number_of_seconds_raises_every_time():
    fractional = cdk.Duration.millis(1500)

    for _ in range(2):
        with pytest.raises(Exception, match="whole number"):
            seconds_of(fractional)
    assert milliseconds_of(fractional) == 1500
