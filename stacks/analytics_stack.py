"""AnalyticsStack: order-table aggregates, mobile click counts and purchase events."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from lambda_patterns import Deployment
from lambda_patterns.operations.alarms import alarm_topic
from lambda_patterns.operations.dashboard import ServiceDashboard
from lambda_patterns.patterns.clickstream import CLICKSTREAM_METRICS, ClickstreamAnalytics
from lambda_patterns.patterns.purchase_processor import PURCHASE_METRICS, PurchaseEventProcessor
from lambda_patterns.patterns.recommendations_api import RecommendationsApi
from lambda_patterns.patterns.stream_aggregator import AGGREGATOR_METRICS, StreamAggregator


class AnalyticsStack(Stack):
    """Three event-driven analytics cases, each built from the five steps:

    - orders written to a table are aggregated per category and region, per hour;
    - click events from mobile apps are counted per minute, event type and screen;
    - purchase events published to SNS are stored once and aggregated per product and customer, and feed
      co-purchase counts that an API answers recommendations from.
    """

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.alarm_topic = alarm_topic(self, "Alarms", display_name="Analytics alarms")
        self.orders = StreamAggregator(
            self,
            "OrderAggregates",
            dimensions=["category", "region"],
            value_attribute="amount",
            time_attribute="created_at",
            bucket="hour",
            alarm_topic=self.alarm_topic,
            deployment=Deployment.all_at_once(),
        )
        self.clicks = ClickstreamAnalytics(
            self,
            "Clickstream",
            retention_days=30,
            alarm_topic=self.alarm_topic,
            deployment=Deployment.all_at_once(),
        )
        self.purchases = PurchaseEventProcessor(
            self, "Purchases", alarm_topic=self.alarm_topic, deployment=Deployment.all_at_once()
        )
        # What the purchases' co-purchase counts recommend, per product (IAM-authorized like the others).
        self.recommendations = RecommendationsApi(
            self,
            "Recommendations",
            aggregates_table=self.purchases.aggregates_table,
            alarm_topic=self.alarm_topic,
            deployment=Deployment.all_at_once(),
        )
        # One dashboard for the stack, made after the constructs so that their triggers' queues are known.
        self.dashboard = ServiceDashboard(self, "Dashboard")
        self.dashboard.add_function(
            self.orders.function, custom_metrics=[AGGREGATOR_METRICS], title="Order aggregates"
        )
        self.dashboard.add_function(
            self.clicks.function, custom_metrics=[CLICKSTREAM_METRICS], title="Click counts"
        )
        self.dashboard.add_function(
            self.purchases.function, custom_metrics=[PURCHASE_METRICS], title="Purchases"
        )
        self.dashboard.add_function(self.recommendations.function, title="Recommendations")
        CfnOutput(self, "OrdersTableName", value=self.orders.source_table.table_name)
        CfnOutput(self, "OrderAggregatesTableName", value=self.orders.aggregates_table.table_name)
        CfnOutput(self, "ClickIngestUrl", value=self.clicks.ingest_api.url_for_path("/clicks"))
        CfnOutput(self, "PurchaseTopicArn", value=self.purchases.topic.topic_arn)
        CfnOutput(
            self,
            "RecommendationsUrl",
            value=self.recommendations.url,
            description="GET products/{id}/recommendations?limit=N[&customer_id=C] under this URL",
        )
        CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic_arn)
