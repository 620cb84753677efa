"""LambdaTriggeredQueue: RELIABILITY L1-L6 and Q7, its defaults, layers and validation messages.

Most assertions read one shared template (``built``), synthesized once for the module; tests that expect
a ConfigurationError build nothing and synthesize nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template
from helpers import new_app

from constructs_sqs import ConfigurationError, EncryptedQueue, FifoQueueWithDlq
from constructs_sqs import _defaults
from constructs_sqs.lambda_triggered_queue import LambdaTriggeredQueue

CODE = lambda_.Code.from_inline("def handler(event, context):\n    return {'batchItemFailures': []}\n")
CONSUME_ACTIONS = [
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
]
LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]
POWERTOOLS_ARN = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":lambda:",
            {"Ref": "AWS::Region"},
            ":017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-x86_64:27",
        ],
    ]
}


@dataclass
class Built:
    app: cdk.App
    stack: cdk.Stack
    template: Template
    resources: dict
    standard: LambdaTriggeredQueue
    encrypted: LambdaTriggeredQueue
    fifo: LambdaTriggeredQueue
    existing: LambdaTriggeredQueue
    existing_function: lambda_.Function

    def logical_id(self, construct) -> str:
        return self.stack.get_logical_id(construct.node.default_child)

    def resource(self, construct) -> dict:
        return self.resources[self.logical_id(construct)]

    def mapping(self, consumer: LambdaTriggeredQueue) -> dict:
        return self.resources[self.stack.get_logical_id(consumer.event_source_mapping.node.default_child)]

    def policy_statements(self, consumer: LambdaTriggeredQueue) -> list[dict]:
        assert consumer.role is not None
        return self.resource(consumer.role.managed_policy)["Properties"]["PolicyDocument"]["Statement"]


@pytest.fixture(scope="module")
def built() -> Built:
    """One stack with four consumers, synthesized once (with validateAgainstDefaultRules on)."""
    app = new_app()
    stack = cdk.Stack(app, "TestStack")
    standard = LambdaTriggeredQueue(
        stack, "Standard", code=CODE, handler="index.handler",
        batch_size=50, max_batching_window=Duration.seconds(10),
    )
    encrypted_queue = EncryptedQueue(stack, "EncryptedQueue")
    encrypted = LambdaTriggeredQueue(
        stack, "Encrypted", queue=encrypted_queue, code=CODE, handler="index.handler",
        reserved_concurrent_executions=5, architecture=lambda_.Architecture.ARM_64,
    )
    fifo_queue = FifoQueueWithDlq(stack, "FifoQueue", visibility_timeout=Duration.seconds(100), max_receive_count=3)
    fifo = LambdaTriggeredQueue(
        stack, "Fifo", queue=fifo_queue, code=CODE, handler="index.handler", batch_size=10, max_concurrency=4,
    )
    # A later grant to the built function lands in its managed policy, not in an inline one.
    fifo.function.add_to_role_policy(
        iam.PolicyStatement(actions=["dynamodb:PutItem"], resources=["arn:aws:dynamodb:eu-west-1:111111111111:table/t"])
    )
    existing_function = lambda_.Function(
        stack, "ExistingFunction", runtime=lambda_.Runtime.PYTHON_3_14, code=CODE, handler="index.handler",
        timeout=Duration.seconds(60),
    )
    existing = LambdaTriggeredQueue(stack, "Existing", function=existing_function, report_batch_item_failures=False)
    producer = iam.Role(stack, "Producer", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    encrypted.grant_send_messages(producer)
    template = Template.from_stack(stack)
    return Built(
        app=app, stack=stack, template=template, resources=template.to_json()["Resources"],
        standard=standard, encrypted=encrypted, fifo=fifo, existing=existing, existing_function=existing_function,
    )


# --- L1: visibility timeout -----------------------------------------------------------------------


def test_created_queue_visibility_is_6x_timeout_plus_window(built):
    assert built.resource(built.standard.queue)["Properties"]["VisibilityTimeout"] == 6 * 30 + 10
    assert built.standard.visibility_timeout.to_seconds() == 190


def test_pattern_with_default_visibility_gets_the_derived_value(built):
    assert built.resource(built.encrypted.queue)["Properties"]["VisibilityTimeout"] == 180
    assert built.encrypted.source.visibility_timeout.to_seconds() == 180
    # Synth stays quiet (no info annotation); the plan says what was derived and why.
    assert not Annotations.from_stack(built.stack).find_info("*", Match.any_value())
    assert built.encrypted.plan.set_visibility_timeout == 180
    assert (
        "visibility timeout of queue=TestStack/EncryptedQueue: 3 minutes = 6 x the function timeout (30 seconds) "
        "+ max_batching_window (0 seconds)"
    ) in built.encrypted.plan.describe().splitlines()


def test_existing_function_timeout_is_read_for_the_derivation(built):
    assert built.resource(built.existing.queue)["Properties"]["VisibilityTimeout"] == 6 * 60


def test_pattern_visibility_between_1x_and_6x_warns_and_is_kept(built):
    assert built.resource(built.fifo.queue)["Properties"]["VisibilityTimeout"] == 100
    Annotations.from_stack(built.stack).has_warning(
        "/TestStack/Fifo",
        Match.string_like_regexp(
            r"visibility_timeout of queue=TestStack/FifoQueue is 1 minute 40 seconds, below 6 x the function timeout "
            r"\+ max_batching_window \(3 minutes\)"
        ),
    )


def test_created_queue_visibility_between_1x_and_6x_warns(stack):
    LambdaTriggeredQueue(stack, "C", code=CODE, handler="index.handler", visibility_timeout=Duration.seconds(60))
    Annotations.from_stack(stack).has_warning(
        "/TestStack/C", Match.string_like_regexp(r"visibility_timeout is 1 minute, below 6 x .* \(3 minutes\)")
    )


def test_visibility_below_the_function_timeout_is_an_error(stack):
    with pytest.raises(
        ConfigurationError,
        match=r"visibility_timeout must be at least the function timeout \(30 seconds\), got 20 seconds",
    ):
        LambdaTriggeredQueue(stack, "C", code=CODE, handler="index.handler", visibility_timeout=Duration.seconds(20))


def test_pattern_visibility_below_the_function_timeout_is_an_error(stack):
    queue = FifoQueueWithDlq(stack, "Q", visibility_timeout=Duration.seconds(10))
    with pytest.raises(
        ConfigurationError,
        match=r"visibility_timeout of queue=TestStack/Q must be at least the function timeout \(30 seconds\), "
        r"got 10 seconds",
    ):
        LambdaTriggeredQueue(stack, "C", queue=queue, code=CODE, handler="index.handler")


def test_explicit_visibility_with_a_pattern_must_agree(stack):
    queue = EncryptedQueue(stack, "Q", visibility_timeout=Duration.minutes(5))
    with pytest.raises(
        ConfigurationError,
        match=r"visibility_timeout \(4 minutes\) cannot be applied to queue=TestStack/Q, which is already built "
        r"with 5 minutes",
    ):
        LambdaTriggeredQueue(
            stack, "C", queue=queue, code=CODE, handler="index.handler", visibility_timeout=Duration.minutes(4)
        )
    same = LambdaTriggeredQueue(
        stack, "Same", queue=queue, code=CODE, handler="index.handler", visibility_timeout=Duration.minutes(5)
    )
    assert same.visibility_timeout.to_seconds() == 300


def test_imported_queue_visibility_is_unknown_and_warned(stack):
    queue = FifoQueueWithDlq.from_queue_arns(
        stack, "Q", queue_arn="arn:aws:sqs:eu-west-1:111111111111:orders.fifo",
        dead_letter_queue_arn="arn:aws:sqs:eu-west-1:111111111111:orders-dlq.fifo",
    )
    consumer = LambdaTriggeredQueue(stack, "C", queue=queue, code=CODE, handler="index.handler")
    assert consumer.visibility_timeout is None
    Annotations.from_stack(stack).has_warning(
        "/TestStack/C",
        Match.string_like_regexp(r"visibility timeout of queue=TestStack/Q is unknown \(imported\).*at least 3 minutes"),
    )


def test_imported_queue_described_visibility_is_checked(stack):
    queue = EncryptedQueue.from_queue_arns(
        stack, "Q", queue_arn="arn:aws:sqs:eu-west-1:111111111111:media",
        dead_letter_queue_arn="arn:aws:sqs:eu-west-1:111111111111:media-dlq",
        key_arn="arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    )
    with pytest.raises(ConfigurationError, match=r"visibility_timeout must be at least the function timeout"):
        LambdaTriggeredQueue(
            stack, "C", queue=queue, code=CODE, handler="index.handler", visibility_timeout=Duration.seconds(5)
        )


# --- L2: partial batch responses ------------------------------------------------------------------


def test_report_batch_item_failures_is_on_by_default(built):
    for consumer in (built.standard, built.encrypted, built.fifo):
        assert built.mapping(consumer)["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "FunctionResponseTypes" not in built.mapping(built.existing)["Properties"]


def test_mapping_carries_batching_and_concurrency(built):
    standard = built.mapping(built.standard)["Properties"]
    assert (standard["BatchSize"], standard["MaximumBatchingWindowInSeconds"]) == (50, 10)
    assert standard["EventSourceArn"] == {"Fn::GetAtt": [built.logical_id(built.standard.queue), "Arn"]}
    assert "ScalingConfig" not in standard
    fifo = built.mapping(built.fifo)["Properties"]
    assert (fifo["BatchSize"], fifo["ScalingConfig"]) == (10, {"MaximumConcurrency": 4})
    assert "MaximumBatchingWindowInSeconds" not in fifo


def test_max_concurrency_defaults_to_the_reserved_concurrency(built):
    assert built.mapping(built.encrypted)["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 5}
    assert built.encrypted.max_concurrency == 5


# --- Q7 -------------------------------------------------------------------------------------------


def test_max_receive_count_below_5_warns(built):
    Annotations.from_stack(built.stack).has_warning(
        "/TestStack/Fifo", Match.string_like_regexp(r"max_receive_count is 3, below 5")
    )
    assert not Annotations.from_stack(built.stack).find_warning(
        "/TestStack/Standard", Match.string_like_regexp("max_receive_count")
    )


def test_reserved_concurrency_of_1_warns(stack):
    LambdaTriggeredQueue(stack, "C", code=CODE, handler="index.handler", reserved_concurrent_executions=1)
    Annotations.from_stack(stack).has_warning(
        "/TestStack/C", Match.string_like_regexp(r"reserved concurrency is 1, below the smallest max_concurrency")
    )


# --- L5: least privilege --------------------------------------------------------------------------


XRAY = {"Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "Effect": "Allow", "Resource": "*"}


def test_consumer_role_has_exactly_consume_its_log_group_and_tracing(built):
    assert built.policy_statements(built.standard) == [
        {"Action": LOG_ACTIONS, "Effect": "Allow",
         "Resource": {"Fn::GetAtt": [built.logical_id(built.standard.log_group), "Arn"]}},
        XRAY,
        {"Action": CONSUME_ACTIONS, "Effect": "Allow",
         "Resource": {"Fn::GetAtt": [built.logical_id(built.standard.queue), "Arn"]}},
    ]


def test_encrypted_queue_consumer_gets_kms_decrypt_on_the_key(built):
    statements = built.policy_statements(built.encrypted)
    assert statements[-1] == {
        "Action": "kms:Decrypt", "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [built.logical_id(built.encrypted.encryption_key), "Arn"]},
    }
    assert [s["Action"] for s in statements] == [LOG_ACTIONS, XRAY["Action"], CONSUME_ACTIONS, "kms:Decrypt"]


def test_no_wildcard_actions_or_resources_in_consumer_policies_but_tracing(built):
    for consumer in (built.standard, built.encrypted, built.fifo):
        for statement in built.policy_statements(consumer):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not any("*" in action for action in actions), statement
            # X-Ray's actions take no resource-level permission: the only "*" resource.
            assert statement["Resource"] != "*" or statement == XRAY, statement


def test_tracing_is_active_by_default_and_can_be_turned_off(stack):
    on = LambdaTriggeredQueue(stack, "On", code=CODE, handler="index.handler")
    off = LambdaTriggeredQueue(stack, "Off", code=CODE, handler="index.handler", tracing=lambda_.Tracing.DISABLED)
    resources = Template.from_stack(stack).to_json()["Resources"]

    def props(construct):
        return resources[stack.get_logical_id(construct.node.default_child)]["Properties"]

    assert props(on.function)["TracingConfig"] == {"Mode": "Active"}
    assert "TracingConfig" not in props(off.function)
    assert XRAY in props(on.role.managed_policy)["PolicyDocument"]["Statement"]
    assert all(s["Resource"] != "*" for s in props(off.role.managed_policy)["PolicyDocument"]["Statement"])


def test_roles_have_no_inline_and_no_aws_managed_policies(built):
    for consumer in (built.standard, built.encrypted, built.fifo):
        role = built.resource(consumer.role)["Properties"]
        assert "Policies" not in role and "ManagedPolicyArns" not in role
        assert built.resource(consumer.function)["DependsOn"].count(built.logical_id(consumer.role.managed_policy)) == 1
    inline = [k for k, v in built.resources.items() if v["Type"] == "AWS::IAM::Policy"]
    # Only the caller's own function and producer role (not built here) have inline policies.
    assert sorted(inline) == sorted([
        built.stack.get_logical_id(built.existing_function.role.node.find_child("DefaultPolicy").node.default_child),
        built.stack.get_logical_id(built.stack.node.find_child("Producer").node.find_child("DefaultPolicy").node.default_child),
    ])


def test_later_grants_to_the_function_land_in_the_managed_policy(built):
    assert {"Action": "dynamodb:PutItem", "Effect": "Allow", "Resource": "arn:aws:dynamodb:eu-west-1:111111111111:table/t"} in (
        built.policy_statements(built.fifo)
    )


def test_existing_function_is_granted_consume_through_its_own_role(built):
    policy = built.resources[
        built.stack.get_logical_id(built.existing_function.role.node.find_child("DefaultPolicy").node.default_child)
    ]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": CONSUME_ACTIONS, "Effect": "Allow",
         "Resource": {"Fn::GetAtt": [built.logical_id(built.existing.queue), "Arn"]}},
    ]


def test_vpc_adds_network_interface_actions_only_then(stack):
    from aws_cdk import aws_ec2 as ec2

    vpc = ec2.Vpc.from_vpc_attributes(
        stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["eu-west-1a"],
        private_subnet_ids=["subnet-0123456789abcdef0"], private_subnet_route_table_ids=["rtb-0123456789abcdef0"],
    )
    consumer = LambdaTriggeredQueue(stack, "C", code=CODE, handler="index.handler", vpc=vpc)
    statements = Template.from_stack(stack).to_json()["Resources"][
        stack.get_logical_id(consumer.role.managed_policy.node.default_child)
    ]["Properties"]["PolicyDocument"]["Statement"]
    assert [s for s in statements if s["Resource"] == "*"] == [{
        "Action": sorted([
            "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
            "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
            *XRAY["Action"],
        ]),
        "Effect": "Allow", "Resource": "*",
    }]


def test_grants_delegate_to_the_queue_pattern(built):
    producer = built.stack.node.find_child("Producer")
    policy = built.resources[built.stack.get_logical_id(producer.node.find_child("DefaultPolicy").node.default_child)]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert {"Action": ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"], "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [built.logical_id(built.encrypted.queue), "Arn"]}} in statements


# --- L6: the built function -----------------------------------------------------------------------


def test_built_function_defaults(built):
    properties = built.resource(built.standard.function)["Properties"]
    assert properties["Runtime"] == "python3.14" == _defaults.LAMBDA_RUNTIME.name
    assert (properties["MemorySize"], properties["Timeout"]) == (256, 30)
    assert properties["Architectures"] == ["x86_64"]
    assert properties["Environment"] == {"Variables": {"POWERTOOLS_SERVICE_NAME": "Standard"}}
    assert properties["LoggingConfig"] == {"LogGroup": {"Ref": built.logical_id(built.standard.log_group)}}
    log_group = built.resource(built.standard.log_group)
    assert log_group["Properties"]["RetentionInDays"] == 30
    assert log_group["DeletionPolicy"] == "Retain"


def test_built_function_has_the_powertools_and_runtime_layers(built):
    runtime_layer = LambdaTriggeredQueue.runtime_layer(built.stack)
    layers = built.resource(built.standard.function)["Properties"]["Layers"]
    assert layers == [POWERTOOLS_ARN, {"Ref": built.logical_id(runtime_layer)}]
    # arm64 picks the arm64 Powertools layer; one runtime layer serves the whole stack.
    arm_layers = built.resource(built.encrypted.function)["Properties"]["Layers"]
    assert arm_layers[0]["Fn::Join"][1][-1].endswith("AWSLambdaPowertoolsPythonV3-python314-arm64:27")
    assert arm_layers[1] == {"Ref": built.logical_id(runtime_layer)}
    assert "Layers" not in built.resource(built.existing_function)["Properties"]


def test_runtime_layer_holds_the_package_under_python(built):
    layer = built.resource(LambdaTriggeredQueue.runtime_layer(built.stack))["Properties"]
    assert "python3.14" in layer["CompatibleRuntimes"]
    asset_hash = layer["Content"]["S3Key"].removesuffix(".zip")
    staged = Path(built.app.synth().directory) / f"asset.{asset_hash}"
    files = sorted(str(p.relative_to(staged)) for p in staged.rglob("*") if p.is_file())
    assert "python/constructs_sqs_runtime/__init__.py" in files
    assert "python/constructs_sqs_runtime/batch.py" in files
    assert all(p.startswith("python/constructs_sqs_runtime/") for p in files), files
    assert not any("__pycache__" in p or p.endswith(".pyc") for p in files), files


def test_powertools_layer_version_and_architecture_are_arguments(stack):
    layer = LambdaTriggeredQueue.powertools_layer(stack, architecture=lambda_.Architecture.ARM_64, version=30)
    arn = stack.resolve(layer.layer_version_arn)
    assert arn["Fn::Join"][1][-1] == ":017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:30"


# --- Attributes -----------------------------------------------------------------------------------


def test_attributes(built):
    consumer = built.encrypted
    assert consumer.queue is consumer.source.queue
    assert consumer.dead_letter_queue is consumer.source.dead_letter_queue
    assert consumer.encryption_key is consumer.source.encryption_key is not None
    assert built.standard.encryption_key is None
    assert isinstance(consumer.event_source_mapping, lambda_.EventSourceMapping)
    assert consumer.event_source_mapping.event_source_mapping_id == consumer.event_source.event_source_mapping_id
    created = built.resource(built.standard.queue)["Properties"]
    assert created["SqsManagedSseEnabled"] is True and "RedrivePolicy" in created
    assert built.standard.source.node.id == "Queue"


# --- Synth with CloudFormation's default rules ----------------------------------------------------


def test_stack_synthesizes_with_validate_against_default_rules(built):
    assert built.app.node.try_get_context("@aws-cdk/core:validateAgainstDefaultRules") is True
    built.app.synth()


def test_default_rules_would_catch_a_too_short_visibility(app, stack):
    """The synth test above can fail: the same rules reject a visibility below the function timeout."""
    consumer = LambdaTriggeredQueue(stack, "C", code=CODE, handler="index.handler")
    consumer.queue.node.default_child.visibility_timeout = 10
    with pytest.raises(RuntimeError, match=r"Queue visibility timeout \(10\) is less than Function timeout \(30\)"):
        app.synth()


# --- Validation messages --------------------------------------------------------------------------


def _fifo(stack: cdk.Stack) -> FifoQueueWithDlq:
    return FifoQueueWithDlq(stack, "Fifo")


def _function(stack: cdk.Stack) -> lambda_.Function:
    return lambda_.Function(
        stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_14, code=CODE, handler="index.handler",
        timeout=Duration.seconds(10), reserved_concurrent_executions=5,
    )


BUILD = {"code": CODE, "handler": "index.handler"}

CASES = {
    "fifo batch size": (lambda s: {**BUILD, "queue": _fifo(s), "batch_size": 11},
                        r"batch_size must be between 1 and 10 for a FIFO queue, got 11"),
    "fifo window": (lambda s: {**BUILD, "queue": _fifo(s), "max_batching_window": Duration.seconds(1)},
                    r"max_batching_window must not be set for a FIFO queue .*, got 1 second"),
    "standard batch size": (lambda s: {**BUILD, "batch_size": 10_001, "max_batching_window": Duration.seconds(5)},
                            r"batch_size must be between 1 and 10,000, got 10,001"),
    "batch size zero": (lambda s: {**BUILD, "batch_size": 0}, r"batch_size must be between 1 and 10,000, got 0"),
    "big batch without window": (lambda s: {**BUILD, "batch_size": 11},
                                 r"max_batching_window must be at least 1 second when batch_size is above 10, "
                                 r"got none with batch_size 11"),
    "window too long": (lambda s: {**BUILD, "max_batching_window": Duration.seconds(301)},
                        r"max_batching_window must be between 0 seconds and 5 minutes, got 5 minutes 1 second"),
    "concurrency too low": (lambda s: {**BUILD, "max_concurrency": 1},
                            r"max_concurrency must be between 2 and 1,000, got 1"),
    "concurrency too high": (lambda s: {**BUILD, "max_concurrency": 1_001},
                             r"max_concurrency must be between 2 and 1,000, got 1,001"),
    "concurrency above reserved": (lambda s: {**BUILD, "reserved_concurrent_executions": 5, "max_concurrency": 10},
                                   r"max_concurrency must be at most the function's reserved concurrency \(5\), "
                                   r"got 10"),
    "concurrency above reserved of existing": (lambda s: {"function": _function(s), "max_concurrency": 6},
                                               r"reserved concurrency \(5\), got 6"),
    "nothing to run": (lambda s: {}, r"code and handler must be given to build a function, or pass an existing"),
    "code without handler": (lambda s: {"code": CODE}, r"- handler must be given to build a function"),
    "build options with function": (lambda s: {"function": _function(s), "memory_size": 512},
                                    r"memory_size applies only to the function this construct builds, got it "
                                    r"with function=TestStack/Fn"),
    "queue options with queue": (lambda s: {**BUILD, "queue": _fifo(s), "queue_name": "a", "max_receive_count": 9},
                                 r"queue_name, max_receive_count apply only to the queue this construct creates, "
                                 r"got them with queue=TestStack/Fifo"),
    "imported function without timeout": (
        lambda s: {"function": lambda_.Function.from_function_name(s, "Imported", "existing")},
        r"timeout must describe the timeout of function=TestStack/Imported"),
    "timeout disagrees with function": (lambda s: {"function": _function(s), "timeout": Duration.seconds(20)},
                                        r"timeout \(20 seconds\) must equal the timeout of function=TestStack/Fn "
                                        r"\(10 seconds\)"),
    "timeout too long": (lambda s: {**BUILD, "timeout": Duration.minutes(16)},
                         r"timeout must be between 1 second and 15 minutes, got 16 minutes"),
    "memory too small": (lambda s: {**BUILD, "memory_size": 64}, r"memory_size must be between 128 and 10,240 MB"),
    "too many layers": (lambda s: {**BUILD, "layers": [LambdaTriggeredQueue.runtime_layer(s)] * 4},
                        r"layers must be at most 3 .*, got 4"),
    "not python": (lambda s: {**BUILD, "runtime": lambda_.Runtime.NODEJS_22_X},
                   r"runtime must be a Python runtime .*, got nodejs22.x"),
    "powertools twice": (lambda s: {**BUILD, "powertools_layer": LambdaTriggeredQueue.powertools_layer(s),
                                    "powertools_layer_version": 30},
                         r"powertools_layer_version applies to AWS's published Powertools layer"),
    "created queue is standard": (lambda s: {**BUILD, "queue_name": "jobs.fifo"},
                                  r"queue_name must not end with '.fifo' for a standard queue"),
    "created queue receive count": (lambda s: {**BUILD, "max_receive_count": 0},
                                    r"max_receive_count must be between 1 and 1,000, got 0"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_validation_message(stack, case):
    arguments, message = CASES[case]
    with pytest.raises(ConfigurationError, match=message):
        LambdaTriggeredQueue(stack, "C", **arguments(stack))


def test_all_problems_of_a_call_are_raised_together(stack):
    with pytest.raises(ConfigurationError) as raised:
        LambdaTriggeredQueue(
            stack, "C", code=CODE, handler="index.handler", batch_size=0, max_concurrency=1,
            memory_size=64, visibility_timeout=Duration.seconds(1),
        )
    assert raised.value.where == "TestStack/C"
    assert len(raised.value.problems) == 4, raised.value.problems


def test_two_consumers_of_one_pattern_keep_the_longer_derived_visibility(stack):
    queue = FifoQueueWithDlq(stack, "Q")
    LambdaTriggeredQueue(stack, "Slow", queue=queue, code=CODE, handler="index.handler", timeout=Duration.minutes(2))
    fast = LambdaTriggeredQueue(stack, "Fast", queue=queue, code=CODE, handler="index.handler")
    assert fast.visibility_timeout.to_seconds() == 720
    assert stack.resolve(queue.queue.node.default_child.visibility_timeout) == 720


def test_imported_function_described_by_timeout_gets_no_grant_and_a_warning(stack):
    function = lambda_.Function.from_function_name(stack, "Imported", "existing")
    consumer = LambdaTriggeredQueue(stack, "C", function=function, timeout=Duration.seconds(20))
    assert consumer.visibility_timeout.to_seconds() == 120
    Annotations.from_stack(stack).has_warning(
        "/TestStack/C", Match.string_like_regexp(r"function=TestStack/Imported has no known role, so it was not granted")
    )


def test_active_tracing_lands_in_the_managed_policy(stack):
    consumer = LambdaTriggeredQueue(stack, "C", code=CODE, handler="index.handler", tracing=lambda_.Tracing.ACTIVE)
    resources = Template.from_stack(stack).to_json()["Resources"]
    statements = resources[stack.get_logical_id(consumer.role.managed_policy.node.default_child)]["Properties"][
        "PolicyDocument"
    ]["Statement"]
    assert {"Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "Effect": "Allow", "Resource": "*"} in (
        statements
    )
    assert not [k for k, v in resources.items() if v["Type"] == "AWS::IAM::Policy"]


def test_function_encryption_key_encrypts_the_log_group_and_lets_logs_use_it(stack) -> None:
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk.assertions import Template

    key = kms.Key(stack, "LogsKey", enable_key_rotation=True)
    LambdaTriggeredQueue(
        stack, "Worker", code=lambda_.Code.from_inline("def handler(e, c):\n    return {}"), handler="index.handler",
        function_encryption_key=key,
    )
    template = Template.from_stack(stack)
    key_id = stack.resolve(key.node.default_child.logical_id)
    (log_group,) = template.find_resources("AWS::Logs::LogGroup").values()
    assert log_group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    statements = template.find_resources("AWS::KMS::Key")[key_id]["Properties"]["KeyPolicy"]["Statement"]
    (logs_statement,) = [s for s in statements if "Service" in s.get("Principal", {})]
    assert logs_statement["Principal"] == {"Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}}
    assert logs_statement["Action"] == ["kms:Decrypt*", "kms:Describe*", "kms:Encrypt*", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
    context_arn = logs_statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert context_arn["Fn::Join"][1][-1] == ":log-group:*"


def test_imported_function_encryption_key_warns(stack) -> None:
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk.assertions import Annotations, Match

    key = kms.Key.from_key_arn(stack, "LogsKey", "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    LambdaTriggeredQueue(
        stack, "Worker", code=lambda_.Code.from_inline("def handler(e, c):\n    return {}"), handler="index.handler",
        function_encryption_key=key,
    )
    Annotations.from_stack(stack).has_warning("/TestStack/Worker", Match.string_like_regexp("function_encryption_key .* is imported"))


# --- Plain queues: an sqs.Queue of the app, or any imported sqs.IQueue ---------------------------------


def test_plain_queue_is_read_and_gets_the_derived_visibility(stack):
    dead_letters = sqs.Queue(stack, "DeadLetters", retention_period=Duration.days(14))
    queue = sqs.Queue(
        stack, "Plain", retention_period=Duration.days(2),
        dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=3),
    )
    consumer = LambdaTriggeredQueue(stack, "C", queue=queue, code=CODE, handler="index.handler")
    assert consumer.source is None and consumer.queue is queue
    assert consumer.dead_letter_queue is dead_letters
    assert consumer.fifo is False
    assert consumer.visibility_timeout.to_seconds() == 180
    assert Template.from_stack(stack).to_json()["Resources"][stack.get_logical_id(queue.node.default_child)][
        "Properties"
    ]["VisibilityTimeout"] == 180
    # Its max_receive_count of 3 is read too, and warned about (Q7).
    warnings = Annotations.from_stack(stack).find_warning("/TestStack/C", Match.string_like_regexp("max_receive_count is 3"))
    assert len(warnings) == 1


def test_plain_fifo_queue_gets_the_fifo_batch_rules(stack):
    queue = sqs.Queue(stack, "Plain", fifo=True)
    with pytest.raises(ConfigurationError, match=r"batch_size must be between 1 and 10 for a FIFO queue, got 11"):
        LambdaTriggeredQueue(stack, "C", queue=queue, code=CODE, handler="index.handler", batch_size=11)


def test_plain_queue_visibility_it_was_given_is_checked(stack):
    queue = sqs.Queue(stack, "Plain", visibility_timeout=Duration.seconds(20))
    with pytest.raises(
        ConfigurationError,
        match=r"visibility_timeout of queue=TestStack/Plain must be at least the function timeout \(30 seconds\), got 20 seconds",
    ):
        LambdaTriggeredQueue(stack, "C", queue=queue, code=CODE, handler="index.handler")


def test_imported_queue_without_dead_letter_queue(stack):
    queue = sqs.Queue.from_queue_arn(stack, "Imported", "arn:aws:sqs:eu-west-1:111111111111:jobs")
    consumer = LambdaTriggeredQueue(stack, "C", queue=queue, code=CODE, handler="index.handler")
    assert consumer.dead_letter_queue is None and consumer.visibility_timeout is None
    role = iam.Role(stack, "Operator", assumed_by=iam.AccountRootPrincipal())
    with pytest.raises(ConfigurationError, match=r"TestStack/C.grant_consume_dead_letters: 1 configuration problem:\n  - the queue has no dead-letter queue this construct knows of"):
        consumer.grant_consume_dead_letters(role)
    with pytest.raises(ConfigurationError, match=r"the queue consumed \(TestStack/Imported, an imported queue\) is not a queue pattern of this library"):
        consumer.allow_service_producer("sns.amazonaws.com", "arn:aws:sns:eu-west-1:111111111111:t")
    warnings = Annotations.from_stack(stack).find_warning(
        "/TestStack/C", Match.string_like_regexp("the visibility timeout of queue=TestStack/Imported is unknown")
    )
    assert len(warnings) == 1


def test_alarms_on_a_consumer_of_a_plain_queue_watch_its_dead_letter_queue_and_function(stack):
    dead_letters = sqs.Queue(stack, "DeadLetters", retention_period=Duration.days(14))
    queue = sqs.Queue(stack, "Plain", dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=5))
    consumer = LambdaTriggeredQueue(stack, "C", queue=queue, code=CODE, handler="index.handler")
    alarms = consumer.add_alarms(create_dashboard=False)
    assert alarms.dead_letter_queue is dead_letters
    assert alarms.consumer_function is consumer.function
    assert alarms.age_threshold.to_seconds() == 2 * 86_400


def test_two_consumers_of_one_plain_queue_keep_the_longer_derived_visibility(stack):
    queue = sqs.Queue(stack, "Plain")
    LambdaTriggeredQueue(stack, "Slow", queue=queue, code=CODE, handler="index.handler", timeout=Duration.minutes(2))
    fast = LambdaTriggeredQueue(stack, "Fast", queue=queue, code=CODE, handler="index.handler")
    assert fast.visibility_timeout.to_seconds() == 720
    assert queue.node.default_child.visibility_timeout == 720


# --- Provisioned pollers (provisioned mode) --------------------------------------------------------------


def test_provisioned_pollers_reach_the_event_source_mapping(stack):
    consumer = LambdaTriggeredQueue(
        stack, "C", code=CODE, handler="index.handler", reserved_concurrent_executions=500,
        provisioned_poller_config=lambda_.ProvisionedPollerConfig(minimum_pollers=5, maximum_pollers=100),
    )
    (mapping,) = Template.from_stack(stack).find_resources("AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["ProvisionedPollerConfig"] == {"MinimumPollers": 5, "MaximumPollers": 100}
    # Provisioned mode and maximum concurrency exclude each other: none is derived from the reserved concurrency.
    assert "ScalingConfig" not in mapping["Properties"]
    assert consumer.max_concurrency is None and consumer.plan.provisioned_poller_config is not None


def test_provisioned_pollers_below_reserved_concurrency_warn(stack):
    LambdaTriggeredQueue(
        stack, "C", code=CODE, handler="index.handler", reserved_concurrent_executions=20,
        provisioned_poller_config=lambda_.ProvisionedPollerConfig(maximum_pollers=50),
    )
    warnings = Annotations.from_stack(stack).find_warning(
        "/TestStack/C", Match.string_like_regexp(r"reserved concurrency \(20\) is below maximum_pollers \(50\)")
    )
    assert len(warnings) == 1


POLLER_CASES = {
    "minimum 1": (lambda_.ProvisionedPollerConfig(minimum_pollers=1), {},
                  r"provisioned_poller_config\.minimum_pollers must be between 2 and 200, got 1"),
    "minimum 201": (lambda_.ProvisionedPollerConfig(minimum_pollers=201), {},
                    r"provisioned_poller_config\.minimum_pollers must be between 2 and 200, got 201"),
    "maximum 2001": (lambda_.ProvisionedPollerConfig(maximum_pollers=2_001), {},
                     r"provisioned_poller_config\.maximum_pollers must be between 2 and 2,000, got 2,001"),
    "minimum above maximum": (lambda_.ProvisionedPollerConfig(minimum_pollers=50, maximum_pollers=10), {},
                              r"provisioned_poller_config\.minimum_pollers \(50\) must be at most maximum_pollers \(10\)"),
    "minimum above the default maximum": (lambda_.ProvisionedPollerConfig(minimum_pollers=200), {}, None),
    "poller group": (lambda_.ProvisionedPollerConfig(poller_group_name="shared"), {},
                     r"provisioned_poller_config\.poller_group_name applies to Kafka event sources only"),
    "with max_concurrency": (lambda_.ProvisionedPollerConfig(minimum_pollers=2), {"max_concurrency": 10},
                             r"max_concurrency cannot be combined with provisioned_poller_config"),
    "wrong type": ({"minimum_pollers": 2}, {},
                   r"provisioned_poller_config must be a lambda_\.ProvisionedPollerConfig, got dict"),
}


@pytest.mark.parametrize("case", list(POLLER_CASES))
def test_provisioned_pollers_out_of_range_are_refused(stack, case):
    config, extra, message = POLLER_CASES[case]
    if message is None:  # 200 minimum pollers with Lambda's default maximum of 200: valid
        LambdaTriggeredQueue(stack, "C", code=CODE, handler="index.handler", provisioned_poller_config=config)
        return
    with pytest.raises(ConfigurationError, match=message):
        LambdaTriggeredQueue(stack, "C", code=CODE, handler="index.handler", provisioned_poller_config=config, **extra)


def test_the_runtime_layer_ships_with_the_package_and_synth_prints_nothing(tmp_path):
    """The layer is a plain asset directory of the installed package: no bundling, so `cdk synth` of a
    user's app prints nothing (it printed "Bundling asset .../ConstructsSqsRuntimeLayer/Code/Stage...")."""
    import subprocess
    import sys

    from constructs_sqs._consumer_function import runtime_layer_dir

    package = Path(__file__).parents[2] / "constructs_sqs_runtime"
    shipped = runtime_layer_dir() / "python" / "constructs_sqs_runtime"
    assert sorted(p.name for p in shipped.glob("*.py")) == sorted(p.name for p in package.glob("*.py"))
    assert all((shipped / p.name).read_bytes() == p.read_bytes() for p in package.glob("*.py"))
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "jobs.py").write_text("def handler(event, context):\n    return {}\n")
    app = (
        "import aws_cdk as cdk\n"
        "from aws_cdk import aws_lambda as lambda_\n"
        "from constructs_sqs import LambdaTriggeredQueue\n"
        "app = cdk.App(outdir='cdk.out')\n"
        "LambdaTriggeredQueue(cdk.Stack(app, 'Jobs'), 'Jobs', code=lambda_.Code.from_asset('handlers'), handler='jobs.handler')\n"
        "app.synth()\n"
    )
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-c", app], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (done.stdout, done.stderr) == ("", "")
    (layer_asset,) = [p for p in (tmp_path / "cdk.out").glob("asset.*") if (p / "python").is_dir()]
    staged = sorted(str(p.relative_to(layer_asset)) for p in layer_asset.rglob("*") if p.is_file())
    assert staged == sorted(f"python/constructs_sqs_runtime/{p.name}" for p in package.iterdir() if p.is_file())
