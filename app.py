#!/usr/bin/env python3
"""The CDK app of this repository: it only instantiates the stacks.

``SynthCache`` starts first, before aws_cdk is imported: a repeat synth into the same output folder with
nothing it read changed reuses the assembly there and ends without starting the jsii runtime
(``lambda_patterns/synth_cache.py`` says what it compares; ``LAMBDA_PATTERNS_SYNTH_CACHE=off`` turns it off).
"""

from lambda_patterns.synth_cache import SynthCache

synth_cache = SynthCache.start()
if synth_cache.reusable():
    raise SystemExit(0)

import aws_cdk as cdk  # noqa: E402

from stacks.analytics_stack import AnalyticsStack  # noqa: E402
from stacks.example_stack import ExampleServiceStack  # noqa: E402
from stacks.file_processing_stack import FileProcessingStack  # noqa: E402
from stacks.web_backend_stack import WebBackendStack  # noqa: E402

app = cdk.App()
ExampleServiceStack(app, "ExampleServiceStack")
FileProcessingStack(app, "FileProcessingStack")
AnalyticsStack(app, "AnalyticsStack")
WebBackendStack(app, "WebBackendStack")
app.synth()
synth_cache.store()
