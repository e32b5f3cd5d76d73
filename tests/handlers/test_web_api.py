"""The web API handler against moto's DynamoDB, driven by real API Gateway REST v1 proxy event shapes."""

from __future__ import annotations

import base64
import io
import json
import threading
import uuid
from decimal import Decimal

import boto3
import pytest

from conftest import load_event, load_handler
from web_api_client import TABLE, call, create_table, invoke, rest_event

#: Broader than a real catalogue's: between them the properties exercise every kind of constraint the
#: handler validates (lengths, bounds, integer, pattern, enum, array items, nested object).
ITEM_PROPERTIES = {
    "name": {"type": "string", "minLength": 1, "maxLength": 80},
    "price": {"type": "number", "minimum": 0},
    "quantity": {"type": "integer", "minimum": 0, "maximum": 1000},
    "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
    "colour": {"enum": ["red", "blue", "green"]},
    "tags": {"type": "array", "items": {"type": "string"}},
    "dimensions": {
        "type": "object",
        "properties": {"width": {"type": "number"}, "height": {"type": "number"}},
    },
}
ITEM_SCHEMA = {
    "type": "object",
    "required": ["name", "price"],
    "additionalProperties": False,
    "properties": ITEM_PROPERTIES,
}
MUG = {"name": "Blue mug", "price": 12.5, "quantity": 3, "tags": ["kitchen"]}


@pytest.fixture
def dynamodb(aws):
    client = boto3.client("dynamodb")
    create_table(client)
    return client


