"""``make demo``: run the local app, send it sample work, and print where each result is.

Uploads an image made with Pillow (thumbnails are copied to ``local-out/``), publishes a purchase event
when the app has an analytics stack, and writes and reads an item through the HTTP API when it has a web
stack. Each step that the app cannot serve is skipped with a message. The handlers' calls are checked
against their roles (``--no-iam`` turns that off) and the least-privilege report is printed at the end
(``--iam-report FILE`` writes it as JSON too).

Object keys are whatever the bucket holds, so each becomes a file only through ``local_path``: a key that
is not a plain relative path (``..``, a leading ``/``, NUL, a backslash...) or that would reach out of
``local-out/`` through a symlink is skipped with a warning, never written elsewhere.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lambda_patterns.local.runner import LocalApp

DEADLINE_S = 60
#: The longest file or folder name the common file systems take (NAME_MAX, in UTF-8 bytes).
MAX_NAME_BYTES = 255

log = logging.getLogger("lambda_patterns.local")


class UnsafeKey(ValueError):
    """An object key that ``local_path`` will not turn into a file."""


def wait_for(probe: Callable[[], Any], timeout: float = DEADLINE_S) -> Any:
    """``probe()`` once it returns something truthy, or None at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.25)
    return None


def post_json(url: str, body: Any) -> tuple[int, Any]:
    """POSTs ``body`` as JSON: the status and the decoded JSON answer (``urllib.error.HTTPError`` for an
    error status, as ``urlopen``)."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def find(app: LocalApp, path: str, kind: str | None = None) -> dict[str, Any] | None:
    """The resource at ``path``, or None when the app has none (or several)."""
    try:
        return app.find(path, kind)
    except LookupError:
        return None


def _unsafe_part(part: str) -> str | None:
    """Why one ``/``-separated part of a key cannot be a file or folder name as it is; None if it can."""
    if part in ("", ".", ".."):
        return "an empty, '.' or '..' path part"
    if "\\" in part:
        # A folder separator on Windows, and ambiguous everywhere else: never guessed at.
        return "a backslash"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in part):
        return "a control character (NUL among them)"
    if len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"a path part longer than {MAX_NAME_BYTES} bytes"
    return None


def local_path(out: Path, key: str) -> Path:
    """Where the object ``key`` is saved: ``out`` joined with the key's ``/``-separated parts.

    :raises UnsafeKey: the key is not a plain relative path (a part that is empty, ``.`` or ``..``, or
        holds a backslash or a control character, or is too long for a file name), or its path resolves
        (symlinks followed) outside ``out``. The message says why.
    """
    parts = key.split("/")
    for part in parts:
        reason = _unsafe_part(part)
        if reason is not None:
            raise UnsafeKey(f"the key has {reason}")
    target = out.joinpath(*parts)
    # Parts alone cannot leave out; a symlink already inside it (a file or a folder) still can.
    if not target.resolve().is_relative_to(out.resolve()):
        raise UnsafeKey(f"{target} resolves to {target.resolve()}, outside {out}")
    return target


def thumbnails(app: LocalApp, out: Path) -> None:
    """Uploads a sample JPEG and saves the thumbnails it gets."""
    from PIL import Image, ImageDraw

    source = find(app, "Thumbnails/Source", "AWS::S3::Bucket")
    destination = find(app, "Thumbnails/Destination", "AWS::S3::Bucket")
    if not source or not destination:
        print("thumbnails: skipped, the app has no thumbnail pipeline")
        return
    image = Image.new("RGB", (1600, 1200), (30, 90, 160))
    ImageDraw.Draw(image).ellipse((400, 200, 1200, 1000), fill=(240, 200, 40))
    data = io.BytesIO()
    image.save(data, "JPEG", quality=90)
    s3 = app.client("s3")
    s3.put_object(Bucket=source["Ref"], Key="uploads/demo.jpg", Body=data.getvalue())

    def listed():
        keys = [item["Key"] for item in s3.list_objects_v2(Bucket=destination["Ref"]).get("Contents", [])]
        return keys if len(keys) >= 3 else None

    keys = wait_for(listed)
    if not keys:
        print("thumbnails: none after 60 s; see the function's log lines above")
        return
    for key in sorted(keys):
        try:
            target = local_path(out, key)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=destination["Ref"], Key=key)["Body"].read())
        except (UnsafeKey, OSError) as error:
            # OSError: a name the file system refuses, or a key that is both a file and a folder
            # ("a" and "a/b"). One unsaved object does not end the demo.
            log.warning("thumbnail %r not saved under %s: %s", key, out, error)
            continue
        print(f"thumbnail: s3://{destination['Ref']}/{key} -> {target}")


def purchase(app: LocalApp) -> None:
    """Publishes a purchase to the topic and shows the stored purchase."""
    topic = find(app, "Purchases/Purchases/Resource", "AWS::SNS::Topic")
    table = find(app, "Purchases/PurchasesTable")
    if not topic or not table:
        print("purchase: skipped, the app has no analytics stack with a purchase topic")
        return
    event = {
        "purchase_id": f"demo-{int(time.time())}",
        "customer_id": "c-demo",
        "product_id": "sku-demo",
        "quantity": 1,
        "unit_price": "9.99",
        "currency": "EUR",
        "purchased_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    app.client("sns").publish(TopicArn=topic["Ref"], Message=json.dumps(event))
    dynamodb = app.client("dynamodb")
    key = {"pk": {"S": event["purchase_id"]}}
    item = wait_for(lambda: dynamodb.get_item(TableName=table["Ref"], Key=key).get("Item"))
    where = f"table {table['Ref']}, pk {event['purchase_id']}"
    print(f"purchase: stored in {where}" if item else f"purchase: not in {where} after 60 s")


def web_item(app: LocalApp) -> None:
    """Creates an item through the HTTP API and reads it back."""
    try:
        base = app.api_url("WebBackendStack")
    except LookupError:
        print("web api: skipped, the app has no WebBackendStack REST API")
        return
    _, created = post_json(base + "items", {"name": "demo lamp", "price": 12.5})
    with urllib.request.urlopen(base + f"items/{created['id']}", timeout=30) as response:
        fetched = json.loads(response.read())
    print(f"web api: POST {base}items -> {created['id']}; GET {base}items/{created['id']} -> {fetched}")


def click(app: LocalApp) -> None:
    """POSTs a click to the ingest API (API Gateway -> Kinesis) and shows the count it became."""
    table = find(app, "Clickstream/Counts/")
    try:
        base = app.api_url("AnalyticsStack", "/clicks")
    except LookupError:
        base = None
    if not table or base is None:
        print("clicks: skipped, the app has no analytics stack with a click ingest API")
        return
    now = time.gmtime()
    click = {"event_type": "tap", "screen": "demo", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", now)}
    _, answer = post_json(base + "clicks", {**click, "user_id": "u-demo"})
    dynamodb = app.client("dynamodb")
    key = {"pk": {"S": "screen#demo"}, "sk": {"S": time.strftime("%Y-%m-%dT%H:%MZ", now) + "#tap"}}
    item = wait_for(lambda: dynamodb.get_item(TableName=table["Ref"], Key=key).get("Item"))
    where = f"table {table['Ref']}, {key['pk']['S']} / {key['sk']['S']}"
    counted = f"count {item['count']['N']} in {where}" if item else f"not counted in {where} after 60 s"
    print(f"clicks: POST {base}clicks -> {answer}; {counted}")


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the demo against the assembly and stops the local app."""
    parser = argparse.ArgumentParser(prog="python -m lambda_patterns.local.demo")
    parser.add_argument("--assembly", default="cdk.out")
    parser.add_argument("--out", default="local-out", help="where thumbnails are saved (default: local-out)")
    parser.add_argument("--no-iam", dest="iam", action="store_false", help="do not check calls against roles")
    parser.add_argument("--iam-report", metavar="FILE", default=None, help="write the IAM report as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stdout
    )
    with LocalApp(args.assembly, schedule_scale=0, iam=args.iam, iam_report=args.iam_report) as app:
        print("--- demo ---", flush=True)
        thumbnails(app, Path(args.out))
        purchase(app)
        web_item(app)
        click(app)
        print("--- done; the local app stops now ---", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
