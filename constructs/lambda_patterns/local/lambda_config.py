"""What Lambda's API says of the runner's functions: their ``FunctionConfiguration``, ``GetFunction``'s
answer and ``ListFunctions``' pages, from each ``FunctionSpec`` and its template resource (for the members
the spec does not keep: role, description, tracing), and the qualifiers each function accepts.

Shapes as botocore's service model (``lambda/2015-03-31``) and
https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html give them. Locally there is one
version of the code, the synthesized one: every alias and version the template declares for a function
runs it (``wire_functions.py``), and reports the version ``alias_attributes`` gives it.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambda_patterns.local.intrinsics import Unresolvable, resolve
from lambda_patterns.local.naming import unqualified

if TYPE_CHECKING:
    from lambda_patterns.local.lambda_api import Runner


class ApiError(Exception):
    """An error Lambda answers with: HTTP status, error code (``x-amzn-ErrorType``) and message."""

    def __init__(
        self, status: int, code: str, message: str, *, member: str = "message", fields: dict | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.member = status, code, message, member
        #: Further members of the error document (``Reason`` of a throttle).
        self.fields = dict(fields or {})


def not_found(what: str) -> ApiError:
    """Lambda's answer for a function (or qualifier) it does not have."""
    return ApiError(404, "ResourceNotFoundException", f"Function not found: {what}", member="Message")


def validation_error(value: str, field: str, constraint: str) -> ApiError:
    """Lambda's answer for a parameter its model refuses."""
    return ApiError(
        400,
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}",
    )


#: ``ListFunctions``' ``MaxItems``: default and bounds.
DEFAULT_PAGE, MAX_PAGE = 50, 10_000


class Catalog:
    """The runner's functions as Lambda's API describes them (``runner``: ``lambda_api.Runner``)."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.last_modified = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
        self._code: dict[str, tuple[int, str]] = {}
        self._lock = threading.Lock()

    def _workers(self) -> list[Any]:
        return sorted(list(self.runner.workers.values()), key=lambda worker: worker.spec.name)

    def qualifiers(self, function_arn: str) -> dict[str, str]:
        """Qualifier -> executed version of the function's aliases and versions in the templates, and
        ``$LATEST``."""
        found = {"$LATEST": "$LATEST"}
        for stack in list(self.runner.stacks):
            scope = self.runner.scopes.get(stack.name)
            attributes = scope.attributes if scope is not None else {}
            for resource in stack.resources("AWS::Lambda::Alias", "AWS::Lambda::Version"):
                alias = attributes.get(resource.logical_id)
                if alias and unqualified(alias["Ref"]) == function_arn:
                    found[alias["Ref"].rsplit(":", 1)[-1]] = str(alias.get("Version", "1"))
        return found

    def resolve(self, function_arn: str, qualifier: str | None) -> tuple[Any, str]:
        """(worker, executed version) of the function and qualifier; Lambda's 404 for either unknown."""
        worker = next((w for w in self._workers() if w.spec.arn == function_arn), None)
        if worker is None:
            raise not_found(function_arn + (f":{qualifier}" if qualifier else ""))
        if qualifier is None:
            return worker, "$LATEST"
        version = self.qualifiers(function_arn).get(qualifier)
        if version is None:
            raise not_found(f"{function_arn}:{qualifier}")
        return worker, version

    def configuration(self, worker: Any, qualifier: str | None = None, version: str = "$LATEST") -> dict:
        """The function's ``FunctionConfiguration``."""
        spec = worker.spec
        props = self._properties(spec)
        size, digest = self._code_size(spec)
        document: dict[str, Any] = {
            "FunctionName": spec.name,
            "FunctionArn": f"{spec.arn}:{qualifier}" if qualifier else spec.arn,
            "Runtime": spec.runtime,
            "Handler": spec.handler,
            "CodeSize": size,
            "CodeSha256": digest,
            "Timeout": int(spec.timeout_s),
            "MemorySize": spec.memory_mb,
            "LastModified": self.last_modified,
            "Version": version,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": [spec.architecture],
            "EphemeralStorage": {"Size": int((props.get("EphemeralStorage") or {}).get("Size", 512))},
            "TracingConfig": {"Mode": str((props.get("TracingConfig") or {}).get("Mode", "PassThrough"))},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{spec.name}"},
        }
        for member in ("Role", "Description"):
            value = self._resolved(spec, props.get(member))
            if isinstance(value, str):
                document[member] = value
        if spec.environment:
            document["Environment"] = {"Variables": dict(spec.environment)}
        if spec.dead_letter:
            document["DeadLetterConfig"] = {"TargetArn": spec.dead_letter}
        return document

    def get_function(self, worker: Any, qualifier: str | None = None, version: str = "$LATEST") -> dict:
        """``GetFunction``'s answer: the configuration and where the code is (the staged asset folder, as
        a file URL, instead of a presigned URL of a zip)."""
        spec = worker.spec
        code: dict[str, Any] = {"RepositoryType": "S3"}
        if spec.code_folder is not None:
            code["Location"] = Path(spec.code_folder).resolve().as_uri()
        return {"Configuration": self.configuration(worker, qualifier, version), "Code": code}

    def list_functions(self, marker: str | None, max_items: str | None) -> dict:
        """One page of ``ListFunctions``, by function name; ``NextMarker`` when there are more."""
        try:
            size = DEFAULT_PAGE if max_items is None else int(max_items)
        except ValueError:
            size = 0
        if not 1 <= size <= MAX_PAGE:
            raise ApiError(
                400, "InvalidParameterValueException", f"MaxItems must be between 1 and {MAX_PAGE}"
            )
        workers = self._workers()
        start = 0
        if marker:
            try:
                after = base64.urlsafe_b64decode(marker.encode()).decode()
            except ValueError:
                after = None
            names = [worker.spec.name for worker in workers]
            if after is None or after not in names:
                raise ApiError(400, "InvalidParameterValueException", "Invalid marker")
            start = names.index(after) + 1
        page = workers[start : start + size]
        document: dict[str, Any] = {"Functions": [self.configuration(worker) for worker in page]}
        if start + size < len(workers):
            document["NextMarker"] = base64.urlsafe_b64encode(page[-1].spec.name.encode()).decode()
        return document

    def _properties(self, spec: Any) -> dict:
        for stack in self.runner.stacks:
            if stack.name == spec.stack:
                return dict(
                    stack.template.get("Resources", {}).get(spec.logical_id, {}).get("Properties") or {}
                )
        return {}

    def _resolved(self, spec: Any, value: Any) -> Any:
        scope = self.runner.scopes.get(spec.stack)
        if value is None or scope is None:
            return None
        try:
            return resolve(value, scope)
        except Unresolvable:
            return None

    def _code_size(self, spec: Any) -> tuple[int, str]:
        """Bytes of the function's code (the staged folder's files, uncompressed, or the inline code) and
        a base64 SHA-256 over their paths and contents; computed once per function."""
        with self._lock:
            if spec.name in self._code:
                return self._code[spec.name]
        digest = hashlib.sha256()
        size = 0
        if spec.code_folder is not None:
            folder = Path(spec.code_folder)
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                data = path.read_bytes()
                size += len(data)
                digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + data)
        else:
            data = (spec.inline_code or "").encode()
            size = len(data)
            digest.update(data)
        result = (size, base64.b64encode(digest.digest()).decode())
        with self._lock:
            self._code[spec.name] = result
        return result