@pytest.fixture
def make_api(dynamodb, monkeypatch):
    """Loads the handler with the given environment on top of TABLE_NAME and the test schema."""

    def make(**env: str):
        monkeypatch.setenv("TABLE_NAME", TABLE)
        monkeypatch.setenv("ITEM_SCHEMA", json.dumps(ITEM_SCHEMA))
        for name in ("CORS_ALLOW_ORIGIN", "MAX_BODY_BYTES", "PAGE_SIZE", "KEY_NAME", "RESOURCE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return load_handler("web_api_backend")

    return make


@pytest.fixture
def api(make_api):
    return make_api()


@pytest.fixture
def logs(api):
    """The JSON log lines the handler writes during the test.

    lambda_common's logger keeps the stdout it saw when first created, which pytest has since replaced,
    so its handler writes into a buffer for the duration of the test.
    """
    buffer = io.StringIO()
    saved = [(log_handler, log_handler.stream) for log_handler in api.logger.handlers]
    for log_handler, _ in saved:
        log_handler.stream = buffer
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    for log_handler, stream in saved:
        log_handler.stream = stream


def create(api, document=MUG):
    answer = call(api, "POST", "/items", body=document)
    assert answer.status == 201, answer.body
    return answer


# --- happy paths ----------------------------------------------------------------------------------------


def test_post_creates_item_with_generated_id_location_and_etag(api, dynamodb):
    answer = call(api, "POST", "/items", body=MUG)

    assert answer.status == 201
    item_id = answer.body["id"]
    assert uuid.UUID(item_id).version == 4
    assert answer.body == {**MUG, "id": item_id, "version": 1}
    assert answer.header("Location") == f"/prod/items/{item_id}"
    assert answer.header("ETag") == '"1"'
    stored = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": item_id}})["Item"]
    assert stored["version"] == {"N": "1"} and stored["price"] == {"N": "12.5"}


def test_get_returns_item_with_ints_kept_ints_and_etag(api):
    item_id = create(api, {"name": "Plate", "price": 7, "quantity": 2, "dimensions": {"width": 0.25}}).body[
        "id"
    ]

    answer = call(api, "GET", f"/items/{item_id}")

    assert answer.status == 200
    assert answer.header("ETag") == '"1"'
    assert answer.raw_body.count('"price":7,') == 1
    assert answer.body["quantity"] == 2 and isinstance(answer.body["quantity"], int)
    assert answer.body["dimensions"] == {"width": 0.25}


def test_recorded_rest_create_event_is_accepted(api):
    answer = invoke(api, load_event("apigw_rest_create_item"))

    assert answer.status == 201
    assert answer.body["name"] == "Blue mug" and answer.body["tags"] == ["kitchen", "ceramic"]


def test_base64_encoded_body_is_decoded(api):
    answer = invoke(api, load_event("apigw_rest_create_item_base64"))

    assert answer.status == 201
    assert answer.body["name"] == "Grüner Becher"


def test_http_api_payload_v2_event_is_served(api, dynamodb):
    event = load_event("apigw_http_v2_get_item")
    item_id = event["pathParameters"]["id"]
    dynamodb.put_item(
        TableName=TABLE, Item={"id": {"S": item_id}, "version": {"N": "4"}, "name": {"S": "Bowl"}}
    )

    answer = invoke(api, event)

    assert answer.status == 200
    assert answer.body == {"id": item_id, "version": 4, "name": "Bowl"}
    assert answer.header("ETag") == '"4"'


def test_put_replaces_item_and_increments_version(api):
    item_id = create(api).body["id"]

    answer = call(
        api, "PUT", f"/items/{item_id}", body={"name": "Red mug", "price": 13}, headers={"If-Match": '"1"'}
    )

    assert answer.status == 200
    assert answer.body == {"id": item_id, "version": 2, "name": "Red mug", "price": 13}
    assert answer.header("ETag") == '"2"'
    assert call(api, "GET", f"/items/{item_id}").body == answer.body


def test_put_accepts_a_fetched_item_sent_back_with_its_id_and_version(api):
    fetched = create(api).body

    answer = call(api, "PUT", f"/items/{fetched['id']}", body={**fetched, "quantity": 9})

    assert answer.status == 200
    assert answer.body["version"] == 2 and answer.body["quantity"] == 9


def test_patch_merges_fields_and_null_removes_one(api):
    item_id = create(api).body["id"]

    answer = call(
        api,
        "PATCH",
        f"/items/{item_id}",
        body=json.dumps({"quantity": None, "colour": "red"}),
        headers={"Content-Type": "application/merge-patch+json"},
    )

    assert answer.status == 200
    assert answer.body == {
        "id": item_id,
        "version": 2,
        "name": "Blue mug",
        "price": 12.5,
        "tags": ["kitchen"],
        "colour": "red",
    }


def test_delete_removes_item_and_later_get_is_404(api):
    item_id = create(api).body["id"]

    answer = call(api, "DELETE", f"/items/{item_id}", headers={"If-Match": '"1"'})

    assert answer.status == 204 and answer.raw_body == ""
    assert call(api, "GET", f"/items/{item_id}").status == 404


def test_list_pages_through_seven_items_in_three_pages_with_opaque_cursor(api):
    created = {create(api, {"name": f"item {n}", "price": n}).body["id"] for n in range(7)}

    first = call(api, "GET", "/items", query={"limit": "3"})
    second = call(api, "GET", "/items", query={"limit": "3", "cursor": first.body["next_cursor"]})
    third = call(api, "GET", "/items", query={"limit": "3", "cursor": second.body["next_cursor"]})

    pages = [first, second, third]
    assert [len(page.body["items"]) for page in pages] == [3, 3, 1]
    assert {item["id"] for page in pages for item in page.body["items"]} == created
    assert third.body["next_cursor"] is None
    assert item_ids_not_in_cursor(first.body["next_cursor"], created)


def item_ids_not_in_cursor(cursor: str, ids: set[str]) -> bool:
    """A cursor is opaque: it does not show an id in the clear."""
    return not any(item_id in cursor for item_id in ids)


def test_list_uses_page_size_from_environment(make_api):
    api = make_api(PAGE_SIZE="2")
    for n in range(3):
        create(api, {"name": f"item {n}", "price": n})

    answer = call(api, "GET", "/items")

    assert len(answer.body["items"]) == 2 and answer.body["next_cursor"]


# --- client mistakes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        "AAAA",
        "eyJpZCI6IDF9",  # {"id": 1}
        "eyJvdGhlciI6ICJ4In0",  # {"other": "x"}
        "eyJpZCI6ICIifQ",  # {"id": ""}
        "W10",  # []
        "x" * 2000,
        "",
    ],
)
def test_garbage_or_tampered_cursor_is_400_naming_cursor(api, cursor):
    answer = call(api, "GET", "/items", query={"cursor": cursor})

    assert answer.status == 400
    assert answer.error["code"] == "invalid_cursor" and answer.error["field"] == "cursor"


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5", "٣"])
def test_limit_outside_1_to_100_is_400_naming_limit(api, limit):
    answer = call(api, "GET", "/items", query={"limit": limit})

    assert answer.status == 400 and answer.error["field"] == "limit"


