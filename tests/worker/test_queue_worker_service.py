"""QueueWorkerService: scaling resources and their math, the derived target, visibility, stop timeout and drain,
the roles' exact actions, the contract's environment, the alarms, and the validation messages.

Most assertions read one template synthesized once for the module (``built``); tests that expect a
ConfigurationError build nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template
from helpers import new_app

from constructs_sqs import ConfigurationError, EncryptedQueue, FifoQueueWithDlq, QueueWorkerService
from constructs_sqs import _defaults, _limits
from constructs_sqs.queue_worker_service import (
    BACKLOG_EXPRESSION,
    ENVIRONMENT,
    WORKER_COMMAND,
    WorkerArguments,
    backlog_per_task,
    plan_worker,
)
from constructs_sqs._facts import read_queue

IMAGE = ecs.ContainerImage.from_registry("public.ecr.aws/docker/library/python:3.13-slim")
CONSUME_ACTIONS = [  # as the template writes them (sorted)
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
]


@dataclass
class Built:
    stack: cdk.Stack
    service: QueueWorkerService
    template: Template

    def one(self, type_: str) -> dict:
        found = self.template.find_resources(type_)
        assert len(found) == 1, f"{len(found)} {type_}"
        return next(iter(found.values()))

    def logical_id(self, construct: object) -> str:
        return self.stack.get_logical_id(construct.node.default_child)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def built() -> Built:
    app = new_app()
    stack = cdk.Stack(app, "Workers")
    jobs = EncryptedQueue(stack, "Jobs")
    service = QueueWorkerService(
        stack,
        "Transcoder",
        queue=jobs,
        image=IMAGE,
        handler="transcode:handle",
        concurrency=2,
        cpu=1_024,
        memory_limit_mib=2_048,
        environment={"OUTPUT_BUCKET": "renditions"},
        min_tasks=0,
        max_tasks=12,
        job_max_duration=Duration.minutes(20),
        acceptable_latency=Duration.hours(1),
    )
    service.add_alarms()
    return Built(stack, service, Template.from_stack(stack))


def _container(built: Built) -> dict:
    (container,) = built.one("AWS::ECS::TaskDefinition")["Properties"]["ContainerDefinitions"]
    return container


def _environment(built: Built) -> dict[str, object]:
    return {e["Name"]: e["Value"] for e in _container(built)["Environment"]}


# --- Scaling: exactly the contract's resources --------------------------------------------------------


def test_scalable_target_is_the_service_desired_count_between_min_and_max(built: Built) -> None:
    target = built.one("AWS::ApplicationAutoScaling::ScalableTarget")["Properties"]
    assert target["ServiceNamespace"] == "ecs"
    assert target["ScalableDimension"] == "ecs:service:DesiredCount"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 12)
    cluster, service = built.logical_id(built.service.cluster), built.logical_id(built.service.service)
    assert target["ResourceId"] == {"Fn::Join": ["/", ["service", {"Ref": cluster}, {"Fn::GetAtt": [service, "Name"]}]]}
    assert "RoleARN" not in target  # Application Auto Scaling's service-linked role
    # Auto scaling owns the desired count: a count in the template would be reset by every deploy.
    assert "DesiredCount" not in built.one("AWS::ECS::Service")["Properties"]


def test_target_tracking_divides_visible_messages_by_running_tasks(built: Built) -> None:
    policies = built.template.find_resources(
        "AWS::ApplicationAutoScaling::ScalingPolicy", {"Properties": {"PolicyType": "TargetTrackingScaling"}}
    )
    (policy,) = policies.values()
    configuration = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    m1, m2, e1 = configuration["CustomizedMetricSpecification"]["Metrics"]
    assert m1["Id"] == "m1" and m1["ReturnData"] is False
    assert m1["MetricStat"]["Metric"]["Namespace"] == "AWS/SQS"
    assert m1["MetricStat"]["Metric"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert m1["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [built.logical_id(built.service.queue), "QueueName"]}}
    ]
    assert m2["Id"] == "m2" and m2["ReturnData"] is False
    assert m2["MetricStat"]["Metric"]["Namespace"] == "ECS/ContainerInsights"
    assert m2["MetricStat"]["Metric"]["MetricName"] == "RunningTaskCount"
    assert [d["Name"] for d in m2["MetricStat"]["Metric"]["Dimensions"]] == ["ClusterName", "ServiceName"]
    assert e1 == {"Id": "e1", "Label": "Backlog per task", "Expression": "m1 / IF(m2 < 1, 1, m2)", "ReturnData": True}
    assert e1["Expression"] == BACKLOG_EXPRESSION
    # 1 hour / 20 minutes x 2 threads: a task may have 6 messages waiting.
    assert configuration["TargetValue"] == 6
    assert configuration["DisableScaleIn"] is False
    assert configuration["ScaleOutCooldown"] == 60 and configuration["ScaleInCooldown"] == 300


def test_step_scaling_starts_one_task_when_messages_wait_and_no_task_is_wanted(built: Built) -> None:
    policies = built.template.find_resources(
        "AWS::ApplicationAutoScaling::ScalingPolicy", {"Properties": {"PolicyType": "StepScaling"}}
    )
    ((policy_id, policy),) = policies.items()
    steps = policy["Properties"]["StepScalingPolicyConfiguration"]
    assert steps["AdjustmentType"] == "ChangeInCapacity"
    assert steps["StepAdjustments"] == [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]
    alarm = built.template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {"AlarmActions": [{"Ref": policy_id}]}})
    ((_, alarm),) = alarm.items()
    properties = alarm["Properties"]
    assert properties["Threshold"] == 1 and properties["EvaluationPeriods"] == 1
    assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    expression = next(m for m in properties["Metrics"] if "Expression" in m)
    assert expression["Expression"] == "IF(FILL(m2, 0) < 1, m1, 0)"
    named = {m["Id"]: m["MetricStat"]["Metric"]["MetricName"] for m in properties["Metrics"] if "MetricStat" in m}
    assert named == {"m1": "ApproximateNumberOfMessagesVisible", "m2": "DesiredTaskCount"}
    assert properties["AlarmName"].endswith("-scale-from-zero")


def test_nothing_scales_on_cpu_and_no_other_scaling_resource_exists(built: Built) -> None:
    policies = built.template.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy")
    assert len(policies) == 2
    assert "CPUUtilization" not in json.dumps(policies)
    assert "ECSServiceAverageCPUUtilization" not in json.dumps(built.template.to_json())


@pytest.mark.parametrize(
    ("latency", "job", "threads", "target"),
    [(3_600, 1_200, 2, 6), (900, 900, 1, 1), (60, 3_600, 1, 1), (7_200, 2_700, 1, 2), (600, 60, 10, 100)],
)
def test_backlog_per_task_is_latency_over_duration_times_threads_at_least_one(
    latency: int, job: int, threads: int, target: int
) -> None:
    assert backlog_per_task(latency, job, threads) == target


# --- Visibility, stop timeout, drain, protection ------------------------------------------------------


def test_the_container_gets_the_contract_s_environment(built: Built) -> None:
    environment = _environment(built)
    assert environment["CONSTRUCTS_SQS_QUEUE_URL"] == {"Ref": built.logical_id(built.service.queue)}
    assert environment["CONSTRUCTS_SQS_HANDLER"] == "transcode:handle"
    assert environment["CONSTRUCTS_SQS_CONCURRENCY"] == "2"
    assert environment["CONSTRUCTS_SQS_VISIBILITY_TIMEOUT"] == "300"  # 20-minute jobs: 5 minutes, then heartbeats
    assert environment["CONSTRUCTS_SQS_DRAIN_SECONDS"] == "110"
    assert environment["CONSTRUCTS_SQS_TASK_PROTECTION"] == "true"
    assert environment["CONSTRUCTS_SQS_PROTECTION_MINUTES"] == "21"
    assert environment["OUTPUT_BUCKET"] == "renditions"
    assert set(ENVIRONMENT.values()) <= set(environment)


def test_with_a_handler_the_command_is_the_worker_entrypoint(built: Built) -> None:
    assert _container(built)["Command"] == ["python", "-m", "constructs_sqs_runtime.worker"]
    assert tuple(_container(built)["Command"]) == WORKER_COMMAND


def test_stop_timeout_is_fargate_s_maximum_and_the_drain_fits_inside(built: Built) -> None:
    container = _container(built)
    drain = int(_environment(built)["CONSTRUCTS_SQS_DRAIN_SECONDS"])  # type: ignore[arg-type]
    assert container["StopTimeout"] == _limits.FARGATE_STOP_TIMEOUT.maximum == 120
    assert drain + 10 == container["StopTimeout"]
    assert built.service.drain_seconds == drain


def test_the_heartbeat_visibility_is_the_job_duration_between_30_seconds_and_5_minutes() -> None:
    stack = cdk.Stack(new_app(), "S")

    def visibility(job: Duration) -> int:
        queue = EncryptedQueue(stack, f"Q{len(stack.node.children)}")
        return QueueWorkerService(stack, f"W{len(stack.node.children)}", queue=queue, image=IMAGE,
                                  job_max_duration=job).plan.visibility_timeout

    assert [visibility(Duration.seconds(s)) for s in (1, 30, 31, 299, 300, 7_200)] == [30, 30, 31, 299, 300, 300]


def test_a_shorter_stop_timeout_shortens_the_drain() -> None:
    stack = cdk.Stack(new_app(), "S")
    service = QueueWorkerService(stack, "W", queue=EncryptedQueue(stack, "Q"), image=IMAGE, stop_timeout=Duration.seconds(45))
    container = Template.from_stack(stack).find_resources("AWS::ECS::TaskDefinition")
    (definition,) = container.values()
    (container_definition,) = definition["Properties"]["ContainerDefinitions"]
    assert container_definition["StopTimeout"] == 45
    assert {"Name": "CONSTRUCTS_SQS_DRAIN_SECONDS", "Value": "35"} in container_definition["Environment"]
    assert service.plan.drain_seconds == 35
    assert "Command" not in container_definition  # no handler, no command: the image's own


def test_a_queue_that_kept_its_default_visibility_gets_the_heartbeat_window(built: Built) -> None:
    queue = built.template.find_resources("AWS::SQS::Queue")[built.logical_id(built.service.queue)]
    assert queue["Properties"]["VisibilityTimeout"] == 300
    assert built.service.visibility_timeout.to_seconds() == 300


def test_short_jobs_get_their_own_duration_as_visibility_and_a_given_visibility_is_kept() -> None:
    stack = cdk.Stack(new_app(), "S")
    short = EncryptedQueue(stack, "Short")
    given = EncryptedQueue(stack, "Given", visibility_timeout=Duration.seconds(45))
    QueueWorkerService(stack, "A", queue=short, image=IMAGE, job_max_duration=Duration.seconds(90))
    worker = QueueWorkerService(stack, "B", queue=given, image=IMAGE, job_max_duration=Duration.seconds(90))
    queues = Template.from_stack(stack).find_resources("AWS::SQS::Queue")
    assert queues[stack.get_logical_id(short.queue.node.default_child)]["Properties"]["VisibilityTimeout"] == 90
    assert queues[stack.get_logical_id(given.queue.node.default_child)]["Properties"]["VisibilityTimeout"] == 45
    assert worker.plan.visibility_timeout == 90  # the worker asks for its own with each receive
    Annotations.from_stack(stack).has_warning(
        "/S/B", Match.string_like_regexp("visibility timeout of queue=S/Given \\(45 seconds\\) is below the worker's")
    )


# --- Roles: exact actions --------------------------------------------------------------------------------


def _policy_of(built: Built, role: object) -> list[dict]:
    role_id = built.logical_id(role)
    (policy,) = [
        p for p in built.template.find_resources("AWS::IAM::ManagedPolicy").values()
        if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_the_task_role_consumes_this_queue_decrypts_its_key_and_sets_protection_nothing_else(built: Built) -> None:
    statements = _policy_of(built, built.service.task_role)
    queue_arn = {"Fn::GetAtt": [built.logical_id(built.service.queue), "Arn"]}
    key = built.service.encryption_key
    assert key is not None
    assert statements[0] == {"Action": CONSUME_ACTIONS, "Effect": "Allow", "Resource": queue_arn}
    assert statements[1] == {
        "Action": "kms:Decrypt", "Effect": "Allow", "Resource": {"Fn::GetAtt": [built.logical_id(key), "Arn"]}
    }
    protection = statements[2]
    assert protection["Action"] == "ecs:UpdateTaskProtection"
    joined = protection["Resource"]["Fn::Join"][1]
    assert joined[-3:] == [":task/", {"Ref": built.logical_id(built.service.cluster)}, "/*"]
    assert len(statements) == 3
    assert not built.template.find_resources("AWS::IAM::Policy")  # no inline policy on any role


def test_an_sse_sqs_queue_gets_no_kms_statement_and_protection_off_no_ecs_statement() -> None:
    stack = cdk.Stack(new_app(), "S")
    service = QueueWorkerService(stack, "W", queue=FifoQueueWithDlq(stack, "Q"), image=IMAGE, task_protection=False)
    policies = Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy")
    task_role = stack.get_logical_id(service.task_role.node.default_child)
    (policy,) = [p for p in policies.values() if p["Properties"]["Roles"] == [{"Ref": task_role}]]
    assert [s["Action"] for s in policy["Properties"]["PolicyDocument"]["Statement"]] == [CONSUME_ACTIONS]
    environment = Template.from_stack(stack).find_resources("AWS::ECS::TaskDefinition")
    assert '"CONSTRUCTS_SQS_TASK_PROTECTION", "Value": "false"' in json.dumps(environment)
    Annotations.from_stack(stack).has_warning("/S/W", Match.string_like_regexp("task_protection is off"))


def test_the_execution_role_has_what_aws_cdk_lib_grants_it_in_a_managed_policy(built: Built) -> None:
    statements = _policy_of(built, built.service.execution_role)
    assert statements == [
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [built.logical_id(built.service.log_group), "Arn"]},
        }
    ]


def test_secrets_are_read_by_the_execution_role_only() -> None:
    stack = cdk.Stack(new_app(), "S")
    secret = secretsmanager.Secret(stack, "ApiKey")
    service = QueueWorkerService(
        stack, "W", queue=EncryptedQueue(stack, "Q"), image=IMAGE, secrets={"API_KEY": ecs.Secret.from_secrets_manager(secret)}
    )
    template = Template.from_stack(stack)
    text = {
        name: json.dumps(p) for name, p in template.find_resources("AWS::IAM::ManagedPolicy").items()
    }
    execution = next(t for t in text.values() if stack.get_logical_id(service.execution_role.node.default_child) in t)
    task = next(t for t in text.values() if stack.get_logical_id(service.task_role.node.default_child) in t)
    assert "secretsmanager:GetSecretValue" in execution and "secretsmanager" not in task


# --- Network, cluster, logs -----------------------------------------------------------------------------


def test_a_created_vpc_has_flow_logs_private_subnets_and_no_public_ip_mapping(built: Built) -> None:
    flow_log = built.one("AWS::EC2::FlowLog")["Properties"]
    assert flow_log["TrafficType"] == "ALL" and flow_log["LogDestinationType"] == "cloud-watch-logs"
    subnets = built.template.find_resources("AWS::EC2::Subnet")
    assert len(subnets) == 4
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())
    assert len(built.template.find_resources("AWS::EC2::NatGateway")) == 1
    network = built.one("AWS::ECS::Service")["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    private = {built.stack.get_logical_id(s.node.default_child) for s in built.service.vpc.private_subnets}
    assert {s["Ref"] for s in network["Subnets"]} == private


def test_the_cluster_has_container_insights_and_the_log_group_retention(built: Built) -> None:
    cluster = built.one("AWS::ECS::Cluster")["Properties"]
    assert {"Name": "containerInsights", "Value": "enabled"} in cluster["ClusterSettings"]
    log_group = built.template.find_resources("AWS::Logs::LogGroup")[built.logical_id(built.service.log_group)]
    assert log_group["Properties"]["RetentionInDays"] == 30
    assert log_group["DeletionPolicy"] == "Retain"


def test_fargate_spot_is_a_capacity_provider_strategy() -> None:
    stack = cdk.Stack(new_app(), "S")
    QueueWorkerService(stack, "W", queue=EncryptedQueue(stack, "Q"), image=IMAGE, spot=True)
    template = Template.from_stack(stack)
    (service,) = template.find_resources("AWS::ECS::Service").values()
    assert service["Properties"]["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    (associations,) = template.find_resources("AWS::ECS::ClusterCapacityProviderAssociations").values()
    assert "FARGATE_SPOT" in associations["Properties"]["CapacityProviders"]


def test_a_given_cluster_is_used_and_one_without_container_insights_draws_a_warning() -> None:
    stack = cdk.Stack(new_app(), "S")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    plain = ecs.Cluster(stack, "Plain", vpc=vpc)
    watched = ecs.Cluster(stack, "Watched", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)
    a = QueueWorkerService(stack, "A", queue=EncryptedQueue(stack, "Q1"), image=IMAGE, cluster=plain)
    b = QueueWorkerService(stack, "B", queue=EncryptedQueue(stack, "Q2"), image=IMAGE, cluster=watched)
    assert a.cluster is plain and b.vpc is vpc
    assert len(Template.from_stack(stack).find_resources("AWS::ECS::Cluster")) == 2
    annotations = Annotations.from_stack(stack)
    annotations.has_warning("/S/A", Match.string_like_regexp("has no Container Insights"))
    annotations.has_no_warning("/S/B", Match.any_value())


def test_a_customer_key_encrypts_the_worker_and_flow_logs() -> None:
    stack = cdk.Stack(new_app(), "S")
    key = kms.Key(stack, "LogKey", enable_key_rotation=True)
    QueueWorkerService(stack, "W", queue=EncryptedQueue(stack, "Q"), image=IMAGE, log_encryption_key=key)
    groups = Template.from_stack(stack).find_resources("AWS::Logs::LogGroup")
    assert len(groups) == 2
    assert all(g["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [stack.get_logical_id(key.node.default_child), "Arn"]} for g in groups.values())


# --- Alarms ------------------------------------------------------------------------------------------------


def test_add_alarms_adds_the_service_s_two_alarms_on_the_queue_alarms_topic(built: Built) -> None:
    service = built.service
    assert service.no_running_task_alarm is not None and service.tasks_not_starting_alarm is not None
    alarms = built.template.find_resources("AWS::CloudWatch::Alarm")
    topic = {"Ref": built.logical_id(service.node.find_child("Alarms").topic)}
    no_task = next(a for a in alarms.values() if a["Properties"]["AlarmName"].endswith("-no-running-task"))
    not_starting = next(a for a in alarms.values() if a["Properties"]["AlarmName"].endswith("-tasks-not-starting"))
    for alarm in (no_task, not_starting):
        assert alarm["Properties"]["AlarmActions"] == [topic] and alarm["Properties"]["OKActions"] == [topic]
        assert alarm["Properties"]["EvaluationPeriods"] == 3 and alarm["Properties"]["DatapointsToAlarm"] == 3
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching"
    def expression(alarm: dict) -> str:
        return next(m["Expression"] for m in alarm["Properties"]["Metrics"] if "Expression" in m)

    assert expression(no_task) == "IF(FILL(m2, 0) < 1, m1, 0)"  # m2: running tasks
    assert expression(not_starting) == "FILL(m1, 0) - FILL(m2, 0)"  # desired - running
    assert any(a["Properties"]["AlarmName"].endswith("-dlq") for a in alarms.values())  # the queue's own too


# --- Validation: every message names the argument, the value and what is valid -----------------------------


def _refused(**arguments: object) -> str:
    stack = cdk.Stack(new_app(), "S")
    queue = arguments.pop("queue", EncryptedQueue(stack, "Q"))
    image = arguments.pop("image", IMAGE)
    with pytest.raises(ConfigurationError) as raised:
        QueueWorkerService(stack, "W", queue=queue, image=image, **arguments)  # type: ignore[arg-type]
    return str(raised.value)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"cpu": 300}, r"cpu must be one of Fargate's task sizes \(256, 512, 1,024, 2,048, 4,096, 8,192, 16,384 CPU units\), got 300"),
        ({"cpu": 256, "memory_limit_mib": 4_096}, r"memory_limit_mib must be a size Fargate offers with 256 CPU units \(512, 1,024, 2,048 MiB\), got 4,096 MiB"),
        ({"cpu": 1_024, "memory_limit_mib": 1_024}, r"memory_limit_mib must be a size Fargate offers with 1,024 CPU units \(2,048 to 8,192 in steps of 1,024 MiB\), got 1,024 MiB"),
        ({"min_tasks": 5, "max_tasks": 2}, r"min_tasks \(5\) must be at most max_tasks \(2\)"),
        ({"max_tasks": 0}, r"max_tasks must be between 1 and 5,000, got 0"),
        ({"min_tasks": -1}, r"min_tasks must be between 0 and 5,000, got -1"),
        ({"stop_timeout": Duration.seconds(150)}, r"stop_timeout must be between 2 seconds and 2 minutes, got 2 minutes 30 seconds"),
        ({"stop_timeout": Duration.seconds(8)}, r"stop_timeout must be more than 10 seconds .* got 8 seconds"),
        ({"job_max_duration": Duration.days(3)}, r"job_max_duration must be between 1 second and 2 days, got 3 days"),
        ({"acceptable_latency": Duration.days(15)}, r"acceptable_latency must be between 1 second and 14 days, got 15 days"),
        ({"concurrency": 0}, r"concurrency must be between 1 and 1,000, got 0"),
        ({"handler": "transcode.handle"}, r"handler must name a Python function as 'module:function' \(e.g. 'jobs.handle'\), got 'transcode.handle'"),
        ({"handler": "a:b", "command": ["java", "-jar", "w.jar"]}, r"command and handler exclude each other"),
        ({"command": []}, r"command must name a program to run, got an empty list"),
        ({"environment": {"CONSTRUCTS_SQS_QUEUE_URL": "x"}}, r"environment must not set CONSTRUCTS_SQS_QUEUE_URL"),
        ({"environment": {"N": 3}}, r"environment must be a dict of str to str, got 'N': int 3"),
        ({"secrets": {"KEY": "plain"}}, r"secrets must be a dict of str to ecs.Secret, got 'KEY': str"),
        ({"assign_public_ip": True}, r"assign_public_ip applies to a VPC of your own without NAT gateway"),
        ({"spot": "yes"}, r"spot must be a bool, got str 'yes'"),
        ({"image": "python:3.13"}, r"image must be an ecs.ContainerImage, e.g. ecs.ContainerImage.from_asset\('worker'\), got str 'python:3.13'"),
        ({"queue": "arn:aws:sqs:eu-west-1:111111111111:jobs"}, r"queue must be a queue pattern of this library \(e.g. EncryptedQueue\), an sqs.Queue or another sqs.IQueue, got str"),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else "",
)
def test_bad_input_is_refused_at_synth_naming_argument_value_and_what_is_valid(arguments: dict, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        stack = cdk.Stack(new_app(), "S")
        queue = arguments.pop("queue", None) or EncryptedQueue(stack, "Q")
        image = arguments.pop("image", IMAGE)
        QueueWorkerService(stack, "W", queue=queue, image=image, **arguments)


def test_every_problem_of_a_call_is_reported_together() -> None:
    message = _refused(cpu=300, max_tasks=0, handler="bad")
    assert "3 configuration problems" in message
    assert issubclass(ConfigurationError, ValueError)


def test_vpc_and_cluster_exclude_each_other() -> None:
    stack = cdk.Stack(new_app(), "S")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    cluster = ecs.Cluster(stack, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)
    with pytest.raises(ConfigurationError, match=r"vpc applies to the cluster this construct creates, got it with cluster="):
        QueueWorkerService(stack, "W", queue=EncryptedQueue(stack, "Q"), image=IMAGE, vpc=vpc, cluster=cluster)


# --- The plan alone ---------------------------------------------------------------------------------------


def test_the_plan_derives_without_building() -> None:
    stack = cdk.Stack(new_app(), "S")
    queue = sqs.Queue(stack, "Plain")
    plan = plan_worker(
        "S/W",
        WorkerArguments(queue=queue, image=IMAGE, job_max_duration=Duration.minutes(45), acceptable_latency=Duration.hours(2)),
        read_queue(queue),
    )
    assert plan.backlog_per_task == 2  # 2 h / 45 min = 2.67, rounded down: latency is a ceiling
    assert plan.visibility_timeout == 300 and plan.set_visibility_timeout == 300.0
    assert plan.protection_minutes == 46
    assert (plan.min_tasks, plan.max_tasks) == (_defaults.WORKER_MIN_TASKS, _defaults.WORKER_MAX_TASKS)
    assert (plan.cpu, plan.memory_limit_mib) == (256, 512)
    assert plan.stop_timeout == 120 and plan.drain_seconds == 110
    assert "backlog per task: 2 = acceptable_latency (2 hours) / job_max_duration (45 minutes)" in plan.describe()


def test_an_imported_queue_is_consumed_and_left_alone() -> None:
    stack = cdk.Stack(new_app(), "S")
    imported = sqs.Queue.from_queue_arn(stack, "Imported", "arn:aws:sqs:eu-west-1:111111111111:jobs")
    service = QueueWorkerService(stack, "W", queue=imported, image=IMAGE)
    assert service.plan.set_visibility_timeout is None
    assert service.source is None and service.dead_letter_queue is None
    with pytest.raises(ConfigurationError, match=r"the queue consumed \(S/Imported, an imported queue\) is not a queue pattern"):
        service.allow_service_producer("sns.amazonaws.com", "arn:aws:sns:eu-west-1:111111111111:uploads")


def test_a_service_producer_is_allowed_on_the_pattern_consumed() -> None:
    stack = cdk.Stack(new_app(), "S")
    service = QueueWorkerService(stack, "W", queue=EncryptedQueue(stack, "Q"), image=IMAGE)
    service.allow_service_producer("sns.amazonaws.com", "arn:aws:sns:eu-west-1:111111111111:uploads")
    policies = json.dumps(Template.from_stack(stack).find_resources("AWS::SQS::QueuePolicy"))
    assert "sns.amazonaws.com" in policies and "arn:aws:sns:eu-west-1:111111111111:uploads" in policies


# --- The sample app's Transcoding stack ---------------------------------------------------------------------


def test_the_sample_transcoding_stack_stages_its_image_or_takes_one_from_context() -> None:
    from pathlib import Path

    from sample_app import build

    def container_of(app: cdk.App) -> tuple[dict, Path]:
        stacks = build(app)
        assembly = app.synth()
        (definition,) = Template.from_stack(stacks["Transcoding"]).find_resources("AWS::ECS::TaskDefinition").values()
        (container,) = definition["Properties"]["ContainerDefinitions"]
        return container, Path(assembly.directory)

    staged, directory = container_of(new_app())
    assert "Fn::Sub" in json.dumps(staged["Image"])  # the asset's ECR repository: cdk deploy builds and pushes it
    assert [p.name for p in directory.glob("asset.*/transcoding.Dockerfile")] == ["transcoding.Dockerfile"]

    named, _ = container_of(new_app(**{"constructs-sqs:workerImage": "public.ecr.aws/docker/library/python:3.13-slim"}))
    assert named["Image"] == "public.ecr.aws/docker/library/python:3.13-slim"
    environment = {e["Name"]: e["Value"] for e in named["Environment"]}
    assert environment["CONSTRUCTS_SQS_HANDLER"] == "transcoding_worker:transcode"
    assert environment["PYTHONPATH"] == "sample_app/handlers"
    assert named["Command"] == ["python", "-m", "constructs_sqs_runtime.worker"]
