"""Bad input, table-driven: each row is one invalid configuration of one pattern, built in a fresh Stack.

A row is ``(id, build, argument, message)``: ``build(stack)`` makes the invalid call, ``argument`` is the
argument the problem must name and ``message`` a regex of that problem, with the bad value where the
message shows it. Every row must fail at construction with a ``ConfigurationError`` (a ``ValueError``)
whose problem list holds a line that names the argument and matches the regex; nothing is synthesized.

The rows sit on the edges of each rule (one step outside a range, a name one character too long, a value
of the wrong kind) and complement the one-rule-per-test files (test_validation.py, the ``CASES`` tables of
test_lambda_triggered_queue.py and test_queue_alarms.py) rather than repeat their values.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Callable, NamedTuple

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

from constructs_sqs import ConfigurationError, EncryptedQueue, FifoQueueWithDlq, LambdaTriggeredQueue, QueueAlarms

CODE = lambda_.Code.from_inline("def handler(event, context):\n    return {'batchItemFailures': []}\n")
BUILD = {"code": CODE, "handler": "index.handler"}
ACCOUNT_ARN = "arn:aws:{service}:eu-west-1:111111111111:{name}"
TOPIC_ARN = ACCOUNT_ARN.format(service="sns", name="uploads")
FIFO_TOPIC_ARN = ACCOUNT_ARN.format(service="sns", name="uploads.fifo")
KEY_ARN = ACCOUNT_ARN.format(service="kms", name="key/1234abcd-12ab-34cd-56ef-1234567890ab")


class Row(NamedTuple):
    id: str
    build: Callable[[cdk.Stack], Any]
    argument: str
    message: str


# --- Builders: each returns a callable that makes the invalid call in the given stack --------------


def fifo(**kwargs: Any) -> Callable[[cdk.Stack], Any]:
    return lambda stack: FifoQueueWithDlq(stack, "Q", **kwargs)


def encrypted(**kwargs: Any) -> Callable[[cdk.Stack], Any]:
    return lambda stack: EncryptedQueue(stack, "Q", **kwargs)


def consumer(queue: Callable[[cdk.Stack], Any] | None = None, **kwargs: Any) -> Callable[[cdk.Stack], Any]:
    """A LambdaTriggeredQueue building its function (``BUILD`` unless ``kwargs`` says otherwise)."""

    def build(stack: cdk.Stack) -> LambdaTriggeredQueue:
        extra = {"queue": queue(stack)} if queue is not None else {}
        return LambdaTriggeredQueue(stack, "C", **{**BUILD, **extra, **kwargs})

    return build


def consumer_of_function(**kwargs: Any) -> Callable[[cdk.Stack], Any]:
    """A LambdaTriggeredQueue given an existing function (timeout 10 s, reserved concurrency 5)."""

    def build(stack: cdk.Stack) -> LambdaTriggeredQueue:
        function = lambda_.Function(
            stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_14, code=CODE, handler="index.handler",
            timeout=Duration.seconds(10), reserved_concurrent_executions=5,
        )
        return LambdaTriggeredQueue(stack, "C", function=function, **kwargs)

    return build


def alarms(queue: Callable[[cdk.Stack], Any] | None = None, **kwargs: Any) -> Callable[[cdk.Stack], Any]:
    """QueueAlarms on ``queue`` (default: an EncryptedQueue with the default 4 days' retention)."""

    def build(stack: cdk.Stack) -> QueueAlarms:
        watched = queue(stack) if queue is not None else EncryptedQueue(stack, "Q")
        return QueueAlarms(stack, "Alarms", queue=watched, **kwargs)

    return build


def imported_queue(stack: cdk.Stack) -> sqs.IQueue:
    return sqs.Queue.from_queue_arn(stack, "Imported", ACCOUNT_ARN.format(service="sqs", name="jobs"))


SOURCE_ARNS = {"sns.amazonaws.com": TOPIC_ARN, "events.amazonaws.com": ACCOUNT_ARN.format(service="events", name="rule/r")}


def producer(pattern: Callable[[cdk.Stack], Any], principal: Any, source_arn: Any = None) -> Callable[[cdk.Stack], Any]:
    """``allow_service_producer`` on ``pattern``, with a source ARN of the principal's service unless given."""

    def build(stack: cdk.Stack) -> Any:
        arn = SOURCE_ARNS.get(principal, TOPIC_ARN) if source_arn is None else source_arn
        return pattern(stack).allow_service_producer(principal, arn)

    return build


def aws_managed_sqs_key(stack: cdk.Stack) -> kms.IKey:
    return kms.Alias.from_alias_name(stack, "AwsSqsKey", "alias/aws/sqs")


def imported_key(stack: cdk.Stack) -> kms.IKey:
    return kms.Key.from_key_arn(stack, "ImportedKey", KEY_ARN)


# --- FifoQueueWithDlq ------------------------------------------------------------------------------

FIFO_ROWS = [
    Row("fifo-retention-59s", fifo(retention_period=Duration.seconds(59)), "retention_period",
        r"retention_period must be between 1 minute and 14 days, got 59 seconds"),
    Row("fifo-retention-14d+1s", fifo(retention_period=Duration.seconds(1_209_601)), "retention_period",
        r"retention_period must be between 1 minute and 14 days, got 14 days 1 second"),
    Row("fifo-retention-14d-with-default-dlq", fifo(retention_period=Duration.days(14)), "retention_period",
        r"retention_period must be shorter than 14 days, the longest a DLQ can keep messages, got 14 days"),
    Row("fifo-name-without-suffix", fifo(queue_name="orders-fifo"), "queue_name",
        r"queue_name must end with '\.fifo' for a FIFO queue, got 'orders-fifo'"),
    Row("fifo-name-dot-in-stem", fifo(queue_name="orders.v2.fifo"), "queue_name",
        r"queue_name may contain only letters, digits, '-' and '_' \(and a final '\.fifo'\), got 'orders\.v2\.fifo'"),
    Row("fifo-name-empty-stem", fifo(queue_name=".fifo"), "queue_name",
        r"queue_name may contain only letters, digits, '-' and '_' .*, got '\.fifo'"),
    Row("fifo-name-81-chars", fifo(queue_name="a" * 76 + ".fifo", dead_letter_queue_name="a-dlq.fifo"), "queue_name",
        r"queue_name must be at most 80 characters including '\.fifo', got 81 characters"),
    Row("fifo-name-leaves-no-room-for-dlq", fifo(queue_name="a" * 72 + ".fifo"), "queue_name",
        r"queue_name 'a{72}\.fifo' leaves no room for the DLQ name derived from it, 'a{72}-dlq\.fifo' "
        r"\(81 characters, at most 80\)"),
    Row("fifo-dlq-name-without-suffix", fifo(dead_letter_queue_name="orders-dlq"), "dead_letter_queue_name",
        r"dead_letter_queue_name must end with '\.fifo' for a FIFO queue, got 'orders-dlq'"),
    Row("fifo-standard-dlq", lambda s: FifoQueueWithDlq(s, "Q", dead_letter_queue=sqs.Queue(s, "Standard")),
        "dead_letter_queue",
        r"dead_letter_queue must be a FIFO queue for a FIFO source queue .*got a standard queue \(TestStack/Standard\)"),
    Row("fifo-unencrypted", fifo(encryption=sqs.QueueEncryption.UNENCRYPTED), "encryption",
        r"encryption must be SQS_MANAGED, KMS_MANAGED or KMS, got UNENCRYPTED"),
    Row("fifo-data-key-reuse-with-sqs-managed",
        fifo(encryption=sqs.QueueEncryption.SQS_MANAGED, data_key_reuse=Duration.minutes(5)), "data_key_reuse",
        r"data_key_reuse applies only to KMS encryption, got it with encryption=SQS_MANAGED"),
    Row("fifo-data-key-reuse-59s", fifo(encryption=sqs.QueueEncryption.KMS_MANAGED, data_key_reuse=Duration.seconds(59)),
        "data_key_reuse", r"data_key_reuse must be between 1 minute and 1 day, got 59 seconds"),
    Row("fifo-key-with-kms-managed",
        lambda s: FifoQueueWithDlq(s, "Q", encryption=sqs.QueueEncryption.KMS_MANAGED,
                                   encryption_master_key=kms.Key(s, "Key", enable_key_rotation=True)),
        "encryption",
        r"encryption must be KMS \(or left unset\) when encryption_master_key is given, got QueueEncryption\.KMS_MANAGED"),
    Row("fifo-alias-aws-sqs-service-producer",
        producer(fifo(encryption=sqs.QueueEncryption.KMS_MANAGED), "sns.amazonaws.com", FIFO_TOPIC_ARN), "principal",
        r"principal 'sns\.amazonaws\.com' cannot publish to a queue encrypted with the AWS-managed key 'alias/aws/sqs'"),
    Row("fifo-s3-service-producer",
        producer(fifo(), "s3.amazonaws.com", "arn:aws:s3:::uploads"), "principal",
        r"principal 's3\.amazonaws\.com' cannot send to a FIFO queue: S3 event notifications accept only standard "
        r"queues as destinations, and the bucket's notification configuration would be refused at deploy; send the "
        r"notifications to a standard queue \(EncryptedQueue\), or turn on EventBridge notifications"),
    Row("fifo-standard-topic-service-producer",
        producer(fifo(), "sns.amazonaws.com", TOPIC_ARN), "source_arn",
        r"source_arn 'arn:aws:sns:eu-west-1:111111111111:uploads' names a standard SNS topic, which cannot deliver to "
        r"a FIFO queue \(SNS refuses the subscription\): publish to a FIFO topic \(sns\.Topic\(fifo=True\)\)"),
    Row("fifo-max-receive-count-minus-1", fifo(max_receive_count=-1), "max_receive_count",
        r"max_receive_count must be between 1 and 1,000, got -1"),
    Row("fifo-visibility-12h+1s", fifo(visibility_timeout=Duration.seconds(43_201)), "visibility_timeout",
        r"visibility_timeout must be between 0 seconds and 12 hours, got 12 hours 1 second"),
    Row("fifo-delay-901s", fifo(delivery_delay=Duration.seconds(901)), "delivery_delay",
        r"delivery_delay must be between 0 seconds and 15 minutes, got 15 minutes 1 second"),
    Row("fifo-message-size-512", fifo(max_message_size_bytes=512), "max_message_size_bytes",
        r"max_message_size_bytes must be between 1,024 and 1,048,576 bytes, got 512 bytes"),
    Row("fifo-import-standard-arn",
        lambda s: FifoQueueWithDlq.from_queue_arns(
            s, "Q", queue_arn=ACCOUNT_ARN.format(service="sqs", name="orders"),
            dead_letter_queue_arn=ACCOUNT_ARN.format(service="sqs", name="orders-dlq.fifo")),
        "queue_arn", r"queue_arn must end with '\.fifo' for a FIFO queue, got 'orders'"),
    Row("fifo-import-sns-arn",
        lambda s: FifoQueueWithDlq.from_queue_arns(
            s, "Q", queue_arn=ACCOUNT_ARN.format(service="sqs", name="orders.fifo"),
            dead_letter_queue_arn=ACCOUNT_ARN.format(service="sns", name="orders-dlq.fifo")),
        "dead_letter_queue_arn",
        r"dead_letter_queue_arn must be an SQS queue ARN \(arn:PARTITION:sqs:REGION:ACCOUNT:NAME\), "
        r"got 'arn:aws:sns:eu-west-1:111111111111:orders-dlq\.fifo'"),
]

# --- EncryptedQueue --------------------------------------------------------------------------------

ENCRYPTED_ROWS = [
    Row("encrypted-name-with-fifo-suffix", encrypted(queue_name="jobs.fifo"), "queue_name",
        r"queue_name must not end with '\.fifo' for a standard queue, got 'jobs\.fifo'"),
    Row("encrypted-name-with-space", encrypted(queue_name="my jobs"), "queue_name",
        r"queue_name may contain only letters, digits, '-' and '_', got 'my jobs'"),
    Row("encrypted-name-non-ascii", encrypted(queue_name="jobs-\u00e9t\u00e9"), "queue_name",
        r"queue_name may contain only letters, digits, '-' and '_', got 'jobs-\u00e9t\u00e9'"),
    Row("encrypted-name-81-chars", encrypted(queue_name="j" * 81, dead_letter_queue_name="jobs-dlq"), "queue_name",
        r"queue_name must be at most 80 characters, got 81 characters"),
    Row("encrypted-dlq-name-with-fifo-suffix", encrypted(dead_letter_queue_name="jobs-dlq.fifo"),
        "dead_letter_queue_name",
        r"dead_letter_queue_name must not end with '\.fifo' for a standard queue, got 'jobs-dlq\.fifo'"),
    Row("encrypted-fifo-dlq", lambda s: EncryptedQueue(s, "Q", dead_letter_queue=sqs.Queue(s, "Fifo", fifo=True)),
        "dead_letter_queue",
        r"dead_letter_queue must be a standard queue for a standard source queue .*got a FIFO queue \(TestStack/Fifo\)"),
    Row("encrypted-dlq-retention-shorter",
        encrypted(retention_period=Duration.days(10), dead_letter_retention_period=Duration.days(9)),
        "dead_letter_retention_period",
        r"dead_letter_retention_period must be longer than retention_period \(10 days\), got 9 days"),
    Row("encrypted-dlq-retention-15d", encrypted(dead_letter_retention_period=Duration.days(15)),
        "dead_letter_retention_period",
        r"dead_letter_retention_period must be between 1 minute and 14 days, got 15 days"),
    Row("encrypted-data-key-reuse-24h+1s", encrypted(data_key_reuse=Duration.seconds(86_401)), "data_key_reuse",
        r"data_key_reuse must be between 1 minute and 1 day, got 1 day 1 second"),
    Row("encrypted-data-key-reuse-fraction", encrypted(data_key_reuse=Duration.millis(90_500)), "data_key_reuse",
        r"data_key_reuse must be a whole number of seconds, got 1 minute 30\.5 seconds"),
    Row("encrypted-max-receive-count-fraction", encrypted(max_receive_count=2.5), "max_receive_count",
        r"max_receive_count must be a whole number, got 2\.5"),
    Row("encrypted-max-receive-count-1200", encrypted(max_receive_count=1200), "max_receive_count",
        r"max_receive_count must be between 1 and 1,000, got 1,200"),
    Row("encrypted-wait-1min", encrypted(receive_message_wait_time=Duration.minutes(1)), "receive_message_wait_time",
        r"receive_message_wait_time must be between 0 seconds and 20 seconds, got 1 minute"),
    Row("encrypted-message-size-0", encrypted(max_message_size_bytes=0), "max_message_size_bytes",
        r"max_message_size_bytes must be between 1,024 and 1,048,576 bytes, got 0 bytes"),
    Row("encrypted-alias-aws-sqs-service-producer",
        producer(lambda s: EncryptedQueue(s, "Q", encryption_master_key=aws_managed_sqs_key(s)), "events.amazonaws.com"),
        "principal",
        r"principal 'events\.amazonaws\.com' cannot publish to a queue encrypted with the AWS-managed key 'alias/aws/sqs'"),
    Row("encrypted-imported-key-service-producer",
        producer(lambda s: EncryptedQueue(s, "Q", encryption_master_key=imported_key(s)), "sns.amazonaws.com"),
        "principal",
        r"principal 'sns\.amazonaws\.com': the key TestStack/ImportedKey is imported, so its key policy cannot be changed"),
    Row("encrypted-import-without-key",
        lambda s: EncryptedQueue.from_queue_arns(
            s, "Q", queue_arn=ACCOUNT_ARN.format(service="sqs", name="jobs"),
            dead_letter_queue_arn=ACCOUNT_ARN.format(service="sqs", name="jobs-dlq"), key_arn=None),
        "key_arn", r"key_arn must be the ARN of the key that encrypts the queue, got None"),
    Row("encrypted-import-fifo-dlq-arn",
        lambda s: EncryptedQueue.from_queue_arns(
            s, "Q", queue_arn=ACCOUNT_ARN.format(service="sqs", name="jobs"),
            dead_letter_queue_arn=ACCOUNT_ARN.format(service="sqs", name="jobs-dlq.fifo"), key_arn=KEY_ARN),
        "dead_letter_queue_arn",
        r"dead_letter_queue_arn must not end with '\.fifo' for a standard queue, got 'jobs-dlq\.fifo'"),
]

# --- LambdaTriggeredQueue --------------------------------------------------------------------------

LAMBDA_ROWS = [
    Row("lambda-visibility-1s-below-timeout", consumer(visibility_timeout=Duration.seconds(29)), "visibility_timeout",
        r"visibility_timeout must be at least the function timeout \(30 seconds\), got 29 seconds"),
    Row("lambda-pattern-visibility-below-timeout",
        consumer(fifo(visibility_timeout=Duration.minutes(1)), timeout=Duration.seconds(61)), "visibility_timeout",
        r"visibility_timeout of queue=TestStack/Q must be at least the function timeout \(1 minute 1 second\), "
        r"got 1 minute:"),
    Row("lambda-visibility-disagrees-with-pattern",
        consumer(encrypted(visibility_timeout=Duration.minutes(5)), visibility_timeout=Duration.minutes(6)),
        "visibility_timeout",
        r"visibility_timeout \(6 minutes\) cannot be applied to queue=TestStack/Q, which is already built with 5 minutes"),
    Row("lambda-created-queue-visibility-12h+1s", consumer(visibility_timeout=Duration.seconds(43_201)),
        "visibility_timeout", r"visibility_timeout must be between 0 seconds and 12 hours, got 12 hours 1 second"),
    Row("lambda-fifo-batch-0", consumer(fifo(), batch_size=0), "batch_size",
        r"batch_size must be between 1 and 10 for a FIFO queue, got 0"),
    Row("lambda-fifo-batch-100", consumer(fifo(), batch_size=100, max_concurrency=2), "batch_size",
        r"batch_size must be between 1 and 10 for a FIFO queue, got 100"),
    Row("lambda-fifo-window-0s", consumer(fifo(), max_batching_window=Duration.seconds(0)), "max_batching_window",
        r"max_batching_window must not be set for a FIFO queue .*, got 0 seconds"),
    Row("lambda-standard-batch-11-window-0s", consumer(batch_size=11, max_batching_window=Duration.seconds(0)),
        "max_batching_window",
        r"max_batching_window must be at least 1 second when batch_size is above 10, got 0 seconds with batch_size 11"),
    Row("lambda-standard-batch-10000-without-window", consumer(encrypted(), batch_size=10_000), "max_batching_window",
        r"max_batching_window must be at least 1 second when batch_size is above 10, got none with batch_size 10,000"),
    Row("lambda-window-6min", consumer(max_batching_window=Duration.minutes(6)), "max_batching_window",
        r"max_batching_window must be between 0 seconds and 5 minutes, got 6 minutes"),
    Row("lambda-max-concurrency-0", consumer(max_concurrency=0), "max_concurrency",
        r"max_concurrency must be between 2 and 1,000, got 0"),
    Row("lambda-max-concurrency-5000", consumer(max_concurrency=5_000), "max_concurrency",
        r"max_concurrency must be between 2 and 1,000, got 5,000"),
    Row("lambda-max-concurrency-above-reserved-2", consumer(reserved_concurrent_executions=2, max_concurrency=3),
        "max_concurrency", r"max_concurrency must be at most the function's reserved concurrency \(2\), got 3"),
    Row("lambda-reserved-minus-1", consumer(reserved_concurrent_executions=-1), "reserved_concurrent_executions",
        r"reserved_concurrent_executions must be between 0 and 1,000,000, got -1"),
    Row("lambda-timeout-0s", consumer(timeout=Duration.seconds(0)), "timeout",
        r"timeout must be between 1 second and 15 minutes, got 0 seconds"),
    Row("lambda-timeout-901s", consumer(timeout=Duration.seconds(901)), "timeout",
        r"timeout must be between 1 second and 15 minutes, got 15 minutes 1 second"),
    Row("lambda-memory-127", consumer(memory_size=127), "memory_size",
        r"memory_size must be between 128 and 10,240 MB, got 127 MB"),
    Row("lambda-memory-10241", consumer(memory_size=10_241), "memory_size",
        r"memory_size must be between 128 and 10,240 MB, got 10,241 MB"),
    Row("lambda-function-with-code", consumer_of_function(**BUILD), "code",
        r"code, handler apply only to the function this construct builds, got them with function=TestStack/Fn"),
    Row("lambda-function-with-reserved-concurrency", consumer_of_function(reserved_concurrent_executions=5),
        "reserved_concurrent_executions",
        r"reserved_concurrent_executions applies only to the function this construct builds, got it with "
        r"function=TestStack/Fn"),
    Row("lambda-queue-with-queue-name", consumer(fifo(), queue_name="jobs"), "queue_name",
        r"queue_name applies only to the queue this construct creates, got it with queue=TestStack/Q"),
    Row("lambda-queue-with-retention", consumer(encrypted(), retention_period=Duration.days(1)), "retention_period",
        r"retention_period applies only to the queue this construct creates, got it with queue=TestStack/Q"),
    Row("lambda-handler-without-code", lambda s: LambdaTriggeredQueue(s, "C", handler="index.handler"), "code",
        r"code must be given to build a function, or pass an existing function="),
    Row("lambda-created-queue-retention-14d", consumer(retention_period=Duration.days(14)), "retention_period",
        r"retention_period must be shorter than 14 days, the longest a DLQ can keep messages, got 14 days"),
    Row("lambda-created-queue-dlq-retention-not-longer",
        consumer(retention_period=Duration.days(7), dead_letter_retention_period=Duration.days(7)),
        "dead_letter_retention_period",
        r"dead_letter_retention_period must be longer than retention_period \(7 days\), got 7 days"),
    Row("lambda-powertools-layer-version-0", consumer(powertools_layer_version=0), "powertools_layer_version",
        r"powertools_layer_version must be between 1 and 1,000,000, got 0"),
]

# --- QueueAlarms -----------------------------------------------------------------------------------

ALARM_ROWS = [
    Row("alarms-age-above-retention",
        alarms(fifo(retention_period=Duration.hours(1)), age_threshold=Duration.hours(2)), "age_threshold",
        r"age_threshold must be shorter than the retention period \(1 hour\), got 2 hours"),
    Row("alarms-age-equal-to-given-retention",
        alarms(imported_queue, retention_period=Duration.hours(1), age_threshold=Duration.hours(1)), "age_threshold",
        r"age_threshold must be shorter than the retention period \(1 hour\), got 1 hour"),
    Row("alarms-age-slo-equal-to-age-threshold",
        alarms(age_threshold=Duration.hours(1), age_slo=Duration.hours(1)), "age_slo",
        r"age_slo must be shorter than age_threshold \(1 hour\), got 1 hour"),
    Row("alarms-age-slo-above-consumer-default-threshold",
        alarms(consumer(retention_period=Duration.hours(2)), age_slo=Duration.minutes(90)), "age_slo",
        r"age_slo must be shorter than age_threshold \(1 hour\), got 1 hour 30 minutes"),
    Row("alarms-depth-negative", alarms(depth_threshold=-5), "depth_threshold",
        r"depth_threshold must be a number of messages of at least 1, got -5"),
    Row("alarms-depth-string", alarms(depth_threshold="10"), "depth_threshold",
        r"depth_threshold must be a number, got str '10'"),
    Row("alarms-errors-fraction", alarms(consumer_errors_threshold=0.5), "consumer_errors_threshold",
        r"consumer_errors_threshold must be a whole number of errors, got 0\.5"),
    Row("alarms-throttles-negative", alarms(consumer_throttles_threshold=-1), "consumer_throttles_threshold",
        r"consumer_throttles_threshold must be a number of throttles of at least 1, got -1"),
    Row("alarms-in-flight-standard-quota+1", alarms(in_flight_threshold=120_001), "in_flight_threshold",
        r"in_flight_threshold must be at most 120,000 messages, the in-flight quota of a standard queue, got 120,001"),
    Row("alarms-in-flight-fifo-quota+1-via-consumer", alarms(consumer(fifo()), in_flight_threshold=20_001),
        "in_flight_threshold",
        r"in_flight_threshold must be at most 20,000 messages, the in-flight quota of a FIFO queue, got 20,001"),
    Row("alarms-in-flight-bool", alarms(in_flight_threshold=True), "in_flight_threshold",
        r"in_flight_threshold must be a number, got bool True"),
    Row("alarms-email-without-dot", alarms(alarm_email="oncall@example"), "alarm_email",
        r"alarm_email must be an email address like 'oncall@example\.com', got 'oncall@example'"),
    Row("alarms-email-with-space", alarms(alarm_email="on call@example.com"), "alarm_email",
        r"alarm_email must be an email address .*, got 'on call@example\.com'"),
    Row("alarms-email-two-at-signs", alarms(alarm_email="oncall@team@example.com"), "alarm_email",
        r"alarm_email must be an email address .*, got 'oncall@team@example\.com'"),
    Row("alarms-prefix-empty", alarms(alarm_name_prefix=""), "alarm_name_prefix",
        r"alarm_name_prefix must be 1 to 236 characters .*, got 0 characters"),
    Row("alarms-prefix-question-mark", alarms(alarm_name_prefix="orders?"), "alarm_name_prefix",
        r"alarm_name_prefix must not contain '\*' or '\?', got 'orders\?'"),
    Row("alarms-imported-retention-15d", alarms(imported_queue, retention_period=Duration.days(15)),
        "retention_period", r"retention_period must be between 1 minute and 14 days, got 15 days"),
    Row("alarms-queue-int", lambda s: QueueAlarms(s, "Alarms", queue=42), "queue",
        r"queue must be a queue pattern of this library .*, got int"),
]

# --- Type confusion: a value of the wrong type, named with the type given and the type expected --------

DURATION_EXPECTED = r"must be a Duration, e\.g\. Duration\.seconds\(30\), got "


def grant_to(pattern: Callable[[cdk.Stack], Any], method: str, grantee: Any) -> Callable[[cdk.Stack], Any]:
    return lambda stack: getattr(pattern(stack), method)(grantee)


TYPE_ROWS = [
    Row("type-fifo-retention-str", fifo(retention_period="4 days"), "retention_period",
        r"retention_period " + DURATION_EXPECTED + r"str '4 days'"),
    Row("type-fifo-retention-int", fifo(retention_period=345_600), "retention_period",
        r"retention_period " + DURATION_EXPECTED + r"int 345600"),
    Row("type-fifo-max-receive-count-str", fifo(max_receive_count="5"), "max_receive_count",
        r"max_receive_count must be a number, got str '5'"),
    Row("type-fifo-content-based-dedup-str", fifo(content_based_deduplication="yes"), "content_based_deduplication",
        r"content_based_deduplication must be a bool, got str 'yes'"),
    Row("type-fifo-encryption-str", fifo(encryption="KMS"), "encryption",
        r"encryption must be an sqs\.QueueEncryption, got str 'KMS'"),
    Row("type-fifo-key-arn-str", fifo(encryption_master_key=KEY_ARN), "encryption_master_key",
        r"encryption_master_key must be a kms\.IKey, got str 'arn:aws:kms:"),
    Row("type-fifo-removal-policy-str", fifo(removal_policy="retain"), "removal_policy",
        r"removal_policy must be a RemovalPolicy, got str 'retain'"),
    Row("type-fifo-dlq-dict", fifo(dead_letter_queue={"queue_arn": "arn"}), "dead_letter_queue",
        r"dead_letter_queue must be an sqs\.IQueue, got dict \{'queue_arn': 'arn'\}"),
    Row("type-fifo-queue-name-int", fifo(queue_name=42), "queue_name", r"queue_name must be a str, got int 42"),
    Row("type-encrypted-visibility-int", encrypted(visibility_timeout=30), "visibility_timeout",
        r"visibility_timeout " + DURATION_EXPECTED + r"int 30"),
    Row("type-encrypted-data-key-reuse-str", encrypted(data_key_reuse="5m"), "data_key_reuse",
        r"data_key_reuse " + DURATION_EXPECTED + r"str '5m'"),
    Row("type-encrypted-message-size-str", encrypted(max_message_size_bytes="1 MiB"), "max_message_size_bytes",
        r"max_message_size_bytes must be a number, got str '1 MiB'"),
    Row("type-encrypted-dlq-removal-bool", encrypted(dead_letter_removal_policy=True), "dead_letter_removal_policy",
        r"dead_letter_removal_policy must be a RemovalPolicy, got bool True"),
    Row("type-lambda-queue-dict", lambda s: LambdaTriggeredQueue(s, "C", queue={"fifo": True}, **BUILD), "queue",
        r"queue must be a queue pattern of this library .*, got dict"),
    Row("type-lambda-function-str", lambda s: LambdaTriggeredQueue(s, "C", function="orders-function"), "function",
        r"function must be a lambda_\.IFunction, got str"),
    Row("type-lambda-timeout-int", consumer(timeout=30), "timeout", r"timeout " + DURATION_EXPECTED + r"int 30"),
    Row("type-lambda-memory-str", consumer(memory_size="512"), "memory_size",
        r"memory_size must be a number, got str '512'"),
    Row("type-lambda-batch-size-str", consumer(batch_size="10"), "batch_size",
        r"batch_size must be a number, got str '10'"),
    Row("type-lambda-fifo-batch-size-str", consumer(fifo(), batch_size="10"), "batch_size",
        r"batch_size must be a number, got str '10'"),
    Row("type-lambda-window-int", consumer(max_batching_window=5), "max_batching_window",
        r"max_batching_window " + DURATION_EXPECTED + r"int 5"),
    Row("type-lambda-code-str", consumer(code="handlers/"), "code",
        r"code must be a lambda_\.Code, e\.g\. lambda_\.Code\.from_asset\('handlers'\), got str 'handlers/'"),
    Row("type-lambda-handler-int", consumer(handler=42), "handler", r"handler must be a str, got int 42"),
    Row("type-lambda-handler-without-module", consumer(handler="handler"), "handler",
        r"handler must name a Python function as 'module\.function', got 'handler'"),
    Row("type-lambda-runtime-str", consumer(runtime="python3.14"), "runtime",
        r"runtime must be a lambda_\.Runtime, got str 'python3\.14'"),
    Row("type-lambda-environment-int-value", consumer(environment={"WORKERS": 4}), "environment",
        r"environment must be a dict of str to str, got 'WORKERS': int 4"),
    Row("type-lambda-layers-str", consumer(layers="arn:aws:lambda:eu-west-1:111111111111:layer:x:1"), "layers",
        r"layers must be a list of lambda_\.ILayerVersions, got str"),
    Row("type-lambda-filters-dict", consumer(filters={"body": {"kind": ["order"]}}), "filters",
        r"filters must be a list of dicts, got dict"),
    Row("type-lambda-tracing-bool", consumer(tracing=True), "tracing", r"tracing must be a lambda_\.Tracing, got bool True"),
    Row("type-lambda-vpc-str", consumer(vpc="vpc-0123"), "vpc", r"vpc must be an ec2\.IVpc, got str 'vpc-0123'"),
    Row("type-lambda-log-retention-int", consumer(log_retention=30), "log_retention",
        r"log_retention must be a logs\.RetentionDays, got int 30"),
    Row("type-lambda-reserved-str", consumer(reserved_concurrent_executions="10"), "reserved_concurrent_executions",
        r"reserved_concurrent_executions must be a number, got str '10'"),
    Row("type-lambda-report-failures-str", consumer(report_batch_item_failures="yes"), "report_batch_item_failures",
        r"report_batch_item_failures must be a bool, got str 'yes'"),
    Row("type-lambda-function-name-space", consumer(function_name="orders consumer"), "function_name",
        r"function_name must be 1 to 64 letters, digits, '-' and '_', got 'orders consumer'"),
    Row("type-lambda-key-str", consumer(function_encryption_key=KEY_ARN), "function_encryption_key",
        r"function_encryption_key must be a kms\.IKey, got str"),
    Row("type-alarms-queue-dict", lambda s: QueueAlarms(s, "Alarms", queue={"queue": "orders"}), "queue",
        r"queue must be a queue pattern of this library .*, got dict"),
    Row("type-alarms-age-str", alarms(age_threshold="2 days"), "age_threshold",
        r"age_threshold " + DURATION_EXPECTED + r"str '2 days'"),
    Row("type-alarms-topic-str", alarms(topic=TOPIC_ARN), "topic", r"topic must be an sns\.ITopic, got str"),
    Row("type-alarms-email-int", alarms(alarm_email=42), "alarm_email", r"alarm_email must be a str, got int 42"),
    Row("type-alarms-dashboard-str", alarms(dashboard="main"), "dashboard",
        r"dashboard must be a cloudwatch\.Dashboard, got str 'main'"),
    Row("type-alarms-notify-ok-str", alarms(notify_ok="no"), "notify_ok", r"notify_ok must be a bool, got str 'no'"),
    Row("type-alarms-consumer-function-str", alarms(consumer_function="orders-fn"), "consumer_function",
        r"consumer_function must be a lambda_\.IFunction, got str 'orders-fn'"),
    Row("type-add-alarms-depth-str", lambda s: EncryptedQueue(s, "Q").add_alarms(depth_threshold="many"),
        "depth_threshold", r"depth_threshold must be a number, got str 'many'"),
    Row("type-grant-send-str", grant_to(encrypted(), "grant_send_messages", "arn:aws:iam::111111111111:role/r"),
        "grantee", r"grantee must be an iam\.IGrantable \(a role, a function, a user, \.\.\.\), got str"),
    Row("type-grant-redrive-dict", grant_to(fifo(), "grant_redrive", {"role": "r"}), "grantee",
        r"grantee must be an iam\.IGrantable .*, got dict"),
    Row("type-scope-str", lambda s: FifoQueueWithDlq("TestStack", "Q"), "scope",
        r"scope must be a Construct \(a Stack or a construct in one\), got str 'TestStack'"),
    Row("type-id-empty", lambda s: EncryptedQueue(s, ""), "id", r"id must be a non-empty str, got ''"),
    Row("type-powertools-layer-runtime-str",
        lambda s: LambdaTriggeredQueue.powertools_layer(s, runtime="python3.14"), "runtime",
        r"runtime must be a lambda_\.Runtime, got str 'python3\.14'"),
]

# --- Service producers: a principal no service uses, or an ARN no service sends from, drops messages ----

PRINCIPAL_ROWS = [
    Row("principal-not-a-service", producer(encrypted(), "not-a-principal"), "principal",
        r"principal must be an AWS service principal like 'sns\.amazonaws\.com', got 'not-a-principal'"),
    Row("principal-account-root", producer(encrypted(), iam.AccountRootPrincipal()), "principal",
        r"principal must be an iam\.ServicePrincipal or a str, got AccountRootPrincipal"),
    Row("principal-service-principal-typo", producer(encrypted(), iam.ServicePrincipal("sns.amazonaws")), "principal",
        r"principal must be an AWS service principal .*, got 'sns\.amazonaws'"),
    Row("source-arn-not-an-arn", producer(encrypted(), "sns.amazonaws.com", "not-an-arn"), "source_arn",
        r"source_arn must be an ARN \(arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE\), got 'not-an-arn'"),
    Row("source-arn-empty", producer(fifo(), "sns.amazonaws.com", ""), "source_arn",
        r"source_arn must be an ARN .*, got ''"),
    Row("source-arn-int", producer(fifo(), "events.amazonaws.com", 12), "source_arn",
        r"source_arn must be a str, got int 12"),
    Row("source-arn-other-service", producer(encrypted(), "events.amazonaws.com", TOPIC_ARN), "source_arn",
        r"source_arn must be an ARN of events for principal 'events\.amazonaws\.com', got one of sns"),
]

# --- from_queue_arns: every ARN checked -----------------------------------------------------------------

SQS_ARN = "arn:{partition}:sqs:{region}:{account}:{name}"


def imported(fifo_queue: bool = False, **arns: Any) -> Callable[[cdk.Stack], Any]:
    name = "jobs.fifo" if fifo_queue else "jobs"
    dlq = "jobs-dlq.fifo" if fifo_queue else "jobs-dlq"
    values = {
        "queue_arn": SQS_ARN.format(partition="aws", region="eu-west-1", account="111111111111", name=name),
        "dead_letter_queue_arn": SQS_ARN.format(partition="aws", region="eu-west-1", account="111111111111", name=dlq),
        "key_arn": KEY_ARN,
        **arns,
    }
    pattern = FifoQueueWithDlq if fifo_queue else EncryptedQueue
    return lambda stack: pattern.from_queue_arns(stack, "Q", **values)


ARN_ROWS = [
    Row("arn-short-account", imported(queue_arn=SQS_ARN.format(partition="aws", region="eu-west-1", account="1111",
                                                               name="jobs")),
        "queue_arn", r"queue_arn has account '1111', expected a 12-digit account id"),
    Row("arn-bad-region", imported(queue_arn=SQS_ARN.format(partition="aws", region="eu-west", account="111111111111",
                                                            name="jobs")),
        "queue_arn", r"queue_arn has region 'eu-west', expected a region like 'eu-west-1'"),
    Row("arn-bad-partition", imported(True, dead_letter_queue_arn=SQS_ARN.format(
        partition="aws-mars", region="eu-west-1", account="111111111111", name="jobs-dlq.fifo")),
        "dead_letter_queue_arn", r"dead_letter_queue_arn has partition 'aws-mars', expected one of aws, aws-cn"),
    Row("arn-key-alias", imported(key_arn="arn:aws:kms:eu-west-1:111111111111:alias/jobs"), "key_arn",
        r"key_arn must be a KMS key ARN \(arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID\), got resource 'alias/jobs'"),
    Row("arn-key-of-sqs", imported(key_arn=ACCOUNT_ARN.format(service="sqs", name="jobs")), "key_arn",
        r"key_arn must be a KMS key ARN .*, got 'arn:aws:sqs:"),
    Row("arn-fifo-key-not-an-arn", imported(True, key_arn="1234abcd-12ab-34cd-56ef-1234567890ab"), "key_arn",
        r"key_arn must be a KMS key ARN .*, got '1234abcd-"),
    Row("arn-queue-int", imported(queue_arn=42), "queue_arn", r"queue_arn must be a str, got int 42"),
    Row("arn-dlq-none", imported(True, dead_letter_queue_arn=None), "dead_letter_queue_arn",
        r"dead_letter_queue_arn must be an SQS queue ARN .*, got None"),
    Row("arn-dlq-other-account", imported(dead_letter_queue_arn=SQS_ARN.format(
        partition="aws", region="eu-west-1", account="222222222222", name="jobs-dlq")),
        "dead_letter_queue_arn",
        r"queue_arn, dead_letter_queue_arn and key_arn must be in one account, got queue_arn '111111111111', "
        r"dead_letter_queue_arn '222222222222'"),
    Row("arn-key-other-region", imported(key_arn="arn:aws:kms:us-east-1:111111111111:key/1234"), "key_arn",
        r"queue_arn, dead_letter_queue_arn and key_arn must be in one region, .*key_arn 'us-east-1'"),
]

# --- Repeats the library can detect: its own error with the fix, not a jsii stack trace ------------------


def twice(first: Callable[[cdk.Stack], Any], second: Callable[[cdk.Stack, Any], Any]) -> Callable[[cdk.Stack], Any]:
    return lambda stack: second(stack, first(stack))


def _consumer_of(stack: cdk.Stack, queue: Any, id: str, function: Any) -> LambdaTriggeredQueue:
    return LambdaTriggeredQueue(stack, id, queue=queue, function=function)


def _same_function_twice(stack: cdk.Stack) -> None:
    queue = FifoQueueWithDlq(stack, "Q")
    function = lambda_.Function(stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_14, code=CODE, handler="index.handler")
    _consumer_of(stack, queue, "First", function)
    _consumer_of(stack, queue, "Second", function)


REPEAT_ROWS = [
    Row("repeat-add-alarms", twice(encrypted(), lambda s, q: (q.add_alarms(), q.add_alarms())), "add_alarms",
        r"add_alarms was already called on TestStack/Q \(its alarms are TestStack/Q/Alarms\): keep the QueueAlarms"),
    Row("repeat-consumer-add-alarms", twice(consumer(), lambda s, c: (c.add_alarms(), c.add_alarms())), "add_alarms",
        r"add_alarms was already called on TestStack/C"),
    Row("repeat-queue-alarms-after-add-alarms",
        twice(encrypted(), lambda s, q: (q.add_alarms(), QueueAlarms(s, "More", queue=q))), "queue",
        r"queue TestStack/Q/Resource is already watched by the QueueAlarms TestStack/Q/Alarms: a second QueueAlarms "
        r"would duplicate every alarm"),
    Row("repeat-queue-alarms-of-consumer-and-queue",
        twice(consumer(), lambda s, c: (QueueAlarms(s, "A1", queue=c), QueueAlarms(s, "A2", queue=c.queue))), "queue",
        r"queue TestStack/C/Queue/Resource is already watched by the QueueAlarms TestStack/A1"),
    Row("repeat-function-consumes-queue-twice", _same_function_twice, "function",
        r"function=TestStack/Fn already consumes queue=TestStack/Q: one event source mapping per function and queue"),
    Row("repeat-queue-name", twice(encrypted(queue_name="jobs"), lambda s, q: EncryptedQueue(s, "Other", queue_name="jobs")),
        "queue_name", r"queue_name 'jobs' is already the name of a queue of TestStack/Q in the same account and region"),
    Row("repeat-dlq-name", twice(fifo(queue_name="a.fifo"),
                                 lambda s, q: FifoQueueWithDlq(s, "B", queue_name="b.fifo", dead_letter_queue_name="a-dlq.fifo")),
        "dead_letter_queue_name", r"dead_letter_queue_name 'a-dlq\.fifo' is already the name of a queue of TestStack/Q"),
    Row("repeat-derived-dlq-name", twice(encrypted(queue_name="jobs"),
                                         lambda s, q: EncryptedQueue(s, "B", queue_name="jobs-dlq", dead_letter_queue_name="b-dlq")),
        "queue_name", r"queue_name 'jobs-dlq' is already the name of a queue of TestStack/Q"),
    Row("repeat-alarm-name-prefix",
        twice(alarms(alarm_name_prefix="orders"),
              lambda s, a: QueueAlarms(s, "Again", queue=FifoQueueWithDlq(s, "F"), alarm_name_prefix="orders")),
        "alarm_name_prefix", r"alarm_name_prefix 'orders' is already the prefix of the alarms of TestStack/Alarms"),
]

ROWS = FIFO_ROWS + ENCRYPTED_ROWS + LAMBDA_ROWS + ALARM_ROWS + TYPE_ROWS + PRINCIPAL_ROWS + ARN_ROWS + REPEAT_ROWS


def test_table_has_distinct_rows_for_every_pattern() -> None:
    ids = [row.id for row in ROWS]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    assert len(ROWS) >= 40
    for rows in (FIFO_ROWS, ENCRYPTED_ROWS, LAMBDA_ROWS, ALARM_ROWS, TYPE_ROWS):
        assert len(rows) >= 8
    assert len(TYPE_ROWS) >= 40 and len(PRINCIPAL_ROWS) >= 5 and len(ARN_ROWS) >= 8 and len(REPEAT_ROWS) >= 4
    for row in ROWS:
        assert row.argument in row.message, f"{row.id}: the regex must name {row.argument}"


@pytest.mark.parametrize("row", [pytest.param(row, id=row.id) for row in ROWS])
def test_bad_input_raises_at_construction(stack: cdk.Stack, row: Row) -> None:
    with pytest.raises(ValueError, match=row.message) as raised:
        row.build(stack)
    error = raised.value
    assert isinstance(error, ConfigurationError)
    # The problem the row is about names its argument; other problems of the same call may follow.
    assert any(re.search(row.message, problem) and row.argument in problem for problem in error.problems), (
        error.problems
    )


# --- All problems of one call, together -----------------------------------------------------------

SEVERAL = {
    "fifo": (
        fifo(queue_name="orders", max_receive_count=0, retention_period=Duration.seconds(30),
             delivery_delay=Duration.seconds(901)),
        ["queue_name", "max_receive_count", "retention_period", "delivery_delay"],
    ),
    "encrypted": (
        encrypted(queue_name="jobs.fifo", max_message_size_bytes=100, data_key_reuse=Duration.seconds(30)),
        ["queue_name", "max_message_size_bytes", "data_key_reuse"],
    ),
    "lambda": (
        consumer(fifo(), timeout=Duration.minutes(16), memory_size=64, batch_size=20,
                 max_batching_window=Duration.seconds(1), max_concurrency=1),
        ["timeout", "memory_size", "batch_size", "max_batching_window", "max_concurrency"],
    ),
    "alarms": (
        alarms(depth_threshold=0, in_flight_threshold=0, alarm_name_prefix="a*", alarm_email="oncall"),
        ["depth_threshold", "in_flight_threshold", "alarm_name_prefix", "alarm_email"],
    ),
}


@pytest.mark.parametrize("pattern", list(SEVERAL))
def test_several_bad_arguments_are_reported_in_one_error(stack: cdk.Stack, pattern: str) -> None:
    build, arguments = SEVERAL[pattern]
    with pytest.raises(ConfigurationError) as raised:
        build(stack)
    problems = raised.value.problems
    assert len(problems) == len(arguments), problems
    assert [problem.split(" ", 1)[0] for problem in problems] == arguments
    assert f": {len(arguments)} configuration problems:" in str(raised.value)


# --- A problem names only what the caller passed, or a default as such ------------------------------


@pytest.mark.parametrize("pattern", [FifoQueueWithDlq, EncryptedQueue], ids=["fifo", "encrypted"])
def test_a_source_retention_over_14_days_is_one_problem_about_it(stack: cdk.Stack, pattern: type) -> None:
    with pytest.raises(ConfigurationError) as raised:
        pattern(stack, "Q", retention_period=Duration.days(15))
    assert raised.value.problems == ["retention_period must be between 1 minute and 14 days, got 15 days"]


def test_a_standard_queue_name_length_problem_does_not_mention_fifo(stack: cdk.Stack) -> None:
    with pytest.raises(ConfigurationError) as raised:
        EncryptedQueue(stack, "Q", queue_name="j" * 81, dead_letter_queue_name="jobs-dlq")
    (problem,) = raised.value.problems
    assert problem.startswith("queue_name must be at most 80 characters, got 81 characters")
    assert ".fifo" not in problem


def test_an_invalid_batching_window_is_not_also_reported_as_a_visibility_problem(stack: cdk.Stack) -> None:
    with pytest.raises(ConfigurationError) as raised:
        LambdaTriggeredQueue(stack, "C", queue=FifoQueueWithDlq(stack, "Q"), max_batching_window=Duration.seconds(1),
                             timeout=Duration.seconds(31), **BUILD)
    assert [problem.split(" ", 1)[0] for problem in raised.value.problems] == ["max_batching_window"]


def test_type_confusion_is_a_configuration_error_not_a_traceback_from_inside(stack: cdk.Stack) -> None:
    """Every argument of every public constructor given a value of a type nothing accepts: one error each."""
    wrong = object()
    for build in (
        lambda: FifoQueueWithDlq(stack, "F", retention_period=wrong, max_receive_count=wrong, queue_name=wrong,
                                 encryption=wrong, removal_policy=wrong, dead_letter_queue=wrong, high_throughput=wrong),
        lambda: LambdaTriggeredQueue(stack, "C", queue=wrong, code=wrong, handler=wrong, timeout=wrong,
                                     environment=wrong, layers=wrong, vpc=wrong, tracing=wrong),
        lambda: QueueAlarms(stack, "A", queue=EncryptedQueue(stack, "E"), topic=wrong, age_threshold=wrong,
                            depth_threshold=wrong, dashboard=wrong, alarm_email=wrong),
    ):
        with pytest.raises(ConfigurationError) as raised:
            build()
        assert all("got object" in problem for problem in raised.value.problems), raised.value.problems
        assert len(raised.value.problems) >= 5
