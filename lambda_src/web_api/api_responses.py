"""HTTP answers for API Gateway proxy integrations: JSON bodies, error envelopes and number conversion."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


class ApiError(Exception):
    """A client-visible failure: becomes ``{"error": {"code", "message", "field"}}`` with its status code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}


@dataclass
class Response:
    """A handler answer before it is shaped into the proxy integration's response dict."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def _json_default(value: Any) -> Any:
    # DynamoDB hands every number back as Decimal; integral ones must stay JSON integers.
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return float(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(value: Any) -> str:
    """JSON text for a response body; DynamoDB Decimals become ints when integral, floats otherwise."""
    return json.dumps(value, default=_json_default, separators=(",", ":"))


def error_body(code: str, message: str, field: str | None = None, **extra: Any) -> dict:
    """The error envelope every non-2xx answer carries."""
    error: dict[str, Any] = {"code": code, "message": message, "field": field}
    error.update(extra)
    return {"error": error}


def from_error(error: ApiError) -> Response:
    """The response for a client mistake."""
    return Response(error.status, error_body(error.code, error.message, error.field), dict(error.headers))


def internal_error(request_id: str | None) -> Response:
    """A generic 500: the details stay in the logs, the client gets an id to quote."""
    return Response(
        500,
        error_body("internal_error", "The server failed to handle the request.", request_id=request_id),
    )


def etag(version: int) -> str:
    """A strong entity tag for an item version, quoted as RFC 9110 requires."""
    return f'"{version}"'


def to_proxy(response: Response, base_headers: dict[str, str]) -> dict:
    """The dict API Gateway expects back from a proxy integration (REST v1 or HTTP API payload 2.0)."""
    headers = dict(base_headers)
    headers.update(response.headers)
    if response.body is None:
        body = ""
    else:
        body = dumps(response.body)
        headers["Content-Type"] = "application/json"
    return {"statusCode": response.status, "headers": headers, "body": body, "isBase64Encoded": False}
