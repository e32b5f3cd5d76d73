"""The pattern builder (pattern_function) and the patterns' own synth-time checks.

The checks are plain functions of plain values: their tables run without synthesizing anything.
"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from lambda_patterns import ConfigurationError, ServerlessFunction
from lambda_patterns.checks.aggregator_attributes import check_aggregated_attributes
from lambda_patterns.checks.aggregator_bucket import check_bucket
from lambda_patterns.checks.aggregator_dimensions import check_dimensions
from lambda_patterns.checks.aggregator_window import check_aggregator_window
from lambda_patterns.checks.retention_days import check_retention_days
from lambda_patterns.checks.shard_order import check_shard_order
from lambda_patterns.checks.thumbnail_caps import check_input_caps
from lambda_patterns.checks.thumbnail_format import check_output_format
from lambda_patterns.checks.thumbnail_prefix import check_destination_prefix
from lambda_patterns.checks.thumbnail_quality import check_thumbnail_quality
from lambda_patterns.checks.thumbnail_sizes import check_thumbnail_sizes
from lambda_patterns.checks.web_api_body_size import check_max_body_bytes
from lambda_patterns.checks.web_api_cors import check_cors_origin
from lambda_patterns.checks.web_api_environment import check_environment_size
from lambda_patterns.checks.web_api_key import check_key_name
from lambda_patterns.checks.web_api_page_size import check_page_size
from lambda_patterns.checks.web_api_resource import check_resource_name
from lambda_patterns.checks.web_api_routes import check_routes
from lambda_patterns.checks.web_api_table_key import check_table_key
from lambda_patterns.patterns.pattern_function import (
    MAPPING_INVOKED,
    build_pattern_function,
    function_environment,
)
from synth_helpers import new_app

WHERE = "Pattern S/P"
ROUTES = {"collection": ("GET", "POST"), "item": ("GET", "PUT", "PATCH", "DELETE")}

# (check, arguments after ``where``, the message after "<where>: ", or None when accepted, the code)
CASES = [
    (check_thumbnail_sizes, ([128, 256],), None, ""),
    (check_thumbnail_sizes, ([1, 10_000],), None, ""),
    (
        check_thumbnail_sizes,
        ([],),
        "sizes must name at least one thumbnail size",
        "LambdaPatterns.Thumbnail.Sizes",
    ),
    (
        check_thumbnail_sizes,
        ([128, 0, 10_001, 1.5],),
        "sizes must be whole pixels from 1 to 10000, got [0, 10001, 1.5]",
        "LambdaPatterns.Thumbnail.Sizes",
    ),
    (check_output_format, ("auto",), None, ""),
    (check_output_format, ("webp",), None, ""),
    (
        check_output_format,
        ("gif",),
        "output_format must be one of ('auto', 'webp', 'avif'), got 'gif'",
        "LambdaPatterns.Thumbnail.OutputFormat",
    ),
    (check_thumbnail_quality, (1,), None, ""),
    (check_thumbnail_quality, (100,), None, ""),
    (
        check_thumbnail_quality,
        (0,),
        "quality must be between 1 and 100, got 0",
        "LambdaPatterns.Thumbnail.Quality",
    ),
    (
        check_thumbnail_quality,
        (101,),
        "quality must be between 1 and 100, got 101",
        "LambdaPatterns.Thumbnail.Quality",
    ),
    (check_input_caps, (1, 1), None, ""),
    (
        check_input_caps,
        (0, 1),
        "max_pixels and max_bytes must be positive",
        "LambdaPatterns.Thumbnail.InputCaps",
    ),
    (
        check_input_caps,
        (1, -1),
        "max_pixels and max_bytes must be positive",
        "LambdaPatterns.Thumbnail.InputCaps",
    ),
    (check_destination_prefix, ("thumbnails/",), None, ""),
    (
        check_destination_prefix,
        ("thumbs",),
        "destination_prefix must be a folder ending in '/', got 'thumbs'",
        "LambdaPatterns.Thumbnail.DestinationPrefix",
    ),
    (
        check_destination_prefix,
        ("",),
        "destination_prefix must be a folder ending in '/', got ''",
        "LambdaPatterns.Thumbnail.DestinationPrefix",
    ),
    (check_routes, ({"item": ["GET"]}, ROUTES), None, ""),
    (
        check_routes,
        ({"items": ["GET"]}, ROUTES),
        "routes keys must be among ['collection', 'item'], got ['items']",
        "LambdaPatterns.WebApi.Routes",
    ),
    (
        check_routes,
        ({"item": ["POST"]}, ROUTES),
        "routes['item'] methods must be among ('GET', 'PUT', 'PATCH', 'DELETE'), got ['POST']",
        "LambdaPatterns.WebApi.Routes",
    ),
    (
        check_routes,
        ({"collection": [], "item": []}, ROUTES),
        "routes must enable at least one method",
        "LambdaPatterns.WebApi.Routes",
    ),
    (check_routes, ({}, ROUTES), "routes must enable at least one method", "LambdaPatterns.WebApi.Routes"),
    (check_resource_name, ("books_v2.1-x",), None, ""),
    (
        check_resource_name,
        ("shop/items",),
        "resource_name must be one path segment of letters, digits, '.', '_' or '-', got 'shop/items'",
        "LambdaPatterns.WebApi.ResourceName",
    ),
    (
        check_resource_name,
        ("",),
        "resource_name must be one path segment of letters, digits, '.', '_' or '-', got ''",
        "LambdaPatterns.WebApi.ResourceName",
    ),
    (check_key_name, ("isbn", "version"), None, ""),
    (
        check_key_name,
        ("", "version"),
        "key_name must name the table's partition key",
        "LambdaPatterns.WebApi.KeyName",
    ),
    (
        check_key_name,
        ("version", "version"),
        "key_name cannot be 'version': the handler keeps each item's version there",
        "LambdaPatterns.WebApi.KeyName",
    ),
    (check_max_body_bytes, (10 * 1024 * 1024,), None, ""),
    (
        check_max_body_bytes,
        (0,),
        "max_body_bytes must be between 1 and 10485760, got 0",
        "LambdaPatterns.WebApi.MaxBodyBytes",
    ),
    (
        check_max_body_bytes,
        (10 * 1024 * 1024 + 1,),
        "max_body_bytes must be between 1 and 10485760, got 10485761",
        "LambdaPatterns.WebApi.MaxBodyBytes",
    ),
    (check_page_size, (100,), None, ""),
    (
        check_page_size,
        (101,),
        "page_size must be between 1 and 100, got 101",
        "LambdaPatterns.WebApi.PageSize",
    ),
    (check_page_size, (0,), "page_size must be between 1 and 100, got 0", "LambdaPatterns.WebApi.PageSize"),
    (check_cors_origin, (None,), None, ""),
    (check_cors_origin, ("*",), None, ""),
    (check_cors_origin, ("http://localhost:3000",), None, ""),
    (
        check_cors_origin,
        ("https://shop.example.com/",),
        "cors_allow_origin must be '*' or one origin such as 'https://app.example.com' "
        "(scheme and host, no path), got 'https://shop.example.com/'",
        "LambdaPatterns.WebApi.CorsOrigin",
    ),
    (
        check_cors_origin,
        ("https://*.example.com",),
        "cors_allow_origin must be '*' or one origin such as 'https://app.example.com' "
        "(scheme and host, no path), got 'https://*.example.com'",
        "LambdaPatterns.WebApi.CorsOrigin",
    ),
    (check_table_key, ("id", {"HASH": "id"}, {"id": "S"}), None, ""),
    (
        check_table_key,
        ("id", {"HASH": "pk"}, {"pk": "S"}),
        "existing_table_obj must have the string partition key 'id' and no sort key; it has HASH pk (S)",
        "LambdaPatterns.WebApi.TableKey",
    ),
    (
        check_table_key,
        ("id", {"HASH": "id", "RANGE": "sk"}, {"id": "S", "sk": "N"}),
        "existing_table_obj must have the string partition key 'id' and no sort key; "
        "it has HASH id (S), RANGE sk (N)",
        "LambdaPatterns.WebApi.TableKey",
    ),
    (
        check_table_key,
        ("id", {"HASH": "id"}, {"id": "N"}),
        "existing_table_obj must have the string partition key 'id' and no sort key; it has HASH id (N)",
        "LambdaPatterns.WebApi.TableKey",
    ),
    (check_environment_size, ({"ITEM_SCHEMA": "x" * 4085},), None, ""),
    (
        check_environment_size,
        ({"ITEM_SCHEMA": "x" * 4086},),
        "the function's environment would take up to 4097 bytes, above Lambda's 4096; ITEM_SCHEMA alone "
        "is 4086 bytes, so shorten item_schema (drop descriptions, titles)",
        "LambdaPatterns.WebApi.EnvironmentSize",
    ),
    (check_dimensions, (["region", "sku"],), None, ""),
    (
        check_dimensions,
        ([],),
        "dimensions must name at least one attribute, without commas",
        "LambdaPatterns.Aggregator.Dimensions",
    ),
    (
        check_dimensions,
        (["region", ""],),
        "dimensions must name at least one attribute, without commas",
        "LambdaPatterns.Aggregator.Dimensions",
    ),
    (
        check_dimensions,
        (["a,b"],),
        "dimensions must name at least one attribute, without commas",
        "LambdaPatterns.Aggregator.Dimensions",
    ),
    (check_aggregated_attributes, ("amount", "at"), None, ""),
    (
        check_aggregated_attributes,
        ("amount", ""),
        "value_attribute and time_attribute are required",
        "LambdaPatterns.Aggregator.Attributes",
    ),
    (
        check_aggregated_attributes,
        ("", "at"),
        "value_attribute and time_attribute are required",
        "LambdaPatterns.Aggregator.Attributes",
    ),
    (check_bucket, ("minute",), None, ""),
    (
        check_bucket,
        ("week",),
        "bucket must be one of ('minute', 'hour', 'day'), got 'week'",
        "LambdaPatterns.Aggregator.Bucket",
    ),
    (check_aggregator_window, (cdk.Duration.seconds(1),), None, ""),
    (
        check_aggregator_window,
        (None,),
        "stream_options needs a tumbling_window (any length, e.g. Duration.seconds(1)): it makes Lambda "
        "name the shard, so sequence-number marks are kept per shard",
        "LambdaPatterns.Aggregator.TumblingWindow",
    ),
    (check_retention_days, (0,), None, ""),
    (check_retention_days, (30,), None, ""),
    (
        check_retention_days,
        (-1,),
        "retention_days must be 0 (keep) or more, got -1",
        "LambdaPatterns.Analytics.RetentionDays",
    ),
    (check_shard_order, (1,), None, ""),
    (
        check_shard_order,
        (2,),
        "parallelization_factor must stay 1: the exactly-once guard relies on per-shard order",
        "LambdaPatterns.Analytics.ShardOrder",
    ),
]


@pytest.mark.parametrize(
    "check,args,message,code",
    CASES,
    ids=[f"{check.__name__}-{n}" for n, (check, *_) in enumerate(CASES)],
)
def test_pattern_checks(check, args, message, code):
    if message is None:
        check(WHERE, *args)
        return

    with pytest.raises(ConfigurationError) as error:
        check(WHERE, *args)

    assert str(error.value) == f"{WHERE}: {message}"
    assert error.value.code == code


def test_environment_size_counts_a_token_as_the_longest_table_name():
    stack = cdk.Stack(new_app(), "S")
    token = sns.Topic(stack, "T").topic_name  # any unresolved value

    check_environment_size(WHERE, {"ITEM_SCHEMA": "x" * (4096 - 11 - 10 - 255), "TABLE_NAME": token})
    with pytest.raises(ConfigurationError, match="would take up to 4097 bytes"):
        check_environment_size(WHERE, {"ITEM_SCHEMA": "x" * (4096 - 11 - 10 - 254), "TABLE_NAME": token})


# --- build_pattern_function -----------------------------------------------------------------------------


class _Pattern(cdk.Stack):
    """Stands in for a use-case construct: the scope whose id becomes SERVICE_NAME."""


def _build(**overrides):
    stack = _Pattern(new_app(), "Orders")
    props = {
        "where": "Pattern Orders",
        "handler": "hello",
        "description": "Says hello",
        "permissions": [],
        "environment": {"GREETING": "hi"},
        "function_props": None,
        **overrides,
    }
    built = build_pattern_function(stack, **props)
    return built, Template.from_stack(stack)


def test_a_pattern_function_runs_its_handler_with_lambda_common_alarms_and_its_service_name():
    built, template = _build()

    assert isinstance(built.function, ServerlessFunction)
    assert built.package.node.path == "Orders/Package"
    assert built.function.node.path == "Orders/Function"
    assert built.function.alarms is not None
    assert built.function.service_name == "Orders"
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Description": "Says hello",
            "Environment": {"Variables": {"SERVICE_NAME": "Orders", "GREETING": "hi"}},
        },
    )
    template.resource_count_is("AWS::CloudWatch::Alarm", 4)  # errors, throttles, duration, failure queue


def test_function_props_are_merged_over_the_pattern_defaults():
    built, template = _build(
        default_props=MAPPING_INVOKED, function_props={"alarms": False, "reserved_concurrency": 3}
    )

    assert built.function.alarms is None
    assert built.function.dead_letter_queue is None  # MAPPING_INVOKED: no async failure queue
    template.resource_count_is("AWS::CloudWatch::Alarm", 0)
    template.has_resource_properties("AWS::Lambda::Function", {"ReservedConcurrentExecutions": 3})


def test_function_props_may_override_default_props():
    built, _ = _build(default_props=MAPPING_INVOKED, function_props={"async_failure": "destination"})

    assert built.function.dead_letter_queue is not None


def test_alarms_notify_the_alarm_topic():
    stack = _Pattern(new_app(), "Orders")
    pager = sns.Topic(stack, "Pager")
    build_pattern_function(
        stack,
        where="Pattern Orders",
        handler="hello",
        description="Says hello",
        permissions=[],
        environment={},
        function_props=None,
        alarm_topic=pager,
    )

    alarms = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    assert alarms
    assert all(
        alarm["Properties"]["AlarmActions"] == [{"Ref": stack.get_logical_id(pager.node.default_child)}]
        for alarm in alarms.values()
    )


@pytest.mark.parametrize(
    "function_props,clash",
    [
        ({"environment": {}}, "environment"),
        ({"code": None, "description": "x"}, "code, description"),
        ({"permissions": []}, "permissions"),
        ({"memory_size": 2048}, "memory_size"),
    ],
)
def test_function_props_cannot_set_what_the_pattern_sets(function_props, clash):
    with pytest.raises(ConfigurationError) as error:
        _build(fixed_props={"memory_size": 1024}, function_props=function_props)

    verb = "it" if "," not in clash else "them"
    assert str(error.value) == (
        f"Pattern Orders: function_props cannot set {clash}: this construct sets {verb} itself "
        "(use its own props, e.g. memory_size, where it has them)"
    )


def test_fixed_props_reach_the_function():
    built, template = _build(fixed_props={"memory_size": 1024, "timeout": cdk.Duration.seconds(60)})

    assert (built.function.memory_size, built.function.timeout.to_seconds()) == (1024, 60)
    template.has_resource_properties("AWS::Lambda::Function", {"MemorySize": 1024, "Timeout": 60})


def test_function_environment_puts_the_service_name_first():
    assert list(function_environment("Orders", {"A": "1", "B": "2"}).items()) == [
        ("SERVICE_NAME", "Orders"),
        ("A", "1"),
        ("B", "2"),
    ]
