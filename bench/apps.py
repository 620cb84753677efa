"""The apps the synth benchmark builds: the same work written four ways.

- ``ours``: ``LambdaTriggeredQueue`` (+ ``add_alarms``), the library as a user writes it.
- ``handwritten``: the same resources written with aws-cdk-lib alone: queue and DLQ (SSE-SQS, TLS-only,
  redrive and redrive-allow policies, names), log group, role with one managed policy, function with the
  Powertools and runtime layers, event source mapping with partial batch responses and, with alarms, a
  KMS-encrypted topic CloudWatch may publish to and the same alarms. No validation, no derivation: the
  floor of what aws-cdk-lib costs for this output.
- ``solutions``: AWS Solutions Constructs ``SqsToLambda`` (queue, DLQ, function, mapping; no alarms).
- ``empty``: an App with one empty Stack: jsii's start-up, the floor of any synth.

Each builder takes a Stack and a count and returns nothing; ``python -m bench.synth_app`` runs one.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    ArnFormat,
    BundlingOptions,
    DockerImage,
    Duration,
    ILocalBundling,
    CfnWaitConditionHandle,
    Names,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = ROOT / "sample_app" / "handlers"
RUNTIME_PACKAGE = ROOT / "constructs_sqs_runtime"
HANDLER = "orders_fulfilment.handler"


def code() -> lambda_.Code:
    return lambda_.Code.from_asset(str(HANDLERS), exclude=["__pycache__", "*.pyc"])


# --- constructs-sqs ---------------------------------------------------------------------------------------


def ours(stack: Stack, count: int, *, alarms: bool) -> None:
    from constructs_sqs import LambdaTriggeredQueue

    handlers = code()
    for index in range(count):
        consumer = LambdaTriggeredQueue(stack, f"Consumer{index}", code=handlers, handler=HANDLER)
        if alarms:
            consumer.add_alarms(create_dashboard=False)


# --- aws-cdk-lib by hand ----------------------------------------------------------------------------------


@jsii.implements(ILocalBundling)
class _Copy:
    def try_bundle(self, output_dir: str, options: Any) -> bool:  # noqa: ARG002
        shutil.copytree(RUNTIME_PACKAGE, Path(output_dir) / "python" / "constructs_sqs_runtime",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)
        return True


def _layers(stack: Stack) -> list[lambda_.ILayerVersion]:
    powertools = lambda_.LayerVersion.from_layer_version_arn(
        stack, "Powertools",
        stack.format_arn(service="lambda", account="017000801446", resource="layer",
                         resource_name="AWSLambdaPowertoolsPythonV3-python314-x86_64:27",
                         arn_format=ArnFormat.COLON_RESOURCE_NAME),
    )
    runtime = lambda_.LayerVersion(
        stack, "RuntimeLayer",
        code=lambda_.Code.from_asset(str(RUNTIME_PACKAGE), bundling=BundlingOptions(
            image=DockerImage.from_registry("none"), local=_Copy()), exclude=["__pycache__", "*.pyc"]),
        compatible_runtimes=[lambda_.Runtime.PYTHON_3_14],
    )
    return [powertools, runtime]


def handwritten(stack: Stack, count: int, *, alarms: bool) -> None:
    handlers = code()
    layers = _layers(stack)
    for index in range(count):
        scope = f"Consumer{index}"
        name = f"{stack.stack_name}-{scope}"
        source_arn = stack.format_arn(service="sqs", resource=name, arn_format=ArnFormat.NO_RESOURCE_NAME)
        dead_letters = sqs.Queue(
            stack, f"{scope}Dlq", queue_name=f"{name}-dlq", encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True, retention_period=Duration.days(14), removal_policy=RemovalPolicy.RETAIN,
            receive_message_wait_time=Duration.seconds(20), max_message_size_bytes=1_048_576,
            redrive_allow_policy=sqs.RedriveAllowPolicy(
                redrive_permission=sqs.RedrivePermission.BY_QUEUE,
                source_queues=[sqs.Queue.from_queue_arn(stack, f"{scope}Source", source_arn)],
            ),
        )
        queue = sqs.Queue(
            stack, f"{scope}Queue", queue_name=name, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            visibility_timeout=Duration.seconds(180), retention_period=Duration.days(4),
            receive_message_wait_time=Duration.seconds(20), max_message_size_bytes=1_048_576,
            delivery_delay=Duration.seconds(0),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=5),
        )
        log_group = logs.LogGroup(stack, f"{scope}Logs", retention=logs.RetentionDays.ONE_MONTH,
                                  removal_policy=RemovalPolicy.RETAIN)
        role = iam.Role(stack, f"{scope}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        policy = iam.ManagedPolicy(stack, f"{scope}Policy", roles=[role], statements=[
            iam.PolicyStatement(actions=["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl",
                                         "sqs:DeleteMessage", "sqs:GetQueueAttributes"], resources=[queue.queue_arn]),
            iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                resources=[log_group.log_group_arn]),
            iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]),
        ])
        function = lambda_.Function(
            stack, f"{scope}Function", runtime=lambda_.Runtime.PYTHON_3_14, code=handlers, handler=HANDLER,
            timeout=Duration.seconds(30), memory_size=256, role=role, log_group=log_group, layers=layers,
            environment={"POWERTOOLS_SERVICE_NAME": scope},
        )
        # Active tracing on the resource itself: Tracing.ACTIVE would add a second, inline policy to the role.
        cfn_function = function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
        function.node.add_dependency(policy)
        lambda_.EventSourceMapping(stack, f"{scope}Mapping", target=function, event_source_arn=queue.queue_arn,
                                   report_batch_item_failures=True)
        if alarms:
            _handwritten_alarms(stack, scope, queue, dead_letters, function)


def _handwritten_alarms(stack: Stack, scope: str, queue: sqs.Queue, dead_letters: sqs.Queue,
                        function: lambda_.Function) -> None:
    prefix = Names.unique_resource_name(queue, max_length=64, separator="-")
    key = kms.Key(stack, f"{scope}TopicKey", enable_key_rotation=True, pending_window=Duration.days(30),
                  removal_policy=RemovalPolicy.DESTROY)
    topic = sns.Topic(stack, f"{scope}Topic", master_key=key, enforce_ssl=True)
    conditions = {
        "ArnLike": {"aws:SourceArn": stack.format_arn(service="cloudwatch", resource="alarm",
                                                      resource_name=f"{prefix}-*",
                                                      arn_format=ArnFormat.COLON_RESOURCE_NAME)},
        "StringEquals": {"aws:SourceAccount": stack.account},
    }
    cloudwatch_principal = iam.ServicePrincipal("cloudwatch.amazonaws.com")
    topic.add_to_resource_policy(iam.PolicyStatement(actions=["sns:Publish"], principals=[cloudwatch_principal],
                                                     resources=[topic.topic_arn], conditions=conditions))
    key.add_to_resource_policy(iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                                                   principals=[cloudwatch_principal], resources=["*"],
                                                   conditions=conditions))
    period = Duration.minutes(5)
    maximum, total = cloudwatch.Stats.MAXIMUM, cloudwatch.Stats.SUM
    above = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
    at_least = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
    drain = cloudwatch.MathExpression(
        expression="IF(FILL(deleted, 0) > 0, visible / (FILL(deleted, 0) / PERIOD(visible)), IF(visible > 0, 345600, 0))",
        using_metrics={"visible": queue.metric_approximate_number_of_messages_visible(statistic=maximum, period=period),
                       "deleted": queue.metric_number_of_messages_deleted(statistic=total, period=period)},
        period=period,
    )
    specs = [
        ("depth", queue.metric_approximate_number_of_messages_visible(statistic=maximum, period=period), 1000, above, 3, None),
        ("age", queue.metric_approximate_age_of_oldest_message(statistic=maximum, period=period), 172800, above, 1, None),
        ("dlq", dead_letters.metric_approximate_number_of_messages_visible(statistic=maximum, period=period), 1, at_least, 1, None),
        ("in-flight", queue.metric_approximate_number_of_messages_not_visible(statistic=maximum, period=period), 96000, at_least, 1, None),
        ("consumer-errors", function.metric_errors(statistic=total, period=period), 1, at_least, 3, 2),
        ("consumer-throttles", function.metric_throttles(statistic=total, period=period), 1, at_least, 3, 2),
        ("dlq-age", dead_letters.metric_approximate_age_of_oldest_message(statistic=maximum, period=period), 604800, above, 1, None),
        ("time-to-drain", drain, 86400, above, 3, None),
    ]
    action = actions.SnsAction(topic)
    for suffix, metric, threshold, comparison, periods, datapoints in specs:
        alarm = cloudwatch.Alarm(
            stack, f"{scope}Alarm{suffix}", alarm_name=f"{prefix}-{suffix}", alarm_description=f"{suffix} of {scope}",
            metric=metric, threshold=threshold, comparison_operator=comparison, evaluation_periods=periods,
            datapoints_to_alarm=datapoints, treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            actions_enabled=True,
        )
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)


# --- AWS Solutions Constructs -----------------------------------------------------------------------------


def solutions(stack: Stack, count: int, *, alarms: bool) -> None:
    if alarms:
        raise ValueError("SqsToLambda makes no alarms: compare it without them")
    from aws_solutions_constructs.aws_sqs_lambda import SqsToLambda

    handlers = code()
    for index in range(count):
        SqsToLambda(
            stack, f"Consumer{index}",
            lambda_function_props=lambda_.FunctionProps(
                runtime=lambda_.Runtime.PYTHON_3_14, code=handlers, handler=HANDLER,
                timeout=Duration.seconds(30), memory_size=256,
            ),
            sqs_event_source_props=event_sources.SqsEventSourceProps(report_batch_item_failures=True),
        )


def empty(stack: Stack, count: int, *, alarms: bool) -> None:  # noqa: ARG001
    """The App and a Stack holding one resource that does nothing (an empty template does not validate)."""
    CfnWaitConditionHandle(stack, "Nothing")


BUILDERS = {"ours": ours, "handwritten": handwritten, "solutions": solutions, "empty": empty}
