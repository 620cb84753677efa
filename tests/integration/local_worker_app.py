"""A test-only CDK app shaped as issue 19's contract says ``QueueWorkerService`` synthesizes: a queue with a
DLQ, an ECS cluster with container insights, a Fargate task definition running a Python command with the
worker's environment, a Fargate service in a VPC, a log group, and the L1 Application Auto Scaling resources
the local autoscaler reads (a ScalableTarget, a target-tracking policy on backlog per task as metric math,
a step policy whose metric-math alarm, visible messages while no task is desired, wakes the service from zero).

It lets ``constructs_sqs.local`` deploy and play a worker service without the construct; the command is the
package's worker (``python -m constructs_sqs_runtime.worker``) with a handler the test writes into the project
directory (``ledger_handler.py``: a pause, then one ledger line per message). Deployed with the real CDK CLI.

Context: ``worker:min`` (0), ``worker:max`` (6), ``worker:target`` (100), ``worker:jobSeconds`` (0.02),
``worker:slowEvery`` and ``worker:slowSeconds`` (one job in n takes this long; 0: none),
``worker:ledger`` (the file the handler appends ``<body>`` lines to).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs

STACK_NAME = "ConstructsSqsLocalWorker"

app = cdk.App()
min_tasks = int(app.node.try_get_context("worker:min") or 0)
max_tasks = int(app.node.try_get_context("worker:max") or 6)
target = float(app.node.try_get_context("worker:target") or 100)
job_seconds = str(app.node.try_get_context("worker:jobSeconds") or "0.02")
slow_every = str(app.node.try_get_context("worker:slowEvery") or "0")
slow_seconds = str(app.node.try_get_context("worker:slowSeconds") or "0")
ledger = str(app.node.try_get_context("worker:ledger") or "worker-ledger.txt")

stack = cdk.Stack(app, STACK_NAME)
dlq = sqs.Queue(stack, "DeadLetterQueue", retention_period=Duration.days(14), enforce_ssl=True)
queue = sqs.Queue(
    stack,
    "Jobs",
    visibility_timeout=Duration.seconds(30),
    enforce_ssl=True,
    dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=5),
)
vpc = ec2.Vpc(
    stack,
    "Vpc",
    max_azs=2,
    nat_gateways=0,
    subnet_configuration=[ec2.SubnetConfiguration(name="Workers", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
)
cluster = ecs.Cluster(stack, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)
task = ecs.FargateTaskDefinition(stack, "TaskDefinition", cpu=256, memory_limit_mib=512)
log_group = logs.LogGroup(stack, "Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.DESTROY)
task.add_container(
    "Worker",
    image=ecs.ContainerImage.from_registry("public.ecr.aws/docker/library/python:3.12-slim"),
    command=["python", "-m", "constructs_sqs_runtime.worker"],
    environment={
        "CONSTRUCTS_SQS_QUEUE_URL": queue.queue_url,
        "CONSTRUCTS_SQS_CONCURRENCY": "4",
        "CONSTRUCTS_SQS_VISIBILITY_TIMEOUT": "30",
        "CONSTRUCTS_SQS_DRAIN_SECONDS": "20",
        "CONSTRUCTS_SQS_TASK_PROTECTION": "true",
        "CONSTRUCTS_SQS_PROTECTION_MINUTES": "5",
        "CONSTRUCTS_SQS_HANDLER": "ledger_handler:handle",
        "LEDGER_JOB_SECONDS": job_seconds,
        "LEDGER_SLOW_EVERY": slow_every,
        "LEDGER_SLOW_SECONDS": slow_seconds,
        "LEDGER_FILE": ledger,
    },
    stop_timeout=Duration.seconds(30),
    logging=ecs.LogDrivers.aws_logs(stream_prefix="worker", log_group=log_group),
)
queue.grant_consume_messages(task.task_role)
service = ecs.FargateService(
    stack,
    "Service",
    cluster=cluster,
    task_definition=task,
    desired_count=min_tasks,
    min_healthy_percent=0,
    vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
)
scalable = appscaling.CfnScalableTarget(
    stack,
    "ScalableTarget",
    service_namespace="ecs",
    scalable_dimension="ecs:service:DesiredCount",
    resource_id=cdk.Fn.join("/", ["service", cluster.cluster_name, service.service_name]),
    min_capacity=min_tasks,
    max_capacity=max_tasks,
)
visible = {
    "id": "m1",
    "returnData": False,
    "metricStat": {
        "metric": {
            "namespace": "AWS/SQS",
            "metricName": "ApproximateNumberOfMessagesVisible",
            "dimensions": [{"name": "QueueName", "value": queue.queue_name}],
        },
        "stat": "Average",
    },
}
running = {
    "id": "m2",
    "returnData": False,
    "metricStat": {
        "metric": {
            "namespace": "ECS/ContainerInsights",
            "metricName": "RunningTaskCount",
            "dimensions": [
                {"name": "ClusterName", "value": cluster.cluster_name},
                {"name": "ServiceName", "value": service.service_name},
            ],
        },
        "stat": "Average",
    },
}
appscaling.CfnScalingPolicy(
    stack,
    "BacklogPerTask",
    policy_name="BacklogPerTask",
    policy_type="TargetTrackingScaling",
    scaling_target_id=scalable.ref,
    target_tracking_scaling_policy_configuration={
        "targetValue": target,
        "disableScaleIn": False,
        "scaleInCooldown": 60,
        "scaleOutCooldown": 30,
        "customizedMetricSpecification": {
            "metrics": [
                visible,
                running,
                {"id": "backlog", "expression": "m1 / IF(m2 < 1, 1, m2)", "label": "Backlog per task", "returnData": True},
            ]
        },
    },
)
wake = appscaling.CfnScalingPolicy(
    stack,
    "WakeFromZero",
    policy_name="WakeFromZero",
    policy_type="StepScaling",
    scaling_target_id=scalable.ref,
    step_scaling_policy_configuration={
        "adjustmentType": "ChangeInCapacity",
        "cooldown": 60,
        "metricAggregationType": "Maximum",
        "stepAdjustments": [{"metricIntervalLowerBound": 0, "scalingAdjustment": 1}],
    },
)
desired = {
    "id": "m2",
    "returnData": False,
    "metricStat": {
        "metric": {
            "namespace": "ECS/ContainerInsights",
            "metricName": "DesiredTaskCount",
            "dimensions": [
                {"name": "ClusterName", "value": cluster.cluster_name},
                {"name": "ServiceName", "value": service.service_name},
            ],
        },
        "period": 60,
        "stat": "Average",
    },
}
cloudwatch.CfnAlarm(
    stack,
    "WakeAlarm",
    alarm_description="Messages are visible and the service wants no task: start one.",
    comparison_operator="GreaterThanOrEqualToThreshold",
    evaluation_periods=1,
    threshold=1,
    metrics=[
        {"id": "e1", "expression": "IF(FILL(m2, 0) < 1, m1, 0)", "label": "Visible while none desired", "returnData": True},
        {**visible, "id": "m1", "metricStat": {**visible["metricStat"], "period": 60, "stat": "Maximum"}},
        desired,
    ],
    treat_missing_data="notBreaching",
    alarm_actions=[wake.ref],
)
app.synth()
