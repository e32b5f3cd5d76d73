"""``ThumbnailPipeline``: an image uploaded to one bucket becomes thumbnails in another."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.checks.thumbnail_caps import check_input_caps
from lambda_patterns.checks.thumbnail_format import check_output_format
from lambda_patterns.checks.thumbnail_input_formats import check_input_formats
from lambda_patterns.checks.thumbnail_prefix import check_destination_prefix
from lambda_patterns.checks.thumbnail_quality import check_thumbnail_quality
from lambda_patterns.checks.thumbnail_sizes import check_thumbnail_sizes
from lambda_patterns.jsii_reads import path_of
from lambda_patterns.operations.dashboard import CustomMetrics, ServiceDashboard
from lambda_patterns.patterns.pattern_function import PatternConstruct, build_pattern_function
from lambda_patterns.permissions import list_objects, put_objects, read_objects
from lambda_patterns.resources.buckets import access_log_bucket, secure_bucket
from lambda_patterns.steps.deployment import Deployment
from lambda_patterns.triggers.s3 import S3Trigger

#: What the thumbnail handler counts (EMF), per ``service``.
THUMBNAIL_METRICS = CustomMetrics(
    namespace="LambdaPatterns/Thumbnails",
    names=("ImagesProcessed", "ImagesRejected", "ThumbnailsWritten"),
    title="Images processed, rejected; thumbnails written",
)


class ThumbnailPipeline(PatternConstruct):
    """S3 upload -> thumbnails: each image created in the source bucket is decoded once, at the smallest
    scale that serves the largest size, and written to the destination bucket as
    ``<destination_prefix><size>/<key>``. Bad images are logged, counted and not retried; transient failures
    retry and finally land in the function's on-failure queue.

    Besides its own props below, it takes those of every pattern (``alarm_topic``, ``deployment``,
    ``function_props`` and ``profile``: see :class:`PatternConstruct`).

    :param existing_source_bucket_obj: the bucket users upload to. Default: a new secure bucket.
    :param source_bucket_props: overrides for the new source bucket (e.g. ``lifecycle_rules``). Default: none.
    :param existing_destination_bucket_obj: where thumbnails go. It may be the source bucket itself if the
        prefixes are disjoint (checked at synth). Default: a new secure bucket.
    :param destination_bucket_props: overrides for the new destination bucket. Default: none.
    :param existing_logging_bucket_obj: receives the new buckets' access logs. Default: a new log bucket.
    :param sizes: long-edge sizes in px. Default: 128, 256 and 1024.
    :param output_format: ``auto`` (JPEG, or PNG where there is transparency), ``webp`` or ``avif`` (every
        thumbnail in that format, transparency kept). Default: ``auto``.
    :param input_formats: the formats accepted, of ``jpeg``, ``png``, ``gif``, ``webp``, ``avif``, ``heif``
        (HEIC included), ``tiff`` (first page) and ``bmp``; an upload in another is rejected unread, as
        ``format_disabled``. Default: all of them. What stays out, and why: ``defaults.THUMBNAIL_REFUSED_FORMATS``.
    :param quality: JPEG/WebP quality. Default: 85.
    :param source_prefix: only keys starting with this. Default: every key.
    :param source_suffix: only keys ending with this, e.g. ``.jpg``. Default: every key.
    :param destination_prefix: Default: ``thumbnails/``.
    :param max_pixels: declared pixels above which an image is rejected unread (decompression bombs).
        Default: 50 million.
    :param max_bytes: objects larger than this are rejected without download. Default: 50 MiB.
    :param memory_size: Default: 1024 MB.
    :param timeout: Default: 60 seconds.
    :param alarm_topic: also notified of failed images waiting in the on-failure queue.
    :param dashboard: create a CloudWatch dashboard of the function and the handler's metrics. Default: yes.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        existing_source_bucket_obj: s3.IBucket | None = None,
        source_bucket_props: Mapping[str, Any] | s3.BucketProps | None = None,
        existing_destination_bucket_obj: s3.IBucket | None = None,
        destination_bucket_props: Mapping[str, Any] | s3.BucketProps | None = None,
        existing_logging_bucket_obj: s3.IBucket | None = None,
        sizes: Sequence[int] = defaults.THUMBNAIL_SIZES,
        output_format: str = defaults.THUMBNAIL_FORMAT,
        input_formats: Sequence[str] = defaults.THUMBNAIL_INPUT_FORMATS,
        quality: int = defaults.THUMBNAIL_QUALITY,
        source_prefix: str | None = None,
        source_suffix: str | None = None,
        destination_prefix: str = defaults.THUMBNAIL_PREFIX,
        max_pixels: int = defaults.THUMBNAIL_MAX_PIXELS,
        max_bytes: int = defaults.THUMBNAIL_MAX_BYTES,
        memory_size: int = defaults.THUMBNAIL_MEMORY_MB,
        timeout: Duration = defaults.THUMBNAIL_TIMEOUT,
        function_props: Mapping[str, Any] | None = None,
        deployment: Deployment | None = None,
        alarm_topic: sns.ITopic | None = None,
        dashboard: bool = True,
        profile: str | None = None,
    ) -> None:
        super().__init__(scope, id, alarm_topic, deployment, function_props, profile)
        # Validate.
        self._check_existing_or_props(
            source_bucket=(existing_source_bucket_obj, source_bucket_props),
            destination_bucket=(existing_destination_bucket_obj, destination_bucket_props),
        )
        check_thumbnail_sizes(self._where, sizes)
        check_output_format(self._where, output_format)
        check_input_formats(self._where, input_formats)
        check_thumbnail_quality(self._where, quality)
        check_input_caps(self._where, max_pixels, max_bytes)
        check_destination_prefix(self._where, destination_prefix)

        # Build.
        needs_logs = existing_source_bucket_obj is None or existing_destination_bucket_obj is None
        self._log_bucket = existing_logging_bucket_obj or (
            access_log_bucket(self, "AccessLogs") if needs_logs else None
        )
        self._source = existing_source_bucket_obj or secure_bucket(
            self, "Source", log_bucket=self._log_bucket, log_prefix="source/", overrides=source_bucket_props
        )
        self._destination = existing_destination_bucket_obj or secure_bucket(
            self,
            "Destination",
            log_bucket=self._log_bucket,
            log_prefix="destination/",
            overrides=destination_bucket_props,
        )
        self._pattern_function = build_pattern_function(
            self,
            handler="thumbnail_pipeline",
            description="Writes thumbnails of images uploaded to the source bucket",
            permissions=[
                # The version an event names (GetObject with VersionId) in a versioned bucket, else the object.
                read_objects(self._source, source_prefix, versions=True),
                # The handler rejects an upload deleted before it ran (NoSuchKey) instead of retrying it
                # into the failure queue; without ListBucket S3 reports the missing key as AccessDenied.
                # Limited to the source prefix: S3 checks it with the requested key as s3:prefix.
                list_objects(self._source, source_prefix),
                # HeadObject of its own thumbnails, and single-request PutObject (no multipart uploads).
                read_objects(self._destination, destination_prefix),
                put_objects(self._destination, destination_prefix),
            ],
            environment={
                "DEST_BUCKET": self._destination.bucket_name,
                "DEST_PREFIX": destination_prefix,
                "SIZES": ",".join(str(s) for s in sizes),
                "OUTPUT_FORMAT": output_format,
                "INPUT_FORMATS": ",".join(dict.fromkeys(input_formats)),
                "QUALITY": str(quality),
                "MAX_PIXELS": str(max_pixels),
                "MAX_BYTES": str(max_bytes),
                "METRICS_NAMESPACE": THUMBNAIL_METRICS.namespace,
                # Throttling and 5xx from S3 are retried inside the invocation before Lambda retries it.
                "AWS_RETRY_MODE": "standard",
            },
            **self._function_options,
            fixed_props={"memory_size": memory_size, "timeout": timeout},
        )

        # Wire: the recursion check inside S3Trigger refuses overlapping prefixes in one bucket.
        self._trigger = S3Trigger(
            self,
            "OnUpload",
            function=self.function,
            bucket=self._source,
            prefix=source_prefix,
            suffix=source_suffix,
        )
        self._dashboard: ServiceDashboard | None = None
        if dashboard:
            self._dashboard = ServiceDashboard(self, "Dashboard")
            self._dashboard.add_function(
                self.function, custom_metrics=[THUMBNAIL_METRICS], title=f"{path_of(self)}: thumbnails"
            )

    @property
    def source_bucket(self) -> s3.IBucket:
        """The bucket images are uploaded to."""
        return self._source

    @property
    def destination_bucket(self) -> s3.IBucket:
        """The bucket thumbnails are written to."""
        return self._destination

    @property
    def log_bucket(self) -> s3.IBucket | None:
        """The server access log bucket, if this construct uses one."""
        return self._log_bucket

    @property
    def dashboard(self) -> ServiceDashboard | None:
        """The pipeline's dashboard, unless ``dashboard=False``."""
        return self._dashboard

    @property
    def alarms(self):
        """The function's ``FunctionAlarms`` (None only if ``function_props`` turned them off)."""
        return self.function.alarms

    @property
    def failure_queue(self) -> sqs.IQueue | None:
        """Where images that failed every retry are kept, with the error."""
        return self.function.dead_letter_queue
