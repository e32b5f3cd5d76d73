"""A user's own CDK app: every public construct of lambda-patterns, with aws-cdk-lib's own idioms.

The compatibility test synthesizes it in a fresh virtualenv holding only the installed wheel and the
oldest (or newest) aws-cdk-lib and constructs the library declares.
"""

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.aws_lambda_event_sources import SqsEventSource

from lambda_patterns import (
    ApiGatewayTrigger,
    ClickstreamAnalytics,
    CustomMetrics,
    Deployment,
    DynamoDBStreamTrigger,
    EventBridgeTrigger,
    FunctionAlarms,
    FunctionPackage,
    FunctionPolicy,
    FunctionRole,
    KinesisTrigger,
    LambdaService,
    PurchaseEventProcessor,
    RecommendationsApi,
    S3Trigger,
    ServerlessFunction,
    ServiceDashboard,
    SnsTrigger,
    SqsTrigger,
    StreamAggregator,
    StreamOptions,
    ThumbnailPipeline,
    WebApiBackend,
    permissions,
)

app = cdk.App()

# The five steps by hand.
steps = cdk.Stack(app, "StepsStack")
photos = s3.Bucket(steps, "Photos", enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL)
table = dynamodb.TableV2(
    steps,
    "Orders",
    partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
    dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
)
policy = FunctionPolicy(steps, "Policy", permissions=[permissions.read_objects(photos, "in/")])
role = FunctionRole(steps, "Role", policy=policy)
package = FunctionPackage(steps, "Package", entry="resize")
resize = ServerlessFunction(steps, "Resize", code=package, role=role, alarms=True)
S3Trigger(steps, "OnUpload", function=resize, bucket=photos, prefix="in/")
DynamoDBStreamTrigger(steps, "OnOrder", function=resize, table=table, options=StreamOptions(batch_size=10))
FunctionAlarms(steps, "MoreAlarms", function=resize, timeout=cdk.Duration.seconds(30))
dashboard = ServiceDashboard(steps, "Ops")
dashboard.add_function(resize, custom_metrics=[CustomMetrics("MyApp", ("Resized",))])

# LambdaService and the other triggers.
services = cdk.Stack(app, "ServicesStack")
# New versions reach the triggers through the live alias, 10% first for 5 minutes, rolled back on alarms.
orders = LambdaService(
    services,
    "Orders",
    entry="orders",
    deployment=Deployment.canary(percent=10, minutes=5),
    function_props={"alarms": True},
)
orders.add_trigger(SqsTrigger, "Incoming", queue_props=sqs.QueueProps(retention_period=cdk.Duration.days(4)))
orders.add_trigger(SnsTrigger, "Announcements")
orders.add_trigger(
    EventBridgeTrigger, "Nightly", schedule=cdk.aws_events.Schedule.rate(cdk.Duration.hours(24))
)
orders.add_trigger(ApiGatewayTrigger, "Api")
clicks = cdk.aws_kinesis.Stream(services, "Clicks", encryption=cdk.aws_kinesis.StreamEncryption.MANAGED)
orders.add_trigger(KinesisTrigger, "Clicks", stream=clicks)

# The function is an aws_lambda.IFunction: aws-cdk-lib's own idioms take it as they are.
ledger = dynamodb.TableV2(
    services, "Ledger", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
)
ledger.grant_read_write_data(orders.function)
archive = s3.Bucket(services, "Archive", enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL)
archive.grant_read(orders.function)
backlog = sqs.Queue(services, "Backlog", enforce_ssl=True)
orders.function.add_event_source(SqsEventSource(backlog, report_batch_item_failures=True))
orders.function.grant_invoke(iam.ServicePrincipal("events.amazonaws.com"))
events.Rule(
    services,
    "Hourly",
    schedule=events.Schedule.rate(cdk.Duration.hours(1)),
    targets=[targets.LambdaFunction(orders.function)],
)
direct = apigw.RestApi(services, "Direct")
direct.root.add_method(
    "GET", apigw.LambdaIntegration(orders.function), authorization_type=apigw.AuthorizationType.IAM
)
orders.function.metric_errors()

# The use-case patterns.
patterns = cdk.Stack(app, "PatternsStack")
topic = sns.Topic(patterns, "Alarms", enforce_ssl=True)
ThumbnailPipeline(
    patterns,
    "Thumbnails",
    source_prefix="uploads/",
    alarm_topic=topic,
    destination_bucket_props=s3.BucketProps(
        lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(365))]
    ),
)
StreamAggregator(
    patterns, "Aggregates", dimensions=["category"], value_attribute="amount", time_attribute="at"
)
ClickstreamAnalytics(patterns, "Clickstream")
purchases = PurchaseEventProcessor(patterns, "Purchases")
RecommendationsApi(patterns, "Recommendations", aggregates_table=purchases.aggregates_table)
WebApiBackend(patterns, "Items", resource_name="items")
WebApiBackend(patterns, "Notes", resource_name="notes", api_type="http")

app.synth()
