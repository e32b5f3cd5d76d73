"""lambda-patterns: AWS CDK v2 constructs for Lambda services, built in five steps.

policy (``FunctionPolicy``) -> role (``FunctionRole``) -> package (``FunctionPackage``) ->
function (``ServerlessFunction``) -> trigger (``lambda_patterns.triggers``), composed by ``LambdaService``.
"""

from lambda_patterns import permissions
from lambda_patterns.clickstream import ClickstreamAnalytics
from lambda_patterns.errors import ConfigurationError
from lambda_patterns.function import ServerlessFunction
from lambda_patterns.package import FunctionPackage
from lambda_patterns.policy import FunctionPolicy
from lambda_patterns.purchase_processor import PurchaseEventProcessor
from lambda_patterns.role import FunctionRole
from lambda_patterns.service import LambdaService
from lambda_patterns.stream_aggregator import StreamAggregator
from lambda_patterns.thumbnail_pipeline import ThumbnailPipeline
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
from lambda_patterns.web_api_backend import WebApiBackend

__all__ = [
    "ApiGatewayTrigger",
    "ClickstreamAnalytics",
    "ConfigurationError",
    "DynamoDBStreamTrigger",
    "EventBridgeTrigger",
    "FunctionPackage",
    "FunctionPolicy",
    "FunctionRole",
    "KinesisTrigger",
    "LambdaService",
    "PurchaseEventProcessor",
    "S3Trigger",
    "ServerlessFunction",
    "SnsTrigger",
    "SqsTrigger",
    "StreamAggregator",
    "StreamOptions",
    "ThumbnailPipeline",
    "WebApiBackend",
    "permissions",
]
