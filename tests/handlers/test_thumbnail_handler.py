"""The thumbnail function end to end: S3 event -> handler -> moto's S3 server, with real image files."""

from __future__ import annotations

import copy
import io
import json
import sys
from urllib.parse import quote_plus, unquote, unquote_plus, urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from PIL import Image

import thumbnail_images as images
from conftest import load_event, load_handler

SOURCE = "uploads"
DEST = "thumbs"
SIZES = (128, 256, 1024)


@pytest.fixture
def s3(aws):
    """A boto3 client on moto with the source and destination buckets created."""
    client = boto3.client("s3")
    client.create_bucket(Bucket=SOURCE)
    client.create_bucket(Bucket=DEST)
    return client


@pytest.fixture
def env(aws, monkeypatch):
    """The environment the construct sets on the function."""
    monkeypatch.setenv("DEST_BUCKET", DEST)
    monkeypatch.setenv("METRICS_NAMESPACE", "Test/Thumbnails")
    monkeypatch.setenv("SERVICE_NAME", "thumbnail")
    return monkeypatch


@pytest.fixture
def fn(env, s3):
    """The handler module, imported after moto and the environment are in place, as Lambda would."""
    return load_handler("thumbnail_pipeline")


@pytest.fixture
def output(fn, capsys):
    """Everything the function prints (JSON logs and EMF documents), parsed, read after the invocation."""
    stream = fn.logger.handlers[0]
    # The shared logger keeps the stdout it was created with, which an earlier test's capture may have
    # closed; route it to whatever sys.stdout is when it writes (plain assignment: setStream would flush
    # the closed one).
    previous, stream.stream = stream.stream, _CurrentStdout()

    def read() -> list[dict]:
        return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]

    yield read
    stream.stream = previous


