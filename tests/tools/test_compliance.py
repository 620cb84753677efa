"""Compliance gates: cdk-nag (AwsSolutions, Serverless, HIPAA.Security, NIST.800.53.R5, PCI.DSS.321),
cfn-lint and checkov over the sample app and a matrix of pattern configurations.

Every configuration is a Stack of one App, so one synthesis covers the whole matrix and each finding is
attributed to its configuration by the first segment of its construct path. A configuration fails on any
finding that is not acknowledged (``_defaults.*_ACKNOWLEDGMENTS``, ``compliance.CFN_LINT_IGNORES``,
``compliance.CHECKOV_SKIPS``, and the sample app's own ``NO_VPC_REASON``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from helpers import CDK_CONTEXT, ROOT

from constructs_sqs import (
    EncryptedQueue,
    FifoQueueWithDlq,
    LambdaTriggeredQueue,
    QueueAlarms,
    QueueWorkerService,
    _defaults,
    compliance,
)
from sample_app import build as build_sample_app
from sample_app._consumers import NO_VPC_REASON
from sample_app.settings import SampleSettings

WORKER_IMAGE = ecs.ContainerImage.from_registry("public.ecr.aws/docker/library/python:3.13-slim")

# --- Building blocks of the configurations -------------------------------------------------------

CODE = "def handler(event, context):\n    return {'batchItemFailures': []}\n"
IMPORTED_KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"


class ManagedPolicyRole(iam.Role):
    """A workload role whose grants land in one customer managed policy: no inline policy
    (cdk-nag IAMNoInlinePolicy is solved, not acknowledged)."""

    def __init__(self, scope: Stack, id: str) -> None:
        super().__init__(scope, id, assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
        self.policy = iam.ManagedPolicy(self, "Policy", roles=[self])

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        self.policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.policy)


def granted(pattern: Any, stack: Stack) -> None:
    """Every grant method of ``pattern`` to one role."""
    role = ManagedPolicyRole(stack, "Worker")
    for grant in ("send_messages", "consume_messages", "purge", "consume_dead_letters", "redrive"):
        getattr(pattern, f"grant_{grant}")(role)


def rotating_key(stack: Stack, id: str = "Key") -> kms.Key:
    return kms.Key(stack, id, enable_key_rotation=True, description="Key brought by the caller")


def shared_dead_letter_queue(stack: Stack, *, fifo: bool) -> None:
    """Two patterns that send their failures to one existing DLQ of the caller, which names them in its
    byQueue redrive allow policy (ConstructsSqs-SQSRedriveAllowPolicy) by ARNs built from their names."""
    suffix = ".fifo" if fifo else ""
    names = [f"{stack.stack_name}-{which}{suffix}" for which in ("first", "second")]
    sources = [
        sqs.Queue.from_queue_arn(stack, f"Source{index}", stack.format_arn(service="sqs", resource=name, arn_format=cdk.ArnFormat.NO_RESOURCE_NAME))
        for index, name in enumerate(names)
    ]
    shared = sqs.Queue(
        stack,
        "SharedDlq",
        fifo=True if fifo else None,
        enforce_ssl=True,
        encryption=sqs.QueueEncryption.SQS_MANAGED if fifo else sqs.QueueEncryption.KMS,
        encryption_master_key=None if fifo else rotating_key(stack),
        retention_period=Duration.days(14),
        redrive_allow_policy=sqs.RedriveAllowPolicy(redrive_permission=sqs.RedrivePermission.BY_QUEUE, source_queues=sources),
    )
    pattern = FifoQueueWithDlq if fifo else EncryptedQueue
    pattern(stack, "First", queue_name=names[0], dead_letter_queue=shared)
    pattern(stack, "Second", queue_name=names[1], dead_letter_queue=shared)


def sns_producer(stack: Stack, *, fifo: bool) -> None:
    """An encrypted topic publishes to the queue; its subscription's failures go to the pattern's DLQ."""
    queue = FifoQueueWithDlq(stack, "Queue") if fifo else EncryptedQueue(stack, "Queue")
    topic = sns.Topic(
        stack, "Topic", fifo=True if fifo else None, master_key=rotating_key(stack, "TopicKey"), enforce_ssl=True
    )
    queue.allow_service_producer("sns.amazonaws.com", topic.topic_arn)
    topic.add_subscription(
        subscriptions.SqsSubscription(queue.queue, raw_message_delivery=True, dead_letter_queue=queue.dead_letter_queue)
    )


def eventbridge_producer(stack: Stack) -> None:
    """A rule targets the encrypted queue; events it cannot deliver go to the pattern's DLQ."""
    queue = EncryptedQueue(stack, "Queue")
    rule_name = f"{stack.stack_name}-requested"
    rule = events.Rule(stack, "Rule", rule_name=rule_name, event_pattern=events.EventPattern(source=["shop"]))
    queue.allow_service_producer(
        "events.amazonaws.com", stack.format_arn(service="events", resource="rule", resource_name=rule_name)
    )
    rule.add_target(targets.SqsQueue(queue.queue, dead_letter_queue=queue.dead_letter_queue))