@pytest.mark.parametrize("body", ['{"name": "x",', "NaN", '{"price": Infinity, "name": "a"}', "\ufeff{}"])
def test_malformed_json_is_400_invalid_json(api, body):
    answer = call(api, "POST", "/items", body=body, headers={"Content-Type": "application/json"})

    assert answer.status == 400 and answer.error["code"] == "invalid_json"


def test_body_that_is_not_utf8_is_400(api):
    answer = call(api, "POST", "/items", body=b"\xff\xfe{}", headers={"Content-Type": "application/json"})

    assert answer.status == 400 and answer.error["code"] == "invalid_json"


def test_absurdly_nested_json_is_400_not_a_crash(api):
    answer = call(api, "POST", "/items", body="[" * 50_000, headers={"Content-Type": "application/json"})

    assert answer.status == 400


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"price": 1}, "name"),
        ({"name": "", "price": 1}, "name"),
        ({"name": "a", "price": "12"}, "price"),
        ({"name": "a", "price": -1}, "price"),
        ({"name": "a", "price": 1, "quantity": 1.5}, "quantity"),
        ({"name": "a", "price": 1, "quantity": True}, "quantity"),
        ({"name": "a", "price": 1, "sku": "abc-1"}, "sku"),
        ({"name": "a", "price": 1, "colour": "pink"}, "colour"),
        ({"name": "a", "price": 1, "tags": ["ok", 3]}, "tags[1]"),
        ({"name": "a", "price": 1, "dimensions": {"width": "wide"}}, "dimensions.width"),
        ({"name": "a", "price": 1, "owner": "me"}, "owner"),
        ([MUG], None),
    ],
)
def test_schema_violation_is_400_naming_the_field(api, document, field):
    answer = call(api, "POST", "/items", body=document)

    assert answer.status == 400
    assert answer.error["code"] == "validation_failed" and answer.error["field"] == field
    assert answer.error["message"]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"name": "a", "price": 1e200}', "price"),
        ('{"name": "a", "price": 123456789012345678901234567890123456789}', "price"),
        ('{"name": "\\ud800", "price": 1}', "name"),
    ],
)
def test_values_dynamodb_cannot_store_are_400_not_500(api, raw, field):
    answer = call(api, "POST", "/items", body=raw, headers={"Content-Type": "application/json"})

    assert answer.status == 400 and answer.error["field"] == field


def test_id_in_post_body_is_400_because_the_server_assigns_it(api):
    answer = call(api, "POST", "/items", body={**MUG, "id": "mine"})

    assert answer.status == 400 and answer.error["field"] == "id"


def test_put_with_other_id_in_body_than_url_is_400(api):
    item_id = create(api).body["id"]

    answer = call(api, "PUT", f"/items/{item_id}", body={**MUG, "id": "other"})

    assert answer.status == 400 and answer.error["field"] == "id"


def test_unknown_id_is_404(api):
    for method in ("GET", "DELETE"):
        answer = call(api, method, "/items/no-such-item")
        assert answer.status == 404 and answer.error["code"] == "not_found"
    assert call(api, "PUT", "/items/no-such-item", body=MUG).status == 404
    assert call(api, "PUT", "/items/no-such-item", body=MUG, headers={"If-Match": '"1"'}).status == 404


@pytest.mark.parametrize("path", ["/orders", "/items/a/b", "/", "/itemsx/1"])
def test_unknown_route_is_404(api, path):
    answer = call(api, "GET", path)

    assert answer.status == 404 and answer.error["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/items", "GET, POST"),
        ("POST", "/items/abc", "GET, PUT, PATCH, DELETE"),
        ("TRACE", "/items", None),
    ],
)
def test_wrong_method_on_known_route_is_405_with_allow(api, method, path, allow):
    answer = call(api, method, path)

    assert answer.status == 405 and answer.error["code"] == "method_not_allowed"
    assert answer.header("Allow") == (allow or "GET, POST")


