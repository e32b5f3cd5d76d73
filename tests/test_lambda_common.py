"""lambda_common: the JSON logger and Embedded Metric Format shared by every handler."""

import io
import json
import sys

sys.path.insert(0, str(__import__("conftest").LAMBDA_SRC / "common"))

from lambda_common import Metrics, get_logger, log_context  # noqa: E402


def test_metrics_flush_writes_one_emf_document_with_namespace_dimension_and_values():
    stream = io.StringIO()
    metrics = Metrics(namespace="Shop", service="orders", stream=stream)
    metrics.add("Orders", 2)
    metrics.add("Orders", 3)
    metrics.add("Latency", 12.5, "Milliseconds")

    metrics.flush()

    (document,) = [json.loads(line) for line in stream.getvalue().splitlines()]
    directive = document["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Shop" and directive["Dimensions"] == [["service"]]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "Orders": "Count",
        "Latency": "Milliseconds",
    }
    assert (
        document["Orders"] == [2.0, 3.0] and document["Latency"] == 12.5 and document["service"] == "orders"
    )


def test_metrics_never_drop_values_beyond_emf_limit_of_100_per_metric():
    stream = io.StringIO()
    metrics = Metrics(namespace="Shop", service="orders", stream=stream)
    for value in range(250):
        metrics.add("Seen", value)

    documents = metrics.flush()

    values = [v for d in documents for v in (d["Seen"] if isinstance(d["Seen"], list) else [d["Seen"]])]
    assert len(documents) == 3 and all(len(d["Seen"]) <= 100 for d in documents)
    assert sorted(values) == [float(v) for v in range(250)]


def test_logger_stamps_request_id_and_cold_start_then_warm(lambda_context, capsys):
    logger = get_logger("common-test")

    with log_context(lambda_context):
        logger.info("first")
    with log_context(lambda_context):
        logger.info("second")

    first, second = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert first["function_request_id"] == lambda_context.aws_request_id
    assert first["message"] == "first" and first["level"] == "INFO"
    assert second["cold_start"] is False


def test_logger_follows_a_replaced_stdout(capsys):
    logger = get_logger("common-test")
    replacement = io.StringIO()
    original, sys.stdout = sys.stdout, replacement
    try:
        logger.info("to the new stdout")
    finally:
        sys.stdout = original

    assert json.loads(replacement.getvalue())["message"] == "to the new stdout"
