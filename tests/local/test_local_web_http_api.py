"""WebApiBackend(api_type="http") run locally, end to end: the real handler behind the local HTTP API
(payload format 2.0) on moto, with the runner checking its calls against its role. An HTTP API validates no
request, so the handler's own validation is the only gate: an invalid body must still answer 400."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

SCHEMA = {
    "type": "object",
    "required": ["name", "price"],
    "additionalProperties": False,
    "properties": {"name": {"type": "string", "minLength": 1}, "price": {"type": "number", "minimum": 0}},
}


def _synthesize(folder: Path) -> Path:
    import aws_cdk as cdk

    from lambda_patterns import WebApiBackend

    out = folder / "cdk.out"
    app = cdk.App(
        outdir=str(out),
        context={"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True},
    )
    WebApiBackend(cdk.Stack(app, "Shop"), "Items", api_type="http", item_schema=SCHEMA)
    app.synth()
    return out


def _call(url: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.fixture(scope="module")
def items(tmp_path_factory):
    from lambda_patterns.local import LocalApp

    assembly = _synthesize(tmp_path_factory.mktemp("web-http"))
    with LocalApp(assembly, schedule_scale=0) as app:
        yield app, app.api_url("Shop", "/items").rstrip("/") + "/items"


@pytest.mark.slow
def test_items_are_created_read_and_listed_through_the_http_api(items):
    app, url = items
    status, created = _call(url, "POST", {"name": "lamp", "price": 12.5})
    assert status == 201, created
    status, read = _call(f"{url}/{created['id']}")
    assert (status, read["name"], read["price"]) == (200, "lamp", 12.5)
    status, listed = _call(url)
    assert status == 200 and [item["id"] for item in listed["items"]] == [created["id"]]
    # the handler's calls were checked against its synthesized role, and none was denied
    report = app.iam_report()
    assert report["roles"] and report["denied"] == 0, report


@pytest.mark.slow
def test_without_request_validation_the_handler_still_refuses_a_bad_body(items):
    _, url = items
    status, answer = _call(url, "POST", {"name": "", "price": -1})
    assert status == 400, answer
    status, answer = _call(f"{url}/does-not-exist")
    assert status == 404, answer