def test_body_over_max_body_bytes_is_413(make_api):
    api = make_api(MAX_BODY_BYTES="100")

    answer = call(api, "POST", "/items", body={"name": "x" * 200, "price": 1})

    assert answer.status == 413 and answer.error["code"] == "payload_too_large"


def test_base64_body_over_max_body_bytes_is_413(make_api):
    api = make_api(MAX_BODY_BYTES="100")

    answer = call(api, "POST", "/items", body=json.dumps({"name": "x" * 200, "price": 1}).encode())

    assert answer.status == 413


def test_non_json_content_type_is_415(api):
    answer = call(api, "POST", "/items", body="name=mug&price=3", headers={"Content-Type": "text/plain"})

    assert answer.status == 415 and answer.error["code"] == "unsupported_media_type"


# --- ETag, If-Match and concurrency ---------------------------------------------------------------------


def test_put_with_stale_if_match_is_412_and_item_is_unchanged(api):
    item_id = create(api).body["id"]
    call(api, "PUT", f"/items/{item_id}", body={"name": "v2", "price": 1}, headers={"If-Match": '"1"'})

    answer = call(
        api, "PUT", f"/items/{item_id}", body={"name": "v3", "price": 1}, headers={"if-match": '"1"'}
    )

    assert answer.status == 412 and answer.error["code"] == "precondition_failed"
    assert answer.header("ETag") == '"2"'
    assert call(api, "GET", f"/items/{item_id}").body["name"] == "v2"


def test_weak_etag_never_satisfies_if_match(api):
    item_id = create(api).body["id"]

    answer = call(api, "PUT", f"/items/{item_id}", body=MUG, headers={"IF-MATCH": 'W/"1"'})

    assert answer.status == 412


def test_if_match_star_or_list_containing_current_etag_passes(api):
    item_id = create(api).body["id"]

    star = call(api, "PUT", f"/items/{item_id}", body=MUG, headers={"If-Match": "*"})
    listed = call(api, "PUT", f"/items/{item_id}", body=MUG, headers={"If-Match": '"7", "2"'})

    assert (star.status, listed.status) == (200, 200)
    assert listed.header("ETag") == '"3"'


def test_put_with_stale_version_in_body_is_409(api):
    item = create(api).body
    call(api, "PUT", f"/items/{item['id']}", body={**item, "name": "newer"})

    answer = call(api, "PUT", f"/items/{item['id']}", body={**item, "name": "stale"})

    assert answer.status == 409
    assert answer.error["code"] == "conflict" and answer.error["field"] == "version"


def test_delete_with_stale_if_match_is_412_and_item_survives(api):
    item_id = create(api).body["id"]
    call(api, "PATCH", f"/items/{item_id}", body={"quantity": 4})

    answer = call(api, "DELETE", f"/items/{item_id}", headers={"If-Match": '"1"'})

    assert answer.status == 412
    assert call(api, "GET", f"/items/{item_id}").status == 200


def test_get_with_if_none_match_of_current_etag_is_304(api):
    item_id = create(api).body["id"]

    answer = call(api, "GET", f"/items/{item_id}", headers={"If-None-Match": 'W/"1"'})

    assert answer.status == 304 and answer.raw_body == "" and answer.header("ETag") == '"1"'


