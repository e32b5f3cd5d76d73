"""The hardened profile's network: one VPC per stack, isolated subnets only (no internet or NAT gateway),
and the VPC endpoints through which functions reach the AWS services their policies name.

Which endpoints a stack gets follows from its functions' ``FunctionPolicy`` (what the handler's code
calls), read as permissions are added: gateway endpoints (free) for S3 and DynamoDB, interface endpoints
for SQS, SNS, Kinesis, CloudWatch and CloudWatch Logs. What Lambda does on the function's behalf outside
the VPC needs none: writing its own log group, event source mappings, destinations, X-Ray, the KMS calls
of encrypted services.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from lambda_patterns import defaults
from lambda_patterns.jsii_reads import node_of, path_of
from lambda_patterns.nag import RuleAcknowledgement, acknowledge_findings, acknowledge_rule
from lambda_patterns.permissions import Permission, allow
from lambda_patterns.profiles import compliance_rules, stack_key

_NETWORK_ID = "LambdaPatternsNetwork"
# aws-cdk-lib's singleton behind ``restrict_default_security_group``; its id is fixed by aws-cdk-lib.
_RESTRICT_DEFAULT_GROUP_PROVIDER = "Custom::VpcRestrictDefaultSGCustomResourceProvider"
_ISOLATED = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

#: IAM service prefix -> the gateway endpoint serving it.
GATEWAY_SERVICES = {
    "s3": ec2.GatewayVpcEndpointAwsService.S3,
    "dynamodb": ec2.GatewayVpcEndpointAwsService.DYNAMODB,
}
#: IAM service prefix -> (construct id, the interface endpoint serving it).
INTERFACE_SERVICES = {
    "sqs": ("Sqs", ec2.InterfaceVpcEndpointAwsService.SQS),
    "sns": ("Sns", ec2.InterfaceVpcEndpointAwsService.SNS),
    "kinesis": ("Kinesis", ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS),
    "cloudwatch": ("Monitoring", ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING),
    "logs": ("Logs", ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS),
}


def endpoint_services(permissions: Iterable[Permission], ignore: Iterable[str] = ()) -> set[str]:
    """The IAM service prefixes of ``permissions`` that a VPC endpoint serves, leaving out the permissions
    on the resources ``ignore`` names (node paths: the function's own log group, written by Lambda)."""
    ignored = set(ignore)
    return {
        action.split(":", 1)[0]
        for permission in permissions
        if permission.resource_id not in ignored
        for action in permission.actions
        if action.split(":", 1)[0] in GATEWAY_SERVICES or action.split(":", 1)[0] in INTERFACE_SERVICES
    }


class StackNetwork(Construct):
    """The VPC of one stack's functions in the hardened profile: ``defaults.HARDENED_MAX_AZS`` AZs, one
    isolated subnet each, flow logs to a log group encrypted with the stack's key, the default security
    group closed, and endpoints added as functions need them (:meth:`serve`)."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        key = stack_key(self)
        key.allow_log_groups()
        self._vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(defaults.HARDENED_VPC_CIDR),
            max_azs=defaults.HARDENED_MAX_AZS,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
            ],
            restrict_default_security_group=True,
        )
        self._flow_logs = logs.LogGroup(
            self,
            "FlowLogs",
            encryption_key=key,
            retention=defaults.FLOW_LOG_RETENTION,
            removal_policy=defaults.LOG_REMOVAL_POLICY,
        )
        flow_log = self._vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self._flow_logs),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        acknowledge_findings(
            flow_log,
            RuleAcknowledgement(
                f"aws-cdk-lib's role for {path_of(flow_log)} is assumed by VPC Flow Logs only; its inline "
                "policy writes to the one flow log group and stays one-to-one with the role",
                nag=compliance_rules("IAMNoInlinePolicy"),
            ),
        )
        self._acknowledge_default_group_handler()
        self._endpoint_group: ec2.SecurityGroup | None = None
        self._endpoints: dict[str, ec2.IVpcEndpoint] = {}

    def _acknowledge_default_group_handler(self) -> None:
        handler = Stack.of(self).node.try_find_child(_RESTRICT_DEFAULT_GROUP_PROVIDER)
        if handler is None:
            return
        what = "aws-cdk-lib's custom resource that removes the rules of the VPC's default security group"
        acknowledge_findings(
            handler,
            RuleAcknowledgement(
                f"{what} runs once per deployment; a failure fails the deployment, so no event is left for "
                "a dead-letter queue to keep",
                checkov=("CKV_AWS_116",),
            ),
            RuleAcknowledgement(
                f"{what} only calls the EC2 API while a stack deploys; outside the VPC it needs no endpoint",
                checkov=("CKV_AWS_117",),
            ),
            RuleAcknowledgement(
                f"{what} runs only when a deployment changes the VPC; reserving concurrency for it would "
                "only take from the account's pool",
                checkov=("CKV_AWS_115",),
            ),
        )

    @property
    def vpc(self) -> ec2.Vpc:
        """The stack's VPC."""
        return self._vpc

    @property
    def endpoints(self) -> dict[str, ec2.IVpcEndpoint]:
        """The endpoints made so far, by IAM service prefix."""
        return dict(self._endpoints)

    def function_security_group(self, scope: Construct) -> ec2.SecurityGroup:
        """A function's own security group (in ``scope``): no inbound rule, and outbound HTTPS only, the
        one port the endpoints listen on; with no internet route, nothing else is reachable."""
        group = ec2.SecurityGroup(
            scope,
            "SecurityGroup",
            vpc=self._vpc,
            allow_all_outbound=False,
            description=f"{path_of(scope)} - no inbound - HTTPS out to the AWS service endpoints of the VPC",
        )
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS service endpoints")
        return group

    def serve(self, services: Iterable[str]) -> None:
        """Add the endpoints of the IAM service prefixes ``services`` that are not there yet."""
        for service in sorted(set(services) - set(self._endpoints)):
            if service in GATEWAY_SERVICES:
                self._endpoints[service] = self._vpc.add_gateway_endpoint(
                    service.capitalize(), service=GATEWAY_SERVICES[service], subnets=[_ISOLATED]
                )
            elif service in INTERFACE_SERVICES:
                name, endpoint_service = INTERFACE_SERVICES[service]
                self._endpoints[service] = self._vpc.add_interface_endpoint(
                    name,
                    service=endpoint_service,
                    subnets=_ISOLATED,
                    private_dns_enabled=True,
                    security_groups=[self._endpoints_security_group()],
                    open=False,
                )

    def _endpoints_security_group(self) -> ec2.SecurityGroup:
        # One group for every interface endpoint: HTTPS in from the VPC, nothing out (an endpoint
        # answers, it never opens a connection).
        if self._endpoint_group is None:
            self._endpoint_group = ec2.SecurityGroup(
                self,
                "EndpointSecurityGroup",
                vpc=self._vpc,
                allow_all_outbound=False,
                description="Interface VPC endpoints - HTTPS from the functions of the VPC",
            )
            self._endpoint_group.add_ingress_rule(
                ec2.Peer.ipv4(defaults.HARDENED_VPC_CIDR), ec2.Port.tcp(443), "HTTPS from this VPC"
            )
        return self._endpoint_group


def stack_network(scope: IConstruct) -> StackNetwork:
    """The stack's ``StackNetwork``, created by its first function in the hardened profile."""
    stack = Stack.of(scope)
    existing = node_of(stack).try_find_child(_NETWORK_ID)
    return existing if existing is not None else StackNetwork(stack, _NETWORK_ID)


def vpc_access() -> Permission:
    """The EC2 actions Lambda needs to attach a function to a VPC (AWSLambdaVPCAccessExecutionRole's)."""
    # What AWSLambdaVPCAccessExecutionRole grants, inline: a role we create gets no managed policy, and
    # CDK adds that managed policy only to roles it creates itself.
    return allow(
        [
            "ec2:CreateNetworkInterface",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSubnets",
            "ec2:DeleteNetworkInterface",
            "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses",
        ],
        ["*"],
        reason="Lambda creates the VPC network interfaces before their ARNs exist; "
        "these EC2 actions support no narrower resource",
    )


def acknowledge_function_role(function_path: str, role: Any, hardened: bool) -> None:
    """The acknowledgements on a function's ``FunctionRole``: the inline policy the compliance packs flag
    (both profiles) and, in the hardened profile, aws-cdk-lib's grants on the stack key."""
    if hardened:
        acknowledge_rule(
            role.role,
            "AwsSolutions-IAM5",
            f"aws-cdk-lib grants {function_path}'s role kms:GenerateDataKey* and kms:ReEncrypt* on the "
            "stack's one key for the queues its destination and event sources read or write",
            applies_to=["Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*"],
        )
    reason = (
        f"The inline policy of {function_path}'s execution role grants only what this function's "
        "code and triggers need; inline keeps it one-to-one with the role, where a managed policy "
        "could be attached to other principals"
    )
    for construct in {path_of(role): role, path_of(role.policy): role.policy}.values():
        acknowledge_findings(
            construct, RuleAcknowledgement(reason, nag=compliance_rules("IAMNoInlinePolicy"))
        )
