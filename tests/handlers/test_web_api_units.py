"""The web API's pure modules without AWS: schema subset, DynamoDB limits, cursors, preconditions, patches."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# As in a Lambda package: the function's folder and the shared lambda_common, whichever test file ran first.
for _folder in ("common", "web_api_backend"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lambda_src" / _folder))

from api_config import load_settings  # noqa: E402
from api_cursor import decode_cursor, encode_cursor  # noqa: E402
from api_items import if_match_holds, if_none_match_holds, merge_patch  # noqa: E402
from api_responses import ApiError, dumps  # noqa: E402
from api_routing import parse_digits  # noqa: E402
from api_store import from_attribute, to_attribute  # noqa: E402
from api_validation import Invalid, SchemaError, check_schema, check_storable, validate  # noqa: E402


def test_validate_reports_first_missing_required_property():
    with pytest.raises(Invalid) as caught:
        validate({"a": 1}, {"type": "object", "required": ["a", "b"]})

    assert caught.value.field == "b"


def test_boolean_is_neither_integer_nor_number_nor_equal_to_one():
    for schema in ({"type": "integer"}, {"type": "number"}, {"enum": [1]}):
        with pytest.raises(Invalid):
            validate(True, schema)


def test_integral_decimal_counts_as_integer():
    validate(Decimal("3.0"), {"type": "integer"})


def test_exclusive_bounds_and_array_sizes_are_enforced():
    with pytest.raises(Invalid):
        validate(Decimal(5), {"exclusiveMaximum": 5})
    with pytest.raises(Invalid):
        validate([1, 2, 3], {"maxItems": 2})


def test_additional_properties_schema_applies_to_unlisted_names():
    schema = {"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "string"}}

    with pytest.raises(Invalid) as caught:
        validate({"a": 1, "b": 2}, schema)

    assert caught.value.field == "b"


@pytest.mark.parametrize(
    "schema",
    [{"oneOf": []}, {"type": "date"}, {"pattern": "("}, {"properties": {"a": {"format": "email"}}}, []],
)
def test_check_schema_refuses_what_it_cannot_enforce(schema):
    with pytest.raises(SchemaError):
        check_schema(schema)


def test_check_schema_refuses_the_draft_04_boolean_exclusive_bound():
    # In Python True == 1, so accepting it would enforce "greater than 1" instead of "greater than minimum".
    with pytest.raises(
        SchemaError, match=r"exclusiveMinimum must be a number \(the draft-06 form\), got True"
    ):
        check_schema({"type": "number", "minimum": 0, "exclusiveMinimum": True})


@pytest.mark.parametrize(
    "value",
    [{"": 1}, {"a": Decimal("1E+126")}, {"a": Decimal("1E-131")}, ["\udc00"], {"\ud800": 1}],
)
def test_check_storable_refuses_what_dynamodb_would_reject(value):
    with pytest.raises(Invalid):
        check_storable(value)


def test_nesting_beyond_32_levels_is_refused():
    deep: object = "leaf"
    for _ in range(33):
        deep = {"a": deep}

    with pytest.raises(Invalid):
        check_storable(deep)


@given(st.text(min_size=1, max_size=200))
@settings(max_examples=200, deadline=None)
def test_cursor_round_trips_and_hides_the_key(item_id):
    cursor = encode_cursor({"id": item_id})

    assert decode_cursor(cursor, "id") == {"id": item_id}
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@given(st.text(max_size=100))
@settings(max_examples=200, deadline=None)
def test_any_cursor_text_decodes_or_is_a_400(cursor):
    try:
        decode_cursor(cursor, "id")
    except ApiError as error:
        assert error.status == 400 and error.field == "cursor"


@pytest.mark.parametrize(
    ("header", "version", "holds"),
    [
        ('"3"', 3, True),
        ('"2", "3"', 3, True),
        ("*", 9, True),
        ('W/"3"', 3, False),
        ('"3"', 4, False),
        ("3", 3, False),
    ],
)
def test_if_match_uses_strong_comparison(header, version, holds):
    assert if_match_holds(header, version) is holds


def test_if_none_match_uses_weak_comparison():
    assert if_none_match_holds('W/"3"', 3) is False
    assert if_none_match_holds('"4"', 3) is True


def test_merge_patch_follows_rfc_7386_examples():
    target = {"title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"}, "tags": ["a", "b"]}
    patch = {"title": "Hello!", "author": {"familyName": None}, "tags": ["c"], "phone": "+01-123"}

    assert merge_patch(target, patch) == {
        "title": "Hello!",
        "author": {"givenName": "John"},
        "tags": ["c"],
        "phone": "+01-123",
    }


def test_numbers_survive_dynamodb_typing_and_json_output():
    document = {"i": Decimal("12"), "f": Decimal("0.1"), "e": Decimal("1E+2"), "big": Decimal(10**30)}

    restored = {key: from_attribute(to_attribute(value)) for key, value in document.items()}

    assert dumps(restored) == '{"i":12,"f":0.1,"e":100,"big":1000000000000000000000000000000}'


def test_stored_non_integers_are_written_exactly_not_through_float():
    document = {
        "big": Decimal("123456789012345678.5"),
        "fine": Decimal("0.1000000000000000000000000000000000001"),
        "nested": [{"tiny": Decimal("-1E-130")}],
    }

    restored = {key: from_attribute(to_attribute(value)) for key, value in document.items()}

    assert dumps(restored) == (
        '{"big":123456789012345678.5,"fine":0.1000000000000000000000000000000000001,'
        '"nested":[{"tiny":-1E-130}]}'
    )


@pytest.mark.parametrize(
    ("raw", "max_digits", "value"),
    [
        ("7", 3, 7),
        ("100", 3, 100),
        ("007", 3, 7),
        ("0" * 5000 + "42", 3, 42),
        ("0", 3, 0),
        ("1000", 3, None),
        ("1" * 4301, 3, None),
        ("1" * 4301, 5000, None),
        ("", 3, None),
        ("-1", 3, None),
        ("+1", 3, None),
        (" 1", 3, None),
        ("1.0", 3, None),
        ("1e2", 3, None),
        ("\u0663", 3, None),
        ("\uff11", 3, None),
    ],
)
def test_parse_digits_reads_ascii_digits_and_never_calls_int_on_a_long_text(raw, max_digits, value):
    assert parse_digits(raw, max_digits) == value


def test_settings_defaults_and_client_id_detection():
    defaults = load_settings({"TABLE_NAME": "t"})
    client = load_settings({"ITEM_SCHEMA": '{"type": "object", "required": ["sku"]}', "KEY_NAME": "sku"})

    assert (defaults.resource, defaults.key_name, defaults.page_size, defaults.max_body_bytes) == (
        "items",
        "id",
        25,
        65536,
    )
    assert defaults.client_ids is False and defaults.cors_allow_origin is None
    assert client.client_ids is True and client.body_schema["required"] == []


def test_settings_are_read_only_for_every_invocation_they_serve():
    # Given the settings a cold start loaded once for the sandbox's life
    loaded = load_settings({"PAGE_SIZE": "10"})

    # When code tries to change or drop one, then it is refused and the value stays
    with pytest.raises(AttributeError):
        loaded.page_size = 100
    with pytest.raises(AttributeError):
        del loaded.key_name
    with pytest.raises(AttributeError):
        loaded.unknown = 1
    assert (loaded.page_size, loaded.key_name) == (10, "id")


@pytest.mark.parametrize(
    "environ",
    [
        {"PAGE_SIZE": "101"},
        {"PAGE_SIZE": "0"},
        {"MAX_BODY_BYTES": str(11 * 1024 * 1024)},
        {"KEY_NAME": "version"},
    ],
)
def test_settings_out_of_range_fail_at_cold_start(environ):
    with pytest.raises(ValueError):
        load_settings(environ)
