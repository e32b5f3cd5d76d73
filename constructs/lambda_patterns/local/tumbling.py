"""Lambda's tumbling windows on a stream shard: which window a record belongs to, the state carried from one
invocation of a window to the next, and when the window's final invocation is due.

The rules, from https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html and
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html (the same as the delivery simulator's
of the test suite, ``tests/lambda_delivery.py``, which the aggregator's property tests drive):

- "Lambda determines tumbling window boundaries based on the time when records were inserted into the
  stream": a record's window is ``[floor(t / W) * W, + W)`` of its ``approximateArrivalTimestamp`` (Kinesis)
  or ``ApproximateCreationDateTime`` (DynamoDB). A batch holds records of one window only.
- Each invocation gets ``window`` (``start``/``end``, ISO 8601 UTC), ``state`` (what the previous invocation
  of the window on this shard returned; ``{}`` at first), ``shardId``, ``eventSourceARN``,
  ``isFinalInvokeForWindow`` and ``isWindowTerminatedEarly``.
- "Your Lambda function response must contain a state property. If the response does not contain a state
  property, Lambda considers this a failed invocation."
- "At the end of the window, the flag isFinalInvokeForWindow is set to true ... After processing, the window
  completes ... and then the state is dropped." The final invocation carries no records. It is due once time
  has passed the window's end and the shard has been read since (so every record of the window was
  delivered), or when a record of a later window comes first, or when the shard ends ("When the shard
  ends, Lambda considers the window closed"). "If invocation is unsuccessful, your Lambda function suspends
  further processing until a successful invocation": it is retried until it succeeds.
- "Your state can be a maximum of 1 MB per shard. If it exceeds that size, Lambda terminates the window
  early": a final invocation with ``isWindowTerminatedEarly`` true gets that state, then the same window
  continues with a fresh state.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: The largest state a window keeps (1 MB); a larger one ends the window early.
STATE_LIMIT = 1024 * 1024


def window_start(arrival: float, seconds: int) -> float:
    """The start (epoch seconds) of the window of ``seconds`` a record that arrived at ``arrival`` is in."""
    return math.floor(arrival / seconds) * seconds


def iso_utc(epoch: float) -> str:
    """``2020-12-09T07:04:00Z``: how a window's bounds appear in the event."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def returned_state(result: Any) -> dict[str, Any] | None:
    """The ``state`` object of a tumbling-window response; None when there is none (a failed invocation)."""
    if isinstance(result, Mapping) and isinstance(result.get("state"), Mapping):
        return dict(result["state"])
    return None


@dataclass
class TumblingWindow:
    """The window a shard is in, and the state its invocations hand on."""

    seconds: int
    shard_id: str
    stream_arn: str
    #: Start of the open window (epoch seconds); None between windows.
    start: float | None = None
    state: dict[str, Any] = field(default_factory=dict)
    #: An invocation of the open window succeeded: it needs its final invocation.
    invoked: bool = False
    #: The last state exceeded ``STATE_LIMIT``: the next invocation is the early final one.
    terminated_early: bool = False

    @property
    def end(self) -> float | None:
        """End of the open window."""
        return None if self.start is None else self.start + self.seconds

    def of(self, arrival: float) -> float:
        """The start of the window a record arriving at ``arrival`` belongs to."""
        return window_start(arrival, self.seconds)

    def enter(self, start: float) -> None:
        """Opens the window starting at ``start`` (the current one, or a new one with a fresh state)."""
        if self.start != start:
            self.start, self.state, self.invoked = start, {}, False

    def event(self, records: Sequence[Mapping[str, Any]], final: bool) -> dict[str, Any]:
        """The event of an invocation of the open window."""
        assert self.start is not None
        return {
            "Records": list(records),
            "window": {"start": iso_utc(self.start), "end": iso_utc(self.start + self.seconds)},
            "state": dict(self.state),
            "shardId": self.shard_id,
            "eventSourceARN": self.stream_arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": final and self.terminated_early,
        }

    def keep(self, state: dict[str, Any]) -> None:
        """The state a successful invocation returned; over 1 MB, the window is to end early."""
        self.state = state
        self.invoked = True
        if len(json.dumps(state, separators=(",", ":")).encode()) > STATE_LIMIT:
            self.terminated_early = True

    def final_due(self, next_arrival: float | None, now: float, read_at: float, shard_ended: bool) -> bool:
        """Whether the open window's final invocation comes next: the state is over the limit, or nothing
        of the window is left to deliver (``next_arrival``: when the next undelivered record arrived; None:
        none is waiting) and the window has ended (by time, a later record, or the shard's end)."""
        if self.start is None or not self.invoked:
            return False
        if self.terminated_early:
            return True
        end = self.start + self.seconds
        if next_arrival is not None:
            return self.of(next_arrival) != self.start
        return shard_ended or (now >= end and read_at >= end)

    def close(self) -> None:
        """After a successful final invocation: the state is dropped; an early end keeps the window open."""
        if self.terminated_early:
            self.terminated_early, self.invoked = False, False
        else:
            self.start, self.invoked = None, False
        self.state = {}
