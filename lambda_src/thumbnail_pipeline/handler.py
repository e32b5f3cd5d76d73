"""S3 upload -> thumbnails in a second bucket. Thin: parse the S3 event, fetch, call thumbnailer, store.

Environment (set by the construct; defaults in brackets):

- ``DEST_BUCKET`` (required): bucket the thumbnails are written to.
- ``DEST_PREFIX`` [``thumbnails/``]: key prefix of the output; a thumbnail of ``a/b.jpg`` at 256 px is
  ``thumbnails/256/a/b.jpg``. Keys below it in DEST_BUCKET are never processed (recursion guard).
- ``SIZES`` [``128,256,1024``]: long edge of each thumbnail in px. A source smaller than a size is
  stored at its own size under that size's key (never upscaled), so every key a client expects exists.
- ``OUTPUT_FORMAT`` [``auto``]: ``auto`` writes images with transparency as PNG and everything else as
  JPEG (an opaque PNG/GIF/WebP, or one whose alpha is 255 everywhere, becomes JPEG: the smallest
  universally decodable preview); ``webp`` or ``avif`` writes every thumbnail in that format, alpha kept.
  When the format's extension differs from the key's, it is appended
  (``cat.gif`` -> ``cat.gif.jpg``), so ``cat.gif`` and ``cat.png`` never overwrite each other.
- ``INPUT_FORMATS`` [all: ``jpeg,png,gif,webp,avif,heif,tiff,bmp``]: the formats read, told apart by their
  first bytes, whatever the key's extension; any other is rejected unread (``format_disabled`` for one left
  out of the list, ``unsupported_format`` for PSD, EPS, ICO, PDF, JPEG 2000 and the like). HEIF (HEIC
  included) is decoded by pillow-heif, loaded with the first HEIF file; TIFF yields its first page.
- ``QUALITY`` [``85``]: JPEG/WebP quality.
- ``MAX_BYTES`` [``52428800`` = 50 MiB]: larger objects are rejected before download. The largest camera
  JPEGs (60 MP) are 30-40 MB; the body is held in memory, so the cap bounds that allocation.
- ``MAX_PIXELS`` [``50000000`` = 50 MP]: declared width x height above this is rejected before decoding
  (decompression bomb), in every format. A non-JPEG decodes at full size: 50 MP RGBA is 200 MB per copy,
  which with the resize buffers stays well inside a 1024 MB function. JPEGs decode at 1/2..1/8 scale, so raising the cap
  for JPEG-only workloads (e.g. 61 MP cameras) is safe.
- ``METRICS_NAMESPACE`` [``LambdaPatterns``], ``SERVICE_NAME`` [``thumbnail``]: EMF namespace and the
  ``service`` dimension / log field.
- ``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS``: botocore's own; ``standard`` retries throttling and 5xx.

Outcomes per record: *processed*; *rejected* (input that can never work: not an image, empty, truncated,
bomb, unsupported, too large, deleted before we got to it, a key that is not UTF-8, or output S3 cannot
store: a thumbnail key over 1,024 bytes or metadata over 2 KB) - logged with the reason, counted as
``ImagesRejected`` and ``ImagesRejected_<reason>``, never retried; *skipped* (our own output, not an
ObjectCreated event, or *superseded*: every thumbnail already shows this version or a newer one) - logged,
counted as ``ImagesSkipped`` and ``ImagesSkipped_<reason>``; *failed* (throttling, 5xx, connection errors,
and also access or configuration errors, which no input change can fix but an operator can) - the other
records are still processed, then the invocation raises so Lambda retries it and finally hands the event
to the on-failure destination.

A missing source object is a rejection, not a failure: it was deleted after the upload event, retrying
cannot bring it back, and a re-upload sends a new event.

Order. S3 delivers events late, twice, and out of order, and two invocations can work on one key at once.
Each thumbnail carries the event's ``sequencer`` (S3's per-key order of events), the source VersionId and
ETag, and is written only with a precondition: created with ``If-None-Match: *``, or replaced with
``If-Match: <the ETag we checked>`` after a HeadObject showed an older sequencer. A thumbnail already holding
a newer-or-equal sequencer is left alone (``ThumbnailsSuperseded``); a lost race (412, 409, or NoSuchKey for
an If-Match on a thumbnail deleted meanwhile) re-checks, up to ``WRITE_ATTEMPTS`` times, then fails the record
for a retry. So a late event for an older version never replaces a newer version's thumbnails, and a
redelivered event rewrites nothing. Events without a sequencer (hand-made ones, moto's emulated
notifications) cannot be ordered: their thumbnails are written unconditionally, as before ordering existed,
and any ordered event replaces them.

ObjectRemoved events are skipped (the trigger does not subscribe to them): thumbnails of a deleted upload
stay, as they always have, so a late ObjectCreated event that arrives after a delete still writes that
version's thumbnails - the same end state as in-order delivery.

S3 calls: source - GetObject with ``VersionId`` (s3:GetObjectVersion) when the event names a version, else
GetObject with ``If-Match: <event ETag>`` (s3:GetObject); destination - PutObject with If-None-Match or
If-Match (s3:PutObject), HeadObject (s3:GetObject; with s3:ListBucket a missing thumbnail is 404, not 403).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_plus

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from lambda_common import log_context
from lambda_common.coldstart import freeze_init_objects
from lambda_common.env import required, telemetry
from thumbnailer import (
    Rejected,
    Settings,
    Thumbnail,
    check_key,
    check_storable,
    is_later,
    make_thumbnails,
    output_key,
    parse_settings,
    valid_sequencer,
)

freeze_init_objects()

# Metadata written on every thumbnail. Its presence on a source marks our own output (recursion guard).
# S3 user metadata travels in HTTP headers and must be ASCII, hence the percent-encoded key.
META_BUCKET = "thumbnail-source-bucket"
META_KEY = "thumbnail-source-key"
META_VERSION = "thumbnail-source-version-id"
META_ETAG = "thumbnail-source-etag"
META_SEQUENCER = "thumbnail-source-sequencer"
META_SIZE = "thumbnail-size"

# S3 error codes that mean "this object (version) is gone", not "try later".
_MISSING = {"NoSuchKey", "NoSuchVersion", "404", "NotFound"}
# S3's answers to a write it will refuse on every attempt; the checks before writing should make them
# unreachable, and should S3 count differently they are still rejections, not retries.
_UNSTORABLE = {"KeyTooLongError": "key_too_long", "MetadataTooLarge": "metadata_too_large"}
# A conditional write lost to another writer: re-check the thumbnail and decide again. NoSuchKey is an
# If-Match on a thumbnail deleted since the HeadObject.
_LOST_RACE = {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"}
# Each further attempt means another writer won in between; one with a newer sequencer ends the loop at the
# next check, so only writers of older versions can exhaust it, and then a retry of the event is cheap.
WRITE_ATTEMPTS = 5

logger, metrics = telemetry("thumbnail")
s3 = boto3.client("s3")
SETTINGS: Settings = parse_settings(os.environ)
(DEST_BUCKET,) = required("DEST_BUCKET", meaning="the bucket thumbnails are written to")
DEST_PREFIX = os.environ.get("DEST_PREFIX", "thumbnails/")
freeze_init_objects()


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


@dataclass(frozen=True)
class Upload:
    """What one S3 notification record says: which object, which version, and where in the key's order."""

    event_name: str
    bucket: str
    key: str
    version_id: str | None
    etag: str | None
    sequencer: str