class _CurrentStdout:
    """A stream that writes to the sys.stdout of the moment, so capsys sees the logger's lines."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def event_for(*keys: str, bucket: str = SOURCE, event_name: str = "ObjectCreated:Put") -> dict:
    """A real-shaped S3 notification with one record per key, keys URL-encoded the way S3 encodes them."""
    template = load_event("s3_object_created")["Records"][0]
    records = []
    for key in keys:
        record = copy.deepcopy(template)
        record["eventName"] = event_name
        record["s3"]["bucket"]["name"] = bucket
        record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
        record["s3"]["object"]["key"] = quote_plus(key, safe="/")
        records.append(record)
    return as_sent({"Records": records})


def as_sent(event: dict) -> dict:
    """``event`` with each record's eTag, versionId and size those of the object now stored, as S3 sends them.

    The sample events carry placeholders; the handler reads the exact version an event names and checks its
    ETag, so a test event must name the object the test uploaded. A record whose object does not exist (any
    more) keeps its eTag and loses its versionId, as if the object had been deleted after the upload.
    """
    client = boto3.client("s3")
    for record in event["Records"]:
        obj = record["s3"]["object"]
        try:
            head = client.head_object(Bucket=record["s3"]["bucket"]["name"], Key=unquote_plus(obj["key"]))
        except client.exceptions.ClientError:
            obj.pop("versionId", None)
            continue
        obj["eTag"], obj["size"] = head["ETag"].strip('"'), head["ContentLength"]
        if head.get("VersionId"):
            obj["versionId"] = head["VersionId"]
        else:
            obj.pop("versionId", None)
    return event


def fetch(s3, key: str, bucket: str = DEST) -> tuple[Image.Image, dict]:
    """A stored thumbnail decoded, and its GetObject response."""
    response = s3.get_object(Bucket=bucket, Key=key)
    image = Image.open(io.BytesIO(response["Body"].read()))
    image.load()
    return image, response


def described(image: Image.Image, response: dict) -> tuple:
    """(format, mode, size, Content-Type) of a stored thumbnail."""
    return image.format, image.mode, image.size, response["ContentType"]


def stored_keys(s3, bucket: str = DEST) -> list[str]:
    return sorted(obj["Key"] for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def emf_totals(lines: list[dict]) -> dict[str, float]:
    """Metric values summed over the EMF documents among the printed lines."""
    totals: dict[str, float] = {}
    for line in lines:
        if "_aws" not in line:
            continue
        for definition in line["_aws"]["CloudWatchMetrics"]:
            assert definition["Namespace"] == "Test/Thumbnails"
            for metric in definition["Metrics"]:
                value = line[metric["Name"]]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + (
                    sum(value) if isinstance(value, list) else value
                )
    return totals


# --- images that work -----------------------------------------------------------------------------------


def test_thumbnail_writes_every_size_upright_from_a_jpeg_with_exif_orientation_6(fn, s3, lambda_context):
    s3.put_object(Bucket=SOURCE, Key="phone/IMG_0001.jpg", Body=images.jpeg((1200, 800), orientation=6))

    summary = fn.handler(event_for("phone/IMG_0001.jpg"), lambda_context)

    assert summary["processed"] == 1
    assert stored_keys(s3) == [f"thumbnails/{size}/phone/IMG_0001.jpg" for size in (1024, 128, 256)]
    for size, expected in ((128, (85, 128)), (256, (171, 256)), (1024, (683, 1024))):
        image, response = fetch(s3, f"thumbnails/{size}/phone/IMG_0001.jpg")
        assert (image.format, image.size, response["ContentType"]) == ("JPEG", expected, "image/jpeg")
    red, _, blue = image.getpixel((image.width // 2, 20))
    assert red > 180 and blue < 80, "the red left half of the sensor image must be on top after rotation"


def test_thumbnail_metadata_names_the_source_bucket_key_version_etag_and_event_order(fn, s3, lambda_context):
    etag = s3.put_object(Bucket=SOURCE, Key="a/photo.jpg", Body=images.jpeg())["ETag"].strip('"')
    event = event_for("a/photo.jpg")

    fn.handler(event, lambda_context)

    metadata = s3.head_object(Bucket=DEST, Key="thumbnails/256/a/photo.jpg")["Metadata"]
    assert metadata == {
        "thumbnail-source-bucket": SOURCE,
        "thumbnail-source-key": "a/photo.jpg",
        # This bucket is not versioned: its objects have S3's "null" version.
        "thumbnail-source-version-id": "null",
        "thumbnail-source-etag": etag,
        "thumbnail-source-sequencer": event["Records"][0]["s3"]["object"]["sequencer"],
        "thumbnail-size": "256",
    }


def test_thumbnail_keeps_png_alpha_in_png(fn, s3, lambda_context):
    s3.put_object(Bucket=SOURCE, Key="logo.png", Body=images.png_with_alpha((400, 300)))

    fn.handler(event_for("logo.png"), lambda_context)

    image, response = fetch(s3, "thumbnails/128/logo.png")
    assert described(image, response) == (
        "PNG",
        "RGBA",
        (128, 96),
        "image/png",
    )
    assert image.getpixel((5, 5))[3] == 255 and image.getpixel((122, 5))[3] == 0


def test_thumbnail_turns_cmyk_jpeg_into_rgb_jpeg(fn, s3, lambda_context):
    s3.put_object(Bucket=SOURCE, Key="print/cover.jpg", Body=images.jpeg((800, 600), mode="CMYK"))

    fn.handler(event_for("print/cover.jpg"), lambda_context)

    image, response = fetch(s3, "thumbnails/256/print/cover.jpg")
    assert described(image, response) == ("JPEG", "RGB", (256, 192), "image/jpeg")


def test_thumbnail_reads_16bit_png_and_writes_opaque_result_as_jpeg(fn, s3, lambda_context):
    s3.put_object(Bucket=SOURCE, Key="scan.png", Body=images.png_16bit_grey((640, 320), level=0x8000))

    fn.handler(event_for("scan.png"), lambda_context)

    image, response = fetch(s3, "thumbnails/128/scan.png.jpg")
    assert described(image, response) == ("JPEG", "L", (128, 64), "image/jpeg")
    assert abs(image.getpixel((10, 10)) - 0x80) <= 2


def test_thumbnail_writes_palette_gif_as_jpeg_with_appended_extension(fn, s3, lambda_context):
    s3.put_object(Bucket=SOURCE, Key="art/diagram.gif", Body=images.palette_gif((300, 200)))

    fn.handler(event_for("art/diagram.gif"), lambda_context)

    image, response = fetch(s3, "thumbnails/256/art/diagram.gif.jpg")
    assert described(image, response) == ("JPEG", "RGB", (256, 171), "image/jpeg")


def test_thumbnail_of_animated_gif_is_its_first_frame(fn, s3, lambda_context):
    s3.put_object(Bucket=SOURCE, Key="anim.gif", Body=images.animated_gif((300, 200)))

    fn.handler(event_for("anim.gif"), lambda_context)

    image, _ = fetch(s3, "thumbnails/1024/anim.gif.jpg")
    red, green, blue = image.getpixel((50, 50))
    assert image.size == (300, 200)
    assert red > 200 and green < 50 and blue < 50


def test_thumbnail_of_an_iphone_heic_with_orientation_6_is_an_upright_jpeg(fn, s3, lambda_context):
    s3.put_object(Bucket=SOURCE, Key="phone/IMG_0002.HEIC", Body=images.heic((1200, 800), orientation=6))

    summary = fn.handler(event_for("phone/IMG_0002.HEIC"), lambda_context)

    assert summary["processed"] == 1
    image, response = fetch(s3, "thumbnails/256/phone/IMG_0002.HEIC.jpg")
    assert described(image, response) == ("JPEG", "RGB", (171, 256), "image/jpeg")
    assert image.getpixel((85, 20))[0] > 180 and image.getpixel((85, 236))[2] > 180


def test_thumbnail_of_a_multi_page_tiff_scan_is_its_first_page(fn, s3, lambda_context):
    pages = [images.two_tone((800, 600)), Image.new("RGB", (800, 600), (0, 255, 0))]
    s3.put_object(Bucket=SOURCE, Key="scans/contract.tif", Body=images.tiff(*pages, compression="tiff_lzw"))

    fn.handler(event_for("scans/contract.tif"), lambda_context)

    image, response = fetch(s3, "thumbnails/1024/scans/contract.tif.jpg")
    assert described(image, response) == ("JPEG", "RGB", (800, 600), "image/jpeg")
    assert image.getpixel((100, 300))[0] > 180 and image.getpixel((700, 300))[2] > 180


def test_thumbnail_writes_avif_when_asked(env, s3, lambda_context):
    env.setenv("OUTPUT_FORMAT", "avif")
    fn = load_handler("thumbnail_pipeline")
    s3.put_object(Bucket=SOURCE, Key="pets/cat.bmp", Body=images.bmp((400, 300)))

    fn.handler(event_for("pets/cat.bmp"), lambda_context)

    assert stored_keys(s3) == [f"thumbnails/{size}/pets/cat.bmp.avif" for size in (1024, 128, 256)]
    image, response = fetch(s3, "thumbnails/128/pets/cat.bmp.avif")
    assert described(image, response) == ("AVIF", "RGB", (128, 96), "image/avif")


def test_thumbnail_rejects_a_format_left_out_of_input_formats_with_its_reason(
    env, s3, lambda_context, output
):
    env.setenv("INPUT_FORMATS", "jpeg,png")
    fn = load_handler("thumbnail_pipeline")
    s3.put_object(Bucket=SOURCE, Key="phone/IMG_0003.HEIC", Body=images.heic())
    s3.put_object(Bucket=SOURCE, Key="phone/IMG_0004.jpg", Body=images.jpeg())

    summary = fn.handler(event_for("phone/IMG_0003.HEIC", "phone/IMG_0004.jpg"), lambda_context)

    assert summary["rejections"] == [
        {"bucket": SOURCE, "key": "phone/IMG_0003.HEIC", "reason": "format_disabled"}
    ]
    assert summary["processed"] == 1
    warning = next(line for line in output() if line.get("message") == "image rejected")
    assert warning["detail"] == "HEIF is not in INPUT_FORMATS"


def test_thumbnail_decodes_key_with_spaces_and_unicode_from_the_sample_event(fn, s3, lambda_context):
    key = "photos/holiday 2026/Café à Paris.jpg"
    s3.put_object(Bucket=SOURCE, Key=key, Body=images.jpeg())

    summary = fn.handler(as_sent(load_event("s3_object_created")), lambda_context)

    assert summary["processed"] == 1
    assert f"thumbnails/128/{key}" in stored_keys(s3)
    metadata = s3.head_object(Bucket=DEST, Key=f"thumbnails/128/{key}")["Metadata"]
    assert metadata["thumbnail-source-key"] == "photos/holiday%202026/Caf%C3%A9%20%C3%A0%20Paris.jpg"


def test_thumbnail_counts_processed_images_as_emf(fn, s3, lambda_context, output):
    s3.put_object(Bucket=SOURCE, Key="one.jpg", Body=images.jpeg())

    fn.handler(event_for("one.jpg"), lambda_context)

    totals = emf_totals(output())
    assert totals["ImagesProcessed"] == 1 and totals["ThumbnailsWritten"] == 3


# --- bad input: logged, counted, not retried ------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "body", "reason"),
    [
        ("broken.jpg", images.truncated_jpeg(), "truncated"),
        ("empty.jpg", b"", "empty"),
        ("bomb.png", images.png_bomb(100_000, 100_000), "decompression_bomb"),
        ("notes.jpg", b"milk, eggs, bread\n", "not_an_image"),
        ("layers.psd", images.psd(), "unsupported_format"),
        ("bomb.heic", images.heic_bomb(), "decompression_bomb"),
        ("bomb.tif", images.tiff_bomb(), "decompression_bomb"),
        ("sliver.png", images.png_raw(100_000, 1, 8, 0, b"\x00" * 100_001), "absurd_dimensions"),
    ],
)
def test_thumbnail_rejects_bad_input_with_a_logged_counted_reason(
    fn, s3, lambda_context, output, key, body, reason
):
    s3.put_object(Bucket=SOURCE, Key=key, Body=body)

    summary = fn.handler(event_for(key), lambda_context)

    assert (summary["processed"], summary["rejected"]) == (0, 1)
    assert summary["rejections"] == [{"bucket": SOURCE, "key": key, "reason": reason}]
    assert stored_keys(s3) == []
    lines = output()
    assert emf_totals(lines) == {"ImagesRejected": 1, f"ImagesRejected_{reason}": 1}
    warning = next(line for line in lines if line.get("message") == "image rejected")
    assert (warning["level"], warning["key"], warning["reason"]) == ("WARNING", key, reason)


def test_thumbnail_rejects_object_over_max_bytes_without_downloading_it(env, s3, lambda_context):
    env.setenv("MAX_BYTES", "1000")
    fn = load_handler("thumbnail_pipeline")
    s3.put_object(Bucket=SOURCE, Key="huge.jpg", Body=images.jpeg((600, 400)))

    summary = fn.handler(event_for("huge.jpg"), lambda_context)

    assert summary["rejections"] == [{"bucket": SOURCE, "key": "huge.jpg", "reason": "too_large"}]


def test_thumbnail_treats_a_source_deleted_before_processing_as_a_rejection(fn, s3, lambda_context):
    summary = fn.handler(event_for("gone.jpg"), lambda_context)

    assert summary["rejections"] == [{"bucket": SOURCE, "key": "gone.jpg", "reason": "source_missing"}]


def test_thumbnail_still_processes_the_good_records_of_an_event_with_a_bad_one(fn, s3, lambda_context):
    s3.put_object(Bucket=SOURCE, Key="good.jpg", Body=images.jpeg())
    s3.put_object(Bucket=SOURCE, Key="notes.jpg", Body=b"not an image")
    s3.put_object(Bucket=SOURCE, Key="logo.png", Body=images.png_with_alpha())

    summary = fn.handler(as_sent(load_event("s3_object_created_batch")), lambda_context)

    assert (summary["processed"], summary["rejected"]) == (2, 1)
    assert "thumbnails/128/good.jpg" in stored_keys(s3) and "thumbnails/128/logo.png" in stored_keys(s3)


# --- output S3 cannot store: rejected like bad input, never retried ------------------------------------


@pytest.fixture
def aws_limits(fn):
    """S3's answer to a PutObject whose key is over 1,024 UTF-8 bytes or whose user metadata is over 2 KB.

    moto stores both, so a before-send hook on the function's client answers such a request with the 400
    that S3 sends (KeyTooLongError, MetadataTooLarge); the answer still goes through botocore's parsing.
    """

    def enforce(request, **_):
        bucket_and_key = unquote(urlsplit(request.url).path).lstrip("/")
        key = bucket_and_key.split("/", 1)[1]
        metadata = sum(
            len(_text(name)[len("x-amz-meta-") :].encode()) + len(_text(value).encode())
            for name, value in request.headers.items()
            if _text(name).lower().startswith("x-amz-meta-")
        )
        if len(key.encode()) > 1024:
            code = "KeyTooLongError"
        elif metadata > 2048:
            code = "MetadataTooLarge"
        else:
            return None
        body = f"<Error><Code>{code}</Code><Message>limit exceeded</Message></Error>".encode()
        return AWSResponse(request.url, 400, {"Content-Type": "application/xml"}, _Raw(body))

    fn.s3.meta.events.register("before-send.s3.PutObject", enforce)
    return fn


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


#: 720 UTF-8 bytes, a fine key; percent-encoded into the source-key metadata it is 2,160 bytes.
OVER_METADATA_LIMIT = "アルバム/" + "夏休みの写真" * 40 + ".jpg"


@pytest.mark.parametrize(
    ("bad_key", "reason"),
    [
        # 1,019 bytes: S3 stores the upload, but thumbnails/128/<key> would be 1,034.
        pytest.param("deep/" + "x" * 1010 + ".jpg", "key_too_long", id="thumbnail-key-over-1024-bytes"),
        pytest.param(OVER_METADATA_LIMIT, "metadata_too_large", id="metadata-over-2kb"),
    ],
)
def test_thumbnail_rejects_a_key_over_an_s3_limit_writes_none_of_its_sizes_and_processes_its_neighbours(
    fn, s3, aws_limits, lambda_context, output, bad_key, reason
):
    for key in ("first.jpg", bad_key, "last.jpg"):
        s3.put_object(Bucket=SOURCE, Key=key, Body=images.jpeg())

    summary = fn.handler(event_for("first.jpg", bad_key, "last.jpg"), lambda_context)

    assert (summary["processed"], summary["rejected"], summary["failed"]) == (2, 1, 0)
    assert summary["rejections"] == [{"bucket": SOURCE, "key": bad_key, "reason": reason}]
    assert stored_keys(s3) == sorted(
        f"thumbnails/{size}/{k}" for size in SIZES for k in ("first.jpg", "last.jpg")
    )
    totals = emf_totals(output())
    assert (totals["ImagesRejected"], totals[f"ImagesRejected_{reason}"]) == (1, 1)
    assert "RecordsFailed" not in totals


@pytest.mark.parametrize(
    "raw_key",
    [
        # The UTF-8 bytes of a lone surrogate, percent-encoded: not UTF-8, so no S3 key can be this.
        "bad%ED%A0%80.jpg",
        # A lone surrogate already in the decoded JSON string: botocore cannot even encode the request.
        "bad\udc80.jpg",
    ],
)
def test_thumbnail_rejects_a_key_that_is_not_valid_utf8_and_processes_its_neighbours(
    fn, s3, lambda_context, output, raw_key
):
    for key in ("first.jpg", "last.jpg"):
        s3.put_object(Bucket=SOURCE, Key=key, Body=images.jpeg())
    event = event_for("first.jpg", "placeholder.jpg", "last.jpg")
    event["Records"][1]["s3"]["object"]["key"] = raw_key

    summary = fn.handler(event, lambda_context)

    assert (summary["processed"], summary["rejected"], summary["failed"]) == (2, 1, 0)
    assert [item["reason"] for item in summary["rejections"]] == ["invalid_key"]
    assert emf_totals(output())["ImagesRejected_invalid_key"] == 1
    # What the handler returns must serialise as UTF-8, whatever the runtime's JSON settings.
    json.dumps(summary, ensure_ascii=False).encode("utf-8")


def test_thumbnail_rejects_when_s3_itself_refuses_the_size_of_what_is_written(
    fn, s3, aws_limits, lambda_context, monkeypatch
):
    """Should S3 count a limit differently from the function's own check, its 400 is a rejection too: the
    same request fails the same way on every attempt. The check is switched off to get S3's answer."""
    monkeypatch.setattr(fn, "check_storable", lambda key, metadata: None)
    s3.put_object(Bucket=SOURCE, Key=OVER_METADATA_LIMIT, Body=images.jpeg())

    summary = fn.handler(event_for(OVER_METADATA_LIMIT), lambda_context)

    assert summary["rejections"] == [
        {"bucket": SOURCE, "key": OVER_METADATA_LIMIT, "reason": "metadata_too_large"}
    ]


