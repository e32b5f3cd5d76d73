"""A handler's cold init leaves the garbage collector off what it makes for the sandbox's life.

``import boto3`` and a client make some 60,000 objects the collector tracks; CPython's first full collection
falls due during init and, unless they are frozen (lambda_common.coldstart), walks every one of them.
"""

import json
import os
import subprocess
import sys

import pytest

from conftest import LAMBDA_SRC

BOTO3_HANDLERS = [
    "clickstream",
    "purchase_processor",
    "recommendations_api",
    "stream_aggregator",
    "thumbnail_pipeline",
    "web_api_backend",
]

# Runs as Lambda's init does: a fresh interpreter importing the handler module. Before each full
# (generation 2) collection it records how many objects that collection will walk.
_INIT = r"""
import gc, json
walked = []
gc.callbacks.append(lambda phase, info: walked.append(len(gc.get_objects()))
                    if phase == "start" and info["generation"] == 2 else None)
import handler
gc.callbacks.clear()
print(json.dumps({"full_collections_walked": walked, "frozen": gc.get_freeze_count(),
                  "collectable": len(gc.get_objects())}))
"""


_MODULES = r"""
import json, sys
import handler
print(json.dumps(sorted(sys.modules)))
"""


def _cold_init(function: str, script: str = _INIT) -> dict | list:
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(LAMBDA_SRC / function), str(LAMBDA_SRC / "common")]),
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        # Nothing is called at init; an endpoint nothing listens on makes sure of it.
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        DEST_BUCKET="thumbnails",
        TABLE_NAME="items",
        COUNTS_TABLE="counts",
        MALFORMED_QUEUE_URL="http://127.0.0.1:9/queue/malformed",
        REJECTED_QUEUE_URL="http://127.0.0.1:9/queue/rejected",
        PURCHASES_TABLE="purchases",
        AGGREGATES_TABLE="aggregates",
        DIMENSIONS="category",
        VALUE_ATTRIBUTE="amount",
        TIME_ATTRIBUTE="created_at",
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=LAMBDA_SRC / function, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("function", BOTO3_HANDLERS)
def test_init_freezes_boto3_and_its_clients_out_of_every_collection(function):
    # Given a handler that imports boto3 and makes its clients at module level
    # When Lambda's init imports it in a fresh interpreter
    init = _cold_init(function)

    # Then what init made (boto3's modules, the clients' models, the handler's modules) is frozen
    assert init["frozen"] > 30_000
    # and what a later collection still walks is a small remainder
    assert init["collectable"] < init["frozen"] / 10
    # and no full collection during init walked boto3's objects
    assert all(walked < 10_000 for walked in init["full_collections_walked"]), init


def test_web_api_init_imports_no_boto3_module_beyond_the_client():
    # Given the web API, which converts items to DynamoDB JSON by hand and checks numbers itself
    # When Lambda's init imports it
    modules = _cold_init("web_api_backend", _MODULES)

    # Then boto3's DynamoDB helpers (types, conditions), which would add to every cold start, stay unimported
    assert "boto3" in modules
    assert [name for name in modules if name.startswith("boto3.dynamodb")] == []