def parse_record(record: dict) -> Upload:
    """The upload an S3 notification record announces; the key URL-decoded as S3 encodes it.

    The decoding is strict: percent-escapes that are not UTF-8 cannot name an S3 key, and are reported as
    such (UnicodeDecodeError) instead of being replaced by U+FFFD and looked up as some other key.
    """
    s3_part = record["s3"]
    obj = s3_part["object"]
    # "null" is the version of an object written while versioning was off or suspended; it can be
    # overwritten in place, so it does not pin the content and is handled like no version at all.
    version_id = obj.get("versionId")
    return Upload(
        event_name=record.get("eventName", ""),
        bucket=s3_part["bucket"]["name"],
        key=unquote_plus(obj["key"], errors="strict"),
        version_id=version_id if version_id and version_id != "null" else None,
        etag=(obj.get("eTag") or "").strip('"') or None,
        sequencer=obj.get("sequencer") or "",
    )


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
        upload = parse_record(record)
    except (KeyError, TypeError, AttributeError) as exc:
        _reject(summary, "?", "?", "malformed_record", f"missing {exc}")
        return
    except UnicodeDecodeError as exc:
        raw = record["s3"]["object"]["key"]
        _reject(summary, record["s3"]["bucket"]["name"], raw, "invalid_key", f"not UTF-8: {exc.reason}")
        return
    bucket, key = upload.bucket, upload.key
    reason = skip_reason(upload.event_name, bucket, key)
    if reason:
        _skip(summary, bucket, key, reason)
        return
    started = time.perf_counter()
    try:
        check_key(key)
        if upload.sequencer and not valid_sequencer(upload.sequencer):
            raise Rejected("malformed_record", f"sequencer {upload.sequencer[:40]!r} is not hex")
        written, superseded = thumbnail_object(upload)
    except Rejected as exc:
        _reject(summary, bucket, key, exc.reason, exc.detail)
    except _Skip as exc:
        _skip(summary, bucket, key, str(exc))
    except (ClientError, BotoCoreError, WriteContention) as exc:
        code = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else None
        if code in _MISSING:
            _reject(summary, bucket, key, "source_missing", "object deleted before processing")
            return
        if code in _UNSTORABLE:
            _reject(summary, bucket, key, _UNSTORABLE[code], f"S3 refused the thumbnail: {exc}")
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
        if superseded:
            metrics.add("ThumbnailsSuperseded", len(superseded))
        if not written:
            _skip(summary, bucket, key, "superseded")
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        item = {"bucket": bucket, "key": key, "thumbnails": written}
        if superseded:
            item["superseded"] = superseded
        summary.processed.append(item)
        metrics.add("ImagesProcessed")
        metrics.add("ThumbnailsWritten", len(written))
        metrics.add("ProcessingTime", elapsed_ms, unit="Milliseconds")
        logger.info(
            "thumbnails written",
            extra={"fields": {**item, "ms": round(elapsed_ms)}},
        )


