"""A user's own CDK app: every public construct of lambda-patterns, with aws-cdk-lib's own idioms.

The compatibility test synthesizes it in a fresh virtualenv holding only the installed wheel and the
oldest (or newest) aws-cdk-lib and constructs the library declares.
"""

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from lambda_patterns import (
    ApiGatewayTrigger,
    ClickstreamAnalytics,
    CustomMetrics,
    DynamoDBStreamTrigger,
    EventBridgeTrigger,
    FunctionAlarms,
    FunctionPackage,
    FunctionPolicy,
    FunctionRole,
    KinesisTrigger,
    LambdaService,
    PurchaseEventProcessor,
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
FunctionAlarms(steps, "MoreAlarms", function=resize.function, timeout=cdk.Duration.seconds(30))
dashboard = ServiceDashboard(steps, "Ops")
dashboard.add_function(resize, custom_metrics=[CustomMetrics("MyApp", ("Resized",))])

# LambdaService and the other triggers.
services = cdk.Stack(app, "ServicesStack")
orders = LambdaService(services, "Orders", entry="orders")
orders.add_trigger(SqsTrigger, "Incoming")
orders.add_trigger(SnsTrigger, "Announcements")
orders.add_trigger(
    EventBridgeTrigger, "Nightly", schedule=cdk.aws_events.Schedule.rate(cdk.Duration.hours(24))
)
orders.add_trigger(ApiGatewayTrigger, "Api")
clicks = cdk.aws_kinesis.Stream(services, "Clicks", encryption=cdk.aws_kinesis.StreamEncryption.MANAGED)
orders.add_trigger(KinesisTrigger, "Clicks", stream=clicks)

# The use-case patterns.
patterns = cdk.Stack(app, "PatternsStack")
topic = sns.Topic(patterns, "Alarms", enforce_ssl=True)
ThumbnailPipeline(patterns, "Thumbnails", source_prefix="uploads/", alarm_topic=topic)
StreamAggregator(
    patterns, "Aggregates", dimensions=["category"], value_attribute="amount", time_attribute="at"
)
ClickstreamAnalytics(patterns, "Clickstream")
PurchaseEventProcessor(patterns, "Purchases")
WebApiBackend(patterns, "Items", resource_name="items")

app.synth()
