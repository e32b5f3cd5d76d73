"""ExampleServiceStack: the smallest complete service, a queue-driven function built by LambdaService."""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from lambda_patterns import Deployment, LambdaService, SqsTrigger
from lambda_patterns.steps.handlers import common_path, handler_path


class ExampleServiceStack(Stack):
    """An SQS queue (with its dead-letter queue) feeding the ``hello`` handler."""

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.service = LambdaService(
            self,
            "Hello",
            entry=handler_path("hello"),
            shared=[common_path()],
            deployment=Deployment.all_at_once(),
        )
        self.trigger = self.service.add_trigger(SqsTrigger, "Requests")
