"""Step 4's safe deployments: ``Deployment``, how a new version of a function reaches its ``live`` alias.

What SAM's ``AutoPublishAlias`` with ``DeploymentPreference`` gives, as one prop: every change of the
function's code or configuration publishes a new version (CDK's ``current_version``), and a CodeDeploy
``LambdaDeploymentGroup`` shifts the ``live`` alias to it, all at once, as a canary or linearly, rolling back
by itself when one of the function's alarms fires during the shift. Triggers, API integrations and
provisioned concurrency all point at the alias (``ServerlessFunction.target``), never at ``$LATEST``.

CodeDeploy's service role gets an inline policy with what the deployment calls (read and move this
function's alias, read alarms, invoke the hooks) instead of the AWS managed
``AWSCodeDeployRoleForLambdaLimited`` that CDK would attach, whose ``lambda:UpdateAlias`` reaches every
function of the account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from lambda_patterns.checks.deployment_alarms import check_rollback_alarms
from lambda_patterns.checks.deployment_hooks import check_deployment_hooks
from lambda_patterns.checks.deployment_shift import check_traffic_shift
from lambda_patterns.jsii_reads import path_of
from lambda_patterns.nag import RuleAcknowledgement, acknowledge_findings, acknowledge_rule
from lambda_patterns.profiles import compliance_rules

#: CodeDeploy's predefined configurations, by (kind, percent, minutes); anything else is a custom one.
_PREDEFINED = {
    ("canary", 10, 5): codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES,
    ("canary", 10, 10): codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_10_MINUTES,
    ("canary", 10, 15): codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_15_MINUTES,
    ("canary", 10, 30): codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_30_MINUTES,
    ("linear", 10, 1): codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_1_MINUTE,
    ("linear", 10, 2): codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_2_MINUTES,
    ("linear", 10, 3): codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_3_MINUTES,
    ("linear", 10, 10): codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_10_MINUTES,
}


@dataclass(frozen=True)
class Deployment:
    """How a function's new versions are shifted onto its ``live`` alias. Build one with
    :meth:`canary`, :meth:`linear` or :meth:`all_at_once` and pass it as ``deployment=`` to
    ``ServerlessFunction``, ``LambdaService`` or a pattern.

    :param kind: ``all_at_once``, ``canary`` or ``linear``.
    :param percent: the share of traffic moved first (canary) or at each step (linear).
    :param minutes: how long the canary runs before the rest moves, or the time between linear steps.
    :param pre_traffic: a function CodeDeploy invokes before shifting any traffic (it reports back with
        ``PutLifecycleEventHookExecutionStatus``). Default: none.
    :param post_traffic: the same after all traffic has moved. Default: none.
    :param alarms: alarms that roll the deployment back besides the function's own. Default: none.
    """

    kind: str
    percent: int = 100
    minutes: int = 0
    pre_traffic: lambda_.IFunction | None = None
    post_traffic: lambda_.IFunction | None = None
    alarms: Sequence[cloudwatch.IAlarm] = field(default_factory=tuple)

    @staticmethod
    def canary(
        percent: int = 10,
        minutes: int = 5,
        *,
        pre_traffic: lambda_.IFunction | None = None,
        post_traffic: lambda_.IFunction | None = None,
        alarms: Sequence[cloudwatch.IAlarm] = (),
    ) -> Deployment:
        """``percent`` of traffic to the new version for ``minutes``, then the rest if no alarm fired."""
        return Deployment("canary", percent, minutes, pre_traffic, post_traffic, tuple(alarms))

    @staticmethod
    def linear(
        percent: int = 10,
        every_minutes: int = 1,
        *,
        pre_traffic: lambda_.IFunction | None = None,
        post_traffic: lambda_.IFunction | None = None,
        alarms: Sequence[cloudwatch.IAlarm] = (),
    ) -> Deployment:
        """``percent`` more of traffic every ``every_minutes`` until all of it has moved."""
        return Deployment("linear", percent, every_minutes, pre_traffic, post_traffic, tuple(alarms))

    @staticmethod
    def all_at_once(
        *,
        pre_traffic: lambda_.IFunction | None = None,
        post_traffic: lambda_.IFunction | None = None,
        alarms: Sequence[cloudwatch.IAlarm] = (),
    ) -> Deployment:
        """All traffic at once, still through CodeDeploy (hooks run, the alias moves atomically)."""
        return Deployment("all_at_once", 100, 0, pre_traffic, post_traffic, tuple(alarms))

    @property
    def shifts_gradually(self) -> bool:
        """Whether traffic moves over time (canary, linear), which is when alarms can roll it back."""
        return self.kind != "all_at_once"

    def deployment_config(self, scope: Construct) -> codedeploy.ILambdaDeploymentConfig:
        """CodeDeploy's configuration for this shift: a predefined one when it exists, else a custom one
        created in ``scope``."""
        if self.kind == "all_at_once":
            return codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE
        predefined = _PREDEFINED.get((self.kind, self.percent, self.minutes))
        if predefined is not None:
            return predefined
        interval = Duration.minutes(self.minutes)
        routing = (
            codedeploy.TimeBasedCanaryTrafficRouting(interval=interval, percentage=self.percent)
            if self.kind == "canary"
            else codedeploy.TimeBasedLinearTrafficRouting(interval=interval, percentage=self.percent)
        )
        return codedeploy.LambdaDeploymentConfig(scope, "DeploymentConfig", traffic_routing=routing)


class FunctionDeployment(Construct):
    """The CodeDeploy application, deployment group and service role that shift ``alias`` as
    ``deployment`` says, rolling back on ``alarms`` (and any added with :meth:`add_alarm`)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deployment: Deployment,
        alias: lambda_.Alias,
        deployed: Sequence[lambda_.IFunction],
        alarms: Sequence[cloudwatch.IAlarm],
    ) -> None:
        super().__init__(scope, id)
        where = f"Deployment {path_of(self)}"
        check_traffic_shift(where, deployment.kind, deployment.percent, deployment.minutes)
        hooks = [h for h in (deployment.pre_traffic, deployment.post_traffic) if h is not None]
        check_deployment_hooks(where, [path_of(h) for h in hooks], [path_of(f) for f in deployed])
        rollback_alarms = [*alarms, *deployment.alarms]
        check_rollback_alarms(where, deployment.shifts_gradually, len(rollback_alarms))

        role = iam.Role(self, "ServiceRole", assumed_by=iam.ServicePrincipal("codedeploy.amazonaws.com"))
        function = alias.version.lambda_
        function_arn = function.function_arn
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"],
                resources=[function_arn, f"{function_arn}:*"],
            )
        )
        # DescribeAlarms is authorized on "*" only (CloudWatch has no resource-level permission for it).
        role.add_to_policy(iam.PolicyStatement(actions=["cloudwatch:DescribeAlarms"], resources=["*"]))
        for hook in hooks:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction"], resources=[hook.function_arn, f"{hook.function_arn}:*"]
                )
            )
        acknowledge_rule(
            role,
            "AwsSolutions-IAM5",
            "CloudWatch authorizes DescribeAlarms on '*' only; the other wildcards are the versions and "
            f"aliases (<arn>:*) of {path_of(function)} and of its hook functions",
            applies_to=["Resource::*", f"Resource::{function_arn}:*"]
            + [f"Resource::{hook.function_arn}:*" for hook in hooks],
        )
        # The compliance packs prefer managed policies (in either profile); this one is inline on purpose.
        acknowledge_findings(
            role,
            RuleAcknowledgement(
                f"The inline policy of the CodeDeploy role of {path_of(function)} moves "
                "only that function's alias; inline keeps it one-to-one with the role, where a managed "
                "policy could be attached to other principals",
                nag=compliance_rules("IAMNoInlinePolicy"),
            ),
        )
        self._application = codedeploy.LambdaApplication(self, "Application")
        self._group = codedeploy.LambdaDeploymentGroup(
            self,
            "Group",
            application=self._application,
            alias=alias,
            deployment_config=deployment.deployment_config(self),
            # Immutable: CDK would add the AWS managed policy to a role it may change.
            role=role.without_policy_updates(),
            alarms=list(rollback_alarms),
            pre_hook=deployment.pre_traffic,
            post_hook=deployment.post_traffic,
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True, stopped_deployment=True, deployment_in_alarm=bool(rollback_alarms)
            ),
        )
        self._alarm_paths = {path_of(a) for a in rollback_alarms}

    def add_alarm(self, alarm: cloudwatch.IAlarm) -> None:
        """Roll back also when ``alarm`` fires during a shift (a trigger's alarm added later)."""
        if path_of(alarm) not in self._alarm_paths:
            self._alarm_paths.add(path_of(alarm))
            self._group.add_alarm(alarm)

    @property
    def deployment_group(self) -> codedeploy.LambdaDeploymentGroup:
        """The CodeDeploy deployment group that moves the alias."""
        return self._group

    @property
    def application(self) -> codedeploy.LambdaApplication:
        """The CodeDeploy application holding the group."""
        return self._application
