"""DynamoDB access for the web API: one table, partition key ``KEY_NAME`` (string), no sort key.

Every write carries a ConditionExpression on the ``version`` attribute so that concurrent writers cannot
overwrite each other silently. Items are converted to and from DynamoDB's typed JSON here, by hand: the
documents come from ``json.loads`` (str, bool, None, Decimal, list, dict) and nothing else needs support.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from api_config import VERSION_ATTRIBUTE


class ConditionFailed(Exception):
    """A conditional write found the item in another state than expected (gone, present, other version)."""


class ItemTooLarge(Exception):
    """DynamoDB refused the item for exceeding its 400 KB item size limit."""


def to_attribute(value: Any) -> dict:
    """DynamoDB's typed form of a JSON value."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, Decimal)):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list):
        return {"L": [to_attribute(item) for item in value]}
    if isinstance(value, dict):
        return {"M": {key: to_attribute(item) for key, item in value.items()}}
    raise TypeError(f"cannot store a {type(value).__name__}")


def from_attribute(attribute: dict) -> Any:
    """The JSON value of a typed DynamoDB attribute; integral numbers come back as int."""
    ((kind, value),) = attribute.items()
    if kind == "N":
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else number
    if kind == "M":
        return {key: from_attribute(item) for key, item in value.items()}
    if kind == "L":
        return [from_attribute(item) for item in value]
    if kind == "NULL":
        return None
    if kind in ("S", "BOOL"):
        return value
    # String/number/binary sets and binary only appear if another writer put them there.
    if kind in ("SS", "NS", "BS"):
        return sorted(value, key=str)
    return value


def to_item(document: dict) -> dict:
    """A DynamoDB item from a document."""
    return {key: to_attribute(value) for key, value in document.items()}


def from_item(item: dict) -> dict:
    """A document from a DynamoDB item."""
    return {key: from_attribute(value) for key, value in item.items()}


class ItemStore:
    """Reads and conditional writes against the items table through a boto3 DynamoDB client."""

    def __init__(self, client: Any, table_name: str, key_name: str) -> None:
        self._client = client
        self._table = table_name
        self._key = key_name

    def _key_of(self, item_id: str) -> dict:
        return {self._key: {"S": item_id}}

    def get(self, item_id: str) -> dict | None:
        """The item with this id, read consistently so that its version is current; None if absent."""
        answer = self._client.get_item(TableName=self._table, Key=self._key_of(item_id), ConsistentRead=True)
        return from_item(answer["Item"]) if "Item" in answer else None

    def create(self, document: dict) -> None:
        """Put a new item; ConditionFailed if one with the same id exists."""
        self._put(document, "attribute_not_exists(#k)", {"#k": self._key}, None)

    def replace(self, document: dict, expected_version: int | None) -> None:
        """Overwrite an existing item only if it still has ``expected_version`` (None: no version yet)."""
        if expected_version is None:
            names = {"#k": self._key, "#v": VERSION_ATTRIBUTE}
            self._put(document, "attribute_exists(#k) AND attribute_not_exists(#v)", names, None)
        else:
            # DynamoDB rejects expression names that the expression does not use.
            names = {"#v": VERSION_ATTRIBUTE}
            self._put(document, "#v = :v", names, {":v": {"N": str(expected_version)}})

    def delete(self, item_id: str, expected_version: int | None = None, check_version: bool = False) -> None:
        """Delete an existing item (at ``expected_version`` if ``check_version``), else ConditionFailed."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key_of(item_id),
            "ConditionExpression": "attribute_exists(#k)",
            "ExpressionAttributeNames": {"#k": self._key},
        }
        if check_version:
            kwargs["ExpressionAttributeNames"]["#v"] = VERSION_ATTRIBUTE
            if expected_version is None:
                kwargs["ConditionExpression"] += " AND attribute_not_exists(#v)"
            else:
                kwargs["ConditionExpression"] += " AND #v = :v"
                kwargs["ExpressionAttributeValues"] = {":v": {"N": str(expected_version)}}
        try:
            self._client.delete_item(**kwargs)
        except self._client.exceptions.ConditionalCheckFailedException as exc:
            raise ConditionFailed(str(exc)) from exc

    def scan(self, limit: int, start_key: dict[str, str] | None) -> tuple[list[dict], dict[str, str] | None]:
        """One page of at most ``limit`` items and the key to continue from (None on the last page)."""
        kwargs: dict[str, Any] = {"TableName": self._table, "Limit": limit}
        if start_key:
            kwargs["ExclusiveStartKey"] = {name: {"S": value} for name, value in start_key.items()}
        answer = self._client.scan(**kwargs)
        items = [from_item(item) for item in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        return items, ({name: from_attribute(value) for name, value in last.items()} if last else None)

    def _put(self, document: dict, condition: str, names: dict, values: dict | None) -> None:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "Item": to_item(document),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        try:
            self._client.put_item(**kwargs)
        except self._client.exceptions.ConditionalCheckFailedException as exc:
            raise ConditionFailed(str(exc)) from exc
        except self._client.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") == "ValidationException" and "size has exceeded" in error.get("Message", ""):
                raise ItemTooLarge(error["Message"]) from exc
            raise
