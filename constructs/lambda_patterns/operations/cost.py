"""Monthly Lambda cost estimates from a synthesized cloud assembly (``cdk.out``).

Prices: AWS Lambda pricing, US East (N. Virginia), on-demand, first volume tier, as listed on
aws.amazon.com/lambda/pricing and in the AWS Price List (usage types ``Lambda-GB-Second(-ARM)``,
``Lambda-Provisioned-Concurrency(-ARM)``, ``Lambda-Provisioned-GB-Second(-ARM)``, ``Request``), looked up on
2026-11-28. The free tier (1M requests and 400,000 GB-seconds a month, never for provisioned concurrency) is
ignored: an estimate for a service should not depend on what else the account runs. Volume tiers (above 6
billion x86 / 7.5 billion arm64 GB-seconds a month) are ignored too, so large figures are upper bounds.

The arithmetic is pure functions; reading templates and printing are kept apart from it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Hours in a billing month, as the AWS Pricing Calculator counts them (365 * 24 / 12).
HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
PRICES_SOURCE = "AWS Lambda pricing, us-east-1, first volume tier, looked up 2026-11-28"


@dataclass(frozen=True)
class Prices:
    """USD prices of one architecture."""

    request: float
    gb_second: float
    provisioned_gb_second: float
    provisioned_duration_gb_second: float


PRICES: dict[str, Prices] = {
    "x86_64": Prices(
        request=0.20 / 1_000_000,
        gb_second=0.0000166667,
        provisioned_gb_second=0.0000041667,
        provisioned_duration_gb_second=0.0000097222,
    ),
    "arm64": Prices(
        request=0.20 / 1_000_000,
        gb_second=0.0000133334,
        provisioned_gb_second=0.0000033334,
        provisioned_duration_gb_second=0.0000077778,
    ),
}

#: Lambda's defaults when a template leaves the property out.
DEFAULT_MEMORY_MB = 128
DEFAULT_ARCHITECTURE = "x86_64"

#: Functions CDK adds to serve deployments (custom resources); they run only when a stack is deployed.
CDK_HELPER_PREFIXES = (
    "BucketNotificationsHandler",
    "LogRetention",
    "AWS679f53fac002430cb0da5b7982bd2287",
    "CustomResourceProvider",
    "CustomS3AutoDeleteObjects",
    "CustomCDKBucketDeployment",
)


@dataclass(frozen=True)
class Usage:
    """A month of one function's traffic."""

    invocations: int
    duration_ms: float


@dataclass(frozen=True)
class FunctionSpec:
    """What a template says about one function's price: memory, architecture, provisioned concurrency."""

    stack: str
    logical_id: str
    path: str
    memory_mb: int = DEFAULT_MEMORY_MB
    architecture: str = DEFAULT_ARCHITECTURE
    provisioned: int = 0
    cdk_helper: bool = False

    @property
    def key(self) -> str:
        """How usage files name this function: ``<stack>/<construct path>``."""
        return f"{self.stack}/{self.logical_id}"


@dataclass(frozen=True)
class Estimate:
    """One function's monthly cost, by charge."""

    spec: FunctionSpec
    usage: Usage
    billed_duration_ms: int
    requests: float
    duration: float
    provisioned: float
    notes: tuple[str, ...] = field(default=())

    @property
    def total(self) -> float:
        """The monthly total in USD."""
        return self.requests + self.duration + self.provisioned


def billed_duration_ms(duration_ms: float) -> int:
    """Lambda bills duration in 1 ms increments, rounded up."""
    if duration_ms < 0:
        raise ValueError(f"duration must not be negative, got {duration_ms}")
    return math.ceil(duration_ms)


def gigabytes(memory_mb: int) -> float:
    """Lambda's GB for pricing: 1 GB is 1024 MB."""
    return memory_mb / 1024


def request_cost(invocations: int, prices: Prices) -> float:
    return invocations * prices.request


def duration_cost(invocations: int, duration_ms: float, memory_mb: int, price_per_gb_second: float) -> float:
    """Invocations x billed seconds x GB x price."""
    return invocations * billed_duration_ms(duration_ms) / 1000 * gigabytes(memory_mb) * price_per_gb_second


def provisioned_cost(
    provisioned: int, memory_mb: int, prices: Prices, seconds: int = SECONDS_PER_MONTH
) -> float:
    """Provisioned concurrency configured for the whole month, whether used or not."""
    return provisioned * gigabytes(memory_mb) * seconds * prices.provisioned_gb_second


