"""HTTP answers for API Gateway proxy integrations: JSON bodies, error envelopes and number conversion."""

from __future__ import annotations

from typing import Any

from lambda_common import json_numbers


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


class Response:
    """A handler answer before it is shaped into the proxy integration's response dict."""

    __slots__ = ("status", "body", "headers")

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = {} if headers is None else headers


def dumps(value: Any) -> str:
    """Compact JSON text for a response body, each DynamoDB number exactly as stored.

    Never through float: DynamoDB numbers carry 38 significant digits, float about 17. Integral numbers
    are JSON integers, whether they arrive as int or as Decimal.
    """
    return json_numbers.dumps(value)


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
