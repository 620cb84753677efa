"""The Lambda function ``LambdaTriggeredQueue`` builds: its role, log group, layers, and the key policy
CloudWatch Logs needs (rules L5, L6).

Only building happens here; what to build was decided and checked by the consumer's plan.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aws_cdk import Annotations, ArnFormat, Duration, Stack, SymlinkFollowMode
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from . import _defaults
from ._validation import acknowledge

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_kms as kms

__all__ = ["FunctionSettings", "build_function", "powertools_layer", "runtime_layer", "runtime_layer_dir"]

RUNTIME_PACKAGE = "constructs_sqs_runtime"
# The runtime layer's content, shipped inside this package (not an identifier: setuptools treats it as data).
RUNTIME_LAYER_DIR = "runtime-layer"
POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPythonV3"
# Python runtimes the runtime layer runs on (its package needs 3.10+); all have a Powertools v3 layer.
RUNTIME_LAYER_RUNTIMES = (
    lambda_.Runtime.PYTHON_3_10,
    lambda_.Runtime.PYTHON_3_11,
    lambda_.Runtime.PYTHON_3_12,
    lambda_.Runtime.PYTHON_3_13,
    lambda_.Runtime.PYTHON_3_14,
)
WARNING_FUNCTION_KEY = "constructs-sqs:function-encryption-key"
LOGS_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")
VPC_NETWORK_INTERFACE_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


# The layers made for each stack, so a second consumer asks node nothing to find them.
_LAYERS: weakref.WeakKeyDictionary[Stack, dict[object, lambda_.ILayerVersion]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class FunctionSettings:
    """The checked settings of the function to build, defaults applied."""

    code: lambda_.Code
    handler: str
    timeout: Duration
    memory_size: int
    runtime: lambda_.Runtime
    architecture: lambda_.Architecture
    environment: dict[str, str]
    layers: list[lambda_.ILayerVersion]
    powertools_layer: lambda_.ILayerVersion | None
    powertools_layer_version: int | None
    reserved_concurrent_executions: int | None
    log_retention: logs.RetentionDays
    encryption_key: kms.IKey | None
    vpc: ec2.IVpc | None
    vpc_subnets: ec2.SubnetSelection | None
    security_groups: Sequence[ec2.ISecurityGroup] | None
    function_name: str | None
    description: str | None
    tracing: lambda_.Tracing


@dataclass(frozen=True)
class BuiltFunction:
    function: lambda_.Function
    role: iam.Role
    log_group: logs.LogGroup


def build_function(scope: Construct, settings: FunctionSettings, *, consumed: str) -> BuiltFunction:
    """The function, its log group (retention, optional key) and a role with one managed policy.

    ``consumed`` is the path of the queue, for the role's description.
    """
    log_group = logs.LogGroup(
        scope,
        "LogGroup",
        retention=settings.log_retention,
        removal_policy=_defaults.LAMBDA_LOG_REMOVAL_POLICY,
        encryption_key=settings.encryption_key,
    )
    if settings.encryption_key is not None:
        _allow_logs_to_use(scope, settings.encryption_key)
    role = _ManagedPolicyRole(
        scope,
        "Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"constructs-sqs: consumer of the queue {consumed}",
    )
    # The function's own log group only (L5): no logs:CreateLogGroup, no "*".
    log_group.grant_write(role)
    if settings.vpc is not None:
        # Lambda creates the function's network interfaces with its role; these EC2 actions do not
        # support resource-level permissions, hence "*". Only with a VPC.
        role.add_to_principal_policy(iam.PolicyStatement(actions=list(VPC_NETWORK_INTERFACE_ACTIONS), resources=["*"]))
    function = lambda_.Function(
        scope,
        "Function",
        runtime=settings.runtime,
        architecture=settings.architecture,
        code=settings.code,
        handler=settings.handler,
        timeout=settings.timeout,
        memory_size=settings.memory_size,
        role=role,
        log_group=log_group,
        environment=settings.environment,
        layers=[
            settings.powertools_layer
            or powertools_layer(
                scope,
                runtime=settings.runtime,
                architecture=settings.architecture,
                version=settings.powertools_layer_version,
            ),
            runtime_layer(scope),
            *settings.layers,
        ],
        reserved_concurrent_executions=settings.reserved_concurrent_executions,
        vpc=settings.vpc,
        vpc_subnets=settings.vpc_subnets,
        security_groups=settings.security_groups,
        function_name=settings.function_name,
        description=settings.description,
        tracing=settings.tracing,
        environment_encryption=settings.encryption_key,
    )
    if settings.tracing != lambda_.Tracing.DISABLED or settings.vpc is not None:
        # The X-Ray and EC2 network-interface actions added above take no resource-level permission.
        acknowledge(role.managed_policy, _defaults.UNSCOPABLE_ACTIONS_ACKNOWLEDGMENTS)
    # The event source mapping is created only once the role can read the queue: the mapping
    # references the function, and the function waits for the role's managed policy.
    function.node.add_dependency(role.managed_policy)
    return BuiltFunction(function=function, role=role, log_group=log_group)


def _allow_logs_to_use(scope: Construct, key: kms.IKey) -> None:
    """Let CloudWatch Logs encrypt this account's log groups in this region with ``key``.

    Scoped by the encryption context rather than this log group's ARN: the log group names the
    key, so a key policy naming the log group would be a dependency cycle.
    """
    stack = Stack.of(scope)
    statement = iam.PolicyStatement(
        actions=list(LOGS_KEY_ACTIONS),
        principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
        resources=["*"],
        conditions={
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                    service="logs", resource="log-group", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
                )
            }
        },
    )
    if not key.add_to_resource_policy(statement).statement_added:
        Annotations.of(scope).add_warning_v2(
            WARNING_FUNCTION_KEY,
            f"function_encryption_key {key.node.path} is imported, so its key policy cannot be changed here: it "
            "must let logs.<region>.amazonaws.com use kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, "
            "kms:GenerateDataKey* and kms:Describe*, or the log group cannot be created",
        )


class _ManagedPolicyRole(iam.Role):
    """A role whose added statements go to one customer managed policy instead of an inline one.

    Every grant to the function (the event source's consume grant, ``grant_write_data`` of a table a
    caller adds later) lands in ``managed_policy``, so the role has no inline policy (cdk-nag
    IAMNoInlinePolicy) and no AWS managed policy (AwsSolutions-IAM4).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        policy_description: str = "constructs-sqs: the permissions of a queue consumer function",
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.managed_policy = iam.ManagedPolicy(self, "Policy", description=policy_description, roles=[self])

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        self.managed_policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.managed_policy)