def imported_vpc(stack: Stack) -> ec2.IVpc:
    return ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        private_subnet_ids=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        private_subnet_route_table_ids=["rtb-0123456789abcdef0", "rtb-0123456789abcdef1"],
    )


def consumer(stack: Stack, queue: Any = None, **kwargs: Any) -> LambdaTriggeredQueue:
    """A consumer with the options HIPAA, NIST and PCI ask for: a VPC, a key for its logs and environment,
    reserved concurrency (see test_default_consumer_findings_are_exactly_the_options for what each fixes)."""
    options = {
        "vpc": imported_vpc(stack),
        "function_encryption_key": rotating_key(stack, "ConsumerKey"),
        "reserved_concurrent_executions": 10,
        **kwargs,
    }
    return LambdaTriggeredQueue(
        stack, "Consumer", queue=queue, code=lambda_.Code.from_inline(CODE), handler="index.handler", **options
    )


def shared_alarm_topic(stack: Stack) -> None:
    first = QueueAlarms(stack, "OrdersAlarms", queue=FifoQueueWithDlq(stack, "Orders"))
    QueueAlarms(
        stack, "MediaAlarms", queue=EncryptedQueue(stack, "Media"), topic=first.topic, dashboard=first.dashboard
    )


def imported(pattern: Any, *, fifo: bool, key: bool) -> Callable[[Stack], None]:
    suffix = ".fifo" if fifo else ""

    def build(stack: Stack) -> None:
        pair = pattern.from_queue_arns(
            stack,
            "Queue",
            queue_arn=f"arn:aws:sqs:eu-west-1:111111111111:orders{suffix}",
            dead_letter_queue_arn=f"arn:aws:sqs:eu-west-1:111111111111:orders-dlq{suffix}",
            key_arn=IMPORTED_KEY_ARN if key else None,
        )
        granted(pair, stack)

    return build


# --- The configuration matrix: one line each ----------------------------------------------------

def plain_queue(scope: Stack) -> sqs.Queue:
    """A plain sqs.Queue with a DLQ, written as aws-cdk-lib users do (encrypted, TLS-only), as consumers and
    alarms accept it."""
    # The DLQ names its source in a byQueue redrive allow policy (ConstructsSqs-SQSRedriveAllowPolicy), by an
    # ARN built from the source's name: its queue_arn would make a cycle (source -> DLQ -> source).
    name = f"{scope.stack_name}-plain"
    source = sqs.Queue.from_queue_arn(
        scope, "PlainSource", scope.format_arn(service="sqs", resource=name, arn_format=cdk.ArnFormat.NO_RESOURCE_NAME)
    )
    dead_letters = sqs.Queue(scope, "PlainDlq", enforce_ssl=True, encryption=sqs.QueueEncryption.SQS_MANAGED,
                             retention_period=Duration.days(14),
                             redrive_allow_policy=sqs.RedriveAllowPolicy(
                                 redrive_permission=sqs.RedrivePermission.BY_QUEUE, source_queues=[source]))
    # A user's own DLQ: the user acknowledges cdk-nag's "a DLQ without a DLQ", as the patterns do for theirs.
    (rule, reason), = _defaults.DEAD_LETTER_QUEUE_ACKNOWLEDGMENTS
    cdk.Validations.of(dead_letters).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))
    return sqs.Queue(scope, "Plain", queue_name=name, enforce_ssl=True, encryption=sqs.QueueEncryption.SQS_MANAGED,
                     dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=5))