def test_concurrent_updates_with_same_if_match_let_exactly_one_win(api):
    item_id = create(api).body["id"]
    start = threading.Barrier(6)
    statuses: list[int] = []

    def update(n: int) -> None:
        start.wait()
        answer = call(
            api,
            "PUT",
            f"/items/{item_id}",
            body={"name": f"writer {n}", "price": n},
            headers={"If-Match": '"1"'},
        )
        statuses.append(answer.status)

    threads = [threading.Thread(target=update, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 412, 412, 412, 412, 412]
    assert call(api, "GET", f"/items/{item_id}").body["version"] == 2


def test_conditional_write_refuses_a_version_that_moved_on(api):
    from api_store import ConditionFailed

    item_id = create(api).body["id"]
    call(api, "PATCH", f"/items/{item_id}", body={"quantity": 4})

    with pytest.raises(ConditionFailed):
        api.STORE.replace({"id": item_id, "version": 2, "name": "late", "price": 1}, expected_version=1)


# --- client-provided ids --------------------------------------------------------------------------------


def test_client_provided_id_when_schema_requires_the_key(make_api):
    schema = {
        **ITEM_SCHEMA,
        "required": ["id", "name", "price"],
        "properties": {**ITEM_PROPERTIES, "id": {"type": "string", "pattern": "^[a-z0-9-]+$"}},
    }
    api = make_api(ITEM_SCHEMA=json.dumps(schema))

    created = call(api, "POST", "/items", body={**MUG, "id": "blue-mug"})
    duplicate = call(api, "POST", "/items", body={**MUG, "id": "blue-mug"})
    bad = call(api, "POST", "/items", body={**MUG, "id": "Blue Mug"})

    assert created.status == 201 and created.header("Location") == "/prod/items/blue-mug"
    assert duplicate.status == 409 and duplicate.error["field"] == "id"
    assert bad.status == 400 and bad.error["field"] == "id"


# --- server errors, logs, metrics, CORS -----------------------------------------------------------------


def test_unexpected_error_is_500_with_request_id_and_no_traceback(api, dynamodb, logs):
    dynamodb.delete_table(TableName=TABLE)

    answer = call(api, "GET", "/items/anything")

    assert answer.status == 500
    assert answer.error["code"] == "internal_error" and answer.error["request_id"]
    assert "Traceback" not in answer.raw_body and "ResourceNotFound" not in answer.raw_body
    failure = next(entry for entry in logs() if entry.get("message") == "request failed")
    assert "Traceback" in failure["exception"]
    assert failure["function_request_id"] == answer.error["request_id"]


def test_each_answer_counts_its_status_class_in_emf(api, capsys):
    call(api, "GET", "/nowhere")
    create(api)

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]

    counted = [name for doc in lines for name in ("2xx", "4xx", "5xx") if name in doc]
    assert counted == ["4xx", "2xx"]
    assert lines[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "4xx", "Unit": "Count"}]


def test_rejection_is_logged_with_code_and_request_id(api, logs):
    call(api, "POST", "/items", body={"price": 1})

    rejected = next(entry for entry in logs() if entry.get("message") == "request rejected")
    assert rejected["code"] == "validation_failed" and rejected["field"] == "name"
    assert rejected["function_request_id"]


def test_no_cors_headers_unless_configured(api):
    assert call(api, "GET", "/items").header("Access-Control-Allow-Origin") is None


def test_cors_origin_on_answers_and_preflight_when_configured(make_api):
    api = make_api(CORS_ALLOW_ORIGIN="https://shop.example.com")

    listed = call(api, "GET", "/items")
    preflight = call(api, "OPTIONS", "/items/abc")

    assert listed.header("Access-Control-Allow-Origin") == "https://shop.example.com"
    assert preflight.status == 204
    assert "PUT" in preflight.header("Access-Control-Allow-Methods")
    assert "If-Match" in preflight.header("Access-Control-Allow-Headers")


def test_schema_with_unsupported_keyword_fails_at_cold_start(make_api):
    with pytest.raises(ValueError, match="oneOf"):
        make_api(ITEM_SCHEMA=json.dumps({"type": "object", "oneOf": []}))


def test_rest_event_helper_matches_recorded_sample_shape():
    recorded, built = (
        load_event("apigw_rest_get_item"),
        rest_event("GET", "/items/3f1d7c52-8a0e-4d4b-9a53-2f7b6f0c1e9a"),
    )

    assert set(built) == set(recorded)
    assert built["requestContext"].keys() == recorded["requestContext"].keys()


def test_recorded_list_replace_and_delete_events_are_served_in_sequence(api, dynamodb):
    replace, delete = load_event("apigw_rest_replace_item"), load_event("apigw_rest_delete_item")
    item_id = replace["pathParameters"]["id"]
    dynamodb.put_item(
        TableName=TABLE,
        Item={"id": {"S": item_id}, "version": {"N": "1"}, "name": {"S": "Blue mug"}, "price": {"N": "12"}},
    )

    listed = invoke(api, load_event("apigw_rest_list_items"))
    replaced = invoke(api, replace)
    deleted = invoke(api, delete)

    assert listed.status == 200 and [item["id"] for item in listed.body["items"]] == [item_id]
    assert replaced.status == 200 and replaced.header("ETag") == '"2"'
    assert deleted.status == 204


