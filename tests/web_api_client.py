"""Builds real API Gateway REST v1 proxy events for the web API tests and calls the handler with them."""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass
from typing import Any

from conftest import LambdaContext, load_event

TABLE = "web-api-items"


def create_table(client: Any, name: str = TABLE, key: str = "id") -> None:
    """The table the handler expects: partition key ``key`` (string), on demand."""
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@dataclass
class Answer:
    """A handler answer with its body parsed."""

    status: int
    headers: dict[str, str]
    raw_body: str
    body: Any

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    @property
    def error(self) -> dict:
        return self.body["error"]


def rest_event(
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    base64_body: bool = False,
) -> dict:
    """A REST API v1 proxy event for ``/items`` or ``/items/{id}``, from the recorded sample's shape."""
    event = copy.deepcopy(load_event("apigw_rest_get_item"))
    segments = path.strip("/").split("/")
    resource = "/items/{id}" if len(segments) == 2 and segments[0] == "items" else "/items"
    if segments[0] != "items" or len(segments) > 2:
        resource = "/{proxy+}"
    event["resource"] = event["requestContext"]["resourcePath"] = resource
    event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    event["path"] = path
    event["requestContext"]["path"] = f"/prod{path}"
    if resource == "/items/{id}":
        event["pathParameters"] = {"id": segments[1]}
    elif resource == "/{proxy+}":
        event["pathParameters"] = {"proxy": path.lstrip("/")}
    else:
        event["pathParameters"] = None
    all_headers = dict(event["headers"])
    if body is not None and not isinstance(body, (str, bytes)):
        body = json.dumps(body)
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    event["headers"] = all_headers
    event["multiValueHeaders"] = {k: [v] for k, v in all_headers.items()}
    event["queryStringParameters"] = query or None
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    if body is not None and (isinstance(body, bytes) or base64_body):
        raw = body if isinstance(body, bytes) else body.encode()
        event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    else:
        event["body"], event["isBase64Encoded"] = body, False
    return event


def invoke(api: Any, event: dict) -> Answer:
    """Call the handler the way Lambda does and parse what it returns."""
    result = api.handler(event, LambdaContext())
    raw = result["body"]
    return Answer(result["statusCode"], result["headers"], raw, json.loads(raw) if raw else None)


def call(api: Any, method: str, path: str, **kwargs: Any) -> Answer:
    """Build a REST v1 event and invoke the handler with it."""
    return invoke(api, rest_event(method, path, **kwargs))
