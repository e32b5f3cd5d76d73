"""Idempotency marks live as long as their stream can redeliver, and no longer: the constructs tell the
handlers (MARK_TTL_SECONDS) from what they know of the stream's retention."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kinesis as kinesis
from aws_cdk.assertions import Template

from lambda_patterns import ClickstreamAnalytics, StreamAggregator
from synth_helpers import new_app

DAY = 86_400


def mark_ttl(template: Template) -> int:
    (function,) = [
        f
        for f in template.find_resources("AWS::Lambda::Function").values()
        if "MARK_TTL_SECONDS" in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    return int(function["Properties"]["Environment"]["Variables"]["MARK_TTL_SECONDS"])


def synth(build) -> Template:
    stack = cdk.Stack(new_app(), "S")
    build(stack)
    return Template.from_stack(stack)


def test_aggregator_marks_outlive_a_dynamodb_streams_24_hours_by_a_day():
    template = synth(
        lambda stack: StreamAggregator(
            stack, "A", dimensions=["category"], value_attribute="amount", time_attribute="created_at"
        )
    )

    assert mark_ttl(template) == 2 * DAY


def test_clickstream_marks_follow_the_new_streams_retention():
    default = synth(lambda stack: ClickstreamAnalytics(stack, "C"))
    week = synth(
        lambda stack: ClickstreamAnalytics(
            stack, "C", stream_props={"retention_period": cdk.Duration.days(7)}
        )
    )

    assert mark_ttl(default) == 2 * DAY
    assert mark_ttl(week) == 8 * DAY


def test_clickstream_on_an_imported_stream_keeps_marks_for_kinesis_longest_retention_unless_told():
    def imported(stack, **props):
        stream = kinesis.Stream.from_stream_arn(
            stack, "In", "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
        )
        ClickstreamAnalytics(stack, "C", existing_stream_obj=stream, **props)

    assert mark_ttl(synth(imported)) == 366 * DAY
    assert mark_ttl(synth(lambda s: imported(s, stream_retention=cdk.Duration.hours(48)))) == 3 * DAY
