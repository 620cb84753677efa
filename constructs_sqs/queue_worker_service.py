"""``QueueWorkerService``: an SQS consumer on ECS Fargate that scales on backlog per task.

For jobs Lambda cannot hold (longer than 15 minutes, more than 10 GB, a container or a JVM): a Fargate service
that consumes a queue pattern of the library (``FifoQueueWithDlq``, ``EncryptedQueue``) or any ``sqs.IQueue``,
running the user's image and command, or the package's worker entrypoint (``python -m
constructs_sqs_runtime.worker``) around the user's handler.

Scaling is what aws-cdk-lib's ``QueueProcessingFargateService`` does not give (aws/aws-cdk#34072, #20706,
#20659, #9242, #4719): target tracking on backlog per task (visible messages / running tasks, metric math in the
L1 ``CustomizedMetricSpecification``), with the target derived from the acceptable latency and the job's
duration; a step policy that starts the first task when a message waits and none runs; scale-in that stops only
tasks holding no message (the worker holds ECS task scale-in protection while it holds messages); never CPU.

Two steps, as everywhere in the library: :func:`plan_worker` checks every argument and derives the settings
without building anything; the construct builds from the plan. Precedence: what the pattern must set > what the
caller passes > defaults.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

import jsii
from aws_cdk import Annotations, Duration, Fn, Names, RemovalPolicy, Stack
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import _defaults, _limits
from ._add_alarms import AlarmsMixin
from ._consumer_function import _allow_logs_to_use, _ManagedPolicyRole
from ._facts import QueueFacts, read_queue, write_derived_visibility
from ._jsii import keyword_signature
from ._queue_base import CONSUME_ACTIONS, CONSUMER_KEY_ACTIONS, QueueGrants, QueueWithDlqBase, allow_producer_on_source, grant
from ._validation import (
    BOOLEAN,
    ConfigurationError,
    SQS_DEFAULT_VISIBILITY_TIMEOUT,
    Kind,
    Problems,
    acknowledge,
    arguments_of,
    check_construct_arguments,
    format_duration,
    seconds_of,
)

if TYPE_CHECKING:
    from aws_cdk import aws_sns as sns

    from .alarms import QueueAlarms

__all__ = [
    "ENVIRONMENT",
    "WORKER_COMMAND",
    "QueueWorkerService",
    "WorkerArguments",
    "WorkerPlan",
    "backlog_per_task",
    "plan_worker",
]

WORKER_COMMAND = ("python", "-m", "constructs_sqs_runtime.worker")
"""The container command when ``handler=`` is given: the package's worker entrypoint."""

ENVIRONMENT = {
    "queue_url": "CONSTRUCTS_SQS_QUEUE_URL",
    "handler": "CONSTRUCTS_SQS_HANDLER",
    "concurrency": "CONSTRUCTS_SQS_CONCURRENCY",
    "visibility_timeout": "CONSTRUCTS_SQS_VISIBILITY_TIMEOUT",
    "drain_seconds": "CONSTRUCTS_SQS_DRAIN_SECONDS",
    "task_protection": "CONSTRUCTS_SQS_TASK_PROTECTION",
    "protection_minutes": "CONSTRUCTS_SQS_PROTECTION_MINUTES",
}
"""The environment variables the construct sets on the container, read by the worker entrypoint."""

BACKLOG_EXPRESSION = "m1 / IF(m2 < 1, 1, m2)"
"""Backlog per task: visible messages (m1) / running tasks (m2), dividing by 1 while no task runs."""
SCALE_FROM_ZERO_EXPRESSION = "IF(FILL(m2, 0) < 1, m1, 0)"
"""Visible messages while the service wants no task (m2: desired tasks, 0 when not published)."""
NO_RUNNING_TASK_EXPRESSION = "IF(FILL(m2, 0) < 1, m1, 0)"
"""Visible messages while no task runs (m2: running tasks)."""
NOT_STARTING_EXPRESSION = "FILL(m1, 0) - FILL(m2, 0)"
"""Desired tasks (m1) that are not running (m2)."""

TASK_PROTECTION_ACTIONS = ("ecs:UpdateTaskProtection",)
"""What the ECS agent calls, with the task role, when the worker PUTs ``$ECS_AGENT_URI/task-protection/v1/state``
(ECS developer guide, "Task scale-in protection endpoint"); the worker never reads protection back."""

WARNING_CLUSTER = "constructs-sqs:worker-cluster"
WARNING_VISIBILITY = "constructs-sqs:worker-visibility"
WARNING_MAX_RECEIVE_COUNT = "constructs-sqs:worker-max-receive-count"

_HANDLER = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")
_IMAGE = Kind.of("an ecs.ContainerImage, e.g. ecs.ContainerImage.from_asset('worker')", ecs.ContainerImage)
_SECRET = Kind.of("an ecs.Secret", ecs.Secret)
_VPC = Kind.interface("an ec2.IVpc", ec2.IVpc)
_CLUSTER = Kind.interface("an ecs.ICluster", ecs.ICluster)
_SUBNETS = Kind.of("an ec2.SubnetSelection", ec2.SubnetSelection)
_SECURITY_GROUP = Kind.interface("an ec2.ISecurityGroup", ec2.ISecurityGroup)
_RETENTION_DAYS = Kind.of("a logs.RetentionDays", logs.RetentionDays)
_KEY = Kind.interface("a kms.IKey", kms.IKey)
_STRING = Kind.of("a str", str)
_QUEUE_KINDS = "a queue pattern of this library (e.g. EncryptedQueue), an sqs.Queue or another sqs.IQueue"


def backlog_per_task(acceptable_latency: float, job_duration: float, concurrency: int = 1) -> int:
    """The messages one task may have waiting: ``acceptable_latency / job_duration x concurrency``, at least 1.

    A task with ``concurrency`` handler threads finishes ``concurrency`` jobs every ``job_duration`` seconds, so
    a message behind ``n`` others per task waits ``n / concurrency x job_duration``; keeping ``n`` at or below
    this target keeps the wait within ``acceptable_latency`` (Application Auto Scaling user guide, "backlog per
    task").

    Parameters
    ----------
    acceptable_latency:
        Seconds a message may wait before a worker takes it.
    job_duration:
        Seconds one message takes (the maximum: the target errs on the side of more tasks).
    concurrency:
        Handler threads per task. Default: 1.

    Returns
    -------
    int
        The target of the backlog-per-task policy.
    """
    return max(1, math.floor(acceptable_latency / job_duration * concurrency))


