"""The thumbnail function when uploads of one key overtake each other: late events, interleaved invocations.

Everything runs against moto's S3 server with a versioned source bucket, as the construct creates it, and
real images whose versions differ in colour, so the stored pixels show which version they came from.
Two invocations running at once are two handler modules (two Lambda execution environments, each with its
own client); a botocore hook on one of them runs the other between its own S3 calls.

moto 5.2.5 honours ``If-None-Match: *`` and ``If-Match`` on PutObject (412 PreconditionFailed, and
NoSuchKey for If-Match on a missing key) and applies requests one at a time (``SerializedMotoServer``),
so the conditional writes here are S3's. What moto cannot produce is S3's 409 ConditionalRequestConflict
(two conditional writes of one key at the same instant): that answer is injected with a before-send hook.
"""

from __future__ import annotations

import copy
import io
from urllib.parse import quote_plus

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from PIL import Image

import thumbnail_images as images
from conftest import load_event, load_handler

SOURCE = "uploads"
DEST = "thumbs"
KEY = "albums/summer/beach.jpg"
SIZES = (128, 256, 1024)
RED, GREEN, BLUE = (220, 30, 30), (30, 200, 30), (30, 30, 220)
# Sequencers as S3 writes them: upper-case hex, later events larger once zero-padded to one length.
SEQ_1, SEQ_2, SEQ_3 = "0055AED6DCD90281E5", "0055AED6DCD90281F0", "0055AED6DCD9028200"


@pytest.fixture
def s3(aws):
    """A client on moto with a versioned source bucket (as ThumbnailPipeline makes it) and the destination."""
    client = boto3.client("s3")
    client.create_bucket(Bucket=SOURCE)
    client.put_bucket_versioning(Bucket=SOURCE, VersioningConfiguration={"Status": "Enabled"})
    client.create_bucket(Bucket=DEST)
    return client


@pytest.fixture
def handlers(aws, s3, monkeypatch):
    """A factory of handler modules: each call is a new execution environment with its own S3 client."""
    monkeypatch.setenv("DEST_BUCKET", DEST)
    monkeypatch.setenv("METRICS_NAMESPACE", "Test/Thumbnails")
    return lambda: load_handler("thumbnail_pipeline")


def photo(colour) -> bytes:
    """A JPEG of one colour: what distinguishes one version of the upload from another."""
    return images.encode(Image.new("RGB", (600, 400), colour), "JPEG", quality=90)


def upload(s3, colour, key: str = KEY, bucket: str = SOURCE) -> dict:
    """PutObject of a new version; returns its response (VersionId, ETag)."""
    return s3.put_object(Bucket=bucket, Key=key, Body=photo(colour))


def event(put: dict, sequencer: str, key: str = KEY, bucket: str = SOURCE) -> dict:
    """The ObjectCreated:Put notification S3 sends for the upload whose PutObject response is ``put``."""
    record = copy.deepcopy(load_event("s3_object_created")["Records"][0])
    record["s3"]["bucket"].update(name=bucket, arn=f"arn:aws:s3:::{bucket}")
    obj = record["s3"]["object"]
    obj.update(key=quote_plus(key, safe="/"), eTag=put["ETag"].strip('"'), sequencer=sequencer)
    if put.get("VersionId"):
        obj["versionId"] = put["VersionId"]
    else:
        obj.pop("versionId", None)
    return {"Records": [record]}


