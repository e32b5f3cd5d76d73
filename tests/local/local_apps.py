"""Tiny apps of one function for the local runner's end-to-end tests: what no stack of app.py has."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def synthesize_seen_app(
    folder: Path,
    stack_name: str,
    handler: str,
    wire: Callable[[Any, Any], object],
    **function_props: Any,
) -> Path:
    """Synthesize into ``folder/cdk.out`` (returned) the stack ``stack_name``: a bucket ``Seen`` and a
    ``ServerlessFunction`` ``Fn`` whose ``handler.py`` is ``handler``, told the bucket as ``SEEN_BUCKET`` and
    allowed to put objects under ``seen/`` in it; ``wire(stack, function)`` adds what invokes it, and
    ``function_props`` are the function's other props."""
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_s3 as s3

    from lambda_patterns import ServerlessFunction, permissions

    code = folder / "handler"
    code.mkdir()
    (code / "handler.py").write_text(handler)
    out = folder / "cdk.out"
    # The runner finds resources by path and assets by their metadata, as `cdk synth` writes them.
    context = {"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True}
    app = cdk.App(outdir=str(out), context=context)
    stack = cdk.Stack(app, stack_name)
    bucket = s3.Bucket(stack, "Seen")
    function = ServerlessFunction(
        stack,
        "Fn",
        code=lambda_.Code.from_asset(str(code)),
        environment={"SEEN_BUCKET": bucket.bucket_name},
        # What the handlers do; the runner's IAM check fails the put without it, as AWS would.
        permissions=[permissions.put_objects(bucket, "seen/")],
        **function_props,
    )
    wire(stack, function)
    app.synth()
    return out


def endpoint_lambda_client(endpoint: str, read_timeout: int = 120) -> Any:
    """A Lambda client of the runner's endpoint that neither retries nor gives up on a slow invocation
    early (the tests count invocations and wait on long ones)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, read_timeout=read_timeout),
    )


def function_spec(name: str, **fields: Any) -> Any:
    """A ``FunctionSpec`` of a function ``name`` in a stack ``S`` (128 MB, 3 s, arm64, ``index.handler``),
    with ``fields`` set over those values."""
    from lambda_patterns.local.functions import FunctionSpec

    values: dict[str, Any] = {
        "stack": "S",
        "logical_id": name,
        "path": f"S/{name}",
        "name": name,
        "arn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        "handler": "index.handler",
        "runtime": "python3.14",
        "memory_mb": 128,
        "timeout_s": 3,
        "architecture": "arm64",
        "environment": {},
    }
    values.update(fields)
    return FunctionSpec(**values)


def inline_worker(folder: Path, name: str, code: str, timeout_s: float = 3) -> Any:
    """A ``FunctionWorker`` of a function ``name`` whose ``index.py`` is ``code`` (no assembly, no moto:
    the endpoint is a closed port), its task root built under ``folder``."""
    from lambda_patterns.local.functions import FunctionWorker

    spec = function_spec(name, timeout_s=timeout_s, inline_code=code)
    worker = FunctionWorker(spec, "http://127.0.0.1:1", folder)
    worker.prepare()
    return worker
