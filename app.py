#!/usr/bin/env python3
"""The CDK app of this repository: it only instantiates the stacks."""

import aws_cdk as cdk

from stacks.analytics_stack import AnalyticsStack
from stacks.example_stack import ExampleServiceStack
from stacks.file_processing_stack import FileProcessingStack
from stacks.web_backend_stack import WebBackendStack

app = cdk.App()
ExampleServiceStack(app, "ExampleServiceStack")
FileProcessingStack(app, "FileProcessingStack")
AnalyticsStack(app, "AnalyticsStack")
WebBackendStack(app, "WebBackendStack")
app.synth()
