"""Grants give exactly the documented SQS and KMS actions (RELIABILITY K2, K4), and imports keep them."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from helpers import new_app, template_of

from constructs_sqs import ConfigurationError, EncryptedQueue, FifoQueueWithDlq, ImportedQueueWithDlq

SEND = ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"]
CONSUME = [
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
]
PURGE = ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:PurgeQueue"]
KMS_SEND = ["kms:Decrypt", "kms:GenerateDataKey"]


def granted(stack: cdk.Stack, role: iam.Role) -> list[tuple[list[str], object]]:
    """(sorted actions, resource) of every statement of the role's policies."""
    statements = []
    for policy in template_of(stack).find_resources("AWS::IAM::Policy").values():
        if policy["Properties"]["Roles"] != [{"Ref": stack.resolve(role.node.default_child.logical_id)}]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            statements.append((sorted([actions] if isinstance(actions, str) else actions), statement["Resource"]))
    return statements


def arn_of(stack: cdk.Stack, construct: object) -> dict:
    return {"Fn::GetAtt": [stack.resolve(construct.node.default_child.logical_id), "Arn"]}


@pytest.fixture
def role(stack: cdk.Stack) -> iam.Role:
    return iam.Role(stack, "Worker", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))


def test_fifo_grants_have_no_kms_actions(stack: cdk.Stack, role: iam.Role) -> None:
    pattern = FifoQueueWithDlq(stack, "Orders")
    pattern.grant_send_messages(role)
    pattern.grant_consume_messages(role)
    pattern.grant_purge(role)
    queue = arn_of(stack, pattern.queue)
    assert granted(stack, role) == [(sorted(set(SEND + CONSUME + PURGE)), queue)]


def test_encrypted_send_includes_key_actions(stack: cdk.Stack, role: iam.Role) -> None:
    pattern = EncryptedQueue(stack, "Media")
    pattern.grant_send_messages(role)
    assert granted(stack, role) == [
        (SEND, arn_of(stack, pattern.queue)),
        (KMS_SEND, arn_of(stack, pattern.encryption_key)),
    ]


def test_encrypted_consume_includes_decrypt_only(stack: cdk.Stack, role: iam.Role) -> None:
    pattern = EncryptedQueue(stack, "Media")
    pattern.grant_consume_messages(role)
    assert granted(stack, role) == [
        (CONSUME, arn_of(stack, pattern.queue)),
        (["kms:Decrypt"], arn_of(stack, pattern.encryption_key)),
    ]


def test_dead_letter_readers_get_decrypt(stack: cdk.Stack, role: iam.Role) -> None:
    pattern = EncryptedQueue(stack, "Media")
    pattern.grant_consume_dead_letters(role)
    assert granted(stack, role) == [
        (CONSUME, arn_of(stack, pattern.dead_letter_queue)),
        (["kms:Decrypt"], arn_of(stack, pattern.encryption_key)),
    ]


def test_redrive_grant(stack: cdk.Stack, role: iam.Role) -> None:
    pattern = EncryptedQueue(stack, "Media")
    pattern.grant_redrive(role)
    assert granted(stack, role) == [
        (
            sorted(
                [
                    "sqs:CancelMessageMoveTask",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ListMessageMoveTasks",
                    "sqs:ReceiveMessage",
                    "sqs:StartMessageMoveTask",
                ]
            ),
            arn_of(stack, pattern.dead_letter_queue),
        ),
        (["sqs:SendMessage"], arn_of(stack, pattern.queue)),
        (["kms:Decrypt", "kms:GenerateDataKey"], arn_of(stack, pattern.encryption_key)),
    ]


def test_aws_managed_key_grants_stop_at_the_queue(stack: cdk.Stack, role: iam.Role) -> None:
    pattern = FifoQueueWithDlq(stack, "Orders", encryption=sqs.QueueEncryption.KMS_MANAGED)
    pattern.grant_send_messages(role)
    pattern.grant_consume_messages(role)
    assert granted(stack, role) == [(sorted(set(SEND + CONSUME)), arn_of(stack, pattern.queue))]


