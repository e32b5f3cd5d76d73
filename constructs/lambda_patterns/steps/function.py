"""Step 4: ``ServerlessFunction``, a Lambda function with the defaults a production service needs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambda_patterns import defaults
from lambda_patterns.checks.alarm_topic import check_alarm_topic
from lambda_patterns.checks.async_failure import check_async_failure
from lambda_patterns.checks.async_retries import check_async_retries
from lambda_patterns.checks.concurrency import check_concurrency
from lambda_patterns.checks.memory import check_memory
from lambda_patterns.checks.package_target import check_package_target
from lambda_patterns.checks.provisioned_scaling import check_provisioned_scaling
from lambda_patterns.checks.snap_start import check_snap_start
from lambda_patterns.checks.timeout import check_timeout
from lambda_patterns.checks.vpc_placement import check_vpc_placement
from lambda_patterns.jsii_reads import name_of, node_of, path_of
from lambda_patterns.nag import (
    RuleAcknowledgement,
    acknowledge_findings,
    acknowledge_profile,
    acknowledge_rule,
)
from lambda_patterns.network import acknowledge_function_role, endpoint_services, stack_network, vpc_access
from lambda_patterns.operations.alarms import FunctionAlarms
from lambda_patterns.permissions import Permission, write_logs
from lambda_patterns.profiles import HARDENED, compliance_rules, pin_profile, stack_key
from lambda_patterns.props import as_mapping
from lambda_patterns.resources.queue import failure_queue
from lambda_patterns.steps.deployment import Deployment, FunctionDeployment
from lambda_patterns.steps.policy import FunctionPolicy
from lambda_patterns.steps.role import FunctionRole
from lambda_patterns.steps.source_metadata import record_source

if TYPE_CHECKING:
    # Type checkers see what the function is at run time: a ``lambda_.IFunction`` (``_implement_ifunction``
    # below adds every member of the interface to the class, which no checker can follow).
    _FunctionBase = lambda_.Function
else:
    _FunctionBase = Construct


@jsii.implements(lambda_.IFunction)
class ServerlessFunction(_FunctionBase):
    """A Lambda function with safe defaults: arm64, the newest Python runtime, an explicit log group with
    retention, active X-Ray tracing, a role without managed policies, and a queue for failed async events.

    It is an ``aws_lambda.IFunction``: pass it wherever aws-cdk-lib takes a function or a grantee
    (``table.grant_read_write_data(fn)``, ``fn.add_event_source(...)``, ``fn.grant_invoke(...)``,
    ``LambdaIntegration(fn)``, ``targets.LambdaFunction(fn)``, ``fn.metric_errors()``). Those members act on
    ``target``: the ``live`` alias when there is one, else the function.

    :param code: the function's code: a ``FunctionPackage`` (whose runtime and architecture then apply) or
        any ``lambda_.Code``.
    :param handler: ``module.function`` of the entry point. Default: ``handler.handler``.
    :param runtime: Default: ``defaults.RUNTIME`` (the newest Python runtime), or the package's.
    :param architecture: Default: ``ARM_64``, or the package's.
    :param memory_size: in MB, 128 to 10,240, checked at synth. Default: 512.
    :param timeout: 1 to 900 seconds, checked at synth. Default: 30 seconds.
    :param description: the function's description. Default: none.
    :param environment: environment variables. Default: ``SERVICE_NAME`` set to the construct id.
    :param permissions: intents from ``lambda_patterns.permissions`` for the function's policy.
        Default: only writing to its own log group.
    :param role: an existing ``FunctionRole``. Default: a new one. Its policy receives ``permissions``.
    :param reserved_concurrency: Default: none (the account's unreserved pool).
    :param provisioned_concurrency: pre-initialised environments, served through an alias named
        ``live`` that triggers then invoke. Default: none, and no alias.
    :param provisioned_concurrency_max: scale provisioned concurrency between ``provisioned_concurrency`` and
        this, keeping utilisation near 70% (Application Auto Scaling). Default: none (fixed).
    :param snap_start: Lambda SnapStart on published versions: the ``live`` alias then points at the current
        version and triggers invoke it. Needs Python 3.12+; not with provisioned concurrency. Default: off.
    :param deployment: how new versions reach the ``live`` alias (``Deployment.canary(...)``,
        ``.linear(...)``, ``.all_at_once()``): CodeDeploy shifts the alias and rolls back when the function's
        alarms fire; triggers then invoke the alias. Default: none (triggers invoke ``$LATEST``).
    :param alarms: CloudWatch alarms (``FunctionAlarms``) on errors, throttles, duration near the timeout
        and the failure queue's depth; stream triggers add iterator age. Default: off.
    :param alarm_topic: where the alarms notify. Needs ``alarms``. Default: none (alarms without actions).
    :param async_failure: ``"destination"`` (an on-failure destination queue, which keeps the error with the
        event), ``"dead_letter_queue"`` or ``"none"``. Default: ``"destination"``.
    :param existing_failure_queue: a queue to use instead of creating one. Default: a new encrypted,
        SSL-only queue retaining messages 14 days.
    :param retry_attempts: async retries, 0 to 2. Default: 2.
    :param max_event_age: how long an async event may wait. Default: 6 hours.
    :param vpc: run in this VPC. Default: no VPC.
    :param vpc_subnets: Default: private subnets with egress.
    :param security_groups: Default: one created by CDK.
    :param log_retention: Default: one month.
    :param log_removal_policy: Default: destroy the log group with the stack.
    :param tracing: Default: ``Tracing.ACTIVE``.
    :param function_props: any other ``lambda_.Function`` property, merged last. Default: none.
    :param profile: ``"standard"`` or ``"hardened"`` (the stack's customer-managed key for the log group,
        failure queue and environment; reserved concurrency ``defaults.HARDENED_RESERVED_CONCURRENCY`` unless
        given; without ``vpc``, the isolated subnets of the stack's VPC with the endpoints the policy needs
        and a security group without inbound rules). Default: the context ``lambda-patterns:profile``, else
        ``"standard"``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        code: Any,
        handler: str = "handler.handler",
        runtime: lambda_.Runtime | None = None,
        architecture: lambda_.Architecture | None = None,
        memory_size: int = defaults.MEMORY_MB,
        timeout: Duration = defaults.TIMEOUT,
        environment: Mapping[str, str] | None = None,
        description: str | None = None,
        permissions: Iterable[Permission | Sequence[Permission]] = (),
        role: FunctionRole | None = None,
        reserved_concurrency: int | None = None,
        provisioned_concurrency: int | None = None,
        provisioned_concurrency_max: int | None = None,
        snap_start: bool = False,
        deployment: Deployment | None = None,
        alarms: bool = False,
        alarm_topic: sns.ITopic | None = None,
        async_failure: str = defaults.ASYNC_FAILURE,
        existing_failure_queue: sqs.IQueue | None = None,
        retry_attempts: int = defaults.ASYNC_RETRY_ATTEMPTS,
        max_event_age: Duration = defaults.ASYNC_MAX_EVENT_AGE,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        log_retention: logs.RetentionDays = defaults.LOG_RETENTION,
        log_removal_policy: RemovalPolicy = defaults.LOG_REMOVAL_POLICY,
        tracing: lambda_.Tracing = defaults.TRACING,
        function_props: Mapping[str, Any] | None = None,
        profile: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        where = f"ServerlessFunction {path_of(self)}"
        self._hardened = pin_profile(self, profile) == HARDENED
        function_props = as_mapping(function_props, "function_props")

        # Validate.
        package = code if hasattr(code, "code") and hasattr(code, "runtime") else None
        runtime = runtime or (package.runtime if package else defaults.RUNTIME)
        architecture = architecture or (package.architecture if package else defaults.ARCHITECTURE)
        if package is not None:
            targets = (package.runtime, package.architecture, runtime, architecture)
            check_package_target(where, *map(name_of, targets))
        check_timeout(timeout, where)
        check_memory(memory_size, where)
        check_concurrency(where, reserved_concurrency, provisioned_concurrency)
        check_provisioned_scaling(
            where, reserved_concurrency, provisioned_concurrency, provisioned_concurrency_max
        )
        check_snap_start(where, snap_start, runtime, provisioned_concurrency)
        check_alarm_topic(where, alarm_topic, alarms)
        check_async_failure(where, async_failure, existing_failure_queue)
        check_async_retries(where, retry_attempts)
        check_vpc_placement(where, vpc, vpc_subnets, security_groups)

        # Build.
        key = stack_key(self) if self._hardened else None
        network = None
        if self._hardened:
            if reserved_concurrency is None and "reserved_concurrent_executions" not in function_props:
                reserved_concurrency = defaults.HARDENED_RESERVED_CONCURRENCY
            if vpc is None and "vpc" not in function_props:
                network = stack_network(self)
                vpc = network.vpc
                vpc_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
                security_groups = [network.function_security_group(self)]
            key.allow_log_groups()
        self._role = role or FunctionRole(self, "Role")
        self._log_group = logs.LogGroup(
            self, "LogGroup", retention=log_retention, removal_policy=log_removal_policy, encryption_key=key
        )
        self._role.policy.add(write_logs(self._log_group), *permissions)
        if network is not None:
            own_logs = path_of(self._log_group)
            self._role.policy.observe(lambda granted: network.serve(endpoint_services(granted, [own_logs])))
        if vpc is not None:
            self._role.policy.add(vpc_access())
            acknowledge_findings(
                self._role.policy,
                RuleAcknowledgement(
                    f"{path_of(self)} runs in a VPC: Lambda creates its network interfaces before their "
                    "ARNs exist, and these EC2 actions support no narrower resource",
                    checkov=("CKV_AWS_111",),
                ),
            )
        self._add_tracing_permissions(tracing)

        self._failure_queue: sqs.IQueue | None = None
        if async_failure != "none":
            self._failure_queue = existing_failure_queue or failure_queue(
                self, "FailureQueue", f"failed async invocations of {path_of(self)}"
            )
        on_failure = (
            destinations.SqsDestination(self._failure_queue)
            if async_failure == "destination" and self._failure_queue is not None
            else None
        )
        env = {"SERVICE_NAME": id}
        env.update(environment or {})
        # A function invoked only synchronously (API, event source mappings) needs no async configuration.
        async_config = (
            {}
            if async_failure == "none"
            else {"retry_attempts": retry_attempts, "max_event_age": max_event_age}
        )
        props: dict[str, Any] = {
            "code": package.staged_code() if package else code,
            "handler": handler,
            "runtime": runtime,
            "architecture": architecture,
            "memory_size": memory_size,
            "timeout": timeout,
            "environment": env,
            "description": description,
            "role": self._role.role,
            "log_group": self._log_group,
            "tracing": tracing,
            "reserved_concurrent_executions": reserved_concurrency,
            "dead_letter_queue": self._failure_queue if async_failure == "dead_letter_queue" else None,
            "on_failure": on_failure,
            "recursive_loop": lambda_.RecursiveLoop.TERMINATE,
            **async_config,
        }
        if key is not None:
            props["environment_encryption"] = key
        if snap_start:
            props["snap_start"] = lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS
        if vpc is not None:
            props.update(
                vpc=vpc,
                vpc_subnets=vpc_subnets
                or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                security_groups=security_groups,
            )
        props.update(function_props)
        self._function = lambda_.Function(self, "Function", **props)
        record_source(self._function, package or props["code"])  # for the local runner's hot reload
        # CDK makes the function wait for its role's default policy only. Lambda checks the VPC permissions
        # (in this inline policy) when it creates the function, so without this ordering CloudFormation may
        # create the function first and the deployment fails; it also means the function never runs before
        # it may write its logs. Depending on the construct covers permissions added after this line too.
        node_of(self._function).add_dependency(self._role.policy)
        self._acknowledge_profile(async_failure, props)

        # Wire.
        self._alias: lambda_.Alias | None = None
        # SnapStart applies to published versions only, so the alias also publishes one for it; a deployment
        # shifts the alias from version to version.
        if provisioned_concurrency is not None or snap_start or deployment is not None:
            self._alias = lambda_.Alias(
                self,
                "Alias",
                alias_name=defaults.ALIAS_NAME,
                version=self._function.current_version,
                provisioned_concurrent_executions=provisioned_concurrency,
                on_failure=on_failure,
                **async_config,
            )
        self._scaling: Any = None
        if self._alias is not None and provisioned_concurrency_max is not None:
            self._scaling = self._alias.add_auto_scaling(
                min_capacity=provisioned_concurrency, max_capacity=provisioned_concurrency_max
            )
            self._scaling.scale_on_utilization(utilization_target=defaults.PROVISIONED_UTILIZATION_TARGET)
        self.memory_size = memory_size
        self.timeout = timeout
        self._service_name = env["SERVICE_NAME"]
        self._reads_stream = False
        self._monitored_queues: list[sqs.IQueue] = [self._failure_queue] if self._failure_queue else []
        self._alarms = (
            FunctionAlarms(
                self,
                "Alarms",
                function=self._function,
                timeout=timeout,
                alarm_topic=alarm_topic,
                failure_queue=self._failure_queue,
            )
            if alarms
            else None
        )
        self._deployment: FunctionDeployment | None = None
        if deployment is not None and self._alias is not None:
            self._deployment = FunctionDeployment(
                self,
                "Deployment",
                deployment=deployment,
                alias=self._alias,
                deployed=[self],
                alarms=self._alarms.alarms if self._alarms is not None else [],
            )

    def _acknowledge_profile(self, async_failure: str, props: Mapping[str, Any]) -> None:
        # What the standard profile leaves off, each acknowledged only while it is off: a prop or the
        # hardened profile that turns it on (here or through function_props) makes the check pass instead.
        if node_of(self._log_group).default_child.kms_key_id is None:
            acknowledge_profile(self._log_group, "log_group_service_key")
        names = []
        if props.get("environment_encryption") is None:
            names.append("environment_service_key")
        if props.get("reserved_concurrent_executions") is None:
            names.append("unreserved_concurrency")
        if props.get("vpc") is None:
            names.append("outside_vpc")
        acknowledge_profile(self._function, *names)
        if async_failure == "destination" and props.get("dead_letter_queue") is None:
            acknowledge_findings(
                self._function,
                RuleAcknowledgement(
                    f"Failed async invocations of {path_of(self)} go to its on-failure destination "
                    f"{path_of(self._failure_queue)}, which keeps each event with the invocation's error "
                    "and context; a DeadLetterConfig is the older mechanism for the same events",
                    nag=("Serverless-LambdaDLQ", *compliance_rules("LambdaDLQ")),
                    checkov=("CKV_AWS_116",),
                ),
            )
        acknowledge_function_role(path_of(self), self._role, self._hardened)

    def acknowledge_sync_invocation(self, invoker: str) -> None:
        """Called by triggers that invoke synchronously: with ``async_failure='none'`` the function has no
        async failure queue, which is right when ``invoker`` (an event source mapping, an API), which
        handles failures itself, invokes it. ``invoker`` says which, and where its failures go."""
        if self._failure_queue is not None:
            return
        acknowledge_findings(
            self._function,
            RuleAcknowledgement(
                f"{path_of(self)} is invoked synchronously by {invoker}; a function dead-letter queue "
                "applies only to async invocations",
                nag=("Serverless-LambdaDLQ", *compliance_rules("LambdaDLQ")),
                checkov=("CKV_AWS_116",),
            ),
        )

    def _add_tracing_permissions(self, tracing: lambda_.Tracing) -> None:
        # Adding X-Ray's statement ourselves creates the role's default policy now, so the acknowledgement
        # lands on it; CDK adds the same statement later and it merges.
        if tracing == lambda_.Tracing.DISABLED:
            return
        self._role.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]
            )
        )
        acknowledge_rule(
            self._role.role,
            "AwsSolutions-IAM5",
            "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions",
            applies_to=["Resource::*"],
        )

    @property
    def profile(self) -> str:
        """The profile this function was built in, ``"standard"`` or ``"hardened"``: its triggers follow it."""
        return "hardened" if self._hardened else "standard"

    @property
    def function(self) -> lambda_.Function:
        """The ``lambda_.Function``."""
        return self._function

    @property
    def function_role(self) -> FunctionRole:
        """The execution role's construct (``FunctionRole``: the role and its least-privilege policy).
        ``role`` is the ``iam.IRole`` itself, as on any ``IFunction``."""
        return self._role

    @property
    def policy(self) -> FunctionPolicy:
        """The role's least-privilege inline policy."""
        return self._role.policy

    @property
    def log_group(self) -> logs.LogGroup:
        """The function's own log group, with retention."""
        return self._log_group

    @property
    def alias(self) -> lambda_.Alias | None:
        """The ``live`` alias carrying provisioned concurrency or the SnapStart version, if any."""
        return self._alias

    @property
    def dead_letter_queue(self) -> sqs.IQueue | None:
        """The queue receiving failed async events (on-failure destination or DLQ), if any."""
        return self._failure_queue

    @property
    def alarms(self) -> FunctionAlarms | None:
        """The function's CloudWatch alarms, when ``alarms=True``."""
        return self._alarms

    @property
    def service_name(self) -> str:
        """The ``SERVICE_NAME`` environment value: the ``service`` dimension of the handler's EMF metrics."""
        return self._service_name

    @property
    def reads_stream(self) -> bool:
        """Whether a DynamoDB or Kinesis stream trigger invokes this function (it then has an IteratorAge)."""
        return self._reads_stream

    @property
    def monitored_queues(self) -> list[sqs.IQueue]:
        """The queues where this function's failed events end: its own and its stream triggers'."""
        return list(self._monitored_queues)

    def watch_stream(self, failure_queue: sqs.IQueue, scope: Construct) -> None:
        """Called by stream triggers: record the stream and its failure queue, and alarm on both when the
        function has alarms (the queue's alarm is created in the trigger's ``scope``)."""
        self._reads_stream = True
        if self._alarms is not None:
            self._roll_back_on(self._alarms.add_iterator_age_alarm())
        self.watch_queue(failure_queue, scope, "FailureQueueDepthAlarm")

    def watch_queue(self, queue: sqs.IQueue, scope: Construct, id: str = "QueueDepthAlarm") -> None:
        """Show ``queue`` (a dead-letter or failure queue fed by this function's trigger) on dashboards and,
        when the function has alarms, alarm on its first message; the alarm is created in ``scope``."""
        if all(path_of(q) != path_of(queue) for q in self._monitored_queues):
            self._monitored_queues.append(queue)
        if self._alarms is not None:
            self._roll_back_on(self._alarms.add_queue_depth_alarm(queue, scope=scope, id=id))

    def _roll_back_on(self, alarm: Any) -> None:
        # An alarm a trigger adds after construction still stops a deployment in progress.
        if self._deployment is not None:
            self._deployment.add_alarm(alarm)

    @property
    def deployment(self) -> FunctionDeployment | None:
        """The CodeDeploy application and deployment group that shift the ``live`` alias, if ``deployment``."""
        return self._deployment

    @property
    def target(self) -> lambda_.IFunction:
        """What triggers should invoke: the alias when there is one (provisioned concurrency, SnapStart or a
        deployment), else the function."""
        return self._alias or self._function


