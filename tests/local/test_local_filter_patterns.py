"""The local runner's Lambda event filtering (``FilterCriteria``), table-driven.

The cases are the examples of the AWS Lambda documentation, "Lambda event filtering" (filter rule syntax:
one example per comparison operator; then the SQS, Kinesis and DynamoDB examples), each with records that
match and records that do not.
"""

from __future__ import annotations

import base64
import json

import pytest

from lambda_patterns.local.filter_patterns import (
    InvalidFilterPattern,
    filterable,
    keep_matching,
    matches,
    matches_any,
    parse_filters,
)

# (operator, pattern, a record that matches, a record that does not)
OPERATORS = [
    ("null", {"UserID": [None]}, {"UserID": None}, {"UserID": "u1"}),
    ("null is not missing", {"UserID": [None]}, {"UserID": None}, {}),
    ("empty", {"LastName": [""]}, {"LastName": ""}, {"LastName": "Doe"}),
    ("equals", {"Name": ["Alice"]}, {"Name": "Alice"}, {"Name": "alice"}),
    ("equals is typed", {"Price": ["100"]}, {"Price": "100"}, {"Price": 100}),
    ("equals ignore case", {"Name": [{"equals-ignore-case": "alice"}]}, {"Name": "ALICE"}, {"Name": "Bob"}),
    (
        "and",
        {"Location": ["New York"], "Day": ["Monday"]},
        {"Location": "New York", "Day": "Monday"},
        {"Location": "New York", "Day": "Tuesday"},
    ),
    ("or", {"PaymentType": ["Credit", "Debit"]}, {"PaymentType": "Debit"}, {"PaymentType": "Cash"}),
    (
        "or, multiple fields",
        {"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]},
        {"Location": "Boston", "Day": "Monday"},
        {"Location": "Boston", "Day": "Tuesday"},
    ),
    ("not", {"Weather": [{"anything-but": ["Raining"]}]}, {"Weather": "Sunny"}, {"Weather": "Raining"}),
    (
        "not, a value",
        {"Weather": [{"anything-but": "Raining"}]},
        {"Weather": "Sunny"},
        {"Weather": "Raining"},
    ),
    ("not, missing key", {"Weather": [{"anything-but": ["Raining"]}]}, {"Weather": "Sunny"}, {}),
    (
        "not, prefix",
        {"Weather": [{"anything-but": {"prefix": "Rain"}}]},
        {"Weather": "Sunny"},
        {"Weather": "Raining"},
    ),
    ("numeric equals", {"Price": [{"numeric": ["=", 100]}]}, {"Price": 100.0}, {"Price": 101}),
    ("numeric is not a string", {"Price": [{"numeric": ["=", 100]}]}, {"Price": 100}, {"Price": "100"}),
    ("numeric less than", {"Price": [{"numeric": ["<", 10]}]}, {"Price": 9.5}, {"Price": 10}),
    ("numeric more than", {"Price": [{"numeric": [">", 10]}]}, {"Price": 11}, {"Price": 10}),
    ("numeric range", {"Price": [{"numeric": [">", 10, "<=", 20]}]}, {"Price": 20}, {"Price": 10}),
    ("numeric range, above", {"Price": [{"numeric": [">", 10, "<=", 20]}]}, {"Price": 15}, {"Price": 21}),
    ("exists", {"ProductName": [{"exists": True}]}, {"ProductName": "Widget"}, {"Other": 1}),
    ("exists on leaves only", {"ProductName": [{"exists": True}]}, {"ProductName": ""}, {"ProductName": {}}),
    ("does not exist", {"ProductName": [{"exists": False}]}, {"Other": 1}, {"ProductName": "Widget"}),
    ("begins with", {"Region": [{"prefix": "us-"}]}, {"Region": "us-east-1"}, {"Region": "eu-west-1"}),
    ("ends with", {"FileName": [{"suffix": ".png"}]}, {"FileName": "cat.png"}, {"FileName": "cat.jpg"}),
    (
        "nested keys",
        {"Location": {"City": ["Seattle"]}},
        {"Location": {"City": "Seattle", "State": "WA"}},
        {"Location": {"City": "Portland"}},
    ),
    (
        "nested keys, missing object",
        {"Location": {"City": ["Seattle"]}},
        {"Location": {"City": "Seattle"}},
        {},
    ),
    (
        "nested does not exist, missing object",
        {"Location": {"City": [{"exists": False}]}},
        {},
        {"Location": {"City": "Seattle"}},
    ),
    ("a list value: one item matches", {"Tags": ["red"]}, {"Tags": ["blue", "red"]}, {"Tags": ["blue"]}),
    ("an object is no leaf value", {"Name": ["Alice"]}, {"Name": "Alice"}, {"Name": {"first": "Alice"}}),
]


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [case[1:] for case in OPERATORS],
    ids=[case[0] for case in OPERATORS],
)
def test_each_operator_matches_as_documented(pattern, matching, not_matching):
    assert matches(pattern, matching)
    assert not matches(pattern, not_matching)