def test_service_producer_statements_are_scoped_by_source_arn(stack: cdk.Stack) -> None:
    pattern = EncryptedQueue(stack, "Media")
    rule_arn = "arn:aws:events:eu-west-1:111111111111:rule/uploads"
    pattern.allow_service_producer("events.amazonaws.com", rule_arn)
    template = template_of(stack)
    condition = {"ArnEquals": {"aws:SourceArn": rule_arn}}
    (key,) = template.find_resources("AWS::KMS::Key").values()
    key_statements = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Principal") == {"Service": "events.amazonaws.com"}]
    assert key_statements == [
        {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Condition": condition,
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Resource": "*",
        }
    ]
    queue_statements = [
        s
        for policy in template.find_resources("AWS::SQS::QueuePolicy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
    ]
    assert queue_statements == [
        {
            "Action": "sqs:SendMessage",
            "Condition": condition,
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Resource": arn_of(stack, pattern.queue),
        }
    ]


def test_sse_sqs_service_producer_needs_no_key_statement(stack: cdk.Stack) -> None:
    pattern = FifoQueueWithDlq(stack, "Orders")
    pattern.allow_service_producer(iam.ServicePrincipal("sns.amazonaws.com"), "arn:aws:sns:eu-west-1:111111111111:t.fifo")
    assert template_of(stack).find_resources("AWS::KMS::Key") == {}


# --- Import into other stacks -----------------------------------------------------------------------

QUEUE_ARN = "arn:aws:sqs:eu-west-1:111111111111:media"
DLQ_ARN = "arn:aws:sqs:eu-west-1:111111111111:media-dlq"
KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_imported_encrypted_queue_grants_include_the_key(stack: cdk.Stack, role: iam.Role) -> None:
    imported = EncryptedQueue.from_queue_arns(stack, "Media", queue_arn=QUEUE_ARN, dead_letter_queue_arn=DLQ_ARN, key_arn=KEY_ARN)
    assert isinstance(imported, ImportedQueueWithDlq)
    assert imported.queue.queue_arn == QUEUE_ARN
    assert imported.dead_letter_queue.queue_arn == DLQ_ARN
    assert imported.encryption_key.key_arn == KEY_ARN
    assert imported.fifo is False and imported.retention_period is None
    assert (imported.queue_name, imported.dead_letter_queue_name) == ("media", "media-dlq")
    imported.grant_consume_messages(role)
    imported.grant_consume_dead_letters(role)
    assert granted(stack, role) == [
        (CONSUME, [QUEUE_ARN, DLQ_ARN]),
        (["kms:Decrypt"], KEY_ARN),
    ]


def test_imported_fifo_queue_without_key(stack: cdk.Stack, role: iam.Role) -> None:
    imported = FifoQueueWithDlq.from_queue_arns(
        stack, "Orders", queue_arn="arn:aws:sqs:eu-west-1:111111111111:o.fifo", dead_letter_queue_arn="arn:aws:sqs:eu-west-1:111111111111:o-dlq.fifo"
    )
    assert imported.fifo is True and imported.queue.fifo is True
    assert imported.encryption_key is None
    imported.grant_send_messages(role)
    assert granted(stack, role) == [(SEND, "arn:aws:sqs:eu-west-1:111111111111:o.fifo")]


def test_import_checks_queue_type_and_arn(stack: cdk.Stack) -> None:
    with pytest.raises(ConfigurationError, match=r"queue_arn must end with '\.fifo' for a FIFO queue, got 'media'"):
        FifoQueueWithDlq.from_queue_arns(stack, "A", queue_arn=QUEUE_ARN, dead_letter_queue_arn=DLQ_ARN + ".fifo")
    with pytest.raises(ConfigurationError, match=r"dead_letter_queue_arn must be an SQS queue ARN .* got 'media-dlq'"):
        EncryptedQueue.from_queue_arns(stack, "B", queue_arn=QUEUE_ARN, dead_letter_queue_arn="media-dlq", key_arn=KEY_ARN)


def test_imported_encrypted_queue_needs_its_key(stack: cdk.Stack) -> None:
    # key_arn is a required keyword: leaving it out is Python's own error, naming it ...
    with pytest.raises(TypeError, match=r"missing 1 required keyword-only argument: 'key_arn'"):
        EncryptedQueue.from_queue_arns(stack, "Media", queue_arn=QUEUE_ARN, dead_letter_queue_arn=DLQ_ARN)  # type: ignore[call-arg]
    # ... and None says why it is needed.
    with pytest.raises(ConfigurationError, match=r"key_arn must be the ARN of the key that encrypts the queue, got None"):
        EncryptedQueue.from_queue_arns(stack, "Media", queue_arn=QUEUE_ARN, dead_letter_queue_arn=DLQ_ARN, key_arn=None)  # type: ignore[arg-type]


def test_cross_stack_import_by_token_synthesizes() -> None:
    app = new_app()
    producer = cdk.Stack(app, "Producer")
    media = EncryptedQueue(producer, "Media")
    consumer = cdk.Stack(app, "Consumer")
    imported = EncryptedQueue.from_queue_arns(
        consumer,
        "Media",
        queue_arn=media.queue.queue_arn,
        dead_letter_queue_arn=media.dead_letter_queue.queue_arn,
        key_arn=media.encryption_key.key_arn,
    )
    role = iam.Role(consumer, "Worker", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    imported.grant_consume_messages(role)
    assembly = app.synth()
    assert {s.stack_name for s in assembly.stacks} == {"Producer", "Consumer"}
    consumer_template = assembly.get_stack_by_name("Consumer").template
    (policy,) = [r for r in consumer_template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    resources = [s["Resource"] for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    # cdk.json's "@aws-cdk/core:defaultCrossStackReferences": "weak" reads outputs, not exports.
    assert [r["Fn::GetStackOutput"]["StackName"] for r in resources] == ["Producer", "Producer"]
