"""checks.table_stream: reading a table's changes needs a table with a stream."""

import pytest

from lambda_patterns.checks.table_stream import check_table_stream
from test_checks_support import refusal

CODE = "LambdaPatterns.Stream.TableStream"


@pytest.mark.parametrize(
    "stream_arn", ["arn:aws:dynamodb:eu-west-1:1:table/T/stream/2026", "${Token[TOKEN.1]}"]
)
def test_accepts_a_table_with_a_stream(stream_arn):
    check_table_stream("W", "S/Table", stream_arn)


@pytest.mark.parametrize(
    ("hint", "message"),
    [
        (None, "W: table S/Table has no stream"),
        ("set stream= on the table", "W: table S/Table has no stream; set stream= on the table"),
    ],
)
def test_refuses_a_table_without_one(hint, message):
    error = refusal(check_table_stream, "W", "S/Table", None, hint)

    assert (error.code, str(error)) == (CODE, message)
