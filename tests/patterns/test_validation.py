"""One test per validation rule: bad input fails at construction with a message that names the argument,
shows the bad value and says what is valid (RELIABILITY Q5-Q9, K3)."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, Token
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs

from constructs_sqs import ConfigurationError, EncryptedQueue, FifoQueueWithDlq

BOTH = pytest.mark.parametrize("pattern", [FifoQueueWithDlq, EncryptedQueue], ids=["fifo", "encrypted"])


@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [
        ("retention_period", Duration.seconds(30), r"retention_period must be between 1 minute and 14 days, got 30 seconds"),
        ("retention_period", Duration.days(15), r"retention_period must be between 1 minute and 14 days, got 15 days"),
        ("visibility_timeout", Duration.hours(13), r"visibility_timeout must be between 0 seconds and 12 hours, got 13 hours"),
        ("delivery_delay", Duration.minutes(16), r"delivery_delay must be between 0 seconds and 15 minutes, got 16 minutes"),
        (
            "receive_message_wait_time",
            Duration.seconds(21),
            r"receive_message_wait_time must be between 0 seconds and 20 seconds, got 21 seconds",
        ),
        (
            "dead_letter_retention_period",
            Duration.seconds(59),
            r"dead_letter_retention_period must be between 1 minute and 14 days, got 59 seconds",
        ),
        ("max_receive_count", 0, r"max_receive_count must be between 1 and 1,000, got 0"),
        ("max_receive_count", 1001, r"max_receive_count must be between 1 and 1,000, got 1,001"),
        (
            "max_message_size_bytes",
            1023,
            r"max_message_size_bytes must be between 1,024 and 1,048,576 bytes, got 1,023 bytes",
        ),
        (
            "max_message_size_bytes",
            1_048_577,
            r"max_message_size_bytes must be between 1,024 and 1,048,576 bytes, got 1,048,577 bytes",
        ),
        ("visibility_timeout", Duration.millis(1500), r"visibility_timeout must be a whole number of seconds, got 1.5 seconds"),
    ],
)
@BOTH
def test_ranges(stack: cdk.Stack, pattern: type, argument: str, value: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        pattern(stack, "Q", **{argument: value})


@BOTH
def test_dead_letter_retention_must_exceed_source_retention(stack: cdk.Stack, pattern: type) -> None:
    with pytest.raises(
        ConfigurationError,
        match=r"dead_letter_retention_period must be longer than retention_period \(7 days\), got 7 days",
    ):
        pattern(stack, "Q", retention_period=Duration.days(7), dead_letter_retention_period=Duration.days(7))


def test_data_key_reuse_range(stack: cdk.Stack) -> None:
    with pytest.raises(ConfigurationError, match=r"data_key_reuse must be between 1 minute and 1 day, got 30 seconds"):
        EncryptedQueue(stack, "Q", data_key_reuse=Duration.seconds(30))
    with pytest.raises(ConfigurationError, match=r"data_key_reuse must be between 1 minute and 1 day, got 1 day 1 hour"):
        FifoQueueWithDlq(stack, "F", encryption=sqs.QueueEncryption.KMS, data_key_reuse=Duration.hours(25))


def test_data_key_reuse_needs_kms_on_fifo(stack: cdk.Stack) -> None:
    with pytest.raises(ConfigurationError, match=r"data_key_reuse applies only to KMS encryption"):
        FifoQueueWithDlq(stack, "F", data_key_reuse=Duration.minutes(10))


def test_fifo_refuses_unencrypted(stack: cdk.Stack) -> None:
    with pytest.raises(ConfigurationError, match=r"encryption must be SQS_MANAGED, KMS_MANAGED or KMS, got UNENCRYPTED"):
        FifoQueueWithDlq(stack, "F", encryption=sqs.QueueEncryption.UNENCRYPTED)


def test_fifo_key_with_non_kms_encryption(stack: cdk.Stack) -> None:
    key = kms.Key(stack, "K", enable_key_rotation=True)
    with pytest.raises(ConfigurationError, match=r"encryption must be KMS \(or left unset\) when encryption_master_key is given"):
        FifoQueueWithDlq(stack, "F", encryption=sqs.QueueEncryption.SQS_MANAGED, encryption_master_key=key)


# --- Names (Q8) -------------------------------------------------------------------------------------


def test_fifo_name_needs_suffix(stack: cdk.Stack) -> None:
    with pytest.raises(ConfigurationError, match=r"queue_name must end with '\.fifo' for a FIFO queue, got 'orders'"):
        FifoQueueWithDlq(stack, "F", queue_name="orders")


def test_standard_name_refuses_suffix(stack: cdk.Stack) -> None:
    with pytest.raises(
        ConfigurationError, match=r"queue_name must not end with '\.fifo' for a standard queue, got 'media\.fifo'"
    ):
        EncryptedQueue(stack, "E", queue_name="media.fifo")


@BOTH
def test_name_characters(stack: cdk.Stack, pattern: type) -> None:
    suffix = ".fifo" if pattern is FifoQueueWithDlq else ""
    with pytest.raises(ConfigurationError, match=r"queue_name may contain only letters, digits, '-' and '_'"):
        pattern(stack, "Q", queue_name=f"orders.eu{suffix}")


def test_name_length_counts_the_suffix(stack: cdk.Stack) -> None:
    name = "a" * 76 + ".fifo"
    with pytest.raises(
        ConfigurationError, match=r"queue_name must be at most 80 characters including '\.fifo', got 81 characters"
    ):
        FifoQueueWithDlq(stack, "F", queue_name=name, dead_letter_queue_name="orders-dlq.fifo")


def test_long_name_leaves_no_room_for_the_derived_dlq_name(stack: cdk.Stack) -> None:
    with pytest.raises(ConfigurationError, match=r"leaves no room for the DLQ name derived from it.*pass dead_letter_queue_name"):
        EncryptedQueue(stack, "E", queue_name="m" * 78)


def test_dead_letter_queue_name_is_checked_too(stack: cdk.Stack) -> None:
    with pytest.raises(ConfigurationError, match=r"dead_letter_queue_name must end with '\.fifo' for a FIFO queue, got 'dlq'"):
        FifoQueueWithDlq(stack, "F", dead_letter_queue_name="dlq")


def test_caller_names_are_used(stack: cdk.Stack) -> None:
    pattern = FifoQueueWithDlq(stack, "F", queue_name="orders.fifo")
    assert stack.resolve(pattern.queue.queue_name) == {"Fn::GetAtt": [stack.resolve(pattern.queue.node.default_child.logical_id), "QueueName"]}
    assert pattern.queue_name == "orders.fifo"
    assert pattern.dead_letter_queue_name == "orders-dlq.fifo"


# --- Dead-letter queue type (Q5) --------------------------------------------------------------------


def test_fifo_source_refuses_standard_dlq(stack: cdk.Stack) -> None:
    standard = sqs.Queue(stack, "Standard")
    with pytest.raises(ConfigurationError, match=r"dead_letter_queue must be a FIFO queue for a FIFO source queue.*got a standard queue"):
        FifoQueueWithDlq(stack, "F", dead_letter_queue=standard)


def test_standard_source_refuses_fifo_dlq(stack: cdk.Stack) -> None:
    fifo = sqs.Queue.from_queue_arn(stack, "Fifo", "arn:aws:sqs:eu-west-1:111111111111:shared-dlq.fifo")
    with pytest.raises(ConfigurationError, match=r"dead_letter_queue must be a standard queue.*got a FIFO queue"):
        EncryptedQueue(stack, "E", dead_letter_queue=fifo)


def test_existing_dlq_is_used_without_creating_one(stack: cdk.Stack) -> None:
    shared = sqs.Queue(stack, "Shared", fifo=True, queue_name="shared-dlq.fifo", retention_period=Duration.days(14))
    pattern = FifoQueueWithDlq(stack, "F", dead_letter_queue=shared)
    assert pattern.dead_letter_queue is shared
    assert pattern.node.try_find_child("DeadLetterQueue") is None


def test_existing_dlq_must_outlast_the_source(stack: cdk.Stack) -> None:
    shared = sqs.Queue(stack, "Shared", fifo=True)  # SQS's default retention: 4 days, as the source's
    with pytest.raises(
        ConfigurationError, match=r"dead_letter_queue's retention period must be longer than retention_period \(4 days\), got 4 days"
    ):
        FifoQueueWithDlq(stack, "F", dead_letter_queue=shared)


def test_existing_dlq_and_dlq_name_conflict(stack: cdk.Stack) -> None:
    shared = sqs.Queue(stack, "Shared", fifo=True)
    with pytest.raises(ConfigurationError, match=r"dead_letter_queue_name \('x-dlq\.fifo'\) applies to the DLQ this pattern would create"):
        FifoQueueWithDlq(stack, "F", dead_letter_queue=shared, dead_letter_queue_name="x-dlq.fifo")


# --- Collected errors and tokens --------------------------------------------------------------------


def test_all_problems_of_one_call_are_reported_together(stack: cdk.Stack) -> None:
    with pytest.raises(ConfigurationError) as raised:
        FifoQueueWithDlq(stack, "F", queue_name="bad", max_receive_count=0, delivery_delay=Duration.hours(1))
    assert len(raised.value.problems) == 3
    assert raised.value.problems[0].startswith("queue_name must end with '.fifo'")
    assert str(raised.value).startswith("TestStack/F: 3 configuration problems:")
    assert isinstance(raised.value, ValueError)


def test_unresolved_tokens_are_not_range_checked(stack: cdk.Stack) -> None:
    count = cdk.CfnParameter(stack, "Receives", type="Number").value_as_number
    name = cdk.CfnParameter(stack, "Name").value_as_string
    seconds = cdk.CfnParameter(stack, "Retention", type="Number").value_as_number
    pattern = EncryptedQueue(
        stack, "E", max_receive_count=count, queue_name=name, retention_period=Duration.seconds(seconds)
    )
    assert Token.is_unresolved(pattern.max_receive_count)
    assert pattern.retention_period.is_unresolved()


# --- Service producers (K3) -------------------------------------------------------------------------


def test_aws_managed_key_refuses_service_producers(stack: cdk.Stack) -> None:
    pattern = FifoQueueWithDlq(stack, "F", encryption=sqs.QueueEncryption.KMS_MANAGED)
    with pytest.raises(ConfigurationError, match=r"'events\.amazonaws\.com' cannot publish to a queue encrypted with the AWS-managed key 'alias/aws/sqs'"):
        pattern.allow_service_producer("events.amazonaws.com", "arn:aws:events:eu-west-1:111111111111:rule/r")


def test_aws_managed_key_passed_as_alias_refuses_service_producers(stack: cdk.Stack) -> None:
    alias = kms.Alias.from_alias_name(stack, "SqsAlias", "alias/aws/sqs")
    pattern = EncryptedQueue(stack, "E", encryption_master_key=alias)
    with pytest.raises(ConfigurationError, match=r"'sns\.amazonaws\.com' cannot publish .* 'alias/aws/sqs'"):
        pattern.allow_service_producer("sns.amazonaws.com", "arn:aws:sns:eu-west-1:111111111111:t")


def test_imported_key_refuses_service_producers(stack: cdk.Stack) -> None:
    key = kms.Key.from_key_arn(stack, "Imported", "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    pattern = EncryptedQueue(stack, "E", encryption_master_key=key)
    with pytest.raises(ConfigurationError, match=r"is imported, so its key policy cannot be changed here"):
        pattern.allow_service_producer("sns.amazonaws.com", "arn:aws:sns:eu-west-1:111111111111:t")


def test_imported_queue_refuses_service_producers(stack: cdk.Stack) -> None:
    imported = FifoQueueWithDlq.from_queue_arns(
        stack,
        "Imp",
        queue_arn="arn:aws:sqs:eu-west-1:111111111111:a.fifo",
        dead_letter_queue_arn="arn:aws:sqs:eu-west-1:111111111111:a-dlq.fifo",
    )
    with pytest.raises(ConfigurationError, match=r"the queue is imported \(from_queue_arns\)"):
        imported.allow_service_producer("sns.amazonaws.com", "arn:aws:sns:eu-west-1:111111111111:t.fifo")
