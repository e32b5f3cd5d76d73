"""Builders for package tests: real wheels made with zipfile (nothing downloaded) and the staged package
found through a synthesized stack's asset manifest."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_

from lambda_patterns.steps.package import FunctionPackage


def build_wheel(folder: Path, name: str, tag: str, files: dict[str, bytes], version: str = "1.0") -> Path:
    """A real wheel: the files plus a dist-info with METADATA, WHEEL and a RECORD of sha256 digests."""
    dist_info = f"{name}-{version}.dist-info"
    purelib = "true" if tag.endswith("-any") else "false"
    entries = dict(files)
    entries[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    entries[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: lambda-patterns-tests\nRoot-Is-Purelib: {purelib}\nTag: {tag}\n"
    ).encode()
    record = []
    for path, data in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    entries[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in entries.items():
            archive.writestr(path, data)
    return wheel


def staged_asset(outdir: Path) -> Path:
    """The folder CDK staged for the function's code, found through the stack's asset manifest."""
    manifest = json.loads((outdir / "Package.assets.json").read_text())
    zips = [
        entry["source"]["path"]
        for entry in manifest["files"].values()
        if entry["source"]["packaging"] == "zip"
    ]
    assert len(zips) == 1, zips
    return outdir / zips[0]


def synth(outdir: Path, context: dict | None = None, **package_props) -> FunctionPackage:
    """An app with one function whose code is a FunctionPackage, synthesized into ``outdir``."""
    app = App(outdir=str(outdir), context=context)
    stack = Stack(app, "Package")
    package = FunctionPackage(stack, "Package", **package_props)
    lambda_.Function(
        stack,
        "Function",
        code=package.code,
        runtime=package.runtime,
        architecture=package.architecture,
        handler="handler.handler",
    )
    app.synth()
    return package
