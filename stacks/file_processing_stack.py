"""FileProcessingStack: S3 upload -> thumbnails in a second bucket."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from lambda_patterns import Deployment
from lambda_patterns.operations.alarms import alarm_topic
from lambda_patterns.patterns.thumbnail_pipeline import ThumbnailPipeline


class FileProcessingStack(Stack):
    """The photo-sharing case: uploads under ``uploads/`` get 128, 256 and 1024 px thumbnails."""

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        # Subscribe people or a chat channel to this topic to be paged; see docs/operations.md.
        self.alarm_topic = alarm_topic(self, "Alarms", display_name="File processing alarms")
        self.pipeline = ThumbnailPipeline(
            self,
            "Thumbnails",
            source_prefix="uploads/",
            alarm_topic=self.alarm_topic,
            deployment=Deployment.all_at_once(),
        )
        CfnOutput(self, "SourceBucketName", value=self.pipeline.source_bucket.bucket_name)
        CfnOutput(self, "ThumbnailBucketName", value=self.pipeline.destination_bucket.bucket_name)
        CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic_arn)
