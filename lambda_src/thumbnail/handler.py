"""S3 upload -> thumbnails in a second bucket. Thin: parse the S3 event, fetch, call thumbnailer, store.

Environment (set by the construct; defaults in brackets):

- ``DEST_BUCKET`` (required): bucket the thumbnails are written to.
- ``DEST_PREFIX`` [``thumbnails/``]: key prefix of the output; a thumbnail of ``a/b.jpg`` at 256 px is
  ``thumbnails/256/a/b.jpg``. Keys below it in DEST_BUCKET are never processed (recursion guard).
- ``SIZES`` [``128,256,1024``]: long edge of each thumbnail in px. A source smaller than a size is
  stored at its own size under that size's key (never upscaled), so every key a client expects exists.
- ``OUTPUT_FORMAT`` [``auto``]: ``auto`` writes images with transparency as PNG and everything else as
  JPEG (an opaque PNG/GIF/WebP, or one whose alpha is 255 everywhere, becomes JPEG: the smallest
  universally decodable preview); ``webp`` writes
  WebP, alpha kept. When the format's extension differs from the key's, it is appended
  (``cat.gif`` -> ``cat.gif.jpg``), so ``cat.gif`` and ``cat.png`` never overwrite each other.
- ``QUALITY`` [``85``]: JPEG/WebP quality.
- ``MAX_BYTES`` [``52428800`` = 50 MiB]: larger objects are rejected before download. The largest camera
  JPEGs (60 MP) are 30-40 MB; the body is held in memory, so the cap bounds that allocation.
- ``MAX_PIXELS`` [``50000000`` = 50 MP]: declared width x height above this is rejected before decoding
  (decompression bomb). A non-JPEG decodes at full size: 50 MP RGBA is 200 MB per copy, which with the
  resize buffers stays well inside a 1024 MB function. JPEGs decode at 1/2..1/8 scale, so raising the cap
  for JPEG-only workloads (e.g. 61 MP cameras) is safe.
- ``METRICS_NAMESPACE`` [``LambdaPatterns``], ``SERVICE_NAME`` [``thumbnail``]: EMF namespace and the
  ``service`` dimension / log field.
- ``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS``: botocore's own; ``standard`` retries throttling and 5xx.

Outcomes per record: *processed*; *rejected* (input that can never work: not an image, empty, truncated,
bomb, unsupported, too large, deleted before we got to it) - logged with the reason, counted as
``ImagesRejected`` and ``ImagesRejected_<reason>``, never retried; *skipped* (our own output, or not an
ObjectCreated event) - logged, counted as ``ImagesSkipped``; *failed* (throttling, 5xx, connection errors,
and also access or configuration errors, which no input change can fix but an operator can) - the other
records are still processed, then the invocation raises so Lambda retries it and finally hands the event
to the on-failure destination. Writes are idempotent (same keys, same bytes), so a retry is harmless.

A missing source object is a rejection, not a failure: it was deleted after the upload event, retrying
cannot bring it back, and a re-upload sends a new event.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_plus

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from lambda_common import Metrics, get_logger, log_context
from thumbnailer import Rejected, Settings, make_thumbnails, output_key, parse_settings

# Metadata written on every thumbnail. Its presence on a source marks our own output (recursion guard).
# S3 user metadata travels in HTTP headers and must be ASCII, hence the percent-encoded key.
META_BUCKET = "thumbnail-source-bucket"
META_KEY = "thumbnail-source-key"
META_ETAG = "thumbnail-source-etag"
META_SIZE = "thumbnail-size"

# S3 error codes that mean "this object is gone", not "try later".
_MISSING = {"NoSuchKey", "404", "NotFound"}

SERVICE = os.environ.get("SERVICE_NAME", "thumbnail")
logger = get_logger(SERVICE)
metrics = Metrics(service=SERVICE)
s3 = boto3.client("s3")
SETTINGS: Settings = parse_settings(os.environ)
try:
    DEST_BUCKET = os.environ["DEST_BUCKET"]
except KeyError:
    raise RuntimeError("DEST_BUCKET is required: the bucket thumbnails are written to") from None
DEST_PREFIX = os.environ.get("DEST_PREFIX", "thumbnails/")


class RecordsFailed(RuntimeError):
    """Some records failed for a reason a retry or an operator can fix; raised so Lambda retries."""

    def __init__(self, summary: dict) -> None:
        failed = ", ".join(f"{f['bucket']}/{f['key']}: {f['error']}" for f in summary["failures"])
        super().__init__(f"{len(summary['failures'])} record(s) failed: {failed}")
        self.summary = summary


@dataclass
class Summary:
    """What happened to each record of one event; returned to the caller and logged."""

    processed: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Counts plus the per-record details."""
        return {
            "processed": len(self.processed),
            "rejected": len(self.rejected),
            "skipped": len(self.skipped),
            "failed": len(self.failures),
            "thumbnails": [key for item in self.processed for key in item["thumbnails"]],
            "rejections": self.rejected,
            "skips": self.skipped,
            "failures": self.failures,
        }