MATRIX: dict[str, Callable[[Stack], Any]] = {
    # FifoQueueWithDlq
    "FifoDefaults": lambda s: FifoQueueWithDlq(s, "Queue"),
    "FifoContentDedup": lambda s: FifoQueueWithDlq(s, "Queue", content_based_deduplication=True),
    "FifoHighThroughput": lambda s: FifoQueueWithDlq(s, "Queue", high_throughput=True),
    "FifoKmsManaged": lambda s: FifoQueueWithDlq(s, "Queue", encryption=sqs.QueueEncryption.KMS_MANAGED),
    "FifoCreatedKey": lambda s: FifoQueueWithDlq(s, "Queue", encryption=sqs.QueueEncryption.KMS),
    "FifoOwnKey": lambda s: FifoQueueWithDlq(s, "Queue", encryption_master_key=rotating_key(s)),
    "FifoCustomNames": lambda s: FifoQueueWithDlq(
        s, "Queue", queue_name="orders.fifo", dead_letter_queue_name="orders-failed.fifo"
    ),
    "FifoRetainAll": lambda s: FifoQueueWithDlq(s, "Queue", removal_policy=RemovalPolicy.RETAIN),
    "FifoDestroyAll": lambda s: FifoQueueWithDlq(
        s, "Queue", encryption=sqs.QueueEncryption.KMS, dead_letter_removal_policy=RemovalPolicy.DESTROY
    ),
    "FifoEdgeValues": lambda s: FifoQueueWithDlq(
        s,
        "Queue",
        encryption=sqs.QueueEncryption.KMS,
        data_key_reuse=Duration.hours(24),
        visibility_timeout=Duration.hours(12),
        retention_period=Duration.days(13),
        delivery_delay=Duration.seconds(900),
        receive_message_wait_time=Duration.seconds(0),
        max_message_size_bytes=1_024,
        max_receive_count=1_000,
    ),
    "FifoSharedDlq": lambda s: shared_dead_letter_queue(s, fifo=True),
    "FifoSnsProducer": lambda s: sns_producer(s, fifo=True),
    "FifoGranted": lambda s: granted(FifoQueueWithDlq(s, "Queue", encryption=sqs.QueueEncryption.KMS), s),
    # EncryptedQueue
    "EncryptedDefaults": lambda s: EncryptedQueue(s, "Queue"),
    "EncryptedOwnKey": lambda s: EncryptedQueue(s, "Queue", encryption_master_key=rotating_key(s)),
    "EncryptedCustomNames": lambda s: EncryptedQueue(
        s, "Queue", queue_name="media", dead_letter_queue_name="media-failed"
    ),
    "EncryptedRetainQueue": lambda s: EncryptedQueue(
        s, "Queue", removal_policy=RemovalPolicy.RETAIN, dead_letter_removal_policy=RemovalPolicy.DESTROY
    ),
    "EncryptedDestroyAll": lambda s: EncryptedQueue(s, "Queue", dead_letter_removal_policy=RemovalPolicy.DESTROY),
    "EncryptedEdgeValues": lambda s: EncryptedQueue(
        s,
        "Queue",
        data_key_reuse=Duration.seconds(60),
        retention_period=Duration.seconds(60),
        dead_letter_retention_period=Duration.seconds(120),
        max_receive_count=1,
    ),
    "EncryptedSharedDlq": lambda s: shared_dead_letter_queue(s, fifo=False),
    "EncryptedSnsProducer": lambda s: sns_producer(s, fifo=False),
    "EncryptedEventBridgeProducer": eventbridge_producer,
    "EncryptedGranted": lambda s: granted(EncryptedQueue(s, "Queue"), s),
    # Queues of another stack, imported and granted to a role
    "ImportedFifoGranted": imported(FifoQueueWithDlq, fifo=True, key=False),
    "ImportedEncryptedGranted": imported(EncryptedQueue, fifo=False, key=True),
    # LambdaTriggeredQueue
    "LambdaStandard": lambda s: consumer(s),
    "LambdaFifo": lambda s: consumer(s, FifoQueueWithDlq(s, "Queue", content_based_deduplication=True)),
    "LambdaEncrypted": lambda s: consumer(
        s, EncryptedQueue(s, "Queue"), batch_size=100, max_batching_window=Duration.seconds(5), max_concurrency=5
    ),
    "LambdaHighThroughput": lambda s: consumer(
        s, batch_size=1_000, max_batching_window=Duration.seconds(20), reserved_concurrent_executions=100
    ),
    "LambdaProvisionedPollers": lambda s: consumer(
        s,
        reserved_concurrent_executions=300,
        provisioned_poller_config=lambda_.ProvisionedPollerConfig(minimum_pollers=5, maximum_pollers=100),
    ),
    "LambdaPlainQueue": lambda s: consumer(s, plain_queue(s)),
    # QueueAlarms
    "AlarmsFifo": lambda s: QueueAlarms(s, "Alarms", queue=FifoQueueWithDlq(s, "Queue")),
    "AlarmsEncrypted": lambda s: EncryptedQueue(s, "Queue").add_alarms(age_slo=Duration.minutes(15)),
    "AlarmsLambdaEmail": lambda s: QueueAlarms(s, "Alarms", queue=consumer(s), alarm_email="oncall@example.com"),
    "AlarmsSharedTopic": shared_alarm_topic,
    "AlarmsSilentProducer": lambda s: EncryptedQueue(s, "Queue").add_alarms(
        min_incoming_messages=10, incoming_period=Duration.minutes(30), time_to_drain_threshold=Duration.hours(6)
    ),
    "AlarmsPlainQueue": lambda s: QueueAlarms(s, "Alarms", queue=plain_queue(s)),
    "WorkerDefaults": lambda s: QueueWorkerService(
        s, "Workers", queue=EncryptedQueue(s, "Queue"), image=WORKER_IMAGE, handler="jobs:handle",
        log_encryption_key=rotating_key(s, "LogKey"),
    ).add_alarms(),
    "WorkerFifoSpot": lambda s: QueueWorkerService(
        s, "Workers", queue=FifoQueueWithDlq(s, "Queue"), image=WORKER_IMAGE, command=["java", "-jar", "/app/w.jar"],
        cpu=4_096, memory_limit_mib=16_384, min_tasks=1, max_tasks=50, spot=True, concurrency=8,
        log_encryption_key=rotating_key(s, "LogKey"),
    ),
    "AlarmsOwnEncryptedTopic": lambda s: QueueAlarms(
        s,
        "Alarms",
        queue=FifoQueueWithDlq(s, "Queue"),
        topic=sns.Topic(s, "Topic", master_key=rotating_key(s, "TopicKey"), enforce_ssl=True),
    ),
}

