"""Where a function's code came from, as metadata on its ``AWS::Lambda::Function`` resource.

The local runner's hot reload (``local/reload.py``) reads it to watch the folders a staged asset was built
from. It is written only when CDK's asset metadata is on (the ``aws:cdk:enable-asset-metadata`` context,
which the CDK CLI sets), the same condition under which aws-cdk-lib writes ``aws:asset:path``: templates
made by ``Template.from_stack`` or a plain ``App`` (the snapshots) do not change. Paths are relative to
the assembly's output folder, so a template holds no absolute path of the machine that synthesized it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aws_cdk import Stage
from aws_cdk import aws_lambda as lambda_

from lambda_patterns.jsii_reads import node_of

#: CDK's context key for asset metadata (``cxapi.ASSET_RESOURCE_METADATA_ENABLED_CONTEXT``).
ASSET_METADATA_CONTEXT = "aws:cdk:enable-asset-metadata"
ENTRY_KEY = "lambda-patterns:asset:entry"
SHARED_KEY = "lambda-patterns:asset:shared"
EXCLUDE_KEY = "lambda-patterns:asset:exclude"
REQUIREMENTS_KEY = "lambda-patterns:asset:requirements"


def _relative(path: Path, outdir: str) -> str:
    return Path(os.path.relpath(path, Path(outdir).resolve())).as_posix()


def record_source(function: lambda_.Function, code: Any) -> None:
    """Adds the source folders of ``code`` (a ``FunctionPackage``, or a ``lambda_.AssetCode`` of a folder)
    to the function's resource metadata, when asset metadata is on; anything else records nothing."""
    if not node_of(function).try_get_context(ASSET_METADATA_CONTEXT):
        return
    stage = Stage.of(function)
    if stage is None:
        return
    outdir = stage.outdir
    resource = node_of(function).default_child
    if hasattr(code, "entry") and hasattr(code, "shared"):
        resource.add_metadata(ENTRY_KEY, _relative(code.entry, outdir))
        resource.add_metadata(SHARED_KEY, [_relative(folder, outdir) for folder in code.shared])
        resource.add_metadata(EXCLUDE_KEY, list(code.exclude))
        if code.requirements is not None:
            resource.add_metadata(REQUIREMENTS_KEY, _relative(code.requirements, outdir))
    elif isinstance(code, lambda_.AssetCode) and Path(code.path).is_dir():
        resource.add_metadata(ENTRY_KEY, _relative(Path(code.path).resolve(), outdir))