class _Skip(Exception):
    """Nothing to write: the object is our own output (seen in its metadata), or newer content replaced it."""


class WriteContention(RuntimeError):
    """Other writers kept replacing one thumbnail between our check and our write; the event is retried."""


def thumbnail_object(upload: Upload) -> tuple[list[str], list[str]]:
    """Fetch one object, make its thumbnails and store them; returns (keys written, keys superseded).

    Nothing is written until every thumbnail has passed S3's limits, so a rejected record leaves no
    partial set behind.
    """
    response = read_source(upload)
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
    # The version and ETag of the bytes just read, from the response that carried them: whatever the
    # event claims, these are what the pixels came from.
    source = {
        META_BUCKET: upload.bucket,
        META_KEY: quote(upload.key, safe="/"),
        META_VERSION: response.get("VersionId") or "null",
        META_ETAG: response.get("ETag", "").strip('"'),
    }
    if upload.sequencer:
        source[META_SEQUENCER] = upload.sequencer
    planned = []
    for thumb in make_thumbnails(data, SETTINGS):
        dest_key = output_key(DEST_PREFIX, thumb.size, upload.key, thumb.format)
        metadata = {**source, META_SIZE: str(thumb.size)}
        check_storable(dest_key, metadata)
        planned.append((dest_key, thumb, metadata))
    written, superseded = [], []
    for dest_key, thumb, metadata in planned:
        stored = store_thumbnail(dest_key, thumb, metadata, upload.sequencer)
        (written if stored else superseded).append(dest_key)
    return written, superseded


