"""The items resource: list, create, read, replace, merge-patch and delete with optimistic concurrency.

HTTP semantics chosen here:
- Every item carries an integer ``version``, 1 on creation and +1 on every write, exposed as the strong
  ETag ``"<version>"``. Writes are DynamoDB conditional writes on that version.
- ``If-Match`` that does not match the current version: 412 Precondition Failed (RFC 9110 13.1.1).
- A ``version`` in the body that is not the current one, or a write that lost a race without If-Match:
  409 Conflict. A write that lost a race with If-Match: 412, because its precondition no longer holds.
- An unknown id is 404 before any precondition is looked at.
- ``If-None-Match`` on GET of an item: 304 when it matches (weak comparison).
- PATCH is a JSON Merge Patch (RFC 7386); the merged document must satisfy the schema.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from api_config import MAX_PAGE_SIZE, VERSION_ATTRIBUTE, Settings
from api_cursor import decode_cursor, encode_cursor
from api_responses import ApiError, Response, etag
from api_routing import COLLECTION, Request, Route, match, media_type, parse_digits, valid_id
from api_store import ConditionFailed, ItemStore, ItemTooLarge
from api_validation import Invalid, check_storable, validate
from lambda_common import json_numbers

JSON_TYPES = ("application/json", "application/merge-patch+json")


def dispatch(request: Request, store: ItemStore, settings: Settings) -> Response:
    """Route a request and perform it; client mistakes raise ApiError."""
    route = match(request, settings.resource)
    if request.method == "OPTIONS" and settings.cors_allow_origin:
        return preflight(route)
    if request.method not in route.allowed:
        raise ApiError(
            405,
            "method_not_allowed",
            f"{request.method or 'That method'} is not allowed here; use {', '.join(route.allowed)}.",
            headers={"Allow": ", ".join(route.allowed)},
        )
    if route.name == COLLECTION:
        if request.method == "GET":
            return list_items(request, store, settings)
        return create_item(request, store, settings)
    operations = {"GET": get_item, "PUT": replace_item, "PATCH": patch_item, "DELETE": delete_item}
    return operations[request.method](request, route.item_id, store, settings)


def preflight(route: Route) -> Response:
    """A CORS preflight answer for a known route."""
    return Response(
        204,
        headers={
            "Access-Control-Allow-Methods": ", ".join((*route.allowed, "OPTIONS")),
            "Access-Control-Allow-Headers": "Content-Type, Authorization, If-Match, If-None-Match",
            "Access-Control-Max-Age": "600",
        },
    )


# --- request bodies -------------------------------------------------------------------------------------


def parse_json_body(request: Request) -> Any:
    """The request body as JSON, numbers as Decimal; 415 for another media type, 400 for anything broken.

    Decimal, never float, so that what a client sends is what DynamoDB stores, to all 38 digits.
    """
    kind = media_type(request)
    if kind is not None and kind not in JSON_TYPES and not kind.endswith("+json"):
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    if not request.body:
        raise ApiError(400, "invalid_json", "The request body is empty; send a JSON object.")
    try:
        # Decoded here rather than by json: JSON text on the wire is UTF-8 (RFC 8259), never UTF-16/32.
        return json_numbers.loads(request.body.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", "The request body is not valid UTF-8.") from None
    except ValueError as exc:
        # Syntax errors, NaN/Infinity, numbers beyond Decimal's range and absurd nesting alike.
        raise ApiError(400, "invalid_json", f"The request body is not valid JSON: {exc}.") from None


def _as_object(body: Any) -> dict:
    if not isinstance(body, dict):
        raise ApiError(400, "validation_failed", "The request body must be a JSON object.")
    try:
        check_storable(body)
    except Invalid as exc:
        raise ApiError(400, "validation_failed", exc.message, exc.field) from None
    return body


def _validated(document: dict, settings: Settings) -> dict:
    try:
        validate(document, settings.body_schema)
    except Invalid as exc:
        raise ApiError(400, "validation_failed", exc.message, exc.field) from None
    return document


def _body_version(body: dict) -> int | None:
    if VERSION_ATTRIBUTE not in body:
        return None
    value = body[VERSION_ATTRIBUTE]
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or value != int(value):
        raise ApiError(400, "validation_failed", "'version' must be an integer.", VERSION_ATTRIBUTE)
    return int(value)


def _client_fields(body: dict, settings: Settings) -> dict:
    return {k: v for k, v in body.items() if k not in (settings.key_name, VERSION_ATTRIBUTE)}


def _check_body_key(body: dict, item_id: str, settings: Settings) -> None:
    if settings.key_name in body and body[settings.key_name] != item_id:
        raise ApiError(
            400, "validation_failed", f"'{settings.key_name}' does not match the URL.", settings.key_name
        )


# --- preconditions --------------------------------------------------------------------------------------


def _entity_tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def if_match_holds(header: str, version: int | None) -> bool:
    """RFC 9110 If-Match with strong comparison: ``*`` or a listed ``"<version>"``; weak tags never match."""
    tags = _entity_tags(header)
    return "*" in tags or etag(version or 0) in tags


def if_none_match_holds(header: str, version: int | None) -> bool:
    """RFC 9110 If-None-Match with weak comparison: True when no listed tag matches the current one."""
    tags = [tag[2:] if tag.startswith("W/") else tag for tag in _entity_tags(header)]
    return "*" not in tags and etag(version or 0) not in tags


def _current_version(item: dict) -> int | None:
    value = item.get(VERSION_ATTRIBUTE)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _check_preconditions(request: Request, current: dict, body_version: int | None) -> None:
    version = _current_version(current)
    if_match = request.header("if-match")
    if if_match is not None and not if_match_holds(if_match, version):
        raise ApiError(
            412,
            "precondition_failed",
            f"If-Match does not match the current version {etag(version or 0)}.",
            headers={"ETag": etag(version or 0)},
        )
    if body_version is not None and body_version != (version or 0):
        raise ApiError(
            409,
            "conflict",
            f"The item is at version {version or 0}, not {body_version}; fetch it and retry.",
            VERSION_ATTRIBUTE,
        )


def _lost_race(request: Request) -> ApiError:
    if request.header("if-match") is not None:
        return ApiError(412, "precondition_failed", "The item changed while it was being written.")
    return ApiError(409, "conflict", "The item changed while it was being written; fetch it and retry.")


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "No item has that id.")


def _too_large() -> ApiError:
    return ApiError(413, "payload_too_large", "The item is larger than the store accepts.")


# --- operations -----------------------------------------------------------------------------------------


def _page_size(request: Request, settings: Settings) -> int:
    raw = request.query.get("limit")
    if raw is None:
        return settings.page_size
    limit = parse_digits(raw, len(str(MAX_PAGE_SIZE)))
    if limit is None or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ApiError(400, "invalid_query", f"limit must be an integer from 1 to {MAX_PAGE_SIZE}.", "limit")
    return limit


def list_items(request: Request, store: ItemStore, settings: Settings) -> Response:
    """GET /items: a page of items and an opaque cursor for the next page (null on the last one)."""
    limit = _page_size(request, settings)
    cursor = request.query.get("cursor")
    start = decode_cursor(cursor, settings.key_name) if cursor is not None else None
    items, last_key = store.scan(limit, start)
    return Response(200, {"items": items, "next_cursor": encode_cursor(last_key) if last_key else None})


def create_item(request: Request, store: ItemStore, settings: Settings) -> Response:
    """POST /items: 201 with Location and ETag; the server makes the id unless the schema requires one."""
    body = _as_object(parse_json_body(request))
    if VERSION_ATTRIBUTE in body:
        raise ApiError(400, "validation_failed", "'version' is managed by the server.", VERSION_ATTRIBUTE)
    if settings.client_ids:
        item_id = body.get(settings.key_name)
        if item_id is None:
            raise ApiError(400, "validation_failed", f"'{settings.key_name}' is required", settings.key_name)
        try:
            validate(item_id, settings.key_schema, settings.key_name)
        except Invalid as exc:
            raise ApiError(400, "validation_failed", exc.message, exc.field) from None
        if not valid_id(item_id):
            raise ApiError(
                400,
                "validation_failed",
                f"'{settings.key_name}' must be a non-empty string of at most 512 bytes.",
                settings.key_name,
            )
    elif settings.key_name in body:
        raise ApiError(
            400, "validation_failed", f"'{settings.key_name}' is assigned by the server.", settings.key_name
        )
    else:
        item_id = str(uuid.uuid4())
    document = {settings.key_name: item_id, VERSION_ATTRIBUTE: 1}
    document.update(_validated(_client_fields(body, settings), settings))
    try:
        store.create(document)
    except ConditionFailed:
        raise ApiError(409, "conflict", "An item with that id already exists.", settings.key_name) from None
    except ItemTooLarge:
        raise _too_large() from None
    location = f"{request.public_path.rstrip('/')}/{quote(item_id, safe='')}"
    return Response(201, document, {"ETag": etag(1), "Location": location})


def get_item(request: Request, item_id: str, store: ItemStore, settings: Settings) -> Response:
    """GET /items/{id}: the item with its ETag, or 304 when If-None-Match matches it."""
    item = store.get(item_id)
    if item is None:
        raise _not_found()
    version = _current_version(item)
    if_none_match = request.header("if-none-match")
    if if_none_match is not None and not if_none_match_holds(if_none_match, version):
        return Response(304, None, {"ETag": etag(version or 0)})
    return Response(200, item, {"ETag": etag(version or 0)})


def _write(request: Request, item_id: str, document: dict, current: dict, store: ItemStore) -> Response:
    version = _current_version(current)
    new_version = (version or 0) + 1
    document[VERSION_ATTRIBUTE] = new_version
    try:
        store.replace(document, version)
    except ConditionFailed:
        raise _lost_race(request) from None
    except ItemTooLarge:
        raise _too_large() from None
    return Response(200, document, {"ETag": etag(new_version)})


def replace_item(request: Request, item_id: str, store: ItemStore, settings: Settings) -> Response:
    """PUT /items/{id}: replace every client field of an existing item, at the version the client saw."""
    body = _as_object(parse_json_body(request))
    _check_body_key(body, item_id, settings)
    body_version = _body_version(body)
    fields = _validated(_client_fields(body, settings), settings)
    expected = _single_strong_version(request.header("if-match"))
    if expected is not None and body_version in (None, expected):
        return _write_blind(item_id, {settings.key_name: item_id, **fields}, expected, store)
    current = store.get(item_id)
    if current is None:
        raise _not_found()
    _check_preconditions(request, current, body_version)
    return _write(request, item_id, {settings.key_name: item_id, **fields}, current, store)


def _single_strong_version(if_match: str | None) -> int | None:
    """The version an If-Match names when it is exactly one strong tag ``"<int>"``, else None."""
    tags = _entity_tags(if_match or "")
    if len(tags) != 1 or len(tags[0]) < 3 or not (tags[0][0] == tags[0][-1] == '"'):
        return None
    inner = tags[0][1:-1]
    version = parse_digits(inner, 18)
    # Only the tag we issue for that version: '"01"' is not '"1"' under strong comparison, as in
    # if_match_holds, so it must not pass here as version 1.
    return version if version is not None and etag(version) == tags[0] else None


def _write_blind(item_id: str, document: dict, expected: int, store: ItemStore) -> Response:
    # With If-Match naming one version the conditional write is the whole check: one round trip on the
    # happy path. Only a refused write reads the item, to tell 404 from 412.
    document[VERSION_ATTRIBUTE] = expected + 1
    try:
        store.replace(document, expected)
    except ConditionFailed:
        current = store.get(item_id)
        if current is None:
            raise _not_found() from None
        version = _current_version(current) or 0
        raise ApiError(
            412,
            "precondition_failed",
            f"If-Match does not match the current version {etag(version)}.",
            headers={"ETag": etag(version)},
        ) from None
    except ItemTooLarge:
        raise _too_large() from None
    return Response(200, document, {"ETag": etag(expected + 1)})


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch: objects merge recursively, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def patch_item(request: Request, item_id: str, store: ItemStore, settings: Settings) -> Response:
    """PATCH /items/{id}: apply a JSON Merge Patch; the merged item must still satisfy the schema."""
    patch = _as_object(parse_json_body(request))
    _check_body_key(patch, item_id, settings)
    body_version = _body_version(patch)
    current = store.get(item_id)
    if current is None:
        raise _not_found()
    _check_preconditions(request, current, body_version)
    merged = merge_patch(_client_fields(current, settings), _client_fields(patch, settings))
    fields = _validated(merged, settings)
    return _write(request, item_id, {settings.key_name: item_id, **fields}, current, store)


def delete_item(request: Request, item_id: str, store: ItemStore, settings: Settings) -> Response:
    """DELETE /items/{id}: 204; with If-Match only while the item is still at that version."""
    if_match = request.header("if-match")
    if if_match is None:
        try:
            store.delete(item_id)
        except ConditionFailed:
            raise _not_found() from None
        return Response(204)
    current = store.get(item_id)
    if current is None:
        raise _not_found()
    _check_preconditions(request, current, None)
    try:
        store.delete(item_id, _current_version(current), check_version=True)
    except ConditionFailed:
        raise _lost_race(request) from None
    return Response(204)
