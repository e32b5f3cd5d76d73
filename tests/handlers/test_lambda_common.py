"""lambda_common: the JSON logger and Embedded Metric Format shared by every handler."""

import io
import json
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest

sys.path.insert(0, str(__import__("conftest").LAMBDA_SRC / "common"))

from lambda_common import Metrics, get_logger, log_context  # noqa: E402
from lambda_common.dynamo import number_fits  # noqa: E402
from lambda_common.parsing import parse_json  # noqa: E402
from lambda_common.timestamps import utc_datetime  # noqa: E402


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


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000, '{"n": ' + "9" * 5000 + "}", b"\xff\xfe", None, "{"],
    ids=["deep-nesting", "huge-integer", "not-utf8", "not-text", "truncated"],
)
def test_parse_json_turns_every_parse_failure_into_value_error(text):
    with pytest.raises(ValueError):
        parse_json(text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-28T12:00:05Z", datetime(2026, 11, 28, 12, 0, 5, tzinfo=UTC)),
        ("2026-11-28T13:00:05+01:00", datetime(2026, 11, 28, 12, 0, 5, tzinfo=UTC)),
        ("2026-11-28T12:00:05", datetime(2026, 11, 28, 12, 0, 5, tzinfo=UTC)),
        (1795867205, datetime(2026, 11, 28, 12, 0, 5, tzinfo=UTC)),
        (Decimal("1795867205123"), datetime(2026, 11, 28, 12, 0, 5, tzinfo=UTC)),
        (-0.5, datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_utc_datetime_reads_iso_strings_and_epoch_seconds_or_milliseconds(raw, expected):
    assert utc_datetime(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        10**400,
        float("inf"),
        float("nan"),
        Decimal("1E+125"),
        True,
        None,
        "yesterday",
    ],
)
def test_utc_datetime_refuses_what_has_no_utc_instant_with_value_error(raw):
    with pytest.raises(ValueError):
        utc_datetime(raw)


def test_utc_datetime_can_require_an_offset_and_a_string():
    with pytest.raises(ValueError, match="time zone"):
        utc_datetime("2026-11-28T12:00:05", naive_is_utc=False)
    with pytest.raises(ValueError, match="ISO 8601 string"):
        utc_datetime(1795867205, epoch=False)


@pytest.mark.parametrize(
    ("number", "fits"),
    [
        (Decimal("1" * 38), True),
        (Decimal("1" * 39), False),
        (Decimal("1" * 38 + "000"), True),
        (Decimal("9.99E+125"), True),
        (Decimal("1E+126"), False),
        (Decimal("1E-130"), True),
        (Decimal("1E-131"), False),
        (Decimal("NaN"), False),
        (0, True),
    ],
)
def test_number_fits_dynamodbs_38_digits_and_exponent_range(number, fits):
    assert number_fits(number) is fits


@pytest.mark.parametrize(
    "name,value,unit,message",
    [
        ("service", 1, "Count", "reserved"),
        ("Orders", float("nan"), "Count", "not a number CloudWatch accepts"),
        ("Latency", 1, "Seconds", "already has unit 'Milliseconds'"),
    ],
)
def test_metrics_refuse_what_cloudwatch_would_reject(name, value, unit, message):
    metrics = Metrics(namespace="Shop", service="orders", stream=io.StringIO())
    metrics.add("Latency", 1, "Milliseconds")

    with pytest.raises(ValueError, match=message):
        metrics.add(name, value, unit)


def test_batch_response_lists_each_failure_once_stream_sequences_lowest_first():
    from lambda_common.batch import batch_response

    assert batch_response(["10", "9", "10", "100"], sequence_numbers=True) == {
        "batchItemFailures": [{"itemIdentifier": "9"}, {"itemIdentifier": "10"}, {"itemIdentifier": "100"}]
    }
    # SQS message ids keep their order: a FIFO group's tail is reported as it came.
    assert batch_response(["b", "a", "b"]) == {
        "batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "a"}]
    }
    assert batch_response([], state={}) == {"batchItemFailures": [], "state": {}}


def test_write_each_reports_retryable_errors_per_key_and_lets_bugs_propagate():
    from lambda_common.parallel import write_each

    def write(key):
        if key == "throttled":
            raise TimeoutError("slow down")
        if key == "bug":
            raise KeyError("bug")
        return key.upper()

    results, errors = write_each(["a", "throttled", "b"], write, concurrency=2, retryable=(TimeoutError,))
    assert results == {"a": "A", "b": "B"}
    assert errors == {"throttled": "TimeoutError: slow down"}
    with pytest.raises(KeyError):
        write_each(["bug"], write, concurrency=2, retryable=(TimeoutError,))