def colour_of(s3, key: str) -> tuple[int, int, int]:
    """The centre pixel of a stored thumbnail."""
    image = Image.open(io.BytesIO(s3.get_object(Bucket=DEST, Key=key)["Body"].read()))
    return image.convert("RGB").getpixel((image.width // 2, image.height // 2))


def close_to(actual, expected) -> bool:
    return all(abs(a - e) <= 12 for a, e in zip(actual, expected, strict=True))


def assert_thumbnails_show(s3, put: dict, colour, sequencer: str, key: str = KEY) -> None:
    """Every size of ``key`` has the pixels of the version ``put`` created and metadata naming that version."""
    for size in SIZES:
        thumb = f"thumbnails/{size}/{key}"
        assert close_to(colour_of(s3, thumb), colour), f"{thumb} shows {colour_of(s3, thumb)}, not {colour}"
        metadata = s3.head_object(Bucket=DEST, Key=thumb)["Metadata"]
        assert metadata["thumbnail-source-version-id"] == put["VersionId"]
        assert metadata["thumbnail-source-etag"] == put["ETag"].strip('"')
        assert metadata["thumbnail-source-sequencer"] == sequencer


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_):
        yield self._body


def test_a_late_event_for_an_older_version_leaves_the_newer_thumbnails(
    s3, handlers, lambda_context, monkeypatch
):
    fn = handlers()
    v1 = upload(s3, RED)
    v2 = upload(s3, BLUE)
    fn.handler(event(v2, SEQ_2), lambda_context)
    counted = {}
    monkeypatch.setattr(fn.metrics, "add", lambda name, value=1, unit="Count": counted.update({name: value}))

    late = fn.handler(event(v1, SEQ_1), lambda_context)

    assert_thumbnails_show(s3, v2, BLUE, SEQ_2)
    assert late["skips"] == [{"bucket": SOURCE, "key": KEY, "reason": "superseded"}]
    assert (late["processed"], late["failed"]) == (0, 0)
    assert counted == {"ThumbnailsSuperseded": 3, "ImagesSkipped": 1, "ImagesSkipped_superseded": 1}


def test_each_event_writes_the_pixels_of_the_version_it_announces_not_the_latest(
    s3, handlers, lambda_context
):
    """Both versions exist before either event is handled: the first event must still show version 1
    (and say so), not whatever is newest, or a later check of its metadata would be a lie."""
    fn = handlers()
    v1 = upload(s3, RED)
    v2 = upload(s3, BLUE)

    fn.handler(event(v1, SEQ_1), lambda_context)
    assert_thumbnails_show(s3, v1, RED, SEQ_1)

    fn.handler(event(v2, SEQ_2), lambda_context)
    assert_thumbnails_show(s3, v2, BLUE, SEQ_2)


def overtake_before_put(a, b, s3, lambda_context, colour, sequencer: str, when=lambda params: True) -> dict:
    """Arms a hook on A's S3 client: at A's first PutObject that ``when(params)`` accepts, a new version
    in ``colour`` is uploaded and B handles its event to completion before A's request goes out.
    Returns what B did, filled in once it has run: ``version`` (the upload) and ``summary``."""
    overtaken: dict = {}

    def b_runs_to_completion(params, **_):
        if overtaken or not when(params):
            return
        overtaken["version"] = upload(s3, colour)
        overtaken["summary"] = b.handler(event(overtaken["version"], sequencer), lambda_context)

    a.s3.meta.events.register("before-call.s3.PutObject", b_runs_to_completion)
    return overtaken


def assert_superseded(s3, summary_a: dict, overtaken: dict, colour, sequencer: str) -> None:
    """B's newer thumbnails stand, and A, overtaken, reports its own version as superseded."""
    assert overtaken["summary"]["processed"] == 1
    assert_thumbnails_show(s3, overtaken["version"], colour, sequencer)
    assert summary_a["skips"] == [{"bucket": SOURCE, "key": KEY, "reason": "superseded"}]


def test_an_invocation_overtaken_between_its_read_and_its_write_does_not_overwrite_the_newer_thumbnails(
    s3, handlers, lambda_context
):
    """A reads version 1; then version 2 is uploaded and B handles its event completely; then A writes."""
    a, b = handlers(), handlers()
    v1 = upload(s3, RED)
    overtaken = overtake_before_put(a, b, s3, lambda_context, BLUE, SEQ_2)

    summary_a = a.handler(event(v1, SEQ_1), lambda_context)

    assert_superseded(s3, summary_a, overtaken, BLUE, SEQ_2)


def test_an_invocation_overtaken_between_its_check_and_its_conditional_overwrite_retries_and_yields(
    s3, handlers, lambda_context
):
    """Thumbnails of v1 exist. A (v2) finds them older and prepares an If-Match overwrite; before it is
    sent, B (v3) overwrites them. A's write then fails its precondition, A re-checks and finds v3."""
    a, b = handlers(), handlers()
    v1 = upload(s3, RED)
    a.handler(event(v1, SEQ_1), lambda_context)
    v2 = upload(s3, GREEN)
    a_writes = []
    a.s3.meta.events.register(
        "before-call.s3.PutObject",
        lambda params, **_: a_writes.append(
            {name for name in ("If-Match", "If-None-Match") if name in params["headers"]}
        ),
    )
    overtaken = overtake_before_put(
        a, b, s3, lambda_context, BLUE, SEQ_3, when=lambda params: "If-Match" in params["headers"]
    )

    summary_a = a.handler(event(v2, SEQ_2), lambda_context)

    assert_superseded(s3, summary_a, overtaken, BLUE, SEQ_3)
    # A's first size: create (412, v1 is there), overwrite If-Match (412, B got there first), then the
    # re-check finds v3 and A stops; its other sizes stop after the failed create.
    assert a_writes[:2] == [{"If-None-Match"}, {"If-Match"}]


def test_a_newer_version_replaces_the_thumbnails_of_an_older_one(s3, handlers, lambda_context):
    fn = handlers()
    v1 = upload(s3, RED)
    fn.handler(event(v1, SEQ_1), lambda_context)
    v2 = upload(s3, BLUE)

    summary = fn.handler(event(v2, SEQ_2), lambda_context)

    assert summary["processed"] == 1
    assert sorted(summary["thumbnails"]) == sorted(f"thumbnails/{size}/{KEY}" for size in SIZES)
    assert_thumbnails_show(s3, v2, BLUE, SEQ_2)


def test_thumbnails_written_before_sequencers_were_stored_are_replaced(s3, handlers, lambda_context):
    """Thumbnails the function wrote before this change carry no sequencer: any ordered event is newer."""
    fn = handlers()
    for size in SIZES:
        s3.put_object(
            Bucket=DEST,
            Key=f"thumbnails/{size}/{KEY}",
            Body=photo(RED),
            Metadata={"thumbnail-source-key": KEY, "thumbnail-size": str(size)},
        )
    v1 = upload(s3, BLUE)

    fn.handler(event(v1, SEQ_1), lambda_context)

    assert_thumbnails_show(s3, v1, BLUE, SEQ_1)


def test_sequencers_of_another_source_key_sharing_the_thumbnail_key_are_not_compared(
    s3, handlers, lambda_context
):
    """``beach.gif`` (opaque, so JPEG) and ``beach.gif.jpg`` share thumbnails/<size>/beach.gif.jpg. A
    sequencer orders events of one key only, so the larger one of the other key does not make ours older."""
    fn = handlers()
    gif = s3.put_object(
        Bucket=SOURCE, Key="beach.gif", Body=images.encode(Image.new("RGB", (600, 400), RED), "GIF")
    )
    fn.handler(event(gif, SEQ_3, key="beach.gif"), lambda_context)
    jpeg = upload(s3, BLUE, key="beach.gif.jpg")

    summary = fn.handler(event(jpeg, SEQ_1, key="beach.gif.jpg"), lambda_context)

    assert summary["processed"] == 1
    assert_thumbnails_show(s3, jpeg, BLUE, SEQ_1, key="beach.gif.jpg")


def test_a_redelivered_event_rewrites_nothing(s3, handlers, lambda_context):
    """S3 delivers an event at least once, and Lambda retries a whole event: the second time is a no-op."""
    fn = handlers()
    v1 = upload(s3, RED)
    fn.handler(event(v1, SEQ_1), lambda_context)
    written = []
    fn.s3.meta.events.register(
        "after-call.s3.PutObject",
        lambda http_response, **_: (
            written.append(http_response.status_code) if http_response.status_code == 200 else None
        ),
    )

    again = fn.handler(event(v1, SEQ_1), lambda_context)

    assert again["skips"] == [{"bucket": SOURCE, "key": KEY, "reason": "superseded"}]
    assert written == []
    assert_thumbnails_show(s3, v1, RED, SEQ_1)


def test_a_write_conflict_answered_with_409_is_retried(s3, handlers, lambda_context):
    """S3 answers 409 ConditionalRequestConflict when another conditional write of the key is in flight;
    moto serializes requests and never does, so the first PutObject gets that answer from a hook."""
    fn = handlers()
    v1 = upload(s3, RED)
    conflicts = []

    def conflict_once(request, **_):
        if not conflicts:
            conflicts.append(request.url)
            body = b"<Error><Code>ConditionalRequestConflict</Code><Message>retry</Message></Error>"
            return AWSResponse(request.url, 409, {"Content-Type": "application/xml"}, _Raw(body))
        return None

    fn.s3.meta.events.register("before-send.s3.PutObject", conflict_once)

    summary = fn.handler(event(v1, SEQ_1), lambda_context)

    assert len(conflicts) == 1 and summary["processed"] == 1
    assert_thumbnails_show(s3, v1, RED, SEQ_1)


def test_endless_contention_fails_the_record_for_a_retry_instead_of_looping(s3, handlers, lambda_context):
    """Another writer with an older sequencer keeps replacing the thumbnail just before each of A's writes:
    A never loses to a newer version, so it must not give up as superseded; it stops after a few tries and
    the event is retried later."""
    fn = handlers()
    v2 = upload(s3, BLUE)
    rival = boto3.client("s3")
    interfered = []

    def rewrite_just_before(params, **_):
        if f"/{DEST}/thumbnails/128/" not in params["url"]:
            return
        interfered.append(1)
        rival.put_object(
            Bucket=DEST,
            Key=f"thumbnails/128/{KEY}",
            Body=photo(RED) + str(len(interfered)).encode(),
            Metadata={"thumbnail-source-key": KEY, "thumbnail-source-sequencer": SEQ_1},
        )

    fn.s3.meta.events.register("before-call.s3.PutObject", rewrite_just_before)

    with pytest.raises(fn.RecordsFailed) as raised:
        fn.handler(event(v2, SEQ_2), lambda_context)

    assert raised.value.summary["failures"][0]["key"] == KEY
    assert len(interfered) == fn.WRITE_ATTEMPTS


def test_an_unversioned_bucket_event_for_content_since_overwritten_is_superseded(
    s3, handlers, lambda_context
):
    """Without versioning an event cannot read the version it announces: the GET is made conditional on
    the event's ETag, and a 412 means a newer upload, whose own event makes the thumbnails."""
    s3.create_bucket(Bucket="plain")
    fn = handlers()
    first = upload(s3, RED, bucket="plain")
    second = upload(s3, BLUE, bucket="plain")

    late = fn.handler(event(first, SEQ_1, bucket="plain"), lambda_context)
    current = fn.handler(event(second, SEQ_2, bucket="plain"), lambda_context)

    assert late["skips"] == [{"bucket": "plain", "key": KEY, "reason": "superseded"}]
    assert current["processed"] == 1
    metadata = s3.head_object(Bucket=DEST, Key=f"thumbnails/128/{KEY}")["Metadata"]
    assert metadata["thumbnail-source-version-id"] == "null"
    assert metadata["thumbnail-source-etag"] == second["ETag"].strip('"')
    assert close_to(colour_of(s3, f"thumbnails/128/{KEY}"), BLUE)


def test_a_version_deleted_before_its_event_is_handled_is_rejected_as_missing(s3, handlers, lambda_context):
    """The exact version is gone (NoSuchVersion) though the key has a newer one: that one has its own event."""
    fn = handlers()
    v1 = upload(s3, RED)
    upload(s3, BLUE)
    s3.delete_object(Bucket=SOURCE, Key=KEY, VersionId=v1["VersionId"])

    summary = fn.handler(event(v1, SEQ_1), lambda_context)

    assert summary["rejections"] == [{"bucket": SOURCE, "key": KEY, "reason": "source_missing"}]
    assert s3.list_objects_v2(Bucket=DEST).get("KeyCount") == 0


@pytest.mark.parametrize("event_name", ["ObjectRemoved:Delete", "ObjectRemoved:DeleteMarkerCreated"])
def test_object_removed_events_are_skipped_without_touching_s3(s3, handlers, lambda_context, event_name):
    """The trigger subscribes to ObjectCreated only; should a removal reach the function, it is skipped and
    the thumbnails stay, as they always have (deleting them is not this function's job)."""
    fn = handlers()
    v1 = upload(s3, RED)
    fn.handler(event(v1, SEQ_1), lambda_context)
    removal = event(v1, SEQ_2)
    removal["Records"][0]["eventName"] = event_name
    calls = []
    fn.s3.meta.events.register("before-call.s3", lambda model, **_: calls.append(model.name))

    summary = fn.handler(removal, lambda_context)

    assert summary["skips"] == [{"bucket": SOURCE, "key": KEY, "reason": "not_object_created"}]
    assert calls == []
    assert_thumbnails_show(s3, v1, RED, SEQ_1)
