"""CloudWatch Embedded Metric Format: metrics written as one log line per flush, no PutMetricData calls.

See the EMF specification: a ``_aws`` block names the namespace, dimensions and metric definitions, and the
metric values sit at the top level of the same JSON object.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections import defaultdict

# typing costs a cold start ~3 ms and Lambda's runtime has not imported it: names for type checkers only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

# EMF allows at most 100 values per metric in one object and 100 metrics per object.
_MAX_VALUES = 100
_MAX_METRICS = 100
# Top-level keys of every document: a metric of that name would overwrite them.
_RESERVED = frozenset({"_aws", "service"})


class Metrics:
    """Collects metric values during an invocation and prints them as EMF documents on ``flush()``."""

    def __init__(
        self,
        namespace: str | None = None,
        service: str | None = None,
        stream: IO[str] | None = None,
    ) -> None:
        self.namespace = namespace or os.environ.get("METRICS_NAMESPACE", "LambdaPatterns")
        self.service = service or os.environ.get("SERVICE_NAME", "handler")
        self._stream = stream
        self._values: dict[tuple[str, str], list[float]] = defaultdict(list)

    def add(self, name: str, value: float = 1, unit: str = "Count") -> None:
        """Record one value. ValueError for what CloudWatch would reject: a name that is a dimension or
        reserved, a name already used with another unit in this flush, or a value that is not finite."""
        value = float(value)
        if name in _RESERVED or not name:
            raise ValueError(f"metric name {name!r} is reserved in an EMF document")
        if not math.isfinite(value):
            raise ValueError(f"metric {name!r}: {value} is not a number CloudWatch accepts")
        other_units = {u for (n, u) in self._values if n == name and u != unit}
        if other_units:
            raise ValueError(
                f"metric {name!r} already has unit {other_units.pop()!r} in this flush, not {unit!r}"
            )
        self._values[(name, unit)].append(value)

    def totals(self) -> dict[str, float]:
        """The sum of every metric added since the last flush, for tests and summaries."""
        return {name: sum(values) for (name, _unit), values in self._values.items()}

    def flush(self) -> list[dict]:
        """Print the collected values as EMF JSON (several documents if the limits demand) and reset."""
        documents = list(self._documents())
        stream = self._stream or sys.stdout
        for document in documents:
            stream.write(json.dumps(document, separators=(",", ":")) + "\n")
        stream.flush()
        self._values.clear()
        return documents

    def _documents(self):
        items = sorted(self._values.items())
        rounds = max((len(values) + _MAX_VALUES - 1) // _MAX_VALUES for _, values in items) if items else 0
        for round_ in range(rounds):
            # A metric with more values than one document holds continues in the next document, so no
            # value is ever dropped.
            window = slice(round_ * _MAX_VALUES, (round_ + 1) * _MAX_VALUES)
            present = [(key, values[window]) for key, values in items if values[window]]
            for start in range(0, len(present), _MAX_METRICS):
                yield self._document(present[start : start + _MAX_METRICS])

    def _document(self, chunk):
        document: dict = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": [["service"]],
                        "Metrics": [{"Name": name, "Unit": unit} for (name, unit), _ in chunk],
                    }
                ],
            },
            "service": self.service,
        }
        for (name, _unit), values in chunk:
            document[name] = values[0] if len(values) == 1 else values
        return document
