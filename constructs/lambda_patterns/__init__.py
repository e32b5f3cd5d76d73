"""lambda-patterns: AWS CDK v2 constructs for Lambda services, built in five steps.

policy (``FunctionPolicy``) -> role (``FunctionRole``) -> package (``FunctionPackage``) ->
function (``ServerlessFunction``) -> trigger (``lambda_patterns.triggers``), composed by ``LambdaService``.

Names are imported on first use (PEP 562), so command-line tools of this package (the local runner, the
cost report) start without loading aws-cdk-lib and its jsii runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ApiGatewayTrigger": "lambda_patterns.triggers.api",
    "ClickstreamAnalytics": "lambda_patterns.patterns.clickstream",
    "ConfigurationError": "lambda_patterns.errors",
    "CustomMetrics": "lambda_patterns.operations.dashboard",
    "Deployment": "lambda_patterns.steps.deployment",
    "DynamoDBStreamTrigger": "lambda_patterns.triggers.dynamodb",
    "EventBridgeTrigger": "lambda_patterns.triggers.eventbridge",
    "FunctionAlarms": "lambda_patterns.operations.alarms",
    "FunctionPackage": "lambda_patterns.steps.package",
    "FunctionPolicy": "lambda_patterns.steps.policy",
    "FunctionRole": "lambda_patterns.steps.role",
    "KinesisTrigger": "lambda_patterns.triggers.kinesis",
    "LambdaService": "lambda_patterns.steps.service",
    "PurchaseEventProcessor": "lambda_patterns.patterns.purchase_processor",
    "RecommendationsApi": "lambda_patterns.patterns.recommendations_api",
    "S3Trigger": "lambda_patterns.triggers.s3",
    "ServerlessFunction": "lambda_patterns.steps.function",
    "ServiceDashboard": "lambda_patterns.operations.dashboard",
    "SnsTrigger": "lambda_patterns.triggers.sns",
    "SqsTrigger": "lambda_patterns.triggers.sqs",
    "StreamAggregator": "lambda_patterns.patterns.stream_aggregator",
    "StreamOptions": "lambda_patterns.triggers.stream",
    "ThumbnailPipeline": "lambda_patterns.patterns.thumbnail_pipeline",
    "WebApiBackend": "lambda_patterns.patterns.web_api_backend",
}

__all__ = [
    "ApiGatewayTrigger",
    "ClickstreamAnalytics",
    "ConfigurationError",
    "CustomMetrics",
    "Deployment",
    "DynamoDBStreamTrigger",
    "EventBridgeTrigger",
    "FunctionAlarms",
    "FunctionPackage",
    "FunctionPolicy",
    "FunctionRole",
    "KinesisTrigger",
    "LambdaService",
    "PurchaseEventProcessor",
    "RecommendationsApi",
    "S3Trigger",
    "ServerlessFunction",
    "ServiceDashboard",
    "SnsTrigger",
    "SqsTrigger",
    "StreamAggregator",
    "StreamOptions",
    "ThumbnailPipeline",
    "WebApiBackend",
    "permissions",
]


def __getattr__(name: str) -> Any:
    module = "lambda_patterns.permissions" if name == "permissions" else _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lambda_patterns' has no attribute {name!r}")
    from lambda_patterns._compat import require_aws_cdk_lib

    require_aws_cdk_lib()
    try:
        loaded = importlib.import_module(module)
        value = loaded if name == "permissions" else getattr(loaded, name)
    except AttributeError as error:
        # `from lambda_patterns import X` turns an AttributeError from here into "cannot import name 'X'",
        # hiding the real cause: raise it as an ImportError that names it.
        raise ImportError(f"lambda_patterns.{name} failed to load: {error}", name=module) from error
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:  # for type checkers and IDEs, which do not run __getattr__
    from lambda_patterns import permissions
    from lambda_patterns.errors import ConfigurationError
    from lambda_patterns.operations.alarms import FunctionAlarms
    from lambda_patterns.operations.dashboard import CustomMetrics, ServiceDashboard
    from lambda_patterns.patterns.clickstream import ClickstreamAnalytics
    from lambda_patterns.patterns.purchase_processor import PurchaseEventProcessor
    from lambda_patterns.patterns.stream_aggregator import StreamAggregator
    from lambda_patterns.patterns.thumbnail_pipeline import ThumbnailPipeline
    from lambda_patterns.patterns.web_api_backend import WebApiBackend
    from lambda_patterns.steps.function import ServerlessFunction
    from lambda_patterns.steps.package import FunctionPackage
    from lambda_patterns.steps.policy import FunctionPolicy
    from lambda_patterns.steps.role import FunctionRole
    from lambda_patterns.steps.service import LambdaService
    from lambda_patterns.triggers import (
        ApiGatewayTrigger,
        DynamoDBStreamTrigger,
        EventBridgeTrigger,
        KinesisTrigger,
        S3Trigger,
        SnsTrigger,
        SqsTrigger,
    )
    from lambda_patterns.triggers.stream import StreamOptions