def read_source(upload: Upload) -> dict:
    """GetObject of exactly the content the event announces, or _Skip("superseded") if it is gone.

    With a version id the exact version is read (VersionId=), not the latest. Then the pixels, the
    VersionId/ETag of this response and the event's sequencer stored beside them all describe one upload,
    so "sequencer X" on a thumbnail is a true statement about its pixels (reading the latest could store
    version 2's pixels under version 1's sequencer); what an event produces does not depend on when it
    runs, so a redrive from the failure queue days later makes that version's thumbnails or, if newer ones
    exist, nothing; and if a newer version's event ends in the failure queue, this version's thumbnails
    exist meanwhile (skipping every event whose version is no longer the latest would leave none). It costs
    s3:GetObjectVersion on the source instead of s3:GetObject. Without a version (versioning off or
    suspended: the "null" version is overwritten in place) the read is conditional on the event's ETag: a
    412 means newer content, whose own event makes its thumbnails.
    """
    if upload.version_id:
        return s3.get_object(Bucket=upload.bucket, Key=upload.key, VersionId=upload.version_id)
    if not upload.etag:
        return s3.get_object(Bucket=upload.bucket, Key=upload.key)
    try:
        return s3.get_object(Bucket=upload.bucket, Key=upload.key, IfMatch=f'"{upload.etag}"')
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "PreconditionFailed":
            raise _Skip("superseded") from None
        raise


def store_thumbnail(dest_key: str, thumb: Thumbnail, metadata: dict, sequencer: str) -> bool:
    """Write one thumbnail unless the destination holds one from a newer-or-equal event; True if written.

    Create first (If-None-Match: *) and look only when that fails: most uploads are new keys, so the usual
    cost is one request, and HeadObject - which S3 answers 403 rather than 404 for a missing key unless the
    caller may list the bucket - only runs on a thumbnail that exists. An event without a sequencer cannot
    be ordered and is written unconditionally.
    """

    def put(**condition) -> None:
        s3.put_object(
            Bucket=DEST_BUCKET,
            Key=dest_key,
            Body=thumb.data,
            ContentType=thumb.content_type,
            Metadata=metadata,
            **condition,
        )

    if not sequencer:
        put()
        return True
    condition = {"IfNoneMatch": "*"}
    for _ in range(WRITE_ATTEMPTS):
        try:
            put(**condition)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _LOST_RACE:
                raise
        current = _head(dest_key)
        if current is None:
            condition = {"IfNoneMatch": "*"}
        elif replaces(metadata, current.get("Metadata", {})):
            # Replace exactly what was checked: if anyone writes in between, the ETag no longer matches.
            condition = {"IfMatch": current["ETag"]}
        else:
            return False
    raise WriteContention(f"{dest_key}: still contended after {WRITE_ATTEMPTS} conditional writes")


def replaces(ours: dict, stored: dict) -> bool:
    """Whether a thumbnail with metadata ``ours`` should replace one holding ``stored``.

    Sequencers order the events of one key only. Two source keys can share a thumbnail key (``cat.gif``
    and the JPEG ``cat.gif.jpg`` both become ``cat.gif.jpg``); their sequencers say nothing about each
    other, so there the last writer wins, as it always has.
    """
    same_source = all(stored.get(name) == ours.get(name) for name in (META_BUCKET, META_KEY))
    if not same_source:
        return True
    return is_later(ours.get(META_SEQUENCER, ""), stored.get(META_SEQUENCER, ""))


def _head(key: str) -> dict | None:
    """HeadObject of a thumbnail, or None if there is none."""
    try:
        return s3.head_object(Bucket=DEST_BUCKET, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def _printable(key: str) -> str:
    """``key`` as valid UTF-8: a lone surrogate becomes ``\\udc80``, so the summary Lambda returns (and
    the log line) can always be serialised. Every key S3 can hold is returned unchanged."""
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def _reject(summary: Summary, bucket: str, key: str, reason: str, detail: str) -> None:
    key = _printable(key)
    summary.rejected.append({"bucket": bucket, "key": key, "reason": reason})
    metrics.add("ImagesRejected")
    metrics.add(f"ImagesRejected_{reason}")
    logger.warning(
        "image rejected", extra={"fields": {"bucket": bucket, "key": key, "reason": reason, "detail": detail}}
    )


def _skip(summary: Summary, bucket: str, key: str, reason: str) -> None:
    key = _printable(key)
    summary.skipped.append({"bucket": bucket, "key": key, "reason": reason})
    metrics.add("ImagesSkipped")
    metrics.add(f"ImagesSkipped_{reason}")
    logger.info("record skipped", extra={"fields": {"bucket": bucket, "key": key, "reason": reason}})
