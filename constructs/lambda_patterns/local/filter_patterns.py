"""Lambda's event filtering (an event source mapping's ``FilterCriteria``), as Lambda applies it to the
records it reads. Pure functions, no AWS.

A filter pattern is a JSON object whose keys name the record's keys. A list holds the matchers of a leaf:
values (equality, typed: ``"100"`` is not ``100``; ``null``; ``""``) and operator objects (``prefix``,
``suffix``, ``equals-ignore-case``, ``anything-but``, ``numeric``, ``exists``), any of which may match.
An object descends into the record's object of that key; ``$or`` holds patterns of which one must match.
All keys of a pattern must match; when the record's value is a list, one of its items must match.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

_MISSING = object()

_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda value, bound: value == bound,
    "<": lambda value, bound: value < bound,
    "<=": lambda value, bound: value <= bound,
    ">": lambda value, bound: value > bound,
    ">=": lambda value, bound: value >= bound,
}


class InvalidFilterPattern(ValueError):
    """A pattern Lambda would refuse when the mapping is created."""


def parse_filters(filter_criteria: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The patterns of a mapping's ``FilterCriteria`` (``Filters[].Pattern``, JSON strings), checked."""
    patterns = []
    for entry in (filter_criteria or {}).get("Filters") or []:
        raw = entry.get("Pattern")
        try:
            pattern = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError as error:
            raise InvalidFilterPattern(f"pattern {raw!r} is not JSON: {error}") from None
        _check(pattern)
        patterns.append(pattern)
    return patterns


def matches_any(patterns: Sequence[Mapping[str, Any]], record: Mapping[str, Any]) -> bool:
    """Whether the record matches one of a mapping's filters (they are OR-ed); no filter matches all."""
    return not patterns or any(matches(pattern, record) for pattern in patterns)


def matches(pattern: Mapping[str, Any], record: Any) -> bool:
    """Whether ``record`` (an object as filtered, see :func:`filterable`) matches one filter pattern."""
    if not isinstance(record, Mapping):
        return False
    for key, expected in pattern.items():
        if key == "$or":
            if not any(matches(branch, record) for branch in expected):
                return False
            continue
        value = record.get(key, _MISSING)
        if isinstance(expected, Mapping):
            # A missing object has no keys: only ``exists: false`` can match inside it.
            if not matches(expected, {} if value is _MISSING else value):
                return False
        elif not _leaf_matches(expected, value):
            return False
    return True


def filterable(record: Mapping[str, Any]) -> dict[str, Any]:
    """The object Lambda matches patterns against, from an event record of SQS, Kinesis or DynamoDB.

    SQS: the record with its ``body`` parsed when it is a JSON object (else kept as a string). Kinesis: the
    ``kinesis`` part (``partitionKey``, ``data``...) with ``data`` base64-decoded, parsed likewise. DynamoDB:
    the record as the function receives it (``eventName``, ``dynamodb.NewImage.<name>.S``...).
    """
    if record.get("eventSource") == "aws:sqs":
        return {**record, "body": _json_object_or_text(record.get("body", ""))}
    if "kinesis" in record:
        kinesis = dict(record["kinesis"])
        try:
            text = base64.b64decode(kinesis.get("data", ""), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return kinesis
        kinesis["data"] = _json_object_or_text(text)
        return kinesis
    return dict(record)


def keep_matching(
    patterns: Sequence[Mapping[str, Any]], records: Iterable[Any], as_record: Callable[[Any], Mapping]
) -> tuple[list[Any], list[Any]]:
    """``records`` split into those that match one of ``patterns`` and those that match none; each is
    filtered as ``filterable(as_record(item))``."""
    kept: list[Any] = []
    dropped: list[Any] = []
    for item in records:
        (kept if matches_any(patterns, filterable(as_record(item))) else dropped).append(item)
    return kept, dropped


def _json_object_or_text(text: str) -> Any:
    try:
        parsed = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return text
    return parsed if isinstance(parsed, dict) else text


def _leaf_matches(matchers: list[Any], value: Any) -> bool:
    if value is _MISSING:
        return any(isinstance(m, Mapping) and m.get("exists") is False for m in matchers)
    if isinstance(value, Mapping):
        # Patterns match leaves only; an object is neither equal to a value nor "existing".
        return False
    candidates = value if isinstance(value, list) else [value]
    return any(_matches_value(matcher, item) for matcher in matchers for item in candidates)


def _matches_value(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, Mapping):
        return _same(matcher, value)
    ((operator, argument),) = matcher.items()
    if operator == "exists":
        return argument is True
    if operator == "numeric":
        return _is_number(value) and all(
            _COMPARISONS[argument[i]](value, argument[i + 1]) for i in range(0, len(argument), 2)
        )
    if operator == "anything-but":
        if isinstance(argument, Mapping):
            return isinstance(value, str) and not _matches_value(argument, value)
        excluded = argument if isinstance(argument, list) else [argument]
        return not any(_same(item, value) for item in excluded)
    if not isinstance(value, str):
        return False
    if operator == "prefix":
        return value.startswith(argument)
    if operator == "suffix":
        return value.endswith(argument)
    return value.casefold() == argument.casefold()  # equals-ignore-case, the only operator left


def _same(expected: Any, value: Any) -> bool:
    """Equality as JSON sees it: numbers by value, but never a number and a boolean or a string."""
    if _is_number(expected) and _is_number(value):
        return float(expected) == float(value)
    return type(expected) is type(value) and expected == value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check(pattern: Any) -> None:
    """Raises InvalidFilterPattern for what Lambda's CreateEventSourceMapping would refuse."""
    if not isinstance(pattern, Mapping):
        raise InvalidFilterPattern(f"a pattern must be a JSON object, not {pattern!r}")
    for key, expected in pattern.items():
        if key == "$or":
            if not isinstance(expected, list) or len(expected) < 2:
                raise InvalidFilterPattern("$or needs a list of two patterns or more")
            for branch in expected:
                _check(branch)
        elif isinstance(expected, Mapping):
            _check(expected)
        elif isinstance(expected, list):
            for matcher in expected:
                _check_matcher(key, matcher)
        else:
            raise InvalidFilterPattern(f"{key}: matchers must be in a list, not {expected!r}")


def _check_matcher(key: str, matcher: Any) -> None:
    if not isinstance(matcher, Mapping):
        if isinstance(matcher, list):
            raise InvalidFilterPattern(f"{key}: nested list {matcher!r}")
        return
    if len(matcher) != 1:
        raise InvalidFilterPattern(f"{key}: an operator object holds one operator, not {dict(matcher)}")
    ((operator, argument),) = matcher.items()
    if operator == "exists":
        valid = isinstance(argument, bool)
    elif operator == "numeric":
        valid = (
            isinstance(argument, list)
            and len(argument) in (2, 4)
            and all(argument[i] in _COMPARISONS for i in range(0, len(argument), 2))
            and all(_is_number(argument[i]) for i in range(1, len(argument), 2))
        )
    elif operator == "anything-but":
        if isinstance(argument, Mapping):
            _check_matcher(key, argument)
            valid = next(iter(argument)) in ("prefix", "suffix", "equals-ignore-case")
        else:
            valid = True
    else:
        valid = operator in ("prefix", "suffix", "equals-ignore-case") and isinstance(argument, str)
    if not valid:
        raise InvalidFilterPattern(f"{key}: unsupported or malformed operator {dict(matcher)}")