# --- numbers: untrusted digits in, DynamoDB numbers out exactly -----------------------------------------


@pytest.mark.parametrize(
    "limit",
    ["1" * 4301, "9" * 10_000, "-" + "1" * 5000, "0" * 5000 + "101"],
)
def test_list_items_with_huge_limit_answers_400(api, limit):
    # Python's int() refuses (ValueError) digit strings beyond 4300 characters: that must not be a 500.
    answer = call(api, "GET", "/items", query={"limit": limit})

    assert answer.status == 400
    assert answer.error["code"] == "invalid_query" and answer.error["field"] == "limit"


def test_list_items_with_leading_zeros_in_a_long_limit_still_reads_its_value(api):
    create(api)

    answer = call(api, "GET", "/items", query={"limit": "0" * 5000 + "1"})

    assert answer.status == 200 and len(answer.body["items"]) == 1


def test_http_api_v2_list_with_huge_limit_answers_400(api):
    event = {
        "version": "2.0",
        "routeKey": "GET /items",
        "rawPath": "/items",
        "rawQueryString": "limit=" + "1" * 4301,
        "queryStringParameters": {"limit": "1" * 4301},
        "headers": {},
        "requestContext": {"http": {"method": "GET", "path": "/items"}, "stage": "$default"},
        "isBase64Encoded": False,
    }

    answer = invoke(api, event)

    assert answer.status == 400 and answer.error["field"] == "limit"


@pytest.mark.parametrize(
    "key_json",
    [
        '{"id":' + "1" * 700 + "}",
        '{"id":1e' + "9" * 600 + "}",
        '{"id":-1.5E-400}',
        '{"id":NaN}',
        '{"id":' + "[" * 700 + "}",
    ],
)
def test_cursor_holding_a_number_or_deep_nesting_answers_400(api, key_json):
    cursor = base64.urlsafe_b64encode(key_json.encode()).rstrip(b"=").decode()

    answer = call(api, "GET", "/items", query={"cursor": cursor})

    assert answer.status == 400 and answer.error["field"] == "cursor"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("tag", ['"' + "1" * 5000 + '"', '"' + "0" * 5000 + '1"', '"1e9999"'])
def test_if_match_with_a_huge_number_is_412_not_500(api, method, tag):
    item_id = create(api).body["id"]
    body = MUG if method != "DELETE" else None

    answer = call(api, method, f"/items/{item_id}", body=body, headers={"If-Match": tag})

    assert answer.status == 412 and answer.error["code"] == "precondition_failed"


def test_put_with_if_match_naming_the_version_with_leading_zeros_is_412_like_every_other_write(api):
    # Strong comparison is of the quoted text: '"01"' is not the entity tag '"1"', on any write path.
    item_id = create(api).body["id"]

    put = call(api, "PUT", f"/items/{item_id}", body=MUG, headers={"If-Match": '"01"'})
    patch = call(api, "PATCH", f"/items/{item_id}", body={"quantity": 1}, headers={"If-Match": '"01"'})

    assert (put.status, patch.status) == (412, 412)
    assert call(api, "GET", f"/items/{item_id}").body["version"] == 1


@pytest.mark.parametrize("number", ["1e" + "9" * 30, "-1E" + "9" * 30, "1e-" + "9" * 30, "0.5e" + "1" * 5000])
def test_body_number_beyond_what_decimal_can_hold_answers_400(api, number):
    raw = f'{{"name": "a", "price": {number}}}'

    answer = call(api, "POST", "/items", body=raw, headers={"Content-Type": "application/json"})

    assert answer.status == 400 and answer.error["code"] in ("invalid_json", "validation_failed")


def test_body_integer_beyond_the_int_digit_limit_answers_400(api):
    raw = '{"name": "a", "price": ' + "1" * 5000 + "}"

    answer = call(api, "POST", "/items", body=raw, headers={"Content-Type": "application/json"})

    assert answer.status == 400 and answer.error["field"] == "price"


EXACT_NUMBERS = {
    "price": "123456789012345678.5",
    "quantity": "7",
    "dimensions": {"width": "0.1000000000000000000000000000000000001", "height": "-1E-130"},
    "big": "9.9999999999999999999999999999999999999E+125",
    "tiny": "1.2345678901234567890123456789012345678E-100",
    "list": ["12345678901234567890123456789012345678", "-0.000001", "1.5"],
}
EXACT_SCHEMA = {"type": "object", "required": ["price"], "properties": {"price": {"type": "number"}}}


