"""checks.stream_tumbling_window: windows of at most 900 seconds."""

import pytest
from aws_cdk import Duration

from lambda_patterns.checks.stream_tumbling_window import check_tumbling_window
from test_checks_support import refusal

CODE = "LambdaPatterns.Stream.TumblingWindow"


@pytest.mark.parametrize("window", [None, Duration.seconds(0), Duration.seconds(60), Duration.minutes(15)])
def test_accepts_no_window_or_up_to_fifteen_minutes(window):
    check_tumbling_window("W", window)


@pytest.mark.parametrize("window", [Duration.seconds(901), Duration.hours(1)])
def test_refuses_a_longer_window(window):
    error = refusal(check_tumbling_window, "W", window)

    assert (error.code, str(error)) == (CODE, "W: tumbling_window must be at most 900 seconds")