def handler(event: dict, context) -> dict:
    """Make thumbnails for every ObjectCreated record; raise at the end if any record must be retried."""
    summary = Summary()
    with log_context(context):
        try:
            for record in event.get("Records", []):
                process_record(record, summary)
        finally:
            metrics.flush()
        result = summary.as_dict()
        logger.info("event done", extra={"fields": {k: v for k, v in result.items() if k != "thumbnails"}})
    if summary.failures:
        raise RecordsFailed(result)
    return result


def parse_record(record: dict) -> tuple[str, str, str]:
    """(event name, bucket, key) of an S3 notification record; the key URL-decoded as S3 encodes it."""
    s3_part = record["s3"]
    return record.get("eventName", ""), s3_part["bucket"]["name"], unquote_plus(s3_part["object"]["key"])


def skip_reason(event_name: str, bucket: str, key: str) -> str | None:
    """Why a record is not ours to process, judged from the event alone, else None."""
    if not event_name.startswith("ObjectCreated"):
        return "not_object_created"
    if bucket == DEST_BUCKET and key.startswith(DEST_PREFIX):
        return "own_output_prefix"
    return None


def process_record(record: dict, summary: Summary) -> None:
    """Handle one record, sorting the outcome into ``summary``; never raises for a single bad record."""
    try:
        event_name, bucket, key = parse_record(record)
    except (KeyError, TypeError) as exc:
        _reject(summary, "?", "?", "malformed_record", f"missing {exc}")
        return
    reason = skip_reason(event_name, bucket, key)
    if reason:
        _skip(summary, bucket, key, reason)
        return
    started = time.perf_counter()
    try:
        written = thumbnail_object(bucket, key)
    except Rejected as exc:
        _reject(summary, bucket, key, exc.reason, exc.detail)
    except _Skip as exc:
        _skip(summary, bucket, key, str(exc))
    except (ClientError, BotoCoreError) as exc:
        if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _MISSING:
            _reject(summary, bucket, key, "source_missing", "object deleted before processing")
            return
        summary.failures.append({"bucket": bucket, "key": key, "error": str(exc)})
        metrics.add("RecordsFailed")
        logger.error(
            "record failed, will retry", extra={"fields": {"bucket": bucket, "key": key}}, exc_info=True
        )
    except Exception as exc:
        # An error nobody foresaw (a decoder bug on some EXIF, an encoder limit) is not proof the image is bad:
        # the other records still get processed, and this one is retried and then kept by the on-failure
        # destination, where it can be inspected. Nothing is dropped on a guess.
        summary.failures.append({"bucket": bucket, "key": key, "error": f"{type(exc).__name__}: {exc}"})
        metrics.add("RecordsFailed")
        logger.error(
            "record failed unexpectedly, will retry",
            extra={"fields": {"bucket": bucket, "key": key}},
            exc_info=True,
        )
    else:
        elapsed_ms = (time.perf_counter() - started) * 1000
        summary.processed.append({"bucket": bucket, "key": key, "thumbnails": written})
        metrics.add("ImagesProcessed")
        metrics.add("ThumbnailsWritten", len(written))
        metrics.add("ProcessingTime", elapsed_ms, unit="Milliseconds")
        logger.info(
            "thumbnails written",
            extra={"fields": {"bucket": bucket, "key": key, "thumbnails": written, "ms": round(elapsed_ms)}},
        )


class _Skip(Exception):
    """The object turned out to be our own output (found from its metadata, after the GET)."""


def thumbnail_object(bucket: str, key: str) -> list[str]:
    """Fetch one object, make its thumbnails and store them; returns the keys written."""
    response = s3.get_object(Bucket=bucket, Key=key)
    body = response["Body"]
    try:
        if META_KEY in response.get("Metadata", {}):
            raise _Skip("own_output_metadata")
        length = response.get("ContentLength", 0)
        # Checked before read(): the body is only streamed once we ask for it.
        if length > SETTINGS.max_bytes:
            raise Rejected("too_large", f"{length} bytes exceeds the {SETTINGS.max_bytes} cap")
        if length == 0:
            raise Rejected("empty", "zero bytes")
        data = body.read()
    finally:
        body.close()
    etag = response.get("ETag", "").strip('"')
    written = []
    for thumb in make_thumbnails(data, SETTINGS):
        dest_key = output_key(DEST_PREFIX, thumb.size, key, thumb.format)
        s3.put_object(
            Bucket=DEST_BUCKET,
            Key=dest_key,
            Body=thumb.data,
            ContentType=thumb.content_type,
            Metadata={
                META_BUCKET: bucket,
                META_KEY: quote(key, safe="/"),
                META_ETAG: etag,
                META_SIZE: str(thumb.size),
            },
        )
        written.append(dest_key)
    return written


def _reject(summary: Summary, bucket: str, key: str, reason: str, detail: str) -> None:
    summary.rejected.append({"bucket": bucket, "key": key, "reason": reason})
    metrics.add("ImagesRejected")
    metrics.add(f"ImagesRejected_{reason}")
    logger.warning(
        "image rejected", extra={"fields": {"bucket": bucket, "key": key, "reason": reason, "detail": detail}}
    )


def _skip(summary: Summary, bucket: str, key: str, reason: str) -> None:
    summary.skipped.append({"bucket": bucket, "key": key, "reason": reason})
    metrics.add("ImagesSkipped")
    logger.info("record skipped", extra={"fields": {"bucket": bucket, "key": key, "reason": reason}})
