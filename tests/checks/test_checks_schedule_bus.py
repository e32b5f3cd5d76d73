"""checks.schedule_bus: a schedule runs on the default bus."""

import pytest

from lambda_patterns.checks.schedule_bus import check_schedule_bus
from test_checks_support import refusal

CODE = "LambdaPatterns.EventBridge.ScheduleBus"


@pytest.mark.parametrize(("schedule", "bus"), [(None, None), ("rate(5 minutes)", None), (None, "orders")])
def test_accepts_a_schedule_or_a_bus(schedule, bus):
    check_schedule_bus("W", schedule, bus)


def test_refuses_a_schedule_on_another_bus():
    error = refusal(check_schedule_bus, "W", "rate(5 minutes)", "orders")

    assert (error.code, str(error)) == (
        CODE,
        "W: a schedule runs on the default bus; event_bus has no use with it",
    )