def estimate(spec: FunctionSpec, usage: Usage) -> Estimate:
    """The monthly cost of ``spec`` serving ``usage``.

    With provisioned concurrency, every invocation is assumed to be served by it (billed at the lower
    provisioned duration price); invocations above the provisioned level cost the on-demand price instead, so
    an under-provisioned function costs somewhat more than this.
    """
    prices = PRICES.get(spec.architecture)
    if prices is None:
        raise ValueError(f"{spec.key}: unknown architecture {spec.architecture!r}")
    if usage.invocations < 0:
        raise ValueError(f"{spec.key}: invocations must not be negative, got {usage.invocations}")
    price = prices.provisioned_duration_gb_second if spec.provisioned else prices.gb_second
    notes = ("provisioned",) if spec.provisioned else ()
    return Estimate(
        spec=spec,
        usage=usage,
        billed_duration_ms=billed_duration_ms(usage.duration_ms),
        requests=request_cost(usage.invocations, prices),
        duration=duration_cost(usage.invocations, usage.duration_ms, spec.memory_mb, price),
        provisioned=provisioned_cost(spec.provisioned, spec.memory_mb, prices),
        notes=notes,
    )


# Reading cdk.out.


def functions_in_template(
    stack: str, template: Mapping[str, Any], paths: Mapping[str, str] | None = None
) -> list[FunctionSpec]:
    """Every AWS::Lambda::Function of a template with its memory, architecture and the provisioned
    concurrency of the aliases and versions that reference it by ``Ref``. A function's construct path comes
    from its ``aws:cdk:path`` metadata, else from ``paths`` (logical id -> path), else ``stack/logicalId``."""
    paths = paths or {}
    resources = template.get("Resources", {})
    provisioned: dict[str, int] = {}
    for resource in resources.values():
        if resource.get("Type") not in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):
            continue
        properties = resource.get("Properties", {})
        executions = properties.get("ProvisionedConcurrencyConfig", {}).get("ProvisionedConcurrentExecutions")
        target = properties.get("FunctionName")
        if executions and isinstance(target, dict) and "Ref" in target:
            provisioned[target["Ref"]] = provisioned.get(target["Ref"], 0) + int(executions)
    specs = []
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        properties = resource.get("Properties", {})
        path = resource.get("Metadata", {}).get("aws:cdk:path") or paths.get(
            logical_id, f"{stack}/{logical_id}"
        )
        relative = path.split("/", 1)[1] if "/" in path else path
        specs.append(
            FunctionSpec(
                stack=stack,
                logical_id=logical_id,
                path=path,
                memory_mb=int(properties.get("MemorySize", DEFAULT_MEMORY_MB)),
                architecture=(properties.get("Architectures") or [DEFAULT_ARCHITECTURE])[0],
                provisioned=provisioned.get(logical_id, 0),
                cdk_helper=relative.startswith(CDK_HELPER_PREFIXES),
            )
        )
    return specs


def logical_id_paths(metadata: Mapping[str, Any]) -> dict[str, str]:
    """Logical id -> construct path, from an assembly's metadata (``{"/Stack/A/Resource": [{"type":
    "aws:cdk:logicalId", "data": "A1234"}]}``). Templates carry ``aws:cdk:path`` only when the CDK CLI
    asks for it; this metadata is always written."""
    found = {}
    for path, entries in metadata.items():
        for entry in entries or []:
            if entry.get("type") == "aws:cdk:logicalId" and isinstance(entry.get("data"), str):
                found[entry["data"]] = path.lstrip("/")
    return found


def _stack_metadata(template_path: Path, stack: str) -> dict[str, Any]:
    # Newer CDK releases write <stack>.metadata.json; older ones keep it inside manifest.json.
    separate = template_path.with_name(f"{stack}.metadata.json")
    if separate.exists():
        return json.loads(separate.read_text())
    manifest = template_path.with_name("manifest.json")
    if manifest.exists():
        artifact = json.loads(manifest.read_text()).get("artifacts", {}).get(stack, {})
        return artifact.get("metadata", {})
    return {}


def read_assembly(cdk_out: Path) -> list[FunctionSpec]:
    """Every function of every stack template in ``cdk_out`` (nested stage assemblies included)."""
    if not cdk_out.is_dir():
        raise FileNotFoundError(f"{cdk_out} is not a cloud assembly directory; run `make synth` first")
    specs: list[FunctionSpec] = []
    for template_path in sorted(cdk_out.rglob("*.template.json")):
        stack = template_path.name.removesuffix(".template.json")
        paths = logical_id_paths(_stack_metadata(template_path, stack))
        specs.extend(functions_in_template(stack, json.loads(template_path.read_text()), paths))
    return specs


class UnknownFunction(ValueError):
    """A usage key that names no function of the assembly, or more than one."""