@jsii.implements(cloudwatch.IAlarmAction)
class _ScalingPolicyAction:
    """An alarm action that invokes an Application Auto Scaling policy given as an L1 (its Ref is its ARN)."""

    def __init__(self, policy: autoscaling.CfnScalingPolicy) -> None:
        self._policy = policy

    def bind(self, scope: Construct, alarm: cloudwatch.IAlarm) -> cloudwatch.AlarmActionConfig:  # noqa: ARG002
        return cloudwatch.AlarmActionConfig(alarm_action_arn=self._policy.ref)


@keyword_signature
class QueueWorkerService(QueueGrants, AlarmsMixin, Construct):
    """An ECS Fargate service consuming a queue, scaled on backlog per task, scaled in only where idle.

    What it does by default:

    - Runs ``image`` with ``command``, or, with ``handler="module:function"``, the worker entrypoint
      ``python -m constructs_sqs_runtime.worker`` (the image needs ``constructs-sqs[runtime]`` installed). The
      container's environment tells the worker the queue URL, handler, concurrency, visibility timeout, drain
      seconds and task protection (the ``CONSTRUCTS_SQS_*`` variables of :data:`ENVIRONMENT`).
    - Scales with one ``AWS::ApplicationAutoScaling::ScalableTarget`` (``min_tasks`` to ``max_tasks``) and two
      policies: target tracking on ``m1 / IF(m2 < 1, 1, m2)`` (visible messages / running tasks) with the target
      :func:`backlog_per_task`, and a step policy whose alarm starts one task when messages wait and the
      service wants none (target tracking cannot scale from zero). Never on CPU.
    - Lets tasks protect themselves from scale-in while they hold messages (``ecs:UpdateTaskProtection``, which
      the ECS agent calls with the task role), and gives the container Fargate's longest stop timeout, of which
      the worker drains for all but 10 seconds.
    - Gives the task role consume on the queue (``sqs:ReceiveMessage``, ``sqs:ChangeMessageVisibility``,
      ``sqs:GetQueueUrl``, ``sqs:DeleteMessage``, ``sqs:GetQueueAttributes``), ``kms:Decrypt`` on its
      customer-managed key, and nothing else; the execution role gets what aws-cdk-lib grants it (logs, image
      pull, secrets). Both roles keep their permissions in one customer managed policy each.
    - Writes the heartbeat visibility timeout on a queue that kept a default one, logs to a log group with
      retention, turns Container Insights on in the cluster it creates (the running-task metric comes from it),
      and creates a VPC only when given none: two AZs, private subnets with one NAT gateway, flow logs.

    Example::

        jobs = EncryptedQueue(self, "Jobs")
        workers = QueueWorkerService(
            self, "Workers",
            queue=jobs,
            image=ecs.ContainerImage.from_asset("worker"),   # a Dockerfile installing constructs-sqs[runtime]
            handler="jobs:handle",
            job_max_duration=Duration.minutes(40),
            acceptable_latency=Duration.hours(2),
            max_tasks=20,
        )

    Parameters
    ----------
    queue:
        The queue to consume: a queue pattern (``FifoQueueWithDlq``, ``EncryptedQueue``, one made by
        ``from_queue_arns``), a plain ``sqs.Queue`` of this app or any imported ``sqs.IQueue``.
    image:
        The container image, e.g. ``ecs.ContainerImage.from_asset("worker")`` (staged at synth, built by
        ``cdk deploy``) or ``ecs.ContainerImage.from_registry(...)``.
    command:
        The container's command, e.g. ``["java", "-jar", "worker.jar"]``; not with ``handler``.
        Default: - ``python -m constructs_sqs_runtime.worker`` with ``handler``, else the image's own.
    handler:
        ``module:function`` the worker entrypoint calls with each message (imported from the image's working
        directory or ``PYTHONPATH``). Default: - none, the image's command consumes the queue.
    concurrency:
        Handler threads per task, 1 to 1,000 (``CONSTRUCTS_SQS_CONCURRENCY``). Default: 1.
    cpu:
        CPU units of a task: 256, 512, 1,024, 2,048, 4,096, 8,192 or 16,384. Default: 256.
    memory_limit_mib:
        Memory of a task in MiB, a size Fargate offers with ``cpu`` (256 CPU units: 512, 1,024 or 2,048).
        Default: 512; with another ``cpu``, the smallest size Fargate offers with it.
    environment:
        More environment variables of the container; names starting with ``CONSTRUCTS_SQS_`` are the
        construct's. Default: - only the ``CONSTRUCTS_SQS_*`` variables.
    secrets:
        Secrets of the container (``ecs.Secret.from_secrets_manager(...)``), read by ECS at task start; the
        execution role is granted to read them. Default: - none.
    min_tasks:
        Fewest tasks, 0 to 5,000; 0 stops every task while the queue is empty. Default: 0.
    max_tasks:
        Most tasks, 1 to 5,000, at least ``min_tasks``. Default: 10.
    job_max_duration:
        The longest one message may take, 1 second to 2 days (the longest scale-in protection, 2,880 minutes).
        Drives the backlog target, the heartbeat visibility timeout and the protection period.
        Default: ``Duration.minutes(15)``.
    acceptable_latency:
        How long a message may wait for a worker, 1 second to 14 days; with ``job_max_duration`` and
        ``concurrency`` it gives the backlog per task the service tracks. Default: ``Duration.minutes(15)``.
    stop_timeout:
        How long ECS waits between SIGTERM and SIGKILL, 11 seconds to 2 minutes (Fargate's maximum, 120 s); the
        worker drains for all of it but 10 seconds. Default: ``Duration.seconds(120)``.
    task_protection:
        Let the worker hold ECS task scale-in protection while it holds messages, so scale-in stops only idle
        tasks. Default: True.
    vpc:
        The VPC of the tasks; not with ``cluster``. Default: - the cluster's, or one created (two AZs, public
        and private subnets, one NAT gateway, flow logs to CloudWatch Logs).
    vpc_subnets:
        Where the tasks run. Default: - the VPC's private subnets.
    security_groups:
        Security groups of the tasks. Default: - one allowing outbound traffic only.
    cluster:
        An ECS cluster to run in, with Container Insights on (the running-task metric of the scaling policy
        comes from it). Default: - a cluster created with Container Insights on.
    spot:
        Run on Fargate Spot (capacity provider ``FARGATE_SPOT``): up to 70 % cheaper, and a task can be stopped
        with two minutes' notice, which the stop timeout and the worker's drain are sized for. Default: False.
    assign_public_ip:
        Give tasks public IPs (a VPC without NAT gateway). Default: False.
    log_retention:
        Retention of the worker's log group. Default: ``logs.RetentionDays.ONE_MONTH``.
    log_encryption_key:
        A customer-managed key for the worker's log group (and the flow logs of a VPC created here); a key of
        this app gets the key policy statement CloudWatch Logs needs. Default: - CloudWatch Logs' own encryption.

    Attributes
    ----------
    source:
        The queue pattern consumed, or None for a plain ``sqs.Queue`` / ``sqs.IQueue``.
    queue, dead_letter_queue, encryption_key, fifo:
        The queue consumed, its DLQ (None when it has none or it is unknown), key (None for SSE-SQS) and type.
    plan:
        The :class:`WorkerPlan`: every derived setting; ``print(service.plan.describe())`` shows them.
    vpc, cluster, service, task_definition, container, log_group, task_role, execution_role, security_groups:
        What runs the workers.
    scalable_target, backlog_policy, scale_from_zero_policy, scale_from_zero_alarm:
        The L1 Application Auto Scaling resources and the alarm that starts the first task.
    no_running_task_alarm, tasks_not_starting_alarm:
        The service's own alarms, made by :meth:`add_alarms`; None before.
    backlog_per_task, visibility_timeout, drain_seconds:
        The target tracked, the heartbeat visibility timeout (a Duration) and the drain seconds.

    Raises
    ------
    ConfigurationError
        (a ``ValueError``) listing every invalid argument of the call.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        queue: QueueWithDlqBase | sqs.IQueue,
        image: ecs.ContainerImage,
        command: Sequence[str] | None = None,
        handler: str | None = None,
        concurrency: int | None = None,
        cpu: int | None = None,
        memory_limit_mib: int | None = None,
        environment: Mapping[str, str] | None = None,
        secrets: Mapping[str, ecs.Secret] | None = None,
        min_tasks: int | None = None,
        max_tasks: int | None = None,
        job_max_duration: Duration | None = None,
        acceptable_latency: Duration | None = None,
        stop_timeout: Duration | None = None,
        task_protection: bool = True,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        cluster: ecs.ICluster | None = None,
        spot: bool = False,
        assign_public_ip: bool = False,
        log_retention: logs.RetentionDays | None = None,
        log_encryption_key: kms.IKey | None = None,
    ) -> None:
        arguments = arguments_of(WorkerArguments, locals())
        check_construct_arguments(type(self).__name__, scope, id)
        super().__init__(scope, id)
        facts = read_queue(queue) if queue is not None else None
        self.plan: WorkerPlan = plan_worker(self.node.path, arguments, facts)
        for warning_id, message in self.plan.warnings:
            Annotations.of(self).add_warning_v2(warning_id, message)
        self.source: QueueWithDlqBase | None = queue if isinstance(queue, QueueWithDlqBase) else None
        self._facts = self._write_visibility(self.plan)
        self.queue: sqs.IQueue = self._facts.queue
        self.dead_letter_queue: sqs.IQueue | None = self._facts.dead_letter_queue
        self.encryption_key: kms.IKey | None = self._facts.encryption_key
        self.fifo: bool = self._facts.fifo
        self.backlog_per_task: int = self.plan.backlog_per_task
        self.drain_seconds: int = self.plan.drain_seconds
        self.no_running_task_alarm: cloudwatch.Alarm | None = None
        self.tasks_not_starting_alarm: cloudwatch.Alarm | None = None
        self._build_network(arguments)
        self._build_task(arguments)
        self._build_service(arguments)
        self._build_scaling()

    @property
    def visibility_timeout(self) -> Duration:
        """How long a received message stays invisible before the worker's first heartbeat extends it."""
        return Duration.seconds(self.plan.visibility_timeout)

    # --- Building ----------------------------------------------------------------------------------

    def _write_visibility(self, plan: WorkerPlan) -> QueueFacts:
        facts = plan.queue
        if plan.set_visibility_timeout is None:
            return facts
        if write_derived_visibility(facts.queue, plan.set_visibility_timeout):
            return replace(facts, visibility_timeout=plan.set_visibility_timeout, visibility_timeout_derived=True)
        return facts

    def _build_network(self, a: WorkerArguments) -> None:
        self.cluster: ecs.ICluster
        if a.cluster is not None:
            self.cluster = cast(ecs.ICluster, a.cluster)
            self.vpc: ec2.IVpc = self.cluster.vpc
            return
        self.vpc = cast(ec2.IVpc, a.vpc) if a.vpc is not None else self._create_vpc(a)
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=self.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
            enable_fargate_capacity_providers=bool(a.spot),
        )

    def _create_vpc(self, a: WorkerArguments) -> ec2.Vpc:
        """Two AZs, public subnets that map no public IP (the NAT gateway has its own), private subnets with
        egress through one NAT gateway, and flow logs of all traffic to a log group with retention."""
        key = cast("kms.IKey | None", a.log_encryption_key)
        flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            retention=_defaults.WORKER_FLOW_LOG_RETENTION,
            removal_policy=RemovalPolicy.RETAIN,
            encryption_key=key,
        )
        flow_log_role = _ManagedPolicyRole(
            self,
            "FlowLogsRole",
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
            description="constructs-sqs: writes the flow logs of a worker service's VPC",
            policy_description="constructs-sqs: write the VPC flow logs to their log group",
        )
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=1,
            restrict_default_security_group=False,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24, map_public_ip_on_launch=False
                ),
                ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22),
            ],
            flow_logs={
                "FlowLog": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group, flow_log_role),
                    traffic_type=ec2.FlowLogTrafficType.ALL,
                )
            },
        )
        acknowledge(vpc, _defaults.WORKER_VPC_ACKNOWLEDGMENTS)
        return vpc

    def _build_task(self, a: WorkerArguments) -> None:
        plan = self.plan
        self.log_group: logs.LogGroup = logs.LogGroup(
            self,
            "LogGroup",
            retention=plan.log_retention,
            removal_policy=RemovalPolicy.RETAIN,
            encryption_key=cast("kms.IKey | None", a.log_encryption_key),
        )
        if a.log_encryption_key is not None:
            _allow_logs_to_use(self, cast(kms.IKey, a.log_encryption_key))
        self.task_role: iam.Role = _ManagedPolicyRole(
            self,
            "TaskRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description=f"constructs-sqs: worker tasks consuming the queue {plan.queue.path}",
            policy_description="constructs-sqs: the permissions of a queue worker task",
        )
        self.execution_role: _ManagedPolicyRole = _ManagedPolicyRole(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description="constructs-sqs: starts the worker tasks (pulls the image, writes logs, reads secrets)",
            policy_description="constructs-sqs: what ECS needs to start a worker task",
        )
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "TaskDefinition",
            cpu=plan.cpu,
            memory_limit_mib=plan.memory_limit_mib,
            task_role=self.task_role,
            execution_role=self.execution_role,
        )
        self.container: ecs.ContainerDefinition = self.task_definition.add_container(
            "Worker",
            image=cast(ecs.ContainerImage, a.image),
            command=list(plan.command) if plan.command is not None else None,
            environment={**plan.environment, ENVIRONMENT["queue_url"]: self.queue.queue_url},
            secrets=dict(cast("Mapping[str, ecs.Secret]", a.secrets or {})) or None,
            logging=ecs.LogDrivers.aws_logs(stream_prefix="worker", log_group=self.log_group),
            stop_timeout=Duration.seconds(plan.stop_timeout),
            essential=True,
        )
        grant(self.queue, self.encryption_key, self.task_role, CONSUME_ACTIONS, CONSUMER_KEY_ACTIONS,
              where=f"{self.node.path}.task_role")
        acknowledge(self.task_definition, _defaults.WORKER_ENVIRONMENT_ACKNOWLEDGMENTS)
        execution_policy = self.execution_role.managed_policy
        if _grants_any_resource(execution_policy):
            # The image is in ECR: aws-cdk-lib granted ecr:GetAuthorizationToken, which takes no resource.
            acknowledge(execution_policy, _defaults.WORKER_IMAGE_PULL_ACKNOWLEDGMENTS)

    def _build_service(self, a: WorkerArguments) -> None:
        plan = self.plan
        self.security_groups: list[ec2.ISecurityGroup] = list(
            cast("Sequence[ec2.ISecurityGroup]", a.security_groups or [])
        ) or [
            ec2.SecurityGroup(
                self,
                "SecurityGroup",
                vpc=self.vpc,
                description="constructs-sqs: queue worker tasks (outbound only: SQS, ECR, CloudWatch Logs)",
                allow_all_outbound=True,
            )
        ]
        strategies = (
            [ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=1)] if plan.spot else None
        )
        self.service: ecs.FargateService = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=self.task_definition,
            # No DesiredCount in the template: CloudFormation would reset the count auto scaling chose on every
            # deploy. A new service starts one task, which scale-in stops once it is idle (min_tasks 0).
            min_healthy_percent=100,
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            deployment_controller=ecs.DeploymentController(type=ecs.DeploymentControllerType.ECS),
            capacity_provider_strategies=strategies,
            assign_public_ip=plan.assign_public_ip,
            vpc_subnets=cast("ec2.SubnetSelection | None", a.vpc_subnets),
            security_groups=self.security_groups,
        )
        # The same template whatever the app's ECS feature flags (removeDefaultDeploymentAlarm,
        # removeEmptyLoadBalancers, disableExplicitDeploymentControllerForCircuitBreaker): no deployment alarm
        # block, no empty load balancer list, the ECS deployment controller written out (above).
        cfn_service = self.service.node.default_child
        assert isinstance(cfn_service, ecs.CfnService)
        cfn_service.add_property_deletion_override("DeploymentConfiguration.Alarms")
        cfn_service.add_property_deletion_override("LoadBalancers")
        if plan.task_protection:
            # The agent names the task by its ARN, task/<cluster name>/<task id>; the id is known once it runs.
            task_arn = Stack.of(self).format_arn(
                service="ecs", resource="task", resource_name=f"{self.cluster.cluster_name}/*"
            )
            self.task_role.add_to_principal_policy(
                iam.PolicyStatement(actions=list(TASK_PROTECTION_ACTIONS), resources=[task_arn])
            )
            acknowledge(self.task_role, [(_task_protection_finding(self, task_arn), _TASK_PROTECTION_REASON)])

    def _build_scaling(self) -> None:
        plan = self.plan
        cluster_name, service_name = self.cluster.cluster_name, self.service.service_name
        self.scalable_target = autoscaling.CfnScalableTarget(
            self,
            "ScalableTarget",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=Fn.join("/", ["service", cluster_name, service_name]),
            min_capacity=plan.min_tasks,
            max_capacity=plan.max_tasks,
        )
        container_insights = [
            autoscaling.CfnScalingPolicy.TargetTrackingMetricDimensionProperty(name="ClusterName", value=cluster_name),
            autoscaling.CfnScalingPolicy.TargetTrackingMetricDimensionProperty(name="ServiceName", value=service_name),
        ]
        visible = autoscaling.CfnScalingPolicy.TargetTrackingMetricDataQueryProperty(
            id="m1",
            label="Visible messages",
            return_data=False,
            metric_stat=autoscaling.CfnScalingPolicy.TargetTrackingMetricStatProperty(
                stat="Sum",
                metric=autoscaling.CfnScalingPolicy.TargetTrackingMetricProperty(
                    namespace="AWS/SQS",
                    metric_name="ApproximateNumberOfMessagesVisible",
                    dimensions=[
                        autoscaling.CfnScalingPolicy.TargetTrackingMetricDimensionProperty(
                            name="QueueName", value=self.queue.queue_name
                        )
                    ],
                ),
            ),
        )
        running = autoscaling.CfnScalingPolicy.TargetTrackingMetricDataQueryProperty(
            id="m2",
            label="Running tasks",
            return_data=False,
            metric_stat=autoscaling.CfnScalingPolicy.TargetTrackingMetricStatProperty(
                stat="Average",
                metric=autoscaling.CfnScalingPolicy.TargetTrackingMetricProperty(
                    namespace="ECS/ContainerInsights", metric_name="RunningTaskCount", dimensions=container_insights
                ),
            ),
        )
        backlog = autoscaling.CfnScalingPolicy.TargetTrackingMetricDataQueryProperty(
            id="e1", label="Backlog per task", expression=BACKLOG_EXPRESSION, return_data=True
        )
        self.backlog_policy = autoscaling.CfnScalingPolicy(
            self,
            "BacklogPerTaskPolicy",
            policy_name="backlog-per-task",
            policy_type="TargetTrackingScaling",
            scaling_target_id=self.scalable_target.ref,
            target_tracking_scaling_policy_configuration=autoscaling.CfnScalingPolicy.TargetTrackingScalingPolicyConfigurationProperty(
                target_value=plan.backlog_per_task,
                disable_scale_in=False,
                scale_in_cooldown=_seconds(_defaults.WORKER_SCALE_IN_COOLDOWN),
                scale_out_cooldown=_seconds(_defaults.WORKER_SCALE_OUT_COOLDOWN),
                customized_metric_specification=autoscaling.CfnScalingPolicy.CustomizedMetricSpecificationProperty(
                    metrics=[visible, running, backlog]
                ),
            ),
        )
        self.scale_from_zero_policy = autoscaling.CfnScalingPolicy(
            self,
            "ScaleFromZeroPolicy",
            policy_name="scale-from-zero",
            policy_type="StepScaling",
            scaling_target_id=self.scalable_target.ref,
            step_scaling_policy_configuration=autoscaling.CfnScalingPolicy.StepScalingPolicyConfigurationProperty(
                adjustment_type="ChangeInCapacity",
                cooldown=_seconds(_defaults.WORKER_SCALE_FROM_ZERO_PERIOD),
                metric_aggregation_type="Maximum",
                step_adjustments=[
                    autoscaling.CfnScalingPolicy.StepAdjustmentProperty(
                        metric_interval_lower_bound=0, scaling_adjustment=1
                    )
                ],
            ),
        )
        period = _defaults.WORKER_SCALE_FROM_ZERO_PERIOD
        self.scale_from_zero_alarm = cloudwatch.Alarm(
            self,
            "ScaleFromZeroAlarm",
            alarm_name=Names.unique_resource_name(self, max_length=_defaults.ALARM_NAME_PREFIX_MAX_LENGTH, separator="-")
            + "-scale-from-zero",
            alarm_description=(
                f"Messages wait in queue {plan.queue.name} and the worker service wants no task: starts one "
                "(target tracking on backlog per task cannot scale from zero). Not a page: it acts on its own."
            ),
            metric=cloudwatch.MathExpression(
                expression=SCALE_FROM_ZERO_EXPRESSION,
                label="Visible messages while no task is desired",
                period=period,
                using_metrics={
                    "m1": self.queue.metric_approximate_number_of_messages_visible(statistic="Maximum", period=period),
                    "m2": self.service_metric("DesiredTaskCount", period=period),
                },
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            actions_enabled=True,
        )
        self.scale_from_zero_alarm.add_alarm_action(_ScalingPolicyAction(self.scale_from_zero_policy))

    def service_metric(self, metric_name: str, *, period: Duration | None = None) -> cloudwatch.Metric:
        """A Container Insights metric of the service (``ECS/ContainerInsights``, Average).

        Parameters
        ----------
        metric_name:
            ``RunningTaskCount``, ``DesiredTaskCount``, ``PendingTaskCount``, ...
        period:
            Default: ``Duration.minutes(5)``.

        Returns
        -------
        cloudwatch.Metric
            The metric, dimensioned by the cluster and service names.
        """
        return cloudwatch.Metric(
            namespace="ECS/ContainerInsights",
            metric_name=metric_name,
            dimensions_map={"ClusterName": self.cluster.cluster_name, "ServiceName": self.service.service_name},
            statistic="Average",
            period=period or _defaults.ALARM_PERIOD,
        )

    # --- The queue-holder protocol, grants and alarms ------------------------------------------------

    def queue_facts(self) -> QueueFacts:
        """The consumed queue as the library knows it (its visibility timeout as written here)."""
        return self._facts

    def allow_service_producer(self, principal: iam.ServicePrincipal | str, source_arn: str) -> None:
        """Let an AWS service send to the queue: see ``QueueWithDlqBase.allow_service_producer``.

        Parameters
        ----------
        principal:
            The service principal (``"sns.amazonaws.com"``) or an ``iam.ServicePrincipal``.
        source_arn:
            The ARN of the resource that sends (the topic, rule or bucket).

        Raises
        ------
        ConfigurationError
            As there, and when the queue consumed is not one of the library's patterns.
        """
        allow_producer_on_source(self, self.source, self._facts, principal, source_arn)

    def add_alarms(
        self,
        *,
        topic: sns.ITopic | None = None,
        alarm_email: str | None = None,
        depth_threshold: int | None = None,
        age_threshold: Duration | None = None,
        age_slo: Duration | None = None,
        retention_period: Duration | None = None,
        in_flight_threshold: int | None = None,
        consumer_errors_threshold: int | None = None,
        consumer_throttles_threshold: int | None = None,
        dead_letter_retention_period: Duration | None = None,
        dead_letter_age_threshold: Duration | None = None,
        time_to_drain_threshold: Duration | None = None,
        min_incoming_messages: int | None = None,
        incoming_period: Duration | None = None,
        incoming_evaluation_periods: int | None = None,
        alarm_name_prefix: str | None = None,
        notify_ok: bool = _defaults.ALARM_NOTIFY_OK,
        dashboard: cloudwatch.Dashboard | None = None,
        create_dashboard: bool = _defaults.ALARM_CREATE_DASHBOARD,
    ) -> QueueAlarms:
        """The queue's alarms (``QueueAlarms``), plus the service's own two on the same topic.

        ``<prefix>-no-running-task``: messages have waited 15 minutes with no task running (the scale-from-zero
        policy did not start one, or every task stops). ``<prefix>-tasks-not-starting``: for 15 minutes fewer
        tasks run than the service wants (an image that cannot be pulled, a secret that cannot be read, a
        container that exits at once, no Spot capacity). Both read Container Insights.

        Parameters
        ----------
        topic, alarm_email, depth_threshold, age_threshold, age_slo, retention_period, in_flight_threshold,
        consumer_errors_threshold, consumer_throttles_threshold, dead_letter_retention_period,
        dead_letter_age_threshold, time_to_drain_threshold, min_incoming_messages, incoming_period,
        incoming_evaluation_periods, alarm_name_prefix, notify_ok, dashboard, create_dashboard:
            As for :class:`~constructs_sqs.QueueAlarms` (the consumer thresholds apply to Lambda consumers only).

        Returns
        -------
        QueueAlarms
            The queue's alarms; the service's are :attr:`no_running_task_alarm` and
            :attr:`tasks_not_starting_alarm`.

        Raises
        ------
        ConfigurationError
            As ``QueueAlarms``, and when the alarms were already added.
        """
        arguments = {name: value for name, value in locals().items() if name not in ("self", "__class__")}
        alarms = AlarmsMixin.add_alarms(self, **arguments)
        self._add_service_alarms(alarms, notify_ok=notify_ok)
        return alarms

    def _add_service_alarms(self, alarms: QueueAlarms, *, notify_ok: bool) -> None:
        from aws_cdk import aws_cloudwatch_actions as actions  # only when alarms are wanted

        period = _defaults.ALARM_PERIOD
        minutes = format_duration(_seconds(period) * _defaults.WORKER_ALARM_EVALUATION_PERIODS)
        queue_name = self.plan.queue.name
        specs = (
            (
                "NoRunningTaskAlarm",
                "-no-running-task",
                NO_RUNNING_TASK_EXPRESSION,
                {
                    "m1": self.queue.metric_approximate_number_of_messages_visible(statistic="Maximum", period=period),
                    "m2": self.service_metric("RunningTaskCount", period=period),
                },
                f"Messages have waited in queue {queue_name} for {minutes} with no worker task running: the "
                "scale-from-zero alarm did not start one, or every task stops; check the service's events and "
                "stopped tasks in the ECS console.",
            ),
            (
                "TasksNotStartingAlarm",
                "-tasks-not-starting",
                NOT_STARTING_EXPRESSION,
                {
                    "m1": self.service_metric("DesiredTaskCount", period=period),
                    "m2": self.service_metric("RunningTaskCount", period=period),
                },
                f"For {minutes} fewer worker tasks have run than the service wants: tasks fail to start (image "
                "pull, secrets, a container that exits at once, no Fargate Spot capacity); read the stopped "
                "reason of the service's stopped tasks.",
            ),
        )
        action = actions.SnsAction(alarms.topic)
        made: list[cloudwatch.Alarm] = []
        for construct_id, suffix, expression, metrics, description in specs:
            alarm = cloudwatch.Alarm(
                alarms,
                construct_id,
                alarm_name=f"{alarms.alarm_name_prefix}{suffix}",
                alarm_description=description,
                metric=cloudwatch.MathExpression(expression=expression, using_metrics=metrics, period=period),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=_defaults.WORKER_ALARM_EVALUATION_PERIODS,
                datapoints_to_alarm=_defaults.WORKER_ALARM_EVALUATION_PERIODS,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                actions_enabled=True,
            )
            alarm.add_alarm_action(action)
            if notify_ok:
                alarm.add_ok_action(action)
            made.append(alarm)
        self.no_running_task_alarm, self.tasks_not_starting_alarm = made


_TASK_PROTECTION_REASON = _defaults.WORKER_TASK_PROTECTION_ACKNOWLEDGMENTS[0][1]


def _task_protection_finding(scope: Construct, task_arn: str) -> str:
    """cdk-nag's id of the AwsSolutions-IAM5 finding on the task ARN: the resolved ARN written as cdk-nag writes
    it (``<Logical.Attr>`` for references, ``<AWS::Region>`` for pseudo parameters)."""
    return "AwsSolutions::AwsSolutions-IAM5[Resource::" + _flatten(Stack.of(scope).resolve(task_arn)) + "]"


def _flatten(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (kind, body), = value.items()
        if kind == "Ref":
            return f"<{body}>"
        if kind == "Fn::GetAtt":
            return f"<{body[0]}.{body[1]}>"
        if kind == "Fn::Join":
            return str(body[0]).join(_flatten(part) for part in body[1])
    return json.dumps(value)


def _grants_any_resource(policy: iam.ManagedPolicy) -> bool:
    """True when a statement of ``policy`` has Resource ``*``."""
    document = Stack.of(policy).resolve(policy.document)
    for statement in document.get("Statement", []) if isinstance(document, dict) else []:
        resources = statement.get("Resource", [])
        if resources == "*" or (isinstance(resources, list) and "*" in resources):
            return True
    return False


def _seconds(value: Duration) -> int:
    seconds = seconds_of(value)
    assert seconds is not None
    return int(seconds)


# --- The plan: every argument checked, the settings derived, nothing built ---------------------------


@dataclass(frozen=True)
class WorkerArguments:
    """The arguments of :class:`QueueWorkerService` as the caller passed them (None: not passed)."""

    queue: object
    image: object
    command: object = None
    handler: object = None
    concurrency: object = None
    cpu: object = None
    memory_limit_mib: object = None
    environment: object = None
    secrets: object = None
    min_tasks: object = None
    max_tasks: object = None
    job_max_duration: object = None
    acceptable_latency: object = None
    stop_timeout: object = None
    task_protection: object = True
    vpc: object = None
    vpc_subnets: object = None
    security_groups: object = None
    cluster: object = None
    spot: object = False
    assign_public_ip: object = False
    log_retention: object = None
    log_encryption_key: object = None


@dataclass(frozen=True)
class WorkerPlan:
    """What :class:`QueueWorkerService` builds, decided from its arguments. Seconds are Python numbers."""

    queue: QueueFacts
    """The queue consumed, as read."""
    command: tuple[str, ...] | None
    """The container command; None: the image's own."""
    handler: str | None
    """``module:function`` of the worker entrypoint, or None."""
    concurrency: int
    """Handler threads per task."""
    cpu: int
    """CPU units of a task."""
    memory_limit_mib: int
    """MiB of a task."""
    min_tasks: int
    """Fewest tasks."""
    max_tasks: int
    """Most tasks."""
    job_max_duration: float
    """Seconds one message may take."""
    acceptable_latency: float
    """Seconds a message may wait."""
    backlog_per_task: int
    """The target of the backlog-per-task policy (:func:`backlog_per_task`)."""
    visibility_timeout: int
    """Seconds a received message stays invisible before its first heartbeat: the job's maximum duration, between
    SQS's default 30 seconds (a message is not handed out again while its handler starts) and 5 minutes."""
    set_visibility_timeout: float | None
    """The visibility timeout to write on the queue (it kept a default); None: leave it."""
    stop_timeout: int
    """Seconds between SIGTERM and SIGKILL."""
    drain_seconds: int
    """Seconds the worker drains after SIGTERM: the stop timeout - 10 s."""
    task_protection: bool
    """Whether the worker holds task scale-in protection."""
    protection_minutes: int
    """``ExpiresInMinutes`` of each protection request."""
    environment: dict[str, str]
    """The container's environment but the queue URL (a token, added when built)."""
    spot: bool
    """Fargate Spot."""
    assign_public_ip: bool
    """Public IPs for the tasks."""
    log_retention: logs.RetentionDays
    """Retention of the worker's log group."""
    warnings: tuple[tuple[str, str], ...]
    """``(id, message)`` of each synth warning."""
    notes: tuple[str, ...]
    """What was derived and why, one sentence each."""

    def describe(self) -> str:
        """The derived settings, one per line."""
        return "\n".join(self.notes)


def plan_worker(where: str, arguments: WorkerArguments, queue: QueueFacts | None) -> WorkerPlan:
    """Check the arguments of :class:`QueueWorkerService` and derive its settings, building nothing.

    Parameters
    ----------
    where:
        The construct path, for messages.
    arguments:
        The arguments as passed.
    queue:
        The ``queue`` argument as read (:func:`~constructs_sqs._facts.read_queue`); None when it is no queue.

    Returns
    -------
    WorkerPlan
        Every setting, derived.

    Raises
    ------
    ConfigurationError
        Listing every problem of the call.
    """
    a = arguments
    problems = Problems(where)
    warnings: list[tuple[str, str]] = []
    notes: list[str] = []
    if queue is None:
        shown = "None" if a.queue is None else type(a.queue).__name__
        problems.add(f"queue must be {_QUEUE_KINDS}, got {shown}")
    if a.image is None:
        problems.add("image must be given, e.g. ecs.ContainerImage.from_asset('worker') or ecs.ContainerImage.from_registry(...)")
    problems.of_kind("image", a.image, _IMAGE)
    command, handler = _plan_command(problems, a)
    concurrency = _limits.WORKER_CONCURRENCY.check_count(problems, "concurrency", a.concurrency)
    cpu, memory = _plan_size(problems, a)
    min_tasks, max_tasks = _plan_tasks(problems, a)
    job = _limits.JOB_MAX_DURATION.check(problems, "job_max_duration", a.job_max_duration)
    latency = problems.duration_between(
        "acceptable_latency", a.acceptable_latency, 1, _limits.RETENTION_PERIOD.maximum
    )
    stop = _limits.FARGATE_STOP_TIMEOUT.check(problems, "stop_timeout", a.stop_timeout)
    margin = _seconds(_defaults.WORKER_DRAIN_MARGIN)
    if stop is not None and stop <= margin:
        problems.add(
            f"stop_timeout must be more than {format_duration(margin)} (the worker keeps {format_duration(margin)} "
            f"of it to give back what it holds and log that it stopped, and drains for the rest), got "
            f"{format_duration(stop)}"
        )
    for name in ("task_protection", "spot", "assign_public_ip"):
        problems.of_kind(name, getattr(a, name), BOOLEAN)
    environment = problems.mapping_of_strings("environment", a.environment) or {}
    reserved = sorted(name for name in environment if name.startswith("CONSTRUCTS_SQS_"))
    if reserved:
        problems.add(
            f"environment must not set {', '.join(reserved)}: the CONSTRUCTS_SQS_* variables are the construct's "
            "(pass handler=, concurrency=, job_max_duration=, stop_timeout=, task_protection= instead)"
        )
    _plan_secrets(problems, a.secrets)
    _plan_network(problems, a, warnings)
    problems.of_kind("log_retention", a.log_retention, _RETENTION_DAYS)
    problems.of_kind("log_encryption_key", a.log_encryption_key, _KEY)
    problems.raise_if_any()
    assert queue is not None

    job_seconds = job if job is not None else _seconds(_defaults.WORKER_JOB_MAX_DURATION)
    latency_seconds = latency if latency is not None else _seconds(_defaults.WORKER_ACCEPTABLE_LATENCY)
    threads = concurrency if concurrency is not None else _defaults.WORKER_CONCURRENCY
    target = backlog_per_task(latency_seconds, job_seconds, threads)
    notes.append(
        f"backlog per task: {target} = acceptable_latency ({format_duration(latency_seconds)}) / job_max_duration "
        f"({format_duration(job_seconds)}) x concurrency ({threads}), at least 1"
    )
    shortest, longest = _seconds(SQS_DEFAULT_VISIBILITY_TIMEOUT), _seconds(_defaults.WORKER_HEARTBEAT_VISIBILITY)
    visibility = int(min(max(math.ceil(job_seconds), shortest), longest))
    notes.append(
        f"visibility timeout: {format_duration(visibility)}, the job's maximum duration between "
        f"{format_duration(shortest)} and {format_duration(longest)}; the worker's heartbeats extend it while a "
        "handler runs (constructs-sqs rule R2)"
    )
    set_visibility = _plan_queue_visibility(queue, visibility, warnings, notes)
    stop_seconds = int(stop) if stop is not None else _seconds(_defaults.WORKER_STOP_TIMEOUT)
    drain = stop_seconds - margin
    notes.append(f"stop timeout {format_duration(stop_seconds)}: the worker drains for {format_duration(drain)}")
    protection = min(
        math.ceil(job_seconds / 60) + _defaults.WORKER_PROTECTION_MARGIN_MINUTES, _limits.TASK_PROTECTION.maximum
    )
    task_protection = bool(a.task_protection)
    if not task_protection:
        warnings.append((
            WARNING_VISIBILITY,
            "task_protection is off: scale-in can stop a task in the middle of a message (aws/aws-cdk#9242); the "
            "message comes back after its visibility timeout and is processed again",
        ))
    receives = queue.max_receive_count
    if receives is not None and receives < 2:
        warnings.append((
            WARNING_MAX_RECEIVE_COUNT,
            f"max_receive_count of queue={queue.path} is {receives}: a message whose task was stopped (a Spot "
            "interruption, a deployment past the drain) moves to the DLQ without a second try",
        ))
    env = {
        ENVIRONMENT["concurrency"]: str(threads),
        ENVIRONMENT["visibility_timeout"]: str(visibility),
        ENVIRONMENT["drain_seconds"]: str(drain),
        ENVIRONMENT["task_protection"]: "true" if task_protection else "false",
        ENVIRONMENT["protection_minutes"]: str(protection),
        **({ENVIRONMENT["handler"]: handler} if handler is not None else {}),
        **environment,
    }
    return WorkerPlan(
        queue=queue,
        command=command,
        handler=handler,
        concurrency=threads,
        cpu=cpu if cpu is not None else _defaults.WORKER_CPU,
        memory_limit_mib=memory if memory is not None else _defaults.WORKER_MEMORY_LIMIT_MIB,
        min_tasks=min_tasks,
        max_tasks=max_tasks,
        job_max_duration=job_seconds,
        acceptable_latency=latency_seconds,
        backlog_per_task=target,
        visibility_timeout=visibility,
        set_visibility_timeout=set_visibility,
        stop_timeout=stop_seconds,
        drain_seconds=drain,
        task_protection=task_protection,
        protection_minutes=protection,
        environment=env,
        spot=bool(a.spot),
        assign_public_ip=bool(a.assign_public_ip),
        log_retention=cast(logs.RetentionDays, a.log_retention or _defaults.WORKER_LOG_RETENTION),
        warnings=tuple(warnings),
        notes=tuple(notes),
    )


def _plan_command(problems: Problems, a: WorkerArguments) -> tuple[tuple[str, ...] | None, str | None]:
    handler = problems.string("handler", a.handler)
    if handler is not None and not _HANDLER.fullmatch(handler):
        problems.add(f"handler must name a Python function as 'module:function' (e.g. 'jobs.handle'), got {handler!r}")
        handler = None
    command = problems.sequence_of("command", a.command, _STRING)
    if command is not None and not command:
        problems.add("command must name a program to run, got an empty list: leave it unset to run the image's own")
    if a.command is not None and a.handler is not None:
        problems.add(
            "command and handler exclude each other: handler= runs the worker entrypoint "
            f"({' '.join(WORKER_COMMAND)}) around that function; give one or the other"
        )
    if handler is not None:
        return WORKER_COMMAND, handler
    return (tuple(command) if command else None), None


def _plan_size(problems: Problems, a: WorkerArguments) -> tuple[int | None, int | None]:
    cpu_given = a.cpu is not None
    memory_given = a.memory_limit_mib is not None
    cpu = problems.int_between("cpu", a.cpu, 1, max(_limits.FARGATE_CPU_MEMORY)) if cpu_given else _defaults.WORKER_CPU
    memory = (
        problems.int_between("memory_limit_mib", a.memory_limit_mib, 1, _limits.FARGATE_CPU_MEMORY[max(_limits.FARGATE_CPU_MEMORY)][1], "MiB")
        if memory_given
        else None
    )
    if cpu is not None and cpu not in _limits.FARGATE_CPU_MEMORY:
        sizes = ", ".join(f"{size:,}" for size in _limits.FARGATE_CPU_MEMORY)
        problems.add(f"cpu must be one of Fargate's task sizes ({sizes} CPU units), got {cpu:,}")
        return None, memory
    if cpu is None:
        return None, memory
    if memory is None and not memory_given:
        memory = _limits.fargate_memory_choices(cpu)[0] if cpu_given else _defaults.WORKER_MEMORY_LIMIT_MIB
    if memory is not None:
        choices = _limits.fargate_memory_choices(cpu)
        if memory not in choices:
            low, high, step = _limits.FARGATE_CPU_MEMORY[cpu]
            valid = (
                ", ".join(f"{m:,}" for m in choices) if len(choices) <= 4
                else f"{low:,} to {high:,} in steps of {step:,}"
            )
            problems.add(f"memory_limit_mib must be a size Fargate offers with {cpu:,} CPU units ({valid} MiB), got {memory:,} MiB")
            return cpu, None
    return cpu, memory


def _plan_tasks(problems: Problems, a: WorkerArguments) -> tuple[int, int]:
    low = _limits.TASKS_PER_SERVICE.check_count(problems, "min_tasks", a.min_tasks)
    high = problems.int_between("max_tasks", a.max_tasks, 1, _limits.TASKS_PER_SERVICE.maximum)
    low = _defaults.WORKER_MIN_TASKS if a.min_tasks is None else low
    high = _defaults.WORKER_MAX_TASKS if a.max_tasks is None else high
    if low is not None and high is not None and low > high:
        problems.add(f"min_tasks ({low:,}) must be at most max_tasks ({high:,})")
    return (low or 0), (high or 1)


def _plan_secrets(problems: Problems, secrets: object) -> None:
    if secrets is None:
        return
    if not isinstance(secrets, Mapping):
        problems.add(f"secrets must be a dict of str to ecs.Secret, got {type(secrets).__name__}")
        return
    for name, secret in secrets.items():
        if not isinstance(name, str) or not _SECRET.accepts(secret):
            problems.add(f"secrets must be a dict of str to ecs.Secret, got {name!r}: {type(secret).__name__}")
            return
        if name.startswith("CONSTRUCTS_SQS_"):
            problems.add(f"secrets must not set {name}: the CONSTRUCTS_SQS_* variables are the construct's")


def _plan_network(problems: Problems, a: WorkerArguments, warnings: list[tuple[str, str]]) -> None:
    problems.of_kind("vpc", a.vpc, _VPC)
    problems.of_kind("vpc_subnets", a.vpc_subnets, _SUBNETS)
    problems.sequence_of("security_groups", a.security_groups, _SECURITY_GROUP)
    if problems.of_kind("cluster", a.cluster, _CLUSTER) and a.cluster is not None:
        if a.vpc is not None:
            problems.add("vpc applies to the cluster this construct creates, got it with cluster=: the tasks run in the cluster's VPC")
        if not isinstance(a.cluster, ecs.Cluster) or not _has_container_insights(a.cluster):
            warnings.append((
                WARNING_CLUSTER,
                f"cluster={cast(Construct, a.cluster).node.path} has no Container Insights this app can see: the "
                "scaling policy and alarms read ECS/ContainerInsights RunningTaskCount and DesiredTaskCount, which "
                "only a cluster with Container Insights publishes; turn it on (container_insights_v2=ENABLED)",
            ))
    if a.assign_public_ip is True and a.vpc is None and a.cluster is None:
        problems.add(
            "assign_public_ip applies to a VPC of your own without NAT gateway, got it with the VPC this construct "
            "creates, whose private subnets reach SQS through its NAT gateway: leave it unset or pass vpc="
        )


def _has_container_insights(cluster: ecs.Cluster) -> bool:
    cfn = cluster.node.default_child
    settings = Stack.of(cluster).resolve(cfn.cluster_settings) if isinstance(cfn, ecs.CfnCluster) else None
    return any(s.get("name") == "containerInsights" and s.get("value") in ("enabled", "enhanced") for s in settings or [])


def _plan_queue_visibility(
    queue: QueueFacts, visibility: int, warnings: list[tuple[str, str]], notes: list[str]
) -> float | None:
    """A queue that kept a default visibility timeout gets the worker's; one given its own keeps it (the worker
    asks for its own with each receive); a longer one another consumer derived is kept."""
    if queue.imported:
        return None
    known = queue.visibility_timeout
    if queue.visibility_timeout_given:
        if known is not None and known < visibility:
            warnings.append((
                WARNING_VISIBILITY,
                f"the visibility timeout of queue={queue.path} ({format_duration(known)}) is below the worker's "
                f"({format_duration(visibility)}): the worker asks for its own with each receive, but another "
                "receiver of this queue gets the shorter one",
            ))
        return None
    if queue.visibility_timeout_derived and known is not None and known >= visibility:
        return None
    notes.append(f"visibility timeout of queue={queue.path}: {format_duration(visibility)}, written on the queue")
    return float(visibility)

