"""checks.deployment_shift, deployment_hooks, deployment_alarms: a shift CodeDeploy can run, a hook that is
another function, and an alarm for a gradual shift to roll back on."""

import pytest

from lambda_patterns.checks.deployment_alarms import check_rollback_alarms
from lambda_patterns.checks.deployment_hooks import check_deployment_hooks
from lambda_patterns.checks.deployment_shift import check_traffic_shift
from test_checks_support import verdict

SHIFT = "LambdaPatterns.Deployment.Shift"


@pytest.mark.parametrize(
    ("kind", "percent", "minutes", "refusal"),
    [
        ("all_at_once", 100, 0, None),
        ("canary", 10, 5, None),
        ("canary", 1, 2880, None),
        ("linear", 99, 1, None),
        (
            "blue_green",
            10,
            5,
            "W: deployment kind must be one of ('all_at_once', 'canary', 'linear'), got 'blue_green'",
        ),
        ("canary", 0, 5, "W: a canary deployment moves 1 to 99 percent of traffic per step, got 0"),
        ("linear", 100, 1, "W: a linear deployment moves 1 to 99 percent of traffic per step, got 100"),
        ("canary", 10.5, 5, "W: a canary deployment moves 1 to 99 percent of traffic per step, got 10.5"),
        ("canary", 10, 0, "W: a canary deployment waits 1 to 2880 whole minutes per step, got 0"),
        ("linear", 10, 2881, "W: a linear deployment waits 1 to 2880 whole minutes per step, got 2881"),
        ("linear", 10, True, "W: a linear deployment waits 1 to 2880 whole minutes per step, got True"),
    ],
)
def test_traffic_shift_within_codedeploys_limits(kind, percent, minutes, refusal):
    expected = None if refusal is None else (SHIFT, refusal)
    assert verdict(check_traffic_shift, "W", kind, percent, minutes) == expected


@pytest.mark.parametrize(
    ("hooks", "deployed", "refused"),
    [
        ([], ["S/Fn"], False),
        (["S/Check"], ["S/Fn"], False),
        (["S/Fn2"], ["S/Fn"], False),
        (["S/Fn"], ["S/Fn"], True),
        (["S/Fn/Function"], ["S/Fn"], True),
        (["S/Check", "S/Fn/Alias"], ["S/Fn"], True),
    ],
)
def test_hook_must_be_another_function(hooks, deployed, refused):
    result = verdict(check_deployment_hooks, "W", hooks, deployed)
    assert (result is not None) is refused
    if refused:
        assert result[0] == "LambdaPatterns.Deployment.Hook"
        assert "must be a separate function" in result[1]


@pytest.mark.parametrize(
    ("gradual", "alarms", "refused"),
    [(False, 0, False), (True, 1, False), (True, 0, True), (False, 3, False)],
)
def test_gradual_shift_needs_an_alarm(gradual, alarms, refused):
    result = verdict(check_rollback_alarms, "W", gradual, alarms)
    assert (result is not None) is refused
    if refused:
        assert result == (
            "LambdaPatterns.Deployment.Alarms",
            "W: a canary or linear deployment rolls back only on alarms, and this function has none; set "
            "alarms=True on the function or pass Deployment.canary(..., alarms=[...])",
        )
