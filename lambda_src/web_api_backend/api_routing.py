"""API Gateway proxy events (REST v1, HTTP API payload 2.0) made into a plain request; route matching."""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote

from api_responses import ApiError

COLLECTION = "collection"
ITEM = "item"
METHODS = {COLLECTION: ("GET", "POST"), ITEM: ("GET", "PUT", "PATCH", "DELETE")}
# DynamoDB allows 2048 bytes for a partition key; a quarter of that is plenty for an id in a URL.
MAX_ID_BYTES = 512
# int() refuses (ValueError) a text of more digits than this, Python's default conversion limit.
_INT_DIGITS_LIMIT = 4300


# Plain classes, not dataclasses: @dataclass generates and compiles its methods at import, some 0.3-0.7 ms
# of every cold start a class; nothing here compares or prints requests and routes.
class Request:
    """What the handler needs from an event, whichever payload format API Gateway sent."""

    __slots__ = (
        "method",
        "path",
        "headers",
        "query",
        "body",
        "resource",
        "path_parameters",
        "public_path",
        "request_id",
    )

    def __init__(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        body: bytes | None = None,
        resource: str | None = None,
        path_parameters: dict[str, str] | None = None,
        public_path: str = "",
        request_id: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.headers = {} if headers is None else headers
        self.query = {} if query is None else query
        self.body = body
        self.resource = resource
        self.path_parameters = {} if path_parameters is None else path_parameters
        self.public_path = public_path
        self.request_id = request_id

    def header(self, name: str) -> str | None:
        """A header value by case-insensitive name."""
        return self.headers.get(name.lower())


class Route:
    """A matched route: the collection, or one item with its id."""

    __slots__ = ("name", "item_id")

    def __init__(self, name: str, item_id: str | None = None) -> None:
        self.name = name
        self.item_id = item_id

    @property
    def allowed(self) -> tuple[str, ...]:
        """The methods this route answers, for 405's Allow header."""
        return METHODS[self.name]


def _text_map(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def _headers(event: dict) -> dict[str, str]:
    headers = {key.lower(): value for key, value in _text_map(event.get("headers")).items()}
    # REST v1 repeats headers in multiValueHeaders; the last value wins, as in `headers`.
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if isinstance(values, list) and values and isinstance(values[-1], str):
            headers.setdefault(str(key).lower(), values[-1])
    return headers


def _body(event: dict, max_bytes: int) -> bytes | None:
    raw = event.get("body")
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise ApiError(400, "invalid_body", "The request body could not be read.")
    if event.get("isBase64Encoded"):
        # Refuse before decoding: base64 is 4 characters per 3 bytes.
        if len(raw) // 4 * 3 > max_bytes + 3:
            raise too_large(max_bytes)
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "invalid_body", "The request body is not valid base64.") from None
    else:
        if len(raw) > max_bytes:
            raise too_large(max_bytes)
        try:
            body = raw.encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError(400, "invalid_json", "The request body is not valid UTF-8.") from None
    if len(body) > max_bytes:
        raise too_large(max_bytes)
    return body


def too_large(max_bytes: int) -> ApiError:
    """413 for a body above the configured limit."""
    return ApiError(413, "payload_too_large", f"The request body exceeds {max_bytes} bytes.")


def parse_event(event: dict, max_body_bytes: int) -> Request:
    """A Request from a REST API v1 or HTTP API v2 (``version == "2.0"``) proxy event."""
    context = event.get("requestContext") or {}
    if event.get("version") == "2.0":
        http = context.get("http") or {}
        method = http.get("method") or ""
        path = _strip_stage(event.get("rawPath") or http.get("path") or "/", context.get("stage"))
        route_key = event.get("routeKey") or ""
        resource = route_key.split(" ", 1)[1] if " " in route_key else None
        public_path = event.get("rawPath") or path
    else:
        method = event.get("httpMethod") or ""
        path = event.get("path") or "/"
        resource = event.get("resource")
        # requestContext.path is what the client called, stage or custom-domain base path included.
        public_path = context.get("path") or path
    return Request(
        method=str(method).upper(),
        path=str(path),
        headers=_headers(event),
        query=_text_map(event.get("queryStringParameters")),
        body=_body(event, max_body_bytes),
        resource=resource if isinstance(resource, str) else None,
        path_parameters=_text_map(event.get("pathParameters")),
        public_path=str(public_path),
        request_id=context.get("requestId"),
    )


def _strip_stage(path: str, stage: object) -> str:
    # HTTP API puts a named stage in rawPath; the $default stage is not in the path.
    if isinstance(stage, str) and stage and stage != "$default" and path.startswith(f"/{stage}/"):
        return path[len(stage) + 1 :]
    return path


def match(request: Request, resource_name: str) -> Route:
    """The route for a request, from the API's resource template when present, else from the path.

    Raises ApiError 404 for anything else.
    """
    template = re.fullmatch(rf"/{re.escape(resource_name)}/\{{([^{{}}/+]+)\}}", request.resource or "")
    if request.resource == f"/{resource_name}":
        return Route(COLLECTION)
    if template and template.group(1) in request.path_parameters:
        return Route(ITEM, _item_id(request.path_parameters[template.group(1)]))
    segments = request.path.strip("/").split("/")
    if segments[0] == resource_name and len(segments) == 1:
        return Route(COLLECTION)
    if segments[0] == resource_name and len(segments) == 2:
        return Route(ITEM, _item_id(segments[1]))
    raise ApiError(404, "not_found", f"No route for {request.path}.")


def _item_id(raw: str) -> str:
    # Path parameters may arrive percent-encoded; decode once. An id no item can have is simply not found.
    try:
        item_id = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        item_id = ""
    if not valid_id(item_id):
        raise ApiError(404, "not_found", "No item has that id.")
    return item_id


def valid_id(item_id: object) -> bool:
    """Whether a value can be an item id: a non-empty string of valid Unicode, at most 512 UTF-8 bytes."""
    if not isinstance(item_id, str) or not item_id:
        return False
    try:
        return len(item_id.encode("utf-8")) <= MAX_ID_BYTES
    except UnicodeEncodeError:
        return False


def parse_digits(raw: str, max_digits: int) -> int | None:
    """The integer an ASCII digit string spells, or None for any other text or above ``max_digits`` digits.

    For numbers from query strings and headers. The digits are counted (leading zeros aside) before
    ``int()`` sees them: it raises on more than 4300, and a number too long for its use is the client's
    mistake, not a server error. Only ASCII counts: ``isdigit`` alone also passes "٣", which ``int`` reads
    as 3, and "²", which it refuses.
    """
    if not raw or not raw.isascii() or not raw.isdigit():
        return None
    significant = raw.lstrip("0")
    if len(significant) > min(max_digits, _INT_DIGITS_LIMIT):
        return None
    return int(significant or "0")


def media_type(request: Request) -> str | None:
    """The request's media type, lower-cased, without parameters; None when no Content-Type was sent."""
    value = request.header("content-type")
    if value is None:
        return None
    return value.split(";", 1)[0].strip().lower()