# --- Layers ------------------------------------------------------------------------------------------


def powertools_layer(
    scope: Construct,
    *,
    runtime: lambda_.Runtime,
    architecture: lambda_.Architecture,
    version: int | None,
) -> lambda_.ILayerVersion:
    """AWS's published Powertools for AWS Lambda (Python) v3 layer, imported once per stack and layer."""
    version = _defaults.POWERTOOLS_LAYER_VERSION if version is None else version
    stack = Stack.of(scope)
    layers = _LAYERS.setdefault(stack, {})
    known = layers.get((runtime, architecture, version))
    if known is not None:
        return known
    name = f"{POWERTOOLS_LAYER_NAME}-{runtime.name.replace('.', '')}-{architecture.name}"
    layer_id = f"ConstructsSqsPowertoolsLayer-{runtime.name}-{architecture.name}-{version}"
    existing = stack.node.try_find_child(layer_id)
    if existing is not None:
        layers[(runtime, architecture, version)] = existing  # type: ignore[assignment]
        return existing  # type: ignore[return-value]
    arn = stack.format_arn(
        service="lambda",
        account=_defaults.POWERTOOLS_LAYER_ACCOUNT,
        resource="layer",
        resource_name=f"{name}:{version}",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    layer = layers[(runtime, architecture, version)] = lambda_.LayerVersion.from_layer_version_arn(stack, layer_id, arn)
    return layer


def runtime_layer(scope: Construct) -> lambda_.LayerVersion:
    """A layer with the ``constructs_sqs_runtime`` package, one per stack.

    The layer's content ships with this package (``constructs_sqs/runtime-layer/python/constructs_sqs_runtime``),
    so the layer is a plain asset directory: nothing is bundled, and synthesis prints nothing for it.
    """
    stack = Stack.of(scope)
    layers = _LAYERS.setdefault(stack, {})
    known = layers.get(RUNTIME_PACKAGE)
    if known is not None:
        return known  # type: ignore[return-value]
    layer_id = "ConstructsSqsRuntimeLayer"
    existing = stack.node.try_find_child(layer_id)
    if existing is not None:
        layers[RUNTIME_PACKAGE] = existing  # type: ignore[assignment]
        return existing  # type: ignore[return-value]
    layer = layers[RUNTIME_PACKAGE] = lambda_.LayerVersion(
        stack,
        layer_id,
        code=lambda_.Code.from_asset(
            str(runtime_layer_dir()),
            # In a checkout the package is a symbolic link to ../../../constructs_sqs_runtime; in the
            # wheel, a copy. Either way the asset holds the files.
            follow_symlinks=SymlinkFollowMode.ALWAYS,
            exclude=["__pycache__", "*.pyc"],
        ),
        compatible_runtimes=list(RUNTIME_LAYER_RUNTIMES),
        compatible_architectures=[lambda_.Architecture.X86_64, lambda_.Architecture.ARM_64],
        description="constructs-sqs: constructs_sqs_runtime, the SQS batch handler helper",
    )
    return layer


def runtime_layer_dir() -> Path:
    """The layer's asset directory: ``python/constructs_sqs_runtime`` inside, as Lambda's Python runtimes
    load a layer (``/opt/python`` is on ``sys.path``)."""
    directory = Path(__file__).parent / RUNTIME_LAYER_DIR
    if not (directory / "python" / RUNTIME_PACKAGE / "__init__.py").is_file():
        raise FileNotFoundError(
            f"the constructs_sqs_runtime layer is missing from {directory}: it ships with constructs-sqs; "
            "reinstall the package (pip install --force-reinstall constructs-sqs)"
        )
    return directory