def display_name(spec: FunctionSpec) -> str:
    """The construct path a user wrote for the function: its path without the library's inner
    ``/Function/Function/Resource`` (or plain ``/Resource``) levels."""
    path = spec.path.removesuffix("/Resource")
    while path.endswith("/Function") and path.count("/") > 1:
        path = path.removesuffix("/Function")
    return path


def match_usage(specs: Iterable[FunctionSpec], usage: Mapping[str, Usage]) -> dict[str, Usage]:
    """Usage keyed by each spec's ``key``: a usage key may be ``stack/logicalId``, the construct path, or
    any construct path above exactly one function (``ShopStack/Thumbs`` for a pattern's function).

    Raises UnknownFunction, listing the names that are valid, for a key that names none or several.
    """
    specs = list(specs)
    matched: dict[str, Usage] = {}
    for name, value in usage.items():
        exact = [s for s in specs if name in (s.key, s.path, s.path.removesuffix("/Resource"))]
        found = exact or [s for s in specs if s.path.startswith(name.rstrip("/") + "/")]
        if len(found) != 1:
            valid = ", ".join(sorted(display_name(s) for s in specs))
            problem = "names no function" if not found else f"names {len(found)} functions"
            raise UnknownFunction(f"--usage {name!r} {problem} of the assembly; valid names: {valid}")
        matched[found[0].key] = value
    return matched


def usage_for(spec: FunctionSpec, usage: Mapping[str, Usage], default: Usage) -> Usage:
    """The usage given for ``spec`` under ``stack/logicalId``, its construct path (with or without the
    trailing ``/Resource``), else ``default``. CDK's deployment helpers default to no invocations."""
    for key in (spec.key, spec.path, spec.path.removesuffix("/Resource")):
        if key in usage:
            return usage[key]
    return Usage(0, default.duration_ms) if spec.cdk_helper else default


def parse_usage(document: Mapping[str, Any]) -> dict[str, Usage]:
    """``{"<stack>/<logicalId or path>": {"invocations": N, "duration_ms": D}}`` as Usage values."""
    parsed = {}
    for key, entry in document.items():
        try:
            parsed[key] = Usage(int(entry["invocations"]), float(entry["duration_ms"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(
                f'usage for {key!r} must be {{"invocations": N, "duration_ms": D}}, got {entry!r}'
            ) from error
    return parsed


def estimates(specs: Iterable[FunctionSpec], usage: Mapping[str, Usage], default: Usage) -> list[Estimate]:
    return [estimate(spec, usage_for(spec, usage, default)) for spec in specs]


def render_table(rows: list[Estimate]) -> str:
    """A plain-text table, one line per function and a total, in USD per month."""
    header = (
        "function",
        "arch",
        "MB",
        "PC",
        "invocations",
        "billed ms",
        "requests $",
        "duration $",
        "provisioned $",
        "total $",
    )
    lines = [
        (
            r.spec.path.removesuffix("/Resource") + (" (CDK helper)" if r.spec.cdk_helper else ""),
            r.spec.architecture,
            str(r.spec.memory_mb),
            str(r.spec.provisioned),
            f"{r.usage.invocations:,}",
            str(r.billed_duration_ms),
            f"{r.requests:.2f}",
            f"{r.duration:.2f}",
            f"{r.provisioned:.2f}",
            f"{r.total:.2f}",
        )
        for r in rows
    ]
    total = sum(r.total for r in rows)
    lines.append(("total", "", "", "", "", "", "", "", "", f"{total:.2f}"))
    return "\n".join(
        [
            *text_table(header, lines),
            "",
            f"Prices: {PRICES_SOURCE}; free tier ignored; {HOURS_PER_MONTH} hours a month.",
        ]
    )


def text_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Lines of a plain-text table: the header, a rule, then ``rows``; the first column left-aligned, the
    others right-aligned, each as wide as its widest cell."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def fmt(row: tuple[str, ...]) -> str:
        return "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )

    return [fmt(header), fmt(tuple("-" * w for w in widths)), *map(fmt, rows)]


def as_json(rows: list[Estimate]) -> list[dict[str, Any]]:
    """Machine-readable rows, full precision."""
    return [
        {
            "function": r.spec.key,
            "path": r.spec.path,
            "architecture": r.spec.architecture,
            "memory_mb": r.spec.memory_mb,
            "provisioned_concurrency": r.spec.provisioned,
            "cdk_helper": r.spec.cdk_helper,
            "invocations": r.usage.invocations,
            "billed_duration_ms": r.billed_duration_ms,
            "requests": r.requests,
            "duration": r.duration,
            "provisioned": r.provisioned,
            "total": r.total,
        }
        for r in rows
    ]