def _ifunction_members() -> dict[str, tuple[str, str]]:
    """Python name -> (kind, jsii name) of every member of aws-cdk-lib's ``IFunction`` in the installed
    release (the interface grows between releases; reading it here keeps the delegation complete)."""
    members: dict[str, tuple[str, str]] = {}
    for klass in lambda_.IFunction.__jsii_proxy_class__().__mro__:
        for name, item in vars(klass).items():
            if name.startswith("_"):
                continue
            if isinstance(item, property) and hasattr(item.fget, "__jsii_name__"):
                members.setdefault(name, ("property", item.fget.__jsii_name__))
            elif callable(item) and hasattr(item, "__jsii_name__"):
                members.setdefault(name, ("method", item.__jsii_name__))
    return members


def _delegate_method(name: str, jsii_name: str) -> Callable[..., Any]:
    def call(self: ServerlessFunction, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            # A Python caller: keyword props are flattened structs, which the target's own method builds.
            return getattr(self.target, name)(*args, **kwargs)
        # aws-cdk-lib calling back through the interface passes structs positionally, as JavaScript does.
        return jsii.invoke(self.target, jsii_name, list(args))

    call.__name__ = name
    call.__doc__ = f"``IFunction.{name}`` of ``target``."
    return call


def _implement_ifunction(cls: type) -> None:
    """Give ``cls`` every ``IFunction`` member, acting on ``self.target``. jsii registers a Python member
    whose name matches the interface's as its implementation, so aws-cdk-lib's calls reach these."""
    own = {"node", *vars(cls)} - {"role"}
    for name, (kind, jsii_name) in _ifunction_members().items():
        if name in own:
            continue
        if kind == "property":
            setattr(
                cls,
                name,
                property(lambda self, _name=name: getattr(self.target, _name), doc=f"``IFunction.{name}``."),
            )
        else:
            setattr(cls, name, _delegate_method(name, jsii_name))


_implement_ifunction(ServerlessFunction)
