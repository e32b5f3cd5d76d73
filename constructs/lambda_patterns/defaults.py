"""Every default of lambda-patterns in one place, so a reviewer can read the library's stance at a glance.

Constructs import these values; none of them repeats a literal default of its own.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

# Step 4: the function.
#: The newest Python runtime this aws-cdk-lib knows; cdk-nag's AwsSolutions-L1 asks for the latest.
RUNTIME = lambda_.Runtime.PYTHON_3_14
#: Graviton: 20% cheaper per GB-second than x86_64 at the same memory.
ARCHITECTURE = lambda_.Architecture.ARM_64
MEMORY_MB = 512
TIMEOUT = Duration.seconds(30)
TRACING = lambda_.Tracing.ACTIVE
#: Log groups expire; a group that outlives its function keeps costing money (Solutions Constructs #316).
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
LOG_REMOVAL_POLICY = RemovalPolicy.DESTROY
#: Async invocations: Lambda's own default is 2 retries; failures then go to the on-failure destination.
ASYNC_RETRY_ATTEMPTS = 2
ASYNC_MAX_EVENT_AGE = Duration.hours(6)

# Limits Lambda enforces, checked at synth time so that the error appears before a deployment does.
TIMEOUT_MIN_S = 1
TIMEOUT_MAX_S = 900
MEMORY_MIN_MB = 128
MEMORY_MAX_MB = 10_240

# Step 5: stream and queue triggers.
BATCH_SIZE = 100
SQS_BATCH_SIZE = 10
STREAM_RETRY_ATTEMPTS = 3
STREAM_MAX_RECORD_AGE = Duration.hours(1)
# Stream consumers keep a mark item per aggregate and shard (exactly once under redelivery). A mark is
# needed only while its stream can deliver the records it covers again: the stream's retention (DynamoDB
# streams: 24 hours, fixed; Kinesis: 24 hours by default, up to 365 days), plus a day so a mark never
# expires under a late retry. Expired marks are deleted by the table's TTL.
DYNAMODB_STREAM_RETENTION = Duration.hours(24)
KINESIS_DEFAULT_RETENTION = Duration.hours(24)
KINESIS_MAX_RETENTION = Duration.days(365)
MARK_TTL_MARGIN = Duration.days(1)
STREAM_BISECT_BATCH_ON_ERROR = True
REPORT_BATCH_ITEM_FAILURES = True
MAX_BATCHING_WINDOW = Duration.seconds(1)
#: SQS: a message that fails this many receives moves to the dead-letter queue.
SQS_MAX_RECEIVE_COUNT = 3
#: The queue's visibility timeout must cover the function's timeout several times over (AWS guidance: 6x).
SQS_VISIBILITY_TIMEOUT_FACTOR = 6
#: SQS's own visibility timeout for a queue that sets none: what an existing queue is checked against.
SQS_DEFAULT_VISIBILITY_TIMEOUT_S = 30

# The hardened profile (README, "Rule packs").
#: Every function's reserved concurrency unless ``reserved_concurrency`` says otherwise: a cap on what one
#: function can take from the account's pool, and a floor it always has. Lambda keeps 100 of the account's
#: concurrency unreserved, so an account at its initial quota (10 in some new accounts) cannot reserve any.
HARDENED_RESERVED_CONCURRENCY = 10
#: The stack's VPC spans two Availability Zones: a function keeps running when one fails.
HARDENED_MAX_AZS = 2
#: A literal range (not the VPC's attribute) so rule packs can read the endpoints' inbound rule.
HARDENED_VPC_CIDR = "10.0.0.0/16"
FLOW_LOG_RETENTION = logs.RetentionDays.THREE_MONTHS

# Dead-letter and on-failure queues.
DLQ_RETENTION = Duration.days(14)

# Step 3: the package.
#: The platform tags pip may pick for Lambda, newest first; manylinux_2_28 only from Python 3.12 (AL2023).
MANYLINUX_TAGS = ("manylinux_2_28", "manylinux2014")
PACKAGE_EXCLUDES = ("__pycache__", "*.pyc", "tests", ".pytest_cache", "requirements.txt")
#: Where the install step keeps wheels for synth; unset means pip asks its configured index.
WHEELHOUSE_ENV = "LAMBDA_PATTERNS_WHEELHOUSE"
#: Where built packages are kept between synths (``off``: nowhere). Unset: under the user's cache folder.
CACHE_ENV = "LAMBDA_PATTERNS_CACHE"

#: What happens to an async event that failed every retry: kept in an SQS queue with the error.
ASYNC_FAILURE = "destination"
ALIAS_NAME = "live"

# API Gateway.
API_THROTTLE_RATE = 100
API_THROTTLE_BURST = 200
API_STAGE = "prod"
API_LOG_RETENTION = logs.RetentionDays.THREE_MONTHS

# S3 buckets (AWS Solutions Constructs' stance: encrypted, versioned, private, SSL-only, access-logged, kept).
BUCKET_REMOVAL_POLICY = RemovalPolicy.RETAIN
ACCESS_LOG_RETENTION = Duration.days(90)

# The thumbnail pipeline.
THUMBNAIL_SIZES = (128, 256, 1024)
#: Output: ``auto`` is JPEG, or PNG where there is transparency; ``webp`` and ``avif`` write every thumbnail so.
THUMBNAIL_FORMATS = ("auto", "webp", "avif")
#: What a photo-sharing product receives: camera and web formats, the iPhone's HEIC and Android's AVIF,
#: scanners' and desktops' TIFF and BMP. All of them are on by default; ``input_formats`` narrows the list.
THUMBNAIL_INPUT_FORMATS = ("jpeg", "png", "gif", "webp", "avif", "heif", "tiff", "bmp")
#: Formats that stay out, and why: each would add a large decoder to the attack surface of a function fed
#: by strangers, for files no camera or photo upload produces. The synth check quotes the reason.
THUMBNAIL_REFUSED_FORMATS = {
    "psd": "Photoshop documents are layered work files, not photos; the decoder is large and rarely exercised",
    "eps": "EPS is PostScript, a program: Pillow runs Ghostscript to render it",
    "pdf": "a PDF is a document; rendering one needs a PDF engine, not an image decoder",
    "ico": "icons are tiny multi-image containers that no camera or photo upload produces",
    "jpeg2000": "JPEG 2000 (OpenJPEG) is a large decoder with a long CVE history and no phone or camera uses it",
    "jpegxl": "no phone or camera writes JPEG XL yet, and it needs a decoder Pillow does not include",
    "raw": "camera RAW needs a demosaicing decoder (libraw); cameras also write a JPEG for sharing",
}
THUMBNAIL_FORMAT = "auto"
THUMBNAIL_QUALITY = 85
THUMBNAIL_PREFIX = "thumbnails/"
#: CPU-bound work: 1024 MB buys about 0.58 vCPU and holds the largest image the caps admit.
THUMBNAIL_MEMORY_MB = 1024
THUMBNAIL_TIMEOUT = Duration.seconds(60)
THUMBNAIL_MAX_PIXELS = 50_000_000
THUMBNAIL_MAX_BYTES = 50 * 1024 * 1024

# Operations: alarms and dashboards (issue 7).
#: Every alarm looks at this window; one evaluation period, so a page arrives within about five minutes.
ALARM_PERIOD = Duration.minutes(5)
ALARM_EVALUATION_PERIODS = 1
#: Any error or throttle in a period is worth a look: each is a failed or delayed event.
ERRORS_THRESHOLD = 1
THROTTLES_THRESHOLD = 1
#: p99 duration above this share of the timeout: the slowest invocations are about to time out.
DURATION_TIMEOUT_RATIO = 0.8
DURATION_STATISTIC = "p99"
#: Stream consumers: the oldest record of a batch older than this means the function is falling behind.
#: Well below STREAM_MAX_RECORD_AGE (1 hour), after which records are discarded to the failure queue.
ITERATOR_AGE_THRESHOLD = Duration.minutes(5)
#: A message in a dead-letter or on-failure queue is an event that was not processed: alarm on the first.
QUEUE_DEPTH_THRESHOLD = 0
#: Dashboards show the last day unless the viewer picks another range.
DASHBOARD_RANGE = Duration.hours(24)
DASHBOARD_WIDGET_WIDTH = 8
DASHBOARD_WIDGET_HEIGHT = 6

# Cold start controls.
#: Provisioned concurrency auto-scaling keeps the alias's utilisation near this share.
PROVISIONED_UTILIZATION_TARGET = 0.7

# DynamoDB tables (Solutions Constructs' stance: on-demand, encrypted, point-in-time recovery, kept).
TABLE_REMOVAL_POLICY = RemovalPolicy.RETAIN
TABLE_TTL_ATTRIBUTE = "expires_at"

# Analytics.
AGGREGATE_BUCKET = "hour"
AGGREGATE_BUCKETS = ("minute", "hour", "day")
#: A tumbling window makes Lambda name the shard in each event, so idempotency marks are kept per shard.
AGGREGATOR_TUMBLING_WINDOW = Duration.seconds(1)
CLICK_STREAM_MODE = "on_demand"
CLICKS_PATH = "clicks"
PURCHASE_MAX_RECEIVE_COUNT = 3

# The web backend (API Gateway -> Lambda -> DynamoDB, issue 5).
WEB_API_RESOURCE = "items"
WEB_API_KEY_NAME = "id"
#: The handler's own default: any JSON object.
WEB_API_ITEM_SCHEMA = {"type": "object"}
#: Every CRUD route; ``collection`` is ``/<resource>``, ``item`` is ``/<resource>/{id}``.
WEB_API_ROUTES = {"collection": ("GET", "POST"), "item": ("GET", "PUT", "PATCH", "DELETE")}
WEB_API_MAX_BODY_BYTES = 64 * 1024
WEB_API_PAGE_SIZE = 25
#: API Gateway stops waiting after 29 seconds; a function that runs on bills for an answer nobody reads.
WEB_API_TIMEOUT = Duration.seconds(29)
WEB_API_METRICS_NAMESPACE = "LambdaPatterns/WebApi"
#: The body media types API Gateway checks against the models; the handler parses both as JSON.
WEB_API_CONTENT_TYPES = ("application/json", "application/merge-patch+json")
#: Headers a browser may send: CDK's defaults (SigV4's among them) plus the handler's preconditions.
WEB_API_CORS_ALLOW_HEADERS = (
    "Content-Type",
    "X-Amz-Date",
    "Authorization",
    "X-Api-Key",
    "X-Amz-Security-Token",
    "X-Amz-User-Agent",
    "If-Match",
    "If-None-Match",
)
WEB_API_CORS_MAX_AGE = Duration.minutes(10)
#: Lambda's limit on a function's environment variables, names and values together.
LAMBDA_ENVIRONMENT_MAX_BYTES = 4096

# The recommendations API (co-purchases from the purchase processor).
RECOMMENDATIONS_DEFAULT_LIMIT = 10
RECOMMENDATIONS_MAX_LIMIT = 50

# HTTP APIs (API Gateway v2, ``SecureHttpApi``); throttling and log retention as REST APIs above.
#: The stage served at the API's root URL, deployed on every change.
HTTP_API_STAGE = "$default"
#: The web backend's API: a REST API, which validates request bodies against the item schema.
WEB_API_TYPE = "rest"
