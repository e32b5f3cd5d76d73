"""checks.item_schema: an item schema the web_api handler would load, checked by the handler's validator."""

import pytest

from lambda_patterns.checks.item_schema import check_item_schema
from test_checks_support import refusal

CODE = "LambdaPatterns.WebApi.ItemSchema"


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object"},
        {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1}}},
        {"type": "object", "properties": {"id": {"type": "string", "pattern": "^[0-9]+$"}}},
        {"type": "object", "properties": {"id": {"type": ["string", "null"]}}},
        {"type": "object", "properties": {"id": {"enum": ["a", "b"]}}},
    ],
)
def test_accepts_what_the_handler_loads(schema):
    check_item_schema("W", schema, "id")


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ([], 'W: item_schema must be an object schema ({"type": "object", ...}): items are JSON objects'),
        (
            {"type": "array"},
            'W: item_schema must be an object schema ({"type": "object", ...}): items are JSON objects',
        ),
        (
            {"type": "object", "properties": {"x": {"type": "nope"}}},
            "W: item_schema: schema at 'x' has an unknown type: 'nope'",
        ),
        (
            {"type": "object", "minProperties": 1},
            "W: item_schema: schema at '/' uses unsupported keywords: ['minProperties']",
        ),
        (
            {"type": "object", "properties": {"version": {"type": "number"}}},
            "W: item_schema must not define 'version': the handler sets it on every write",
        ),
        (
            {"type": "object", "properties": {"id": {"type": "integer"}}},
            "W: item_schema gives 'id' the type 'integer', but it is the table's partition key, a string",
        ),
    ],
)
def test_refuses_what_the_handler_would_refuse_at_cold_start(schema, message):
    error = refusal(check_item_schema, "W", schema, "id")

    assert (error.code, str(error)) == (CODE, message)