SAMPLE_STACKS = ("Orders", "Media", "Events", "Monitoring", "Transcoding")
SAMPLE_PREFIX = SampleSettings().stack_prefix

# --- One synthesis for the matrix, one for the sample app ---------------------------------------


def _app(outdir: Path) -> cdk.App:
    """An App with the sample app's feature flags (helpers.new_app) that synthesizes into ``outdir``."""
    return cdk.App(outdir=str(outdir), context=CDK_CONTEXT)


def _matrix_app(outdir: Path) -> cdk.App:
    app = _app(outdir)
    for name, build in MATRIX.items():
        build(Stack(app, name))
    return app


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> tuple[compliance.ComplianceReport, Path]:
    """cdk-nag and cfn-lint over the matrix; checkov runs in its own (slow) fixture."""
    outdir = tmp_path_factory.mktemp("matrix")
    report = compliance.check_app(_matrix_app(outdir), skip={"checkov"})
    return report, outdir


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[compliance.ComplianceReport, Path]:
    outdir = tmp_path_factory.mktemp("sample")
    app = _app(outdir)
    stacks = build_sample_app(app)
    assert {key: stack.node.id for key, stack in stacks.items()} == {k: f"{SAMPLE_PREFIX}{k}" for k in SAMPLE_STACKS}
    return compliance.check_app(app, skip={"checkov"}), outdir


@pytest.fixture(scope="module")
def checkov_results(matrix, sample) -> compliance.GateResult:
    templates = compliance.templates_of(matrix[1]) + compliance.templates_of(sample[1])
    result = compliance.run_checkov(templates)
    assert result.skipped is None, f"checkov {result.skipped}: make install provides it"
    return result


def _stack_of(finding: compliance.Finding) -> str:
    # Every finding names a construct path; the stack is its first segment.
    assert "/" in finding.where, f"finding without a construct path: {finding}"
    return finding.where.split("/", 1)[0]


def _judge(stack: str, findings: list[compliance.Finding]) -> None:
    """Fail on any finding of ``stack`` that is not acknowledged."""
    unexpected = [f for f in findings if _stack_of(f) == stack and f.acknowledged is None]
    assert not unexpected, "unacknowledged findings:\n" + "\n".join(f.render() for f in unexpected)


# --- The matrix ---------------------------------------------------------------------------------


def test_matrix_covers_at_least_twenty_pattern_configurations() -> None:
    patterns_only = [name for name in MATRIX if not name.startswith(("Lambda", "Alarms"))]
    assert len(patterns_only) >= 20


@pytest.mark.parametrize("config", sorted(MATRIX))
def test_matrix_passes_cdk_nag_and_cfn_lint(matrix, config: str) -> None:
    report, _ = matrix
    assert report.result("cdk-nag").templates == len(MATRIX)
    _judge(config, report.result("cdk-nag").findings + report.result("cfn-lint").findings)


@pytest.mark.slow
@pytest.mark.parametrize("config", sorted(MATRIX))
def test_matrix_passes_checkov(checkov_results, config: str) -> None:
    _judge(config, checkov_results.findings)


@pytest.mark.parametrize("stack", SAMPLE_STACKS)
def test_sample_app_passes_cdk_nag_and_cfn_lint(sample, stack: str) -> None:
    report, _ = sample
    assert report.result("cfn-lint").templates == len(SAMPLE_STACKS)
    findings = report.result("cdk-nag").findings + report.result("cfn-lint").findings
    _judge(f"{SAMPLE_PREFIX}{stack}", findings)


def test_sample_app_passes_the_assembly_gate_too(sample) -> None:
    """make compliance reads the templates back (CfnInclude), where aws-cdk-lib's S3 notifications function is
    an AWS::Lambda::Function that cdk-nag's Lambda rules judge (in the app it is a raw CfnResource): the Media
    stack acknowledges those findings too."""
    _, outdir = sample
    replayed = compliance.run_cdk_nag_on_assembly(outdir)
    assert replayed.templates == len(SAMPLE_STACKS)
    assert not replayed.unacknowledged, "\n".join(f.render() for f in replayed.unacknowledged)
    handler = f"{SAMPLE_PREFIX}Media/BucketNotificationsHandler050a0587b7544547bf325f094a3db834/Resource"
    assert {f.rule for f in replayed.acknowledged if f.where == handler} >= {
        "AwsSolutions-L1", "Serverless-LambdaTracing", "HIPAA.Security-LambdaInsideVPC", "NIST.800.53.R5-LambdaDLQ",
    }


