"""The ``lambda-patterns`` console script. Subcommands: ``cost``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from lambda_patterns.operations import cold_start, cost


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lambda-patterns", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    estimate = commands.add_parser(
        "cost",
        help="monthly Lambda cost estimate of the functions in a synthesized cloud assembly",
        description=(
            "Reads every stack template in the cloud assembly and prints each function's monthly cost: "
            "requests, duration (1 ms billing) and provisioned concurrency, arm64 or x86_64. "
            f"{cost.PRICES_SOURCE}; the free tier is ignored."
        ),
    )
    estimate.add_argument(
        "--cdk-out", "--assembly", dest="cdk_out", type=Path, default=Path("cdk.out"), help="Default: cdk.out"
    )
    estimate.add_argument(
        "--invocations", type=int, default=1_000_000, help="per function per month. Default: 1000000"
    )
    estimate.add_argument("--duration-ms", type=float, default=120.0, help="average duration. Default: 120")
    estimate.add_argument(
        "--usage",
        type=Path,
        help='JSON file {"<construct path, e.g. ShopStack/Thumbs, or stack/logicalId>": {"invocations": N, '
        '"duration_ms": D}} overriding the defaults per function',
    )
    estimate.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    estimate.add_argument(
        "--cold-start",
        action="store_true",
        help="also measure each Python function's init here (importing its staged package in fresh "
        "interpreters) and print its estimate on Lambda beside SnapStart's and provisioned concurrency's cost",
    )
    estimate.add_argument(
        "--cold-start-runs", type=int, default=cold_start.DEFAULT_RUNS, help="interpreters per function"
    )
    return parser


def _cost(args: argparse.Namespace) -> int:
    usage = cost.parse_usage(json.loads(args.usage.read_text())) if args.usage else {}
    specs = cost.read_assembly(args.cdk_out)
    if not specs:
        print(f"no AWS::Lambda::Function in {args.cdk_out}", file=sys.stderr)
        return 1
    try:
        usage = cost.match_usage(specs, usage)
    except cost.UnknownFunction as error:
        print(f"{error} (in {args.cdk_out})", file=sys.stderr)
        return 2
    rows = cost.estimates(specs, usage, cost.Usage(args.invocations, args.duration_ms))
    starts = cold_start.cold_starts(args.cdk_out, specs, args.cold_start_runs) if args.cold_start else None
    if args.json:
        document: object = cost.as_json(rows)
        if starts is not None:
            document = {"cost": document, "cold_start": cold_start.as_json(starts)}
        print(json.dumps(document, indent=2))
        return 0
    print(cost.render_table(rows))
    if starts is not None:
        print()
        print(cold_start.render_cold_starts(starts, args.cold_start_runs))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``lambda-patterns``."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "cost":
            return _cost(args)
    except (OSError, ValueError) as error:
        print(f"lambda-patterns {args.command}: {error}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
