"""``EncryptedQueue``: a standard queue and DLQ encrypted with a customer-managed KMS key."""

from __future__ import annotations

from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import _defaults
from ._queue_base import (
    ImportedQueueWithDlq,
    QueueOptions,
    QueueWithDlqBase,
    build_queue_pair,
    check_queue_options,
    created_key,
)
from ._validation import Problems, is_aws_managed_sqs_key

__all__ = ["EncryptedQueue"]


class EncryptedQueue(QueueWithDlqBase):
    """A standard queue and DLQ encrypted with one customer-managed KMS key, TLS-only, long polling.

    The key is created with yearly rotation unless ``encryption_master_key`` passes one. Because the
    key is the library's, its policy can let AWS services publish: :meth:`allow_service_producer`
    adds the queue policy and key policy statements that SNS, EventBridge, S3 or CloudWatch need,
    scoped by ``aws:SourceArn``. A queue encrypted with the AWS-managed key ``alias/aws/sqs`` cannot
    do that, and messages from such services are dropped silently.

    Example::

        media = EncryptedQueue(self, "Media")
        media.allow_service_producer("sns.amazonaws.com", uploads_topic.topic_arn)
        media.grant_consume_dead_letters(operator_role)

    Parameters
    ----------
    encryption_master_key:
        The key for both queues. Default: - a key is created with rotation on, kept while either
        queue is kept.
    data_key_reuse:
        How long SQS reuses a data key before calling KMS again, 60 s to 24 h.
        Default: ``Duration.minutes(5)``.
    queue_name, dead_letter_queue_name, visibility_timeout, retention_period,
    dead_letter_retention_period, max_receive_count, delivery_delay, receive_message_wait_time,
    max_message_size_bytes, removal_policy, dead_letter_removal_policy, dead_letter_queue:
        As for :class:`~constructs_sqs.FifoQueueWithDlq`, for a standard queue: names must not end in
        ``.fifo`` and an existing ``dead_letter_queue`` must be a standard queue.

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
        encryption_master_key: kms.IKey | None = None,
        data_key_reuse: Duration | None = None,
        queue_name: str | None = None,
        dead_letter_queue_name: str | None = None,
        visibility_timeout: Duration | None = None,
        retention_period: Duration | None = None,
        dead_letter_retention_period: Duration | None = None,
        max_receive_count: int = _defaults.MAX_RECEIVE_COUNT,
        delivery_delay: Duration | None = None,
        receive_message_wait_time: Duration | None = None,
        max_message_size_bytes: int = _defaults.MAX_MESSAGE_SIZE_BYTES,
        removal_policy: RemovalPolicy = _defaults.REMOVAL_POLICY,
        dead_letter_removal_policy: RemovalPolicy = _defaults.DEAD_LETTER_REMOVAL_POLICY,
        dead_letter_queue: sqs.IQueue | None = None,
    ) -> None:
        super().__init__(scope, id)
        options = QueueOptions.with_defaults(
            queue_name=queue_name,
            dead_letter_queue_name=dead_letter_queue_name,
            visibility_timeout=visibility_timeout,
            retention_period=retention_period,
            dead_letter_retention_period=dead_letter_retention_period,
            max_receive_count=max_receive_count,
            delivery_delay=delivery_delay,
            receive_message_wait_time=receive_message_wait_time,
            max_message_size_bytes=max_message_size_bytes,
            removal_policy=removal_policy,
            dead_letter_removal_policy=dead_letter_removal_policy,
            dead_letter_queue=dead_letter_queue,
        )
        problems = Problems(self.node.path)
        check_queue_options(problems, options, fifo=False)
        problems.duration_between("data_key_reuse", data_key_reuse, Duration.seconds(60), Duration.hours(24))
        problems.raise_if_any()

        if is_aws_managed_sqs_key(encryption_master_key):
            Annotations.of(self).add_warning_v2(
                "constructs-sqs:aws-managed-key",
                "encryption_master_key is the AWS-managed key alias/aws/sqs: no AWS service can publish "
                "to this queue (allow_service_producer will refuse) and its policy cannot be audited; "
                "leave encryption_master_key unset to get a customer-managed key.",
            )
        key = encryption_master_key or created_key(
            self,
            removal_policies=(removal_policy, dead_letter_removal_policy),
            description=f"constructs-sqs: encrypts the queue {self.node.path} and its DLQ",
        )
        build_queue_pair(
            self,
            options,
            fifo=False,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            data_key_reuse=data_key_reuse or _defaults.DATA_KEY_REUSE,
        )

    @classmethod
    def from_queue_arns(
        cls,
        scope: Construct,
        id: str,
        *,
        queue_arn: str,
        dead_letter_queue_arn: str,
        key_arn: str | None = None,
    ) -> ImportedQueueWithDlq:
        """Use an encrypted standard queue and DLQ that another stack or app created.

        Parameters
        ----------
        queue_arn, dead_letter_queue_arn:
            ARNs of the queue and its DLQ (standard queues: no ``.fifo``).
        key_arn:
            ARN of the key that encrypts both. Required in practice: without it, grants lack the
            ``kms:`` actions and consumers fail with ``KMS.AccessDeniedException``; ``None`` is
            refused with a ``ConfigurationError``.

        Returns
        -------
        ImportedQueueWithDlq
            With ``queue``, ``dead_letter_queue``, ``encryption_key`` and the grant methods.
        """
        if key_arn is None:
            problems = Problems(f"{scope.node.path}/{id}")
            problems.add(
                "key_arn must be the ARN of the key that encrypts the queue, got None: without it "
                "grants give no kms:Decrypt and consumers of the queue fail"
            )
            problems.raise_if_any()
        return ImportedQueueWithDlq(
            scope, id, queue_arn=queue_arn, dead_letter_queue_arn=dead_letter_queue_arn, key_arn=key_arn, fifo=False
        )