@pytest.mark.slow
@pytest.mark.parametrize("stack", SAMPLE_STACKS)
def test_sample_app_passes_checkov(checkov_results, stack: str) -> None:
    _judge(f"{SAMPLE_PREFIX}{stack}", checkov_results.findings)


# --- What is acknowledged, where, and why --------------------------------------------------------

LIBRARY_ACKNOWLEDGMENTS = (
    _defaults.DEAD_LETTER_QUEUE_ACKNOWLEDGMENTS,
    _defaults.SUBSCRIPTION_DEAD_LETTER_QUEUE_ACKNOWLEDGMENTS,
    _defaults.LAMBDA_CONSUMER_ACKNOWLEDGMENTS,
    _defaults.EVENT_SOURCE_MAPPING_ACKNOWLEDGMENTS,
    _defaults.UNSCOPABLE_ACTIONS_ACKNOWLEDGMENTS,
)
WORKER_ACKNOWLEDGMENTS = (
    _defaults.WORKER_ENVIRONMENT_ACKNOWLEDGMENTS,
    _defaults.WORKER_TASK_PROTECTION_ACKNOWLEDGMENTS,
    _defaults.WORKER_VPC_ACKNOWLEDGMENTS,
    _defaults.WORKER_IMAGE_PULL_ACKNOWLEDGMENTS,
)


def test_every_dead_letter_queue_acknowledges_the_redrive_rule_with_its_reason(matrix) -> None:
    report, _ = matrix
    rule, reason = _defaults.DEAD_LETTER_QUEUE_ACKNOWLEDGMENTS[0]
    acknowledged = {
        f.where for f in report.result("cdk-nag").acknowledged if f.rule == rule.split("::", 1)[1]
    }
    assert "FifoDefaults/Queue/DeadLetterQueue/Resource" in acknowledged
    assert "LambdaStandard/Consumer/Queue/DeadLetterQueue/Resource" in acknowledged
    assert "FifoSharedDlq/SharedDlq/Resource" in acknowledged  # a DLQ the caller gave
    assert {f.acknowledged for f in report.result("cdk-nag").acknowledged if f.rule == rule.split("::", 1)[1]} == {
        reason
    }


def test_only_the_listed_rules_are_acknowledged(matrix) -> None:
    report, _ = matrix
    listed = {rule.split("::", 1)[1] for group in (*LIBRARY_ACKNOWLEDGMENTS, *WORKER_ACKNOWLEDGMENTS) for rule, _ in group}
    # The worker's task-protection finding names its cluster's logical id where the listed id has <ClusterRef>.
    per_cluster = re.compile(r"(:task/<)[^>]+(>/\*\])$")
    assert {per_cluster.sub(r"\1ClusterRef\2", f.rule) for f in report.result("cdk-nag").acknowledged} <= listed
    assert {f.rule for f in report.result("cfn-lint").acknowledged} <= set(compliance.CFN_LINT_IGNORES)


def test_acknowledgment_reasons_name_a_behaviour_not_a_placeholder() -> None:
    groups = (*LIBRARY_ACKNOWLEDGMENTS, *WORKER_ACKNOWLEDGMENTS, (("HIPAA.Security::HIPAA.Security-LambdaInsideVPC", NO_VPC_REASON),))
    reasons = [reason for group in groups for _, reason in group]
    reasons += [i.reason for i in (*compliance.CFN_LINT_IGNORES.values(), *compliance.CHECKOV_SKIPS.values())]
    for reason in reasons:
        assert len(reason) > 80 and "TODO" not in reason and "suppress" not in reason.lower(), reason
    for group in groups:
        for rule, _ in group:
            pack, name = rule.split("::", 1)
            assert pack in compliance.NAG_PACKS and name.startswith(f"{pack}-"), rule


def test_cdk_nag_on_the_assembly_finds_what_it_finds_in_the_app(matrix) -> None:
    """The CLI's path (CfnInclude of cdk.out, acknowledgments replayed from its metadata) agrees with
    cdk-nag run on the construct tree, finding for finding."""
    report, outdir = matrix
    replayed = compliance.run_cdk_nag_on_assembly(outdir)
    in_app = report.result("cdk-nag")
    assert replayed.templates == in_app.templates
    assert sorted((f.rule, f.where, f.acknowledged) for f in replayed.findings) == sorted(
        (f.rule, f.where, f.acknowledged) for f in in_app.findings
    )


