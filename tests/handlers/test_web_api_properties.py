"""Property-based tests: whatever API Gateway could hand the web API, the answer is well-formed and never 5xx.

They run against moto's DynamoDB with one table for the whole module (hypothesis runs many examples per
test; recreating the table for each would dominate the run time).
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import boto3
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import LambdaContext, load_handler
from web_api_client import TABLE, create_table, rest_event

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 40},
        "price": {"type": "number", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}
PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SEEDED_ID = "seeded-item"


@pytest.fixture(scope="module")
def api(moto_server):
    """The handler over a table that lives for the whole module, with one seeded item."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ENDPOINT_URL": moto_server,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "TABLE_NAME": TABLE,
            "ITEM_SCHEMA": json.dumps(SCHEMA),
            "MAX_BODY_BYTES": "4096",
        }.items():
            patch.setenv(name, value)
        create_table(boto3.client("dynamodb"))
        module = load_handler("web_api_backend")
        seeded = module.handler(
            rest_event("POST", "/items", body={"name": "seed", "price": 1}), LambdaContext()
        )
        global SEEDED_ID
        SEEDED_ID = json.loads(seeded["body"])["id"]
        yield module
        requests.post(f"{moto_server}/moto-api/reset", timeout=10)


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    json_scalars | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
odd_text = st.sampled_from(['"\\ud800"', "\ufeff{}", "[" * 500, "1e999999", "NaN", '{"a":', "\x00", ""])
bodies = st.one_of(
    st.none(),
    st.text(max_size=200),
    st.binary(max_size=200),
    json_values.map(json.dumps),
    st.dictionaries(st.sampled_from(["name", "price", "tags", "id", "version", "x"]), json_values).map(
        json.dumps
    ),
    odd_text,
    st.just("x" * 5000),
)
methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"]) | st.text(
    max_size=8
)
segments = st.text(max_size=12) | st.sampled_from(["", "%", "%ff", "%2F", "a/b", "items", "..", " "])
paths = st.one_of(
    st.just("/items"),
    st.just("/items/"),
    segments.map(lambda s: f"/items/{s}"),
    st.builds(lambda: f"/items/{SEEDED_ID}"),
    st.text(max_size=30).map(lambda s: "/" + s),
)
header_names = st.sampled_from(
    ["Content-Type", "content-type", "If-Match", "IF-MATCH", "If-None-Match", "Accept", "X-Other"]
) | st.text(min_size=1, max_size=10)
header_values = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "application/merge-patch+json; charset=utf-8",
        '"1"',
        'W/"1"',
        "*",
        '"',
        "",
    ]
) | st.text(max_size=20)
queries = st.dictionaries(
    st.sampled_from(["limit", "cursor", "x"]) | st.text(max_size=6),
    st.sampled_from(["0", "1", "100", "101", "-5", "abc", "eyJpZCI6IDF9", "W10", ""]) | st.text(max_size=40),
    max_size=3,
)


def _assert_well_formed(answer: dict) -> None:
    assert isinstance(answer["statusCode"], int)
    assert isinstance(answer["headers"], dict)
    assert 200 <= answer["statusCode"] < 500, answer
    if answer["statusCode"] in (204, 304):
        assert answer["body"] == ""
        return
    body = json.loads(answer["body"])
    if answer["statusCode"] >= 400:
        assert set(body["error"]) >= {"code", "message", "field"}


@PROPERTY_SETTINGS
@given(
    method=methods,
    path=paths,
    body=bodies,
    headers=st.dictionaries(header_names, header_values, max_size=4),
    query=queries,
    base64_flag=st.booleans(),
)
def test_no_rest_request_gets_a_5xx_or_a_malformed_answer(
    api, method, path, body, headers, query, base64_flag
):
    event = rest_event(method, path, body=body, headers=headers, query=query, base64_body=base64_flag)

    _assert_well_formed(api.handler(event, LambdaContext()))


@PROPERTY_SETTINGS
@given(raw=st.text(max_size=300))
def test_body_claimed_base64_but_garbage_is_a_4xx(api, raw):
    event = rest_event("POST", "/items", headers={"Content-Type": "application/json"})
    event["body"], event["isBase64Encoded"] = raw, True

    _assert_well_formed(api.handler(event, LambdaContext()))


