"""The worker side of the local IAM check: every botocore client the handler creates is checked against
the function's role before each call goes out.

``worker.py`` loads this file by its path and calls ``install(config_path)`` once the task root is on
``sys.path`` (so the botocore patched is the one the handler imports) and before the handler is imported.
``Session.create_client`` is wrapped so that each new client registers two handlers on its own event
emitter: ``before-parameter-build`` keeps the API parameters as the handler gave them (botocore's own
handlers rewrite some), ``before-call`` maps the call to IAM actions (``iam_actions.py``), evaluates them
(``iam_policy.py``) and, for a denial, answers in place of the service with the error response AWS gives,
so botocore raises the ``ClientError`` it would raise for AWS's AccessDenied.

What each call was is kept (``drain``) and sent to the runner with the invocation's response.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent


def _sibling(name: str) -> Any:
    """A module of this folder, loaded by its path under a private name: the handler's task root, not
    this package, is on the worker's ``sys.path``, and must not be shadowed."""
    private = f"_lambda_patterns_local_{name}"
    if private in sys.modules:
        return sys.modules[private]
    spec = importlib.util.spec_from_file_location(private, _HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[private] = module
    spec.loader.exec_module(module)
    return module


#: botocore service name -> (error code, HTTP status, query-compatible code) AWS answers a denial with.
#: SQS and CloudWatch speak JSON but keep their query protocol's codes (``x-amzn-query-error``), so
#: boto3 reports ``AccessDenied`` for them; SNS answers ``AuthorizationError``.
ERRORS = {
    "s3": ("AccessDenied", 403, None),
    "sqs": ("AccessDenied", 403, "AccessDeniedException"),
    "cloudwatch": ("AccessDenied", 403, "AccessDeniedException"),
    "sns": ("AuthorizationError", 403, None),
    "lambda": ("AccessDeniedException", 403, None),
}
DEFAULT_ERROR = ("AccessDeniedException", 400, None)


def error_response(service: str, url: str, message: str) -> tuple[Any, dict]:
    """The (HTTP response, parsed response) pair botocore would build from AWS's denial of a call."""
    from botocore.awsrequest import AWSResponse

    code, status, query_code = ERRORS.get(service, DEFAULT_ERROR)
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-requestid": request_id, "content-type": "application/json"}
    error: dict[str, str] = {"Code": code, "Message": message}
    if query_code:
        headers["x-amzn-query-error"] = f"{code};Sender"
        error.update({"QueryErrorCode": query_code, "Type": "Sender"})
    elif service == "sns":
        error["Type"] = "Sender"
    body = json.dumps({"__type": code, "message": message}).encode()

    class _Raw:
        def stream(self, **_: Any):
            yield body

    metadata = {"RequestId": request_id, "HTTPStatusCode": status, "HTTPHeaders": headers, "RetryAttempts": 0}
    if service == "s3":
        metadata["HostId"] = ""
    return AWSResponse(url, status, headers, _Raw()), {"Error": error, "ResponseMetadata": metadata}


class Guard:
    """Checks calls against one function's role (the document ``iam_roles.role_document`` writes)."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self._policy = _sibling("iam_policy")
        self._actions = _sibling("iam_actions")
        self._lock = threading.Lock()
        self._records: dict[tuple, dict] = {}

    def attach(self, client: Any) -> None:
        """Registers the check on one client's events."""
        service = client.meta.service_model.service_name
        events = client.meta.events
        events.register_first("before-parameter-build", self._keep_params)
        events.register_last("before-call", lambda **kwargs: self.check(service, **kwargs))

    @staticmethod
    def _keep_params(params: dict, context: dict, **_: Any) -> None:
        context["lambda_patterns_iam_params"] = dict(params)

    def check(self, service: str, model: Any, params: dict, context: dict, **_: Any) -> Any:
        """The ``before-call`` handler: None to let the call go, or the error response of a denial."""
        api = context.get("lambda_patterns_iam_params", {})
        region = context.get("client_region") or self.config["region"]
        needs = self._actions.needs(service, model.name, api, region, self.config["account"])
        operation = f"{service}:{model.name}"
        if needs is None:
            self._record(operation, {"decision": "unchecked"})
            return None
        for need in needs:
            request = self._policy.Request(need.action, need.resource, need.context)
            decision = self._policy.evaluate(
                self.config["identity"],
                request,
                boundary=self.config.get("boundary"),
                global_context=self.config.get("context"),
            )
            entry = {"action": need.action, "resource": need.resource, "decision": decision.effect}
            if decision.effect == self._policy.DENY:
                message = self._policy.denial_message(self.config["principal"], request, decision)
                self._record(operation, {**entry, "message": message, "where": decision.where})
                return error_response(service, params.get("url", ""), message)
            if decision.effect == self._policy.UNKNOWN:
                entry["why"] = "; ".join(decision.unknown)
            self._record(operation, entry)
        return None

    def _record(self, operation: str, entry: dict) -> None:
        key = (operation, *sorted((name, str(value)) for name, value in entry.items()))
        with self._lock:
            record = self._records.setdefault(key, {"operation": operation, **entry, "calls": 0})
            record["calls"] += 1

    def drain(self) -> list[dict]:
        """The calls checked since the last drain, grouped (``calls`` counts each group)."""
        with self._lock:
            records, self._records = list(self._records.values()), {}
        return records


def install(config_path: str) -> Guard | None:
    """Hooks every botocore client created from now on; None when botocore is not importable (a handler
    without it makes no AWS call to check)."""
    config = json.loads(Path(config_path).read_text())
    try:
        import botocore.session
    except ImportError:
        return None
    guard = Guard(config)
    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        guard.attach(client)
        return client

    botocore.session.Session.create_client = create_client
    return guard
