"""The contract between each use-case construct and its handler, pinned from both sides.

A construct configures its function through environment variables; the handler reads them at cold start.
The handler cannot import the library (it is not in the function package) and the library does not import
the handlers at synth (the thumbnail handler needs Pillow), so the facts both sides state are pinned here:

- every variable a construct sets is one its handler (or a library it uses, such as botocore) reads;
- the construct's defaults are the handler's own defaults (what it assumes when a variable is absent);
- the construct's limits are the handler's: a value the construct accepts, the handler loads as that value;
  a value just past a limit, both refuse.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk.assertions import Template

from conftest import load_handler
from lambda_patterns import (
    ClickstreamAnalytics,
    ConfigurationError,
    PurchaseEventProcessor,
    RecommendationsApi,
    StreamAggregator,
    ThumbnailPipeline,
    WebApiBackend,
    defaults,
)
from lambda_patterns.checks import thumbnail_quality, thumbnail_sizes, web_api_body_size, web_api_page_size
from lambda_patterns.patterns.web_api_schema import VERSION_ATTRIBUTE
from lambda_patterns.resources.streams import mark_ttl_seconds
from synth_helpers import new_app

thumbnailer = load_handler("thumbnail_pipeline", "thumbnailer")
thumbnail_formats = load_handler("thumbnail_pipeline", "formats")
api_config = load_handler("web_api_backend", "api_config")
aggregation = load_handler("stream_aggregator", "aggregation")


class RecordingEnviron(dict):
    """A stand-in for ``os.environ`` that remembers every name looked up in it."""

    def __init__(self, values) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def __getitem__(self, name):
        self.read.add(name)
        return super().__getitem__(name)

    def __contains__(self, name) -> bool:
        self.read.add(name)
        return super().__contains__(name)

    def get(self, name, default=None):
        self.read.add(name)
        return super().get(name, default)


def _placeholders(environment: dict) -> dict[str, str]:
    # Unresolved values (a table's Ref, a queue's URL) are strings in Lambda; any string stands in here.
    return {
        name: value if isinstance(value, str) else f"placeholder-{name.lower()}"
        for name, value in environment.items()
    }


def _environment(build: Callable[[cdk.Stack], object], service: str) -> dict[str, str]:
    """The environment of the function of pattern ``service``, as synthesized."""
    stack = cdk.Stack(new_app(), "S")
    build(stack)
    functions = Template.from_stack(stack).find_resources("AWS::Lambda::Function")
    (environment,) = [
        variables
        for function in functions.values()
        if (variables := function["Properties"].get("Environment", {}).get("Variables", {})).get(
            "SERVICE_NAME"
        )
        == service
    ]
    return _placeholders(environment)


def _names_read_at_cold_start(monkeypatch, handler: str, environment: dict[str, str]) -> set[str]:
    """Import lambda_src/<handler>/handler.py as Lambda would, in ``environment``: the names it looked up."""
    recorder = RecordingEnviron({**environment, "AWS_DEFAULT_REGION": "us-east-1"})
    with monkeypatch.context() as patch:
        patch.setattr(os, "environ", recorder)
        # A boto3 session made now would keep the recorder as its environment after the test.
        patch.setattr(boto3, "DEFAULT_SESSION", None)
        load_handler(handler)
    return recorder.read


PATTERNS = {
    "thumbnail_pipeline": (lambda stack: ThumbnailPipeline(stack, "Thumbs"), "Thumbs"),
    "web_api_backend": (lambda stack: WebApiBackend(stack, "Api", cors_allow_origin="*"), "Api"),
    "clickstream": (lambda stack: ClickstreamAnalytics(stack, "Clicks"), "Clicks"),
    "stream_aggregator": (
        lambda stack: StreamAggregator(
            stack, "Orders", dimensions=["region"], value_attribute="amount", time_attribute="at"
        ),
        "Orders",
    ),
    "purchase_processor": (lambda stack: PurchaseEventProcessor(stack, "Purchases"), "Purchases"),
    "recommendations_api": (
        lambda stack: RecommendationsApi(
            stack, "Recs", aggregates_table=PurchaseEventProcessor(stack, "P").aggregates_table
        ),
        "Recs",
    ),
}


@pytest.mark.parametrize("handler", sorted(PATTERNS))
def test_every_variable_a_construct_sets_is_read_by_its_handler(monkeypatch, handler):
    build, service = PATTERNS[handler]
    environment = _environment(build, service)

    read = _names_read_at_cold_start(monkeypatch, handler, environment)

    assert sorted(set(environment) - read) == []


# --- the thumbnail pipeline -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def thumbnail_environment() -> dict[str, str]:
    return _environment(PATTERNS["thumbnail_pipeline"][0], "Thumbs")


def test_thumbnail_defaults_are_the_handlers():
    assert thumbnailer.parse_settings({}) == thumbnailer.Settings(
        sizes=tuple(sorted(defaults.THUMBNAIL_SIZES)),
        output_format=defaults.THUMBNAIL_FORMAT,
        quality=defaults.THUMBNAIL_QUALITY,
        max_pixels=defaults.THUMBNAIL_MAX_PIXELS,
        max_bytes=defaults.THUMBNAIL_MAX_BYTES,
        input_formats=defaults.THUMBNAIL_INPUT_FORMATS,
    )


def test_thumbnail_destination_prefix_default_is_the_handlers(monkeypatch):
    recorder = RecordingEnviron({"DEST_BUCKET": "thumbs", "AWS_DEFAULT_REGION": "us-east-1"})
    with monkeypatch.context() as patch:
        patch.setattr(os, "environ", recorder)
        patch.setattr(boto3, "DEFAULT_SESSION", None)
        handler = load_handler("thumbnail_pipeline")

    assert handler.DEST_PREFIX == defaults.THUMBNAIL_PREFIX


def test_thumbnail_limits_are_the_handlers():
    assert (thumbnail_sizes.MIN_SIZE, thumbnail_sizes.MAX_SIZE) == (
        thumbnailer.MIN_SIZE,
        thumbnailer.MAX_SIZE,
    )
    assert (thumbnail_quality.MIN_QUALITY, thumbnail_quality.MAX_QUALITY) == (
        thumbnailer.MIN_QUALITY,
        thumbnailer.MAX_QUALITY,
    )
    assert defaults.THUMBNAIL_FORMATS == thumbnailer.OUTPUT_FORMATS
    assert defaults.THUMBNAIL_INPUT_FORMATS == thumbnail_formats.INPUT_FORMATS


def test_thumbnail_formats_kept_out_are_ones_the_handler_cannot_read():
    assert set(defaults.THUMBNAIL_REFUSED_FORMATS).isdisjoint(thumbnail_formats.INPUT_FORMATS)


@pytest.mark.parametrize(
    "props",
    [
        {"sizes": [1, 10_000], "quality": 1, "output_format": "webp", "max_pixels": 1, "max_bytes": 1},
        {"sizes": [640, 64, 640], "quality": 100, "output_format": "auto", "input_formats": ("png", "heif")},
        {"sizes": [128], "output_format": "avif", "input_formats": ("jpeg",)},
    ],
)
def test_thumbnail_settings_the_construct_accepts_are_what_the_handler_loads(props):
    environment = _environment(lambda stack: ThumbnailPipeline(stack, "Thumbs", **props), "Thumbs")

    settings = thumbnailer.parse_settings(environment)

    expected = {**props, "sizes": tuple(sorted(set(props["sizes"])))}
    assert {name: getattr(settings, name) for name in expected} == expected


@pytest.mark.parametrize(
    "prop,value,variable,written",
    [
        ("sizes", [0], "SIZES", "0"),
        ("sizes", [10_001], "SIZES", "10001"),
        ("quality", 0, "QUALITY", "0"),
        ("quality", 101, "QUALITY", "101"),
        ("output_format", "gif", "OUTPUT_FORMAT", "gif"),
        ("input_formats", ["jpeg", "psd"], "INPUT_FORMATS", "jpeg,psd"),
        ("input_formats", [], "INPUT_FORMATS", ""),
        ("max_pixels", 0, "MAX_PIXELS", "0"),
        ("max_bytes", 0, "MAX_BYTES", "0"),
    ],
)
def test_thumbnail_settings_past_a_limit_are_refused_by_both(
    thumbnail_environment, prop, value, variable, written
):
    with pytest.raises(ConfigurationError):
        ThumbnailPipeline(cdk.Stack(new_app(), "S"), "Thumbs", **{prop: value})
    with pytest.raises(thumbnailer.SettingsError):
        thumbnailer.parse_settings({**thumbnail_environment, variable: written})


# --- the web API backend ----------------------------------------------------------------------------------


def test_web_api_defaults_are_the_handlers():
    settings = api_config.load_settings({})

    assert (settings.resource, settings.key_name, settings.schema) == (
        defaults.WEB_API_RESOURCE,
        defaults.WEB_API_KEY_NAME,
        defaults.WEB_API_ITEM_SCHEMA,
    )
    assert (settings.max_body_bytes, settings.page_size) == (
        defaults.WEB_API_MAX_BODY_BYTES,
        defaults.WEB_API_PAGE_SIZE,
    )
    assert settings.cors_allow_origin is None


def test_web_api_limits_are_the_handlers():
    assert web_api_body_size.MAX_BODY_BYTES == api_config.APIGW_MAX_BODY_BYTES
    assert web_api_page_size.MAX_PAGE_SIZE == api_config.MAX_PAGE_SIZE
    assert VERSION_ATTRIBUTE == api_config.VERSION_ATTRIBUTE


@pytest.mark.parametrize(
    "props",
    [
        {"max_body_bytes": 1, "page_size": 1, "resource_name": "a", "key_name": "k"},
        {
            "max_body_bytes": web_api_body_size.MAX_BODY_BYTES,
            "page_size": web_api_page_size.MAX_PAGE_SIZE,
            "resource_name": "books.v2_x-y",
            "key_name": "isbn",
            "cors_allow_origin": "https://shop.example.com",
            "item_schema": {
                "type": "object",
                "required": ["isbn"],
                "properties": {"isbn": {"type": "string"}},
            },
        },
    ],
)
def test_web_api_settings_the_construct_accepts_are_what_the_handler_loads(props):
    environment = _environment(lambda stack: WebApiBackend(stack, "Api", **props), "Api")

    settings = api_config.load_settings(environment)

    loaded = {
        "max_body_bytes": settings.max_body_bytes,
        "page_size": settings.page_size,
        "resource_name": settings.resource,
        "key_name": settings.key_name,
        "cors_allow_origin": settings.cors_allow_origin,
        "item_schema": json.loads(json.dumps(settings.schema, default=int)),
    }
    assert {name: loaded[name] for name in props} == props


@pytest.mark.parametrize(
    "prop,value,variable",
    [
        ("max_body_bytes", 0, "MAX_BODY_BYTES"),
        ("max_body_bytes", web_api_body_size.MAX_BODY_BYTES + 1, "MAX_BODY_BYTES"),
        ("page_size", 0, "PAGE_SIZE"),
        ("page_size", web_api_page_size.MAX_PAGE_SIZE + 1, "PAGE_SIZE"),
        ("key_name", VERSION_ATTRIBUTE, "KEY_NAME"),
        ("resource_name", "shop/items", "RESOURCE"),
    ],
)
def test_web_api_settings_past_a_limit_are_refused_by_both(prop, value, variable):
    with pytest.raises(ConfigurationError):
        WebApiBackend(cdk.Stack(new_app(), "S"), "Api", **{prop: value})
    with pytest.raises(ValueError):
        api_config.load_settings({variable: str(value)})


# --- the stream aggregator --------------------------------------------------------------------------------


def test_aggregate_buckets_are_the_handlers():
    assert defaults.AGGREGATE_BUCKETS == aggregation.BUCKETS
    assert aggregation.Config(dimensions=("d",), value_attribute="v", time_attribute="t").bucket == (
        defaults.AGGREGATE_BUCKET
    )


def test_stream_consumers_keep_marks_as_long_by_default_as_the_constructs_set_for_dynamodb_streams():
    from lambda_common.marks import DEFAULT_MARK_TTL_SECONDS  # on sys.path since the handlers loaded

    assert mark_ttl_seconds(defaults.DYNAMODB_STREAM_RETENTION) == DEFAULT_MARK_TTL_SECONDS
