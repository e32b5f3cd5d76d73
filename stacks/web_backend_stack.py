"""WebBackendStack: a REST API over an ``items`` table, one function behind every route."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from lambda_patterns import Deployment
from lambda_patterns.operations.alarms import alarm_topic
from lambda_patterns.operations.dashboard import ServiceDashboard
from lambda_patterns.patterns.web_api_backend import WEB_API_METRICS, WebApiBackend

#: A shop's catalogue entry: what a client must send, and what nothing may exceed.
ITEM_SCHEMA = {
    "type": "object",
    "required": ["name", "price"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "price": {"type": "number", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 50}, "maxItems": 20},
    },
}


class WebBackendStack(Stack):
    """CRUD over ``/items``, IAM (SigV4) authorization, items validated against ``ITEM_SCHEMA``."""

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.alarm_topic = alarm_topic(self, "Alarms", display_name="Web backend alarms")
        # A user-facing API: a new version takes 10% of requests for 5 minutes first, rolled back on alarms.
        self.backend = WebApiBackend(
            self,
            "Items",
            resource_name="items",
            item_schema=ITEM_SCHEMA,
            alarm_topic=self.alarm_topic,
            deployment=Deployment.canary(percent=10, minutes=5),
        )
        self.dashboard = ServiceDashboard(self, "Dashboard")
        self.dashboard.add_function(
            self.backend.function, custom_metrics=[WEB_API_METRICS], title="Items API"
        )
        CfnOutput(self, "ApiUrl", value=self.backend.url, description="Base URL; items are under items/")
        CfnOutput(self, "TableName", value=self.backend.table.table_name)
        CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic_arn)
