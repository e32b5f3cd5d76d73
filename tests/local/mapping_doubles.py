"""What the mapping pollers' tests put in place of a function worker: a thread-safe recorder of the events
it is invoked with, answering as a handler would, and counting the invocations in flight at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:Fn"


class RecordingWorker:
    """Stands in for ``FunctionWorker``: ``invoke(event, trigger)`` records the event, calls ``respond(event)``
    (its return value is the handler's response; an exception is a function error) and keeps count of the
    invocations running at the same time. ``concurrency`` is what the function may run at once."""

    def __init__(self, respond: Callable[[dict], Any] | None = None, concurrency: int = 1) -> None:
        self.spec = SimpleNamespace(name="Fn", arn=FUNCTION_ARN)
        self.concurrency = concurrency
        self.respond = respond
        self.events: list[dict] = []
        self.triggers: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def invoke(self, event: dict, trigger: str):
        from lambda_patterns.local.functions import Outcome

        with self._lock:
            self.events.append(event)
            self.triggers.append(trigger)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            result = self.respond(event) if self.respond else None
            return Outcome(ok=True, result=result)
        except Exception as error:
            return Outcome(ok=False, error={"errorType": type(error).__name__, "errorMessage": str(error)})
        finally:
            with self._lock:
                self.in_flight -= 1


def wait_until(condition: Callable[[], Any], timeout: float = 30.0, every: float = 0.1) -> Any:
    """The first truthy value of ``condition()``; fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not met within {timeout:g} s: {condition}")
        time.sleep(every)