# --- recursion safety -----------------------------------------------------------------------------------


def test_thumbnail_skips_keys_under_its_own_prefix_in_the_destination_bucket(fn, s3, lambda_context):
    s3.put_object(Bucket=DEST, Key="thumbnails/128/a.jpg", Body=images.jpeg())

    summary = fn.handler(event_for("thumbnails/128/a.jpg", bucket=DEST), lambda_context)

    assert summary["skips"] == [
        {"bucket": DEST, "key": "thumbnails/128/a.jpg", "reason": "own_output_prefix"}
    ]
    assert stored_keys(s3) == ["thumbnails/128/a.jpg"]


def test_thumbnail_skips_objects_carrying_its_own_metadata(fn, s3, lambda_context):
    marker = {"thumbnail-source-key": "x.jpg"}
    s3.put_object(Bucket=SOURCE, Key="copied.jpg", Body=images.jpeg(), Metadata=marker)

    summary = fn.handler(event_for("copied.jpg"), lambda_context)

    assert summary["skips"] == [{"bucket": SOURCE, "key": "copied.jpg", "reason": "own_output_metadata"}]
    assert stored_keys(s3) == []


def test_thumbnail_skips_events_other_than_object_created(fn, s3, lambda_context):
    summary = fn.handler(event_for("a.jpg", event_name="ObjectRemoved:Delete"), lambda_context)

    assert (summary["skipped"], summary["processed"], summary["rejected"]) == (1, 0, 0)


