"""checks.alarm_topic: a topic only with the alarms that notify it."""

import pytest

from lambda_patterns.checks.alarm_topic import check_alarm_topic
from test_checks_support import refusal

CODE = "LambdaPatterns.Function.AlarmTopic"


@pytest.mark.parametrize(("alarm_topic", "alarms"), [(None, False), (None, True), ("topic", True)])
def test_accepts_a_topic_with_alarms_or_none(alarm_topic, alarms):
    check_alarm_topic("W", alarm_topic, alarms)


def test_refuses_a_topic_without_alarms():
    error = refusal(check_alarm_topic, "W", "topic", False)

    assert (error.code, str(error)) == (CODE, "W: alarm_topic has no use with alarms=False")
