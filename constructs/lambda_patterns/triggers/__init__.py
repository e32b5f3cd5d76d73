"""Step 5: triggers. Each wires one event source to a ``ServerlessFunction`` with failure handling on."""

from lambda_patterns.triggers.api import ApiGatewayTrigger
from lambda_patterns.triggers.dynamodb import DynamoDBStreamTrigger
from lambda_patterns.triggers.eventbridge import EventBridgeTrigger
from lambda_patterns.triggers.kinesis import KinesisTrigger
from lambda_patterns.triggers.s3 import S3Trigger
from lambda_patterns.triggers.sns import SnsTrigger
from lambda_patterns.triggers.sqs import SqsTrigger

__all__ = [
    "ApiGatewayTrigger",
    "DynamoDBStreamTrigger",
    "EventBridgeTrigger",
    "KinesisTrigger",
    "S3Trigger",
    "SnsTrigger",
    "SqsTrigger",
]
