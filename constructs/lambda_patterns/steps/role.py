"""Step 2: ``FunctionRole``, a Lambda execution role with no AWS-managed policy."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_iam as iam
from constructs import Construct

from lambda_patterns.steps.policy import FunctionPolicy


class FunctionRole(Construct):
    """The execution role of one function: trusted by Lambda only, holding its ``FunctionPolicy``.

    Unlike CDK's default role it carries no AWS-managed ``AWSLambdaBasicExecutionRole``, whose logs
    permission reaches every log group in the account.

    :param policy: the function's policy. Default: a new, empty ``FunctionPolicy``.
    :param permissions_boundary: a managed policy capping what the role can ever do. Default: none.
    :param managed_policies: managed policies to attach anyway (each shows as a cdk-nag IAM4 finding that
        the caller must acknowledge). Default: none.
    :param description: the role's description. Default: none.
    :param role_name: a fixed name. Default: generated, so stacks can be deployed twice in one account.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        policy: FunctionPolicy | None = None,
        permissions_boundary: iam.IManagedPolicy | None = None,
        managed_policies: Sequence[iam.IManagedPolicy] = (),
        description: str | None = None,
        role_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self._policy = policy or FunctionPolicy(self, "Policy")
        self._role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            permissions_boundary=permissions_boundary,
            managed_policies=list(managed_policies) or None,
            description=description,
            role_name=role_name,
        )
        self._policy.attach_to_role(self._role)

    @property
    def role(self) -> iam.Role:
        """The ``iam.Role``."""
        return self._role

    @property
    def policy(self) -> FunctionPolicy:
        """The role's ``FunctionPolicy``."""
        return self._policy
