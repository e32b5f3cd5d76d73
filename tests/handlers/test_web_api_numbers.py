"""lambda_common.json_numbers: JSON whose numbers are Decimal on the way in and exact literals on the way out.

The web API relays DynamoDB numbers (38 significant digits) through JSON; anything that passes them through
float, or writes them in a form JSON does not allow, changes what the client stored.
"""

from __future__ import annotations

import json
import re
import sys
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import LAMBDA_SRC

sys.path.insert(0, str(LAMBDA_SRC / "common"))

from lambda_common import json_numbers  # noqa: E402

# RFC 8259 section 6, the whole grammar of a JSON number.
JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def _exact(text: str):
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (Decimal("123456789012345678.5"), "123456789012345678.5"),
        (Decimal("0.1000000000000000000000000000000000001"), "0.1000000000000000000000000000000000001"),
        (Decimal("12345678901234567890123456789012345678"), "12345678901234567890123456789012345678"),
        (Decimal("1E+2"), "100"),
        (Decimal("100.00"), "100"),
        (Decimal("-0"), "0"),
        (Decimal("0E-10"), "0"),
        (Decimal("1E-130"), "1E-130"),
        (Decimal("-1.5E-3"), "-0.0015"),
        (Decimal("2.50"), "2.50"),
    ],
)
def test_decimal_is_written_as_its_exact_json_literal(value, literal):
    assert json_numbers.dumps(value) == literal


def test_integral_decimal_up_to_dynamodb_largest_is_written_as_plain_digits():
    largest = Decimal("9.9999999999999999999999999999999999999E+125")

    text = json_numbers.dumps(largest)

    assert text == "99999999999999999999999999999999999999" + "0" * 88
    assert json.loads(text) == int(largest)


def test_integral_decimal_beyond_python_int_digit_limit_keeps_its_exponent():
    # Plain digits past 4300 would be text that Python's own json.loads refuses to read back.
    assert json_numbers.dumps(Decimal("1E+5000")) == "1E+5000"


@pytest.mark.parametrize(
    "value", [Decimal("NaN"), Decimal("-Infinity"), Decimal("sNaN"), float("nan"), float("inf")]
)
def test_values_json_has_no_literal_for_are_refused(value):
    with pytest.raises(ValueError):
        json_numbers.dumps({"a": [value]})


def test_dumps_matches_the_compact_ascii_json_the_api_always_wrote():
    document = {
        "name": 'Grüner "Becher"\n',
        "ok": True,
        "no": False,
        "none": None,
        "n": 3,
        "f": 0.25,
        "nested": {"tags": ["a", "\u2028"], "empty": {}, "list": []},
    }

    assert json_numbers.dumps(document) == json.dumps(document, separators=(",", ":"))


def test_dumps_refuses_what_json_cannot_represent():
    with pytest.raises(TypeError):
        json_numbers.dumps({"a": object()})
    with pytest.raises(TypeError):
        json_numbers.dumps({1: "non-string key"})


finite_decimals = st.decimals(allow_nan=False, allow_infinity=False) | st.builds(
    lambda sign, coefficient, exponent: Decimal((sign, tuple(map(int, str(coefficient))), exponent)),
    st.integers(0, 1),
    st.integers(0, 10**38 - 1),
    st.integers(-6000, 6000),
)


@given(finite_decimals)
@settings(max_examples=500, deadline=None)
def test_any_finite_decimal_is_written_as_a_json_number_of_the_same_value(value):
    text = json_numbers.dumps(value)

    assert JSON_NUMBER.fullmatch(text), text
    assert _exact(text) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"a": 0.1000000000000000000000000000000000001}',
            {"a": Decimal("0.1000000000000000000000000000000000001")},
        ),
        ('{"a": 123456789012345678.5}', {"a": Decimal("123456789012345678.5")}),
        ("[1, 2.50, -0, 1E+2]", [Decimal(1), Decimal("2.50"), Decimal("-0"), Decimal("1E+2")]),
    ],
)
def test_loads_reads_every_number_as_an_exact_decimal(text, expected):
    parsed = json_numbers.loads(text)

    assert parsed == expected
    assert all(type(v) is Decimal for v in (parsed.values() if isinstance(parsed, dict) else parsed))


def test_loads_reads_an_integer_beyond_the_int_digit_limit():
    assert json_numbers.loads("1" * 5000) == Decimal("1" * 5000)


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "[-Infinity]",
        '{"a": Infinity}',
        "1e" + "9" * 30,
        "-1E-" + "9" * 30,
        "[" * 100_000,
        '{"a":',
        "\ufeff{}",
        b"\xff{}",
        None,
    ],
)
def test_loads_refuses_anything_else_with_value_error_only(text):
    with pytest.raises(ValueError):
        json_numbers.loads(text)
