"""``python -m benchmarks [name ...]``: run the benchmarks and write benchmarks/results.md."""

from __future__ import annotations

import importlib
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover(selected: list[str]) -> list[str]:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    return [n for n in names if not selected or any(s in n for s in selected)]


def _format(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def render(results: dict[str, list[dict] | str]) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{platform.machine()}, Python {platform.python_version()}, {platform.processor() or 'cpu'}.",
        "Ratios compare with a baseline measured in the same run; absolute figures on shared machines are noisy.",
        "",
    ]
    for module, rows in results.items():
        lines += [f"## {module}", ""]
        if isinstance(rows, str):
            lines += ["```", rows.strip(), "```", ""]
            continue
        lines += [
            "| measure | value | unit | baseline | baseline value | ratio | note |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in rows:
            lines.append(
                "| {name} | {value} | {unit} | {baseline_name} | {baseline} | {ratio} | {note} |".format(
                    name=row.get("name", ""),
                    value=_format(row.get("value")),
                    unit=row.get("unit", ""),
                    baseline_name=row.get("baseline_name", ""),
                    baseline=_format(row.get("baseline")),
                    ratio=_format(row.get("ratio")),
                    note=str(row.get("note", "")).replace("|", "/"),
                )
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    results: dict[str, list[dict] | str] = {}
    failed = False
    for name in discover(argv):
        print(f"running {name} ...", flush=True)
        try:
            results[name] = importlib.import_module(f"benchmarks.{name}").run()
        except Exception:
            failed = True
            results[name] = "FAILED\n" + traceback.format_exc()
            print(results[name], file=sys.stderr)
    out = HERE / "results.md"
    out.write_text(render(results))
    print(f"wrote {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
