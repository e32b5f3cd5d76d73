"""moto's server serialized: a conditional-write race resolves as DynamoDB resolves it.

Given many clients racing a compare-and-set on one item, when each write is conditioned on the value it
read, then DynamoDB lets exactly one writer win per value: the final counter equals the number of writes
that succeeded. moto's plain threaded server evaluates the condition and applies the update without a lock,
so two writers can both "win" the same value; the serialized server must never let that happen.
"""

from __future__ import annotations

import threading
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from lambda_patterns.local.moto_server import SerializedMotoServer


def _race(endpoint: str, writers: int = 8, rounds: int = 40) -> tuple[int, int]:
    config = Config(max_pool_connections=writers, retries={"max_attempts": 1})
    make = lambda: boto3.client(  # noqa: E731
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )
    admin = make()
    table = f"race-{uuid.uuid4().hex[:8]}"
    admin.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    admin.put_item(TableName=table, Item={"pk": {"S": "c"}, "n": {"N": "0"}})
    wins = [0] * writers
    start = threading.Barrier(writers)

    def writer(index: int) -> None:
        client = make()
        start.wait()
        for _ in range(rounds):
            seen = client.get_item(TableName=table, Key={"pk": {"S": "c"}}, ConsistentRead=True)["Item"]["n"][
                "N"
            ]
            try:
                client.update_item(
                    TableName=table,
                    Key={"pk": {"S": "c"}},
                    UpdateExpression="SET n = :next",
                    ConditionExpression="n = :seen",
                    ExpressionAttributeValues={":next": {"N": str(int(seen) + 1)}, ":seen": {"N": seen}},
                )
            except ClientError as error:
                assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
                continue
            wins[index] += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = int(admin.get_item(TableName=table, Key={"pk": {"S": "c"}})["Item"]["n"]["N"])
    return final, sum(wins)


def test_serialized_moto_resolves_a_compare_and_set_race_like_dynamodb():
    server = SerializedMotoServer()
    server.start()
    try:
        final, wins = _race(server.endpoint)
        assert server.app is not None and server.app.requests > 0
    finally:
        server.stop()
    assert final == wins


def test_serialized_moto_binds_loopback_only():
    server = SerializedMotoServer()
    server.start()
    try:
        host, _port = server.get_host_and_port()
    finally:
        server.stop()
    assert host == "127.0.0.1"