def test_default_consumer_findings_are_exactly_the_options(tmp_path) -> None:
    """A consumer with every default passes AwsSolutions and Serverless; HIPAA, NIST and PCI ask for the
    three options the README names: vpc, function_encryption_key, reserved_concurrent_executions."""
    app = _app(tmp_path)
    stack = Stack(app, "Defaults")
    LambdaTriggeredQueue(stack, "Consumer", code=lambda_.Code.from_inline(CODE), handler="index.handler")
    report = compliance.check_app(app, skip={"checkov"})
    assert {f.rule for f in report.result("cdk-nag").unacknowledged} == {
        *(f"{pack}-LambdaInsideVPC" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")),
        *(f"{pack}-CloudWatchLogGroupEncrypted" for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")),
        *(f"{pack}-LambdaConcurrency" for pack in ("HIPAA.Security", "NIST.800.53.R5")),
    }


# --- The gates fail when a construct breaks ------------------------------------------------------


def _single(config: Callable[[Stack], Any], tmp_path: Path) -> compliance.ComplianceReport:
    app = _app(tmp_path)
    config(Stack(app, "Broken"))
    return compliance.check_app(app, skip={"checkov"})


def test_gate_reports_a_queue_policy_without_tls_enforcement(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(_defaults, "ENFORCE_SSL", False)
    report = _single(lambda s: FifoQueueWithDlq(s, "Queue"), tmp_path)
    assert not report.ok
    failed = {(f.rule, f.where) for f in report.result("cdk-nag").unacknowledged}
    assert failed == {
        (rule, queue)
        for rule in ("AwsSolutions-SQS4", "ConstructsSqs-SQSTlsOnly")
        for queue in ("Broken/Queue/Resource/Resource", "Broken/Queue/DeadLetterQueue/Resource")
    }


def test_gate_reports_encryption_turned_off_through_the_l1(tmp_path) -> None:
    def unencrypted(stack: Stack) -> None:
        cfn = FifoQueueWithDlq(stack, "Queue").queue.node.default_child
        assert isinstance(cfn, sqs.CfnQueue)
        cfn.sqs_managed_sse_enabled = False

    report = _single(unencrypted, tmp_path)
    assert {(f.rule, f.where) for f in report.result("cdk-nag").unacknowledged} == {
        ("AwsSolutions-SQS2", "Broken/Queue/Resource/Resource"),
        ("ConstructsSqs-SQSEncryptionExplicit", "Broken/Queue/Resource/Resource"),
    }
    checkov = compliance.run_checkov(compliance.templates_of(tmp_path))
    assert checkov.skipped is None, checkov.skipped
    # CKV_AWS_27 is acknowledged on SSE-SQS queues only: on this one it is a finding again.
    assert {(f.rule, f.where) for f in checkov.unacknowledged} == {("CKV_AWS_27", "Broken/Queue/Resource/Resource")}


def test_assembly_gate_sees_a_raw_override_that_cdk_nag_in_the_app_cannot(tmp_path) -> None:
    """cdk-nag's packs read L1 properties, so a raw override escapes them in the app (cdk-nag README, "Rules and
    Property Overrides"); on the synthesized template, as the CLI runs them, it is caught. The ConstructsSqs
    pack reads the synthesized templates in the app too, so it sees it either way."""

    def overridden(stack: Stack) -> None:
        cfn = FifoQueueWithDlq(stack, "Queue").queue.node.default_child
        assert isinstance(cfn, sqs.CfnQueue)
        cfn.add_property_override("SqsManagedSseEnabled", False)

    in_app = _single(overridden, tmp_path)
    ours = ("ConstructsSqs-SQSEncryptionExplicit", "Broken/Queue/Resource/Resource")
    assert {(f.rule, f.where) for f in in_app.result("cdk-nag").unacknowledged} == {ours}
    on_assembly = compliance.run_cdk_nag_on_assembly(tmp_path)
    found = {(f.rule, f.where) for f in on_assembly.unacknowledged}
    assert found == {("AwsSolutions-SQS2", "Broken/Queue/Resource/Resource"), ours}


def _function(role: str = "Role") -> dict:
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Role": {"Fn::GetAtt": [role, "Arn"]},
            "Runtime": "python3.13",
            "Handler": "index.handler",
            "Code": {"ZipFile": "def handler(event, context):\n    return None\n"},
        },
    }


ROLE = {
    "Type": "AWS::IAM::Role",
    "Properties": {
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    },
}


def test_cfn_lint_acknowledges_w3005_only_for_a_function_and_its_own_role(tmp_path) -> None:
    template = tmp_path / "Handmade.template.json"
    template.write_text(
        json.dumps({
            "Resources": {
                "Role": ROLE,
                "Function": {**_function(), "DependsOn": ["Role"]},
                "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {"SqsManagedSseEnabled": True}},
                "Queue": {
                    "Type": "AWS::SQS::Queue",
                    "DependsOn": ["Dlq"],
                    "Properties": {
                        "SqsManagedSseEnabled": True,
                        "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}, "maxReceiveCount": 5},
                    },
                },
            }
        })
    )
    result = compliance.run_cfn_lint([template])
    found = {(f.where, f.acknowledged is not None) for f in result.findings if f.rule == "W3005"}
    assert found == {("Handmade.template.json:Function", True), ("Handmade.template.json:Queue", False)}


def _policy(actions: list[str]) -> dict:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    return {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": document, "Roles": [{"Ref": "Role"}]}}


@pytest.mark.slow
def test_checkov_skips_apply_only_where_their_reason_holds(tmp_path) -> None:
    def mapping(function: str, queue: str, **extra: Any) -> dict:
        properties = {"FunctionName": {"Ref": function}, "EventSourceArn": {"Fn::GetAtt": [queue, "Arn"]}, **extra}
        return {"Type": "AWS::Lambda::EventSourceMapping", "Properties": properties}

    template = tmp_path / "Handmade.template.json"
    template.write_text(
        json.dumps({
            "Resources": {
                "SseQueue": {"Type": "AWS::SQS::Queue", "Properties": {"SqsManagedSseEnabled": True}},
                "PlainQueue": {"Type": "AWS::SQS::Queue", "Properties": {"SqsManagedSseEnabled": False}},
                "Role": ROLE,
                "Consumer": _function(),
                "ConsumerMapping": mapping("Consumer", "SseQueue", ScalingConfig={"MaximumConcurrency": 5}),
                "Shared": _function(),
                "SharedMapping": mapping("Shared", "PlainQueue"),
                "VpcPolicy": _policy(["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "xray:PutTraceSegments"]),
                "WidePolicy": _policy(["ec2:CreateNetworkInterface", "s3:PutObject"]),
                "SharedPermission": {
                    "Type": "AWS::Lambda::Permission",
                    "Properties": {
                        "FunctionName": {"Ref": "Shared"},
                        "Action": "lambda:InvokeFunction",
                        "Principal": "s3.amazonaws.com",
                    },
                },
            }
        })
    )
    result = compliance.run_checkov([template])
    assert result.skipped is None, result.skipped
    judged = {
        (f.rule, f.where.split(":", 1)[1], f.acknowledged is not None)
        for f in result.findings
        if f.rule in compliance.CHECKOV_SKIPS
    }
    assert judged == {
        ("CKV_AWS_27", "SseQueue", True),
        ("CKV_AWS_27", "PlainQueue", False),
        ("CKV_AWS_116", "Consumer", True),
        ("CKV_AWS_116", "Shared", False),
        ("CKV_AWS_115", "Consumer", True),
        ("CKV_AWS_115", "Shared", False),
        ("CKV_AWS_111", "VpcPolicy", True),
        ("CKV_AWS_111", "WidePolicy", False),
    }


def test_makefile_installs_the_checkov_version_the_gate_expects() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert f"CHECKOV_VERSION := {compliance.CHECKOV_VERSION}\n" in makefile
    checkov = compliance.find_checkov()
    assert checkov is not None, "make install puts checkov in <venv>/tools/checkov"
    done = subprocess.run([checkov, "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == compliance.CHECKOV_VERSION


def test_cli_exits_non_zero_on_a_finding_and_prints_the_table(tmp_path) -> None:
    app_file = tmp_path / "app.py"
    app_file.write_text(
        "import aws_cdk as cdk\n"
        "from aws_cdk import aws_sqs as sqs\n"
        "app = cdk.App()\n"
        "stack = cdk.Stack(app, 'Plain')\n"
        "sqs.Queue(stack, 'Unencrypted', encryption=sqs.QueueEncryption.UNENCRYPTED)\n"
        "app.synth()\n"
    )
    (tmp_path / "cdk.json").write_text(json.dumps({"app": "python3 app.py", "context": CDK_CONTEXT}))
    done = subprocess.run(
        [sys.executable, "-m", "constructs_sqs.compliance", "--app", f"{sys.executable} app.py", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    table = done.stdout.split("\n\n", 1)[0].splitlines()
    assert table[0].split() == ["tool", "templates", "findings", "acknowledged"]
    assert [row.split()[:2] for row in table[2:]] == [["cdk-nag", "1"], ["cfn-lint", "1"], ["checkov", "1"]]
    assert "AwsSolutions-SQS3" in done.stdout and "AwsSolutions-SQS4" in done.stdout
    assert "FAILED" in done.stdout


def test_cli_passes_a_compliant_assembly(tmp_path) -> None:
    app = _app(tmp_path)
    FifoQueueWithDlq(Stack(app, "Clean"), "Queue")
    app.synth()  # as `cdk synth` would: no packs registered in the app
    assert compliance.main([str(tmp_path), "--skip", "checkov"]) == 0


# --- The documentation (docs/compliance.md) shows what is acknowledged ---------------------------


def test_readme_lists_every_acknowledgment() -> None:
    section = (ROOT / "docs" / "compliance.md").read_text()
    for group in LIBRARY_ACKNOWLEDGMENTS:
        for rule, _ in group:
            assert f"`{rule.split('::', 1)[1]}`" in section, rule
    for rule in (*compliance.CFN_LINT_IGNORES, *compliance.CHECKOV_SKIPS):
        assert f"`{rule}`" in section, rule


# --- Outside this repository: a missing extra, a missing checkov ---------------------------------


@pytest.mark.parametrize("module", ["cdk_nag", "cfnlint"])
def test_cli_without_the_compliance_extra_names_it_and_exits_2(module: str, monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed: importing it fails
    assert compliance.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    distribution = {"cdk_nag": "cdk-nag", "cfnlint": "cfn-lint"}[module]
    assert err.startswith(f"python -m constructs_sqs.compliance: python -m constructs_sqs.compliance (the {distribution} gate) ")
    assert f"needs {distribution}, which is not installed: pip install 'constructs-sqs[compliance]'" in err


def test_cli_does_not_ask_for_a_gate_it_skips(monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "cfnlint", None)
    app = _app(tmp_path)
    FifoQueueWithDlq(Stack(app, "Clean"), "Queue")
    app.synth()
    assert compliance.main([str(tmp_path), "--skip", "cfn-lint", "--skip", "checkov"]) == 0


def test_a_gate_called_without_its_extra_raises_an_import_error_naming_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "cfnlint.api", None)
    with pytest.raises(ImportError, match=r"the cfn-lint gate needs cfn-lint, which is not installed: "
                       r"pip install 'constructs-sqs\[compliance\]'") as raised:
        compliance.run_cfn_lint([])
    assert isinstance(raised.value, ModuleNotFoundError) and raised.value.name == "cfnlint.api"


def test_an_import_error_inside_an_installed_package_is_not_blamed_on_the_extra(monkeypatch) -> None:
    from constructs_sqs._extras import MissingExtraError, require

    def broken_import(name: str, package: str | None = None) -> None:
        raise ModuleNotFoundError("No module named 'six'", name="six")

    monkeypatch.setattr("importlib.import_module", broken_import)
    with pytest.raises(ModuleNotFoundError, match="six") as raised:
        require("cdk_nag", distribution="cdk-nag", extra="compliance", needed_by="test")
    assert not isinstance(raised.value, MissingExtraError)


def test_missing_checkov_names_commands_a_user_can_run(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(compliance.checkov, "find_checkov", lambda explicit=None: None)
    result = compliance.run_checkov([tmp_path / "Any.template.json"])
    assert not result.ok
    assert result.skipped is not None
    assert f"pipx install checkov=={compliance.CHECKOV_VERSION}" in result.skipped
    assert f"~/.venvs/checkov/bin/pip install checkov=={compliance.CHECKOV_VERSION}" in result.skipped
    assert "make" not in result.skipped


def test_find_checkov_looks_at_the_argument_the_environment_the_venv_and_path(monkeypatch, tmp_path) -> None:
    explicit, from_env, on_path = (tmp_path / name for name in ("explicit", "env", "bin"))
    on_path.mkdir()
    for file in (explicit, from_env, on_path / "checkov"):
        file.write_text("#!/bin/sh\n")
        file.chmod(0o755)
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "no-venv"))
    monkeypatch.setenv("PATH", str(on_path))
    monkeypatch.delenv("CHECKOV", raising=False)
    assert compliance.find_checkov() == str(on_path / "checkov")
    monkeypatch.setenv("CHECKOV", str(from_env))
    assert compliance.find_checkov() == str(from_env)
    assert compliance.find_checkov(str(explicit)) == str(explicit)


def test_skip_names_only_gates_that_exist(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"skip names a gate that does not exist: \['cfnlint'\]"):
        compliance.check_assembly(tmp_path, skip={"cfnlint"})


def test_the_package_keeps_the_public_names_of_the_module_it_replaced() -> None:
    public = {
        "CFN_LINT_IGNORES", "CHECKOV_SKIPS", "CHECKOV_VERSION", "NAG_PACKS", "ComplianceReport", "Finding",
        "GateResult", "Ignore", "Subject", "add_nag_packs", "check_app", "check_assembly", "find_checkov", "main",
        "run_cdk_nag", "run_cdk_nag_on_assembly", "run_cfn_lint", "run_checkov", "templates_of",
    }  # fmt: skip
    assert public <= set(compliance.__all__)
    assert all(callable(getattr(compliance, name)) or name.isupper() for name in public)
    done = subprocess.run(
        [sys.executable, "-m", "constructs_sqs.compliance", "--help"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("usage: python -m constructs_sqs.compliance")
    assert "pip install 'constructs-sqs[compliance]'" in " ".join(done.stdout.split())  # argparse wraps lines
