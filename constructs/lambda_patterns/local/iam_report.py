"""The runner side of the local IAM check: what each function's calls were (console lines as they come)
and the least-privilege report per role (granted, used, granted but never used).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from lambda_patterns.local.iam_policy import action_matches, arn_matches

log = logging.getLogger("lambda_patterns.local")

#: Actions Lambda's own service makes with the function's role (its logs and traces), never the handler.
LAMBDA_SERVICE_ACTIONS = ("logs:*", "xray:*")


class FunctionIam:
    """The IAM check of one function: its role document (``iam_roles.role_document``), written where the
    worker reads it, and the calls the worker reports."""

    def __init__(self, document: Mapping[str, Any], config_path: Path) -> None:
        self.document = document
        self.config_path = config_path
        self.function = str(document["function"])
        self._lock = threading.Lock()
        self.calls: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self.unchecked: dict[str, int] = {}
        config_path.write_text(json.dumps(document))

    def record(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Takes what the worker sends with a response; logs each denial, and each unverified or unchecked
        call the first time it is seen."""
        for record in records:
            operation, decision = str(record.get("operation")), str(record.get("decision"))
            calls = int(record.get("calls", 1))
            with self._lock:
                if decision == "unchecked":
                    first = operation not in self.unchecked
                    self.unchecked[operation] = self.unchecked.get(operation, 0) + calls
                    key = None
                else:
                    key = (decision, str(record["action"]), str(record["resource"]), operation)
                    first = key not in self.calls
                    entry = self.calls.setdefault(key, {**record, "calls": 0})
                    entry["calls"] += calls
            if decision == "deny":
                log.warning(
                    "IAM: %s was denied %s on %s (role %s): %s",
                    self.function,
                    record["action"],
                    record["resource"],
                    self.document["role"],
                    record.get("message", ""),
                )
            elif first and decision == "unchecked":
                log.info(
                    "IAM: %s called %s, which the action table does not know: allowed, not checked",
                    self.function,
                    operation,
                )
            elif first and decision == "unknown":
                log.info(
                    "IAM: %s: %s on %s allowed but not verified: %s",
                    self.function,
                    record["action"],
                    record["resource"],
                    record.get("why", ""),
                )

    def denials(self) -> list[dict[str, Any]]:
        """The denied calls so far."""
        with self._lock:
            return [dict(entry) for key, entry in self.calls.items() if key[0] == "deny"]


def granted(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each (action, resource) pair the role's identity policies allow, with the policy granting it; a
    ``NotAction`` statement or unresolvable resource is listed as it is."""
    pairs = []
    for policy in document["identity"]:
        if policy.get("unknown"):
            pairs.append(
                {"action": "?", "resource": "?", "policy": policy["name"], "unknown": policy["unknown"]}
            )
            continue
        for statement in policy["statements"]:
            if statement.get("Effect") != "Allow":
                continue
            actions = statement.get("Action") or [f"NotAction {statement.get('NotAction')}"]
            resources = statement.get("Resource") or [f"NotResource {statement.get('NotResource')}"]
            for action in actions if isinstance(actions, list) else [actions]:
                for resource in resources:
                    pairs.append({"action": str(action), "resource": resource, "policy": policy["name"]})
    return pairs


def _covers(grant: Mapping[str, Any], action: str, resource: str) -> bool:
    pattern = grant["resource"]
    return (
        action_matches(grant["action"], action)
        and isinstance(pattern, str)
        and arn_matches(pattern, resource)
    )


def role_report(functions: list[FunctionIam]) -> dict[str, Any]:
    """The report of one role over the functions that use it."""
    document = functions[0].document
    used: dict[tuple[str, str], int] = {}
    denied, unverified, unchecked = [], [], {}
    for function in functions:
        with function._lock:
            calls = list(function.calls.items())
            for operation, count in function.unchecked.items():
                unchecked[operation] = unchecked.get(operation, 0) + count
        for (decision, action, resource, _), entry in calls:
            if decision == "deny":
                denied.append({"function": function.function, **_public(entry)})
                continue
            used[(action, resource)] = used.get((action, resource), 0) + entry["calls"]
            if decision == "unknown":
                unverified.append({"function": function.function, **_public(entry)})
    lambda_arns = {arn for function in functions for arn in function.document.get("lambda_resources", [])}
    grants, never_used, by_lambda = granted(document), [], []
    for grant in grants:
        if any(_covers(grant, action, resource) for action, resource in used):
            continue
        if any(action_matches(pattern, grant["action"]) for pattern in LAMBDA_SERVICE_ACTIONS) or (
            isinstance(grant["resource"], str) and grant["resource"] in lambda_arns
        ):
            by_lambda.append(grant)
        else:
            never_used.append(grant)
    return {
        "role": document["role"],
        "role_arn": document["role_arn"],
        "functions": [function.function for function in functions],
        "granted": grants,
        "used": [{"action": a, "resource": r, "calls": n} for (a, r), n in sorted(used.items())],
        "denied": denied,
        "unused": never_used,
        "used_by_lambda": by_lambda,
        "unverified": unverified,
        "unchecked": [{"operation": op, "calls": n} for op, n in sorted(unchecked.items())],
    }


def _public(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key != "decision"}


def build_report(functions: Iterable[FunctionIam], unchecked_functions: Mapping[str, str]) -> dict[str, Any]:
    """The whole report: one entry per role, and the functions whose calls are not checked, with why."""
    by_role: dict[str, list[FunctionIam]] = {}
    for function in functions:
        by_role.setdefault(str(function.document["role_arn"]), []).append(function)
    roles = [role_report(members) for _, members in sorted(by_role.items())]
    return {
        "roles": roles,
        "denied": sum(len(role["denied"]) for role in roles),
        "not_checked": dict(unchecked_functions),
    }


def report_lines(report: Mapping[str, Any]) -> list[str]:
    """The report as console lines."""
    lines = [f"IAM least-privilege report: {report['denied']} denied call(s)"]
    for role in report["roles"]:
        lines.append(f"role {role['role']} ({', '.join(role['functions'])}):")
        for title, key in (("used", "used"), ("DENIED", "denied"), ("granted, never used", "unused")):
            for item in role[key]:
                calls = (
                    f" ({item['calls']} call{'s' if item.get('calls') != 1 else ''})"
                    if "calls" in item
                    else ""
                )
                lines.append(f"  {title}: {item['action']} on {item['resource']}{calls}")
        if role["used_by_lambda"]:
            lines.append(
                f"  granted for Lambda itself (logs, traces, event sources, destinations): "
                f"{len(role['used_by_lambda'])}"
            )
        for item in role["unverified"]:
            lines.append(
                f"  allowed, not verified: {item['action']} on {item['resource']}: {item.get('why', '')}"
            )
        for item in role["unchecked"]:
            lines.append(
                f"  not checked (not in the action table): {item['operation']} ({item['calls']} calls)"
            )
    for function, why in report["not_checked"].items():
        lines.append(f"function {function}: calls not checked: {why}")
    return lines