def _literal(shape) -> str:
    """JSON text with each string leaf of ``shape`` written as the number literal it spells."""
    if isinstance(shape, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_literal(v)}" for k, v in shape.items()) + "}"
    if isinstance(shape, list):
        return "[" + ",".join(_literal(v) for v in shape) + "]"
    return shape


def _exact(raw: str):
    """A JSON answer body with every number as Decimal, so that nothing is lost in the reading."""
    return json.loads(raw, parse_float=Decimal, parse_int=Decimal)


def _as_decimals(shape):
    if isinstance(shape, dict):
        return {k: _as_decimals(v) for k, v in shape.items()}
    if isinstance(shape, list):
        return [_as_decimals(v) for v in shape]
    return Decimal(shape)


def _same_numbers(got, expected) -> bool:
    """Equal as numbers and as JSON structure; Decimal == Decimal is exact, unlike float."""
    if isinstance(expected, dict):
        return (
            isinstance(got, dict)
            and got.keys() == expected.keys()
            and all(_same_numbers(got[k], v) for k, v in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(got, list)
            and len(got) == len(expected)
            and all(_same_numbers(g, e) for g, e in zip(got, expected, strict=True))
        )
    return isinstance(got, Decimal) and got == expected


def test_item_numbers_round_trip_exactly(make_api, dynamodb):
    api = make_api(ITEM_SCHEMA=json.dumps(EXACT_SCHEMA))
    expected = _as_decimals(EXACT_NUMBERS)

    created = call(
        api, "POST", "/items", body=_literal(EXACT_NUMBERS), headers={"Content-Type": "application/json"}
    )
    item_id = created.body["id"]
    read = call(api, "GET", f"/items/{item_id}")
    listed = call(api, "GET", "/items")

    assert created.status == 201 and read.status == 200
    for raw in (created.raw_body, read.raw_body):
        document = _exact(raw)
        assert _same_numbers({k: document[k] for k in expected}, expected), raw
    assert _same_numbers({k: _exact(listed.raw_body)["items"][0][k] for k in expected}, expected), (
        listed.raw_body
    )
    stored = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": item_id}})["Item"]
    assert Decimal(stored["price"]["N"]) == Decimal("123456789012345678.5")
    assert Decimal(stored["dimensions"]["M"]["width"]["N"]) == Decimal(
        "0.1000000000000000000000000000000000001"
    )


def test_item_numbers_stay_exact_through_put_and_patch(make_api):
    api = make_api(ITEM_SCHEMA=json.dumps(EXACT_SCHEMA))
    item_id = create(api, {"price": 1}).body["id"]

    put = call(
        api,
        "PUT",
        f"/items/{item_id}",
        body='{"price": 123456789012345678.5, "ratio": 0.1000000000000000000000000000000000001}',
        headers={"Content-Type": "application/json", "If-Match": '"1"'},
    )
    patched = call(api, "PATCH", f"/items/{item_id}", body='{"other": 2.25}', headers={"If-Match": '"2"'})

    for answer in (put, patched):
        assert answer.status == 200, answer.body
        assert '"price":123456789012345678.5' in answer.raw_body
        assert '"ratio":0.1000000000000000000000000000000000001' in answer.raw_body
    assert '"other":2.25' in patched.raw_body


def test_numbers_another_writer_stored_are_answered_as_stored(api, dynamodb):
    dynamodb.put_item(
        TableName=TABLE,
        Item={
            "id": {"S": "written-elsewhere"},
            "version": {"N": "3"},
            "price": {"N": "0.1000000000000000000000000000000000001"},
            "count": {"N": "12345678901234567890123456789012345678"},
            "hundred": {"N": "1E+2"},
        },
    )

    answer = call(api, "GET", "/items/written-elsewhere")

    assert answer.status == 200
    assert '"price":0.1000000000000000000000000000000000001' in answer.raw_body
    assert '"count":12345678901234567890123456789012345678' in answer.raw_body
    assert '"hundred":100' in answer.raw_body and answer.header("ETag") == '"3"'