# --- failures: raised so Lambda retries, never swallowed ------------------------------------------------


class _Raw:
    """The raw body botocore reads an HTTP response from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_):
        yield self._body


def test_thumbnail_raises_after_processing_other_records_when_s3_throttles(env, s3, lambda_context):
    """moto cannot inject 5xx/throttling, so a before-send hook answers GetObject of one key with the
    503 SlowDown S3 sends. The response still goes through botocore's real parsing and retry logic."""
    env.setenv("AWS_RETRY_MODE", "standard")
    env.setenv("AWS_MAX_ATTEMPTS", "2")
    fn = load_handler("thumbnail_pipeline")
    s3.put_object(Bucket=SOURCE, Key="first.jpg", Body=images.jpeg())
    s3.put_object(Bucket=SOURCE, Key="busy.jpg", Body=images.jpeg())
    s3.put_object(Bucket=SOURCE, Key="last.jpg", Body=images.jpeg())
    attempts = []

    def throttle(request, **_):
        if request.url.split("?")[0].endswith("/busy.jpg"):
            attempts.append(request.url)
            body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
            return AWSResponse(request.url, 503, {"Content-Type": "application/xml"}, _Raw(body))
        return None

    fn.s3.meta.events.register("before-send.s3.GetObject", throttle)

    with pytest.raises(fn.RecordsFailed) as raised:
        fn.handler(event_for("first.jpg", "busy.jpg", "last.jpg"), lambda_context)

    assert len(attempts) == 2, "botocore retries the throttled call before the handler gives up"
    summary = raised.value.summary
    assert (summary["processed"], summary["failed"]) == (2, 1)
    assert summary["failures"][0]["key"] == "busy.jpg" and "SlowDown" in summary["failures"][0]["error"]
    keys = stored_keys(s3)
    assert "thumbnails/128/first.jpg" in keys and "thumbnails/128/last.jpg" in keys
    assert not any("busy" in key for key in keys)


