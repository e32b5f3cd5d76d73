"""checks.custom_metrics: a namespace and at least one metric name."""

import pytest

from lambda_patterns.checks.custom_metrics import check_custom_metrics
from test_checks_support import refusal

CODE = "LambdaPatterns.Monitoring.CustomMetrics"


@pytest.mark.parametrize("names", [["ImagesProcessed"], ("A", "B")])
def test_accepts_a_namespace_with_names(names):
    check_custom_metrics("W", "LambdaPatterns/Thumbnails", names)


@pytest.mark.parametrize(("namespace", "names"), [("", ["A"]), ("LambdaPatterns/Thumbnails", []), ("", ())])
def test_refuses_nothing_to_graph(namespace, names):
    error = refusal(check_custom_metrics, "W", namespace, names)

    assert (error.code, str(error)) == (
        CODE,
        "W: custom metrics need a namespace and at least one metric name",
    )
