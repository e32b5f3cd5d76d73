"""Web backend: API Gateway (REST v1 or HTTP API 2.0 proxy events) -> this function -> DynamoDB.

Environment: TABLE_NAME (required), RESOURCE (``items``), KEY_NAME (``id``), ITEM_SCHEMA (JSON schema as
JSON text), MAX_BODY_BYTES (65536), PAGE_SIZE (25, at most 100), CORS_ALLOW_ORIGIN (unset: no CORS
headers), METRICS_NAMESPACE, SERVICE_NAME. The routes and HTTP semantics are described in api_items.
"""

from __future__ import annotations

import os
import time

import boto3
from api_config import load_settings
from api_items import dispatch
from api_responses import ApiError, Response, from_error, internal_error, to_proxy
from api_routing import parse_event
from api_store import ItemStore
from botocore.config import Config
from lambda_common import Metrics, get_logger, log_context
from lambda_common.coldstart import freeze_init_objects

freeze_init_objects()

logger = get_logger()
metrics = Metrics()
SETTINGS = load_settings(os.environ)
# API Gateway gives up after 29 s; keep retries and timeouts well inside that.
_client = boto3.client(
    "dynamodb",
    config=Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}),
)
STORE = ItemStore(_client, os.environ["TABLE_NAME"], SETTINGS.key_name)
freeze_init_objects()


def _base_headers() -> dict[str, str]:
    origin = SETTINGS.cors_allow_origin
    if not origin:
        return {}
    headers = {"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": "ETag, Location"}
    if origin != "*":
        headers["Vary"] = "Origin"
    return headers


def handler(event: dict, context: object) -> dict:
    """Answer one API Gateway proxy request; never lets an exception escape as a stack trace."""
    with log_context(context):
        started = time.perf_counter()
        request = None
        try:
            request = parse_event(event, SETTINGS.max_body_bytes)
            response = dispatch(request, STORE, SETTINGS)
        except ApiError as error:
            response = from_error(error)
            logger.info(
                "request rejected",
                extra={"fields": {"status": error.status, "code": error.code, "field": error.field}},
            )
        except Exception:
            # Logged with its traceback; the client only sees a generic body with the request id.
            logger.exception("request failed")
            response = internal_error(getattr(context, "aws_request_id", None))
        _record(request, response, started)
        return to_proxy(response, _base_headers())


def _record(request: object, response: Response, started: float) -> None:
    metrics.add(f"{response.status // 100}xx")
    metrics.flush()
    logger.info(
        "request handled",
        extra={
            "fields": {
                "method": getattr(request, "method", None),
                "path": getattr(request, "path", None),
                "status": response.status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "apigw_request_id": getattr(request, "request_id", None),
            }
        },
    )