def test_thumbnail_raises_when_the_destination_bucket_is_missing(fn, s3, lambda_context):
    s3.put_object(Bucket=SOURCE, Key="a.jpg", Body=images.jpeg())
    s3.delete_bucket(Bucket=DEST)

    with pytest.raises(fn.RecordsFailed, match="NoSuchBucket"):
        fn.handler(event_for("a.jpg"), lambda_context)


def test_thumbnail_refuses_to_start_without_dest_bucket(aws):
    with pytest.raises(RuntimeError, match="DEST_BUCKET is required"):
        load_handler("thumbnail_pipeline")


def test_thumbnail_unexpected_error_on_one_image_still_processes_the_others_then_raises(
    fn, s3, lambda_context, monkeypatch
):
    """No real file is known to crash Pillow here, so the image core is made to fail for one key: a stand-in
    for an unforeseen decoder error, which only this test fakes."""
    for key in ("first.jpg", "odd.jpg", "last.jpg"):
        s3.put_object(Bucket=SOURCE, Key=key, Body=images.jpeg())
    real = fn.make_thumbnails
    calls = iter(range(3))

    def flaky(*args, **kwargs):
        if next(calls) == 1:
            raise SystemError("unexpected decoder state")
        return real(*args, **kwargs)

    monkeypatch.setattr(fn, "make_thumbnails", flaky)

    with pytest.raises(fn.RecordsFailed) as raised:
        fn.handler(event_for("first.jpg", "odd.jpg", "last.jpg"), lambda_context)

    summary = raised.value.summary
    assert (summary["processed"], summary["failed"]) == (2, 1)
    assert summary["failures"][0] == {
        "bucket": SOURCE,
        "key": "odd.jpg",
        "error": "SystemError: unexpected decoder state",
    }
    assert "thumbnails/128/last.jpg" in stored_keys(s3)
