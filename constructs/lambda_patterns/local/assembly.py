"""Reading a cloud assembly (``cdk.out``): its stacks, their templates and each function's staged asset.

Only the files CDK writes are read (manifest.json, ``*.template.json``, ``*.assets.json``), never the
Python stack objects, so any app built with these constructs runs locally.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STACK_ARTIFACT = "aws:cloudformation:stack"
#: Function resource metadata ``steps/source_metadata.py`` writes when asset metadata is on.
SOURCE_ENTRY_KEY = "lambda-patterns:asset:entry"
SOURCE_SHARED_KEY = "lambda-patterns:asset:shared"
SOURCE_EXCLUDE_KEY = "lambda-patterns:asset:exclude"
SOURCE_REQUIREMENTS_KEY = "lambda-patterns:asset:requirements"
ASSET_MANIFEST_ARTIFACT = "cdk:asset-manifest"


class AssemblyError(ValueError):
    """The folder is not a readable cloud assembly, or a stack asked for is not in it."""


@dataclass(frozen=True)
class Resource:
    """One template resource."""

    stack: str
    logical_id: str
    type: str
    properties: Mapping[str, Any]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        """The construct path CDK recorded (``Stack/Construct/Resource``), else ``stack/logical id``."""
        return str(self.metadata.get("aws:cdk:path") or f"{self.stack}/{self.logical_id}")


@dataclass(frozen=True)
class Stack:
    """A stack of the assembly: its template and the staged folders of its file assets, by object key."""

    name: str
    template: Mapping[str, Any]
    assets: Mapping[str, Path]
    dependencies: tuple[str, ...] = ()
    #: The assembly folder the stack was read from.
    folder: Path | None = None

    def resources(self, *types: str) -> Iterator[Resource]:
        """The template's resources, in template order, optionally only of the given types."""
        for logical_id, body in self.template.get("Resources", {}).items():
            if types and body.get("Type") not in types:
                continue
            depends = body.get("DependsOn", ())
            yield Resource(
                stack=self.name,
                logical_id=logical_id,
                type=body.get("Type", ""),
                properties=body.get("Properties", {}) or {},
                metadata=body.get("Metadata", {}) or {},
                depends_on=(depends,) if isinstance(depends, str) else tuple(depends),
            )

    def parameter_defaults(self) -> dict[str, Any]:
        """Template parameters with their default values (CDK's only parameter is the bootstrap version)."""
        return {
            name: body["Default"]
            for name, body in self.template.get("Parameters", {}).items()
            if "Default" in body
        }


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise AssemblyError(f"{path} does not exist; run `make synth` (or `cdk synth`) first") from None
    except json.JSONDecodeError as error:
        raise AssemblyError(f"{path} is not valid JSON: {error}") from None


def asset_folders(assembly: Path, asset_manifest: Mapping[str, Any]) -> dict[str, Path]:
    """Object key of each file asset (as a template's ``Code.S3Key`` names it) -> its staged folder or file."""
    folders: dict[str, Path] = {}
    for entry in asset_manifest.get("files", {}).values():
        source = entry.get("source", {})
        if "path" not in source:
            continue
        for destination in entry.get("destinations", {}).values():
            folders[destination["objectKey"]] = assembly / source["path"]
    return folders


def read_assembly(assembly: Path | str, stacks: Sequence[str] | None = None) -> list[Stack]:
    """The stacks of the cloud assembly in ``assembly``, in dependency order; ``stacks`` keeps only those
    names (each must exist), together with the stacks they depend on."""
    root = Path(assembly)
    manifest = _read_json(root / "manifest.json")
    artifacts: Mapping[str, Any] = manifest.get("artifacts", {})
    found: dict[str, Stack] = {}
    for artifact_id, artifact in artifacts.items():
        if artifact.get("type") != STACK_ARTIFACT:
            continue
        properties = artifact.get("properties", {})
        template = _read_json(root / properties["templateFile"])
        assets: dict[str, Path] = {}
        for dependency in artifact.get("dependencies", ()):
            dep = artifacts.get(dependency, {})
            if dep.get("type") == ASSET_MANIFEST_ARTIFACT:
                assets.update(asset_folders(root, _read_json(root / dep["properties"]["file"])))
        name = properties.get("stackName") or artifact.get("displayName") or artifact_id
        stack_deps = tuple(
            d for d in artifact.get("dependencies", ()) if artifacts.get(d, {}).get("type") == STACK_ARTIFACT
        )
        found[artifact_id] = Stack(
            name=name, template=template, assets=assets, dependencies=stack_deps, folder=root
        )
    if not found:
        raise AssemblyError(f"{root} has no stacks")
    selected = list(found) if not stacks else list(stacks)
    unknown = [name for name in selected if name not in found]
    if unknown:
        raise AssemblyError(f"no stack {', '.join(unknown)} in {root}; it has {', '.join(found)}")
    ordered: list[str] = []

    def visit(artifact_id: str) -> None:
        if artifact_id in ordered:
            return
        for dependency in found[artifact_id].dependencies:
            if dependency in found:
                visit(dependency)
        ordered.append(artifact_id)

    for artifact_id in selected:
        visit(artifact_id)
    return [found[artifact_id] for artifact_id in ordered]


def code_folder(stack: Stack, function: Resource) -> Path | None:
    """The staged asset folder of a function's ``Code`` (S3Key looked up in the asset manifests, else the
    ``aws:asset:path`` metadata), or None for code the assembly does not hold (inline, image, S3 object)."""
    code = function.properties.get("Code", {})
    key = code.get("S3Key")
    if isinstance(key, str) and key in stack.assets:
        return stack.assets[key]
    return None


@dataclass(frozen=True)
class SourceFolders:
    """The folders a function's staged asset was built from: the entry folder, whose files are at the
    package root, and shared folders whose contents are; ``exclude`` globs were left out of it."""

    entry: Path
    shared: tuple[Path, ...] = ()
    exclude: tuple[str, ...] = ()
    requirements: Path | None = None


def source_folders(stack: Stack, function: Resource) -> SourceFolders | None:
    """Where the function's asset came from, as its metadata records it relative to the assembly folder,
    or None when the assembly does not say (asset metadata off, code not built from a folder)."""
    entry = function.metadata.get(SOURCE_ENTRY_KEY)
    if not isinstance(entry, str) or stack.folder is None:
        return None

    def resolve(relative: str) -> Path:
        return (stack.folder / relative).resolve()

    requirements = function.metadata.get(SOURCE_REQUIREMENTS_KEY)
    return SourceFolders(
        entry=resolve(entry),
        shared=tuple(resolve(folder) for folder in function.metadata.get(SOURCE_SHARED_KEY) or ()),
        exclude=tuple(function.metadata.get(SOURCE_EXCLUDE_KEY) or ()),
        requirements=resolve(requirements) if isinstance(requirements, str) else None,
    )