def _sqs(body: str) -> dict:
    return {"messageId": "m1", "body": body, "attributes": {}, "eventSource": "aws:sqs"}


def _kinesis(data: bytes, partition_key: str = "p1") -> dict:
    return {
        "kinesis": {"partitionKey": partition_key, "data": base64.b64encode(data).decode()},
        "eventSource": "aws:kinesis",
    }


def _dynamodb(event_name: str, new_image: dict) -> dict:
    return {"eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": {"NewImage": new_image}}


# (case, pattern, an event record that matches, one that does not): records as the function receives them.
SOURCES = [
    (
        "SQS JSON body",
        {"body": {"RequestCode": ["BBBB"]}},
        _sqs(json.dumps({"RequestCode": "BBBB"})),
        _sqs(json.dumps({"RequestCode": "AAAA"})),
    ),
    ("SQS plain-string body", {"body": ["ERROR"]}, _sqs("ERROR"), _sqs("INFO")),
    ("SQS plain-string body, prefix", {"body": [{"prefix": "ERROR"}]}, _sqs("ERROR: disk"), _sqs("INFO: ok")),
    (
        "SQS non-JSON body, nested pattern",
        {"body": {"RequestCode": ["BBBB"]}},
        _sqs('{"RequestCode": "BBBB"}'),
        _sqs("BBBB"),
    ),
    ("SQS JSON array body is a string", {"body": ["[1]"]}, _sqs("[1]"), _sqs("[2]")),
    (
        "SQS metadata",
        {"attributes": {"ApproximateReceiveCount": ["1"]}},
        {**_sqs("x"), "attributes": {"ApproximateReceiveCount": "1"}},
        {**_sqs("x"), "attributes": {"ApproximateReceiveCount": "2"}},
    ),
    (
        "Kinesis JSON data",
        {"data": {"Temperature": [{"numeric": [">", 20]}]}},
        _kinesis(b'{"Temperature": 25}'),
        _kinesis(b'{"Temperature": 15}'),
    ),
    ("Kinesis plain data", {"data": ["hello"]}, _kinesis(b"hello"), _kinesis(b"bye")),
    ("Kinesis metadata", {"partitionKey": ["user-1"]}, _kinesis(b"{}", "user-1"), _kinesis(b"{}", "user-2")),
    (
        "DynamoDB new image",
        {"dynamodb": {"NewImage": {"Status": {"S": ["SHIPPED"]}}}},
        _dynamodb("MODIFY", {"Status": {"S": "SHIPPED"}}),
        _dynamodb("MODIFY", {"Status": {"S": "PENDING"}}),
    ),
    (
        "DynamoDB event name",
        {"eventName": ["INSERT"]},
        _dynamodb("INSERT", {}),
        _dynamodb("REMOVE", {}),
    ),
]


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [case[1:] for case in SOURCES],
    ids=[case[0] for case in SOURCES],
)
def test_records_are_filtered_as_lambda_shows_them(pattern, matching, not_matching):
    assert matches(pattern, filterable(matching))
    assert not matches(pattern, filterable(not_matching))


def test_the_filters_of_a_mapping_are_or_ed_and_no_filter_keeps_everything():
    criteria = {"Filters": [{"Pattern": '{"Name": ["Alice"]}'}, {"Pattern": '{"Name": ["Bob"]}'}]}
    patterns = parse_filters(criteria)
    assert matches_any(patterns, {"Name": "Bob"})
    assert not matches_any(patterns, {"Name": "Carol"})
    assert matches_any(parse_filters(None), {"Name": "Carol"})


def test_keep_matching_splits_records_and_keeps_their_order():
    patterns = parse_filters({"Filters": [{"Pattern": '{"body": {"n": [{"numeric": [">", 1]}]}}'}]})
    records = [_sqs(json.dumps({"n": n})) for n in (3, 1, 2, 0)]
    kept, dropped = keep_matching(patterns, records, lambda record: record)
    assert [json.loads(r["body"])["n"] for r in kept] == [3, 2]
    assert [json.loads(r["body"])["n"] for r in dropped] == [1, 0]


@pytest.mark.parametrize(
    "pattern",
    [
        "not json",
        '["Alice"]',
        '{"Name": "Alice"}',
        '{"Name": [{"numeric": ["==", 1]}]}',
        '{"Name": [{"numeric": [">", "1"]}]}',
        '{"Name": [{"exists": "yes"}]}',
        '{"Name": [{"wildcard": "A*"}]}',
        '{"Name": [{"prefix": "A", "suffix": "e"}]}',
        '{"$or": [{"Name": ["Alice"]}]}',
    ],
)
def test_patterns_lambda_refuses_are_refused(pattern):
    with pytest.raises(InvalidFilterPattern):
        parse_filters({"Filters": [{"Pattern": pattern}]})