@PROPERTY_SETTINGS
@given(
    method=methods,
    path=paths,
    body=bodies,
    headers=st.dictionaries(st.text(min_size=1, max_size=10).map(str.lower), header_values, max_size=4),
    stage=st.sampled_from(["$default", "prod"]),
)
def test_no_http_api_v2_request_gets_a_5xx_or_a_malformed_answer(api, method, path, body, headers, stage):
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {"http": {"method": method, "path": raw_path}, "stage": stage, "requestId": "r"},
        "isBase64Encoded": isinstance(body, bytes),
    }
    if body is not None:
        event["body"] = base64.b64encode(body).decode() if isinstance(body, bytes) else body

    _assert_well_formed(api.handler(event, LambdaContext()))


storable_numbers = st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1) | st.decimals(
    allow_nan=False, allow_infinity=False, places=6, min_value=-(10**20), max_value=10**20
)
storable_values = st.recursive(
    st.none() | st.booleans() | storable_numbers | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


@PROPERTY_SETTINGS
@given(
    extra=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(
            lambda k: k not in SCHEMA["properties"] and k not in ("id", "version")
        ),
        storable_values,
        max_size=5,
    )
)
def test_created_item_reads_back_as_the_same_json_with_ints_still_ints(api, extra):
    # Decimals go out as number literals, not strings: a string would not exercise the number path.
    sent = _json_text(extra)
    created = api.handler(
        rest_event("POST", "/items", body=sent, headers={"Content-Type": "application/json"}), LambdaContext()
    )
    assert created["statusCode"] == 201, created
    item_id = json.loads(created["body"])["id"]

    read = api.handler(rest_event("GET", f"/items/{item_id}"), LambdaContext())

    got = json.loads(read["body"], parse_float=Decimal)
    expected = json.loads(sent, parse_float=Decimal)
    assert {k: v for k, v in got.items() if k not in ("id", "version")} == expected
    assert _ints_where_sent(expected, got)


def _json_text(value) -> str:
    """JSON text for test data, each Decimal as the literal str() gives it (always a valid JSON number)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_json_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json_text(v) for v in value) + "]"
    return json.dumps(value)


def _ints_where_sent(expected, got) -> bool:
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        return expected == got
    if isinstance(expected, int):
        return type(got) is int and got == expected
    if isinstance(expected, list):
        return all(_ints_where_sent(e, g) for e, g in zip(expected, got, strict=True))
    if isinstance(expected, dict):
        return all(_ints_where_sent(v, got[k]) for k, v in expected.items())
    return True


def _dynamodb_number(sign: int, coefficient: int, adjusted: int) -> Decimal:
    # Up to 38 significant digits with the leading digit's exponent (``adjusted``) in -130..125.
    digits = tuple(map(int, str(coefficient)))
    return Decimal((sign, digits, adjusted - len(digits) + 1 if coefficient else adjusted))


dynamodb_numbers = st.builds(
    _dynamodb_number,
    st.integers(0, 1),
    st.integers(0, 10**38 - 1) | st.integers(0, 10**6),
    st.integers(-130, 125) | st.integers(-8, 20),
)
literal_forms = st.sampled_from([str, lambda d: format(d, "f"), lambda d: format(d, "e")])


def _exact(raw: str):
    return json.loads(raw, parse_float=Decimal, parse_int=Decimal)


@PROPERTY_SETTINGS
@given(number=dynamodb_numbers, form=literal_forms)
def test_any_number_dynamodb_stores_round_trips_exactly_through_put_then_get(api, number, form):
    literal = form(number)
    created = api.handler(rest_event("POST", "/items", body={"name": "n", "price": 0}), LambdaContext())
    item_id = json.loads(created["body"])["id"]
    body = f'{{"name": "n", "price": 0, "value": {literal}, "deep": {{"list": [{literal}]}}}}'

    put = api.handler(
        rest_event(
            "PUT",
            f"/items/{item_id}",
            body=body,
            headers={"Content-Type": "application/json", "If-Match": '"1"'},
        ),
        LambdaContext(),
    )
    read = api.handler(rest_event("GET", f"/items/{item_id}"), LambdaContext())

    assert (put["statusCode"], read["statusCode"]) == (200, 200), put
    for answer in (put, read):
        document = _exact(answer["body"])
        assert document["value"] == number and document["deep"] == {"list": [number]}, answer["body"]
    stored = boto3.client("dynamodb").get_item(TableName=TABLE, Key={"id": {"S": item_id}})["Item"]
    assert Decimal(stored["value"]["N"]) == number
