#!/usr/bin/env python3
"""The CDK app of this repository: it only instantiates the stacks."""

import aws_cdk as cdk

from stacks.example_stack import ExampleServiceStack

app = cdk.App()
ExampleServiceStack(app, "ExampleServiceStack")
app.synth()
