"""AnalyticsStack: order-table aggregates, mobile click counts and purchase events."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from lambda_patterns.clickstream import ClickstreamAnalytics
from lambda_patterns.purchase_processor import PurchaseEventProcessor
from lambda_patterns.stream_aggregator import StreamAggregator


class AnalyticsStack(Stack):
    """Three event-driven analytics cases, each built from the five steps:

    - orders written to a table are aggregated per category and region, per hour;
    - click events from mobile apps are counted per minute, event type and screen;
    - purchase events published to SNS are stored once and aggregated per product and customer.
    """

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.orders = StreamAggregator(
            self,
            "OrderAggregates",
            dimensions=["category", "region"],
            value_attribute="amount",
            time_attribute="created_at",
            bucket="hour",
        )
        self.clicks = ClickstreamAnalytics(self, "Clickstream", retention_days=30)
        self.purchases = PurchaseEventProcessor(self, "Purchases")
        CfnOutput(self, "OrdersTableName", value=self.orders.source_table.table_name)
        CfnOutput(self, "OrderAggregatesTableName", value=self.orders.aggregates_table.table_name)
        CfnOutput(self, "ClickIngestUrl", value=self.clicks.ingest_api.url_for_path("/clicks"))
        CfnOutput(self, "PurchaseTopicArn", value=self.purchases.topic.topic_arn)
