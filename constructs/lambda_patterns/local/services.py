"""AWS service actions that API Gateway's ``AWS`` integrations call, performed on moto's server.

API Gateway sends the rendered request template to the service as the action's JSON request and hands the
service's status and JSON response to the integration responses; so does ``call_service``.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

#: (service, action) pairs the runner performs.
EMULATED_ACTIONS = {("kinesis", "PutRecord"), ("kinesis", "PutRecords")}

_RECORD_KEYS = ("PartitionKey", "ExplicitHashKey")
_STREAM_KEYS = ("StreamName", "StreamARN")


class _BadRequest(ValueError):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _blob(value: Any, where: str) -> bytes:
    # Kinesis's JSON protocol carries blobs as base64; what cannot be decoded is the service's 400.
    if not isinstance(value, str):
        raise _BadRequest("SerializationException", f"{where} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _BadRequest("SerializationException", f"{where} is not valid base64") from None


def _error(status: int, kind: str, message: str) -> tuple[int, str]:
    return status, json.dumps({"__type": kind, "message": message})


def kinesis_request(action: str, request: dict[str, Any]) -> dict[str, Any]:
    """boto3 arguments of ``put_record``/``put_records`` from the action's JSON request."""
    arguments = {key: request[key] for key in _STREAM_KEYS if key in request}
    if action == "PutRecord":
        arguments.update(
            {key: request[key] for key in (*_RECORD_KEYS, "SequenceNumberForOrdering") if key in request}
        )
        arguments["Data"] = _blob(request.get("Data"), "Data")
        return arguments
    records = request.get("Records")
    if not isinstance(records, list):
        raise _BadRequest("SerializationException", "Records must be a list")
    arguments["Records"] = [
        {
            **{key: entry[key] for key in _RECORD_KEYS if key in entry},
            "Data": _blob(entry.get("Data"), f"Records[{i}].Data"),
        }
        for i, entry in enumerate(records)
        if isinstance(entry, dict)
    ]
    return arguments


def call_service(clients: Any, service: str, action: str, payload: str) -> tuple[int, str]:
    """Performs ``service:action`` with the JSON request ``payload``; returns the HTTP status and JSON body
    the service answers (errors as ``{"__type", "message"}``, as its JSON protocol).

    :param clients: service name -> boto3 client of moto's server (a callable).
    """
    if (service, action) not in EMULATED_ACTIONS:
        return _error(501, "NotEmulated", f"{service}:{action} is not emulated locally")
    try:
        try:
            request = json.loads(payload)
        except RecursionError:
            # A template that inlines a deeply nested body: the service refuses it, as Kinesis would.
            raise _BadRequest("SerializationException", "the request is nested too deeply") from None
        if not isinstance(request, dict):
            raise _BadRequest("SerializationException", "the request is not a JSON object")
        arguments = kinesis_request(action, request)
    except ValueError as error:
        kind = error.kind if isinstance(error, _BadRequest) else "SerializationException"
        return _error(400, kind, str(error))
    client = clients(service)
    try:
        if action == "PutRecord":
            response = client.put_record(**arguments)
        else:
            response = client.put_records(**arguments)
    except ParamValidationError as error:
        return _error(400, "ValidationException", str(error))
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
        details = error.response.get("Error", {})
        return _error(status, details.get("Code", "ClientError"), details.get("Message", str(error)))
    response.pop("ResponseMetadata", None)
    return 200, json.dumps(response)
