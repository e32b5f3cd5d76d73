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
