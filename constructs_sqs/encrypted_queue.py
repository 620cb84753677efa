"""``EncryptedQueue``: a standard queue and DLQ encrypted with a customer-managed KMS key."""

from __future__ import annotations

from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ._jsii import keyword_signature
from . import _defaults, _limits
from ._queue_base import (
    ImportedQueueWithDlq,
    QueueOptions,
    QueueWithDlqBase,
    build_queue_pair,
    check_key,
    claim_names,
    created_key,
    plan_queue_pair,
)
from ._validation import ConfigurationError, Problems, arguments_of, check_construct_arguments, is_aws_managed_sqs_key

__all__ = ["EncryptedQueue"]


@keyword_signature
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
    queue_name:
        Name of the queue, at most 80 characters of ``[A-Za-z0-9_-]``, not ending in ``.fifo``.
        Default: a stable name derived from the construct path. Changing it replaces the queue.
    dead_letter_queue_name:
        Name of the DLQ. Default: the queue name followed by ``-dlq``.
    visibility_timeout:
        How long a received message stays hidden, 0 s to 12 h. Default: ``Duration.seconds(30)``;
        ``LambdaTriggeredQueue`` derives it from its function when the caller leaves it unset.
    retention_period:
        How long the queue keeps a message, 60 s to 14 days. Default: ``Duration.days(4)``.
    dead_letter_retention_period:
        How long the DLQ keeps a message, longer than ``retention_period``, at most 14 days.
        Default: ``Duration.days(14)``.
    max_receive_count:
        Receives before a message moves to the DLQ, 1 to 1,000. Default: 5.
    delivery_delay:
        Delay before a new message can be received, 0 to 900 s. Default: ``Duration.seconds(0)``.
    receive_message_wait_time:
        Long-polling wait, 0 to 20 s. Default: ``Duration.seconds(20)``.
    max_message_size_bytes:
        Largest message, 1,024 to 1,048,576 bytes. Default: 1,048,576 (1 MiB).
    removal_policy:
        What happens to the queue when it leaves the stack. Default: ``RemovalPolicy.DESTROY``.
    dead_letter_removal_policy:
        What happens to the DLQ when it leaves the stack. Default: ``RemovalPolicy.RETAIN``.
    dead_letter_queue:
        An existing standard queue to use as the DLQ instead of creating one; its retention must be
        longer than ``retention_period`` (checked when it is defined in this app), and its redrive allow
        policy is its owner's to set. Default: - a DLQ is created.

    Attributes
    ----------
    encryption_key:
        The customer-managed key of both queues, created or passed: never None (unlike
        :attr:`QueueWithDlqBase.encryption_key <constructs_sqs.QueueWithDlqBase>`), so
        ``queue.encryption_key.key_arn`` type-checks.
    queue, dead_letter_queue, fifo, visibility_timeout, visibility_timeout_given, retention_period,
    dead_letter_retention_period, max_receive_count, queue_name, dead_letter_queue_name:
        As for :class:`~constructs_sqs.QueueWithDlqBase`.

    Raises
    ------
    ConfigurationError
        (a ``ValueError``) listing every invalid argument of the call.
    """

    encryption_key: kms.IKey

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
        max_receive_count: int | None = None,
        delivery_delay: Duration | None = None,
        receive_message_wait_time: Duration | None = None,
        max_message_size_bytes: int | None = None,
        removal_policy: RemovalPolicy | None = None,
        dead_letter_removal_policy: RemovalPolicy | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
    ) -> None:
        check_construct_arguments(type(self).__name__, scope, id)
        super().__init__(scope, id)
        problems = Problems(self.node.path)
        plan = plan_queue_pair(problems, arguments_of(QueueOptions, locals()), fifo=False)
        check_key(problems, "encryption_master_key", encryption_master_key)
        _limits.DATA_KEY_REUSE.check(problems, "data_key_reuse", data_key_reuse)
        names = claim_names(problems, self, plan, fifo=False)
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
            removal_policies=(plan.removal_policy, plan.dead_letter_removal_policy),
            description=f"constructs-sqs: encrypts the queue {self.node.path} and its DLQ",
        )
        self._hold(
            build_queue_pair(
                self,
                plan,
                names=names,
                fifo=False,
                encryption=sqs.QueueEncryption.KMS,
                encryption_master_key=key,
                data_key_reuse=data_key_reuse or _defaults.DATA_KEY_REUSE,
            )
        )

    @classmethod
    def from_queue_arns(
        cls,
        scope: Construct,
        id: str,
        *,
        queue_arn: str,
        dead_letter_queue_arn: str,
        key_arn: str,
    ) -> ImportedQueueWithDlq:
        """Use an encrypted standard queue and DLQ that another stack or app created.

        Parameters
        ----------
        queue_arn, dead_letter_queue_arn:
            ARNs of the queue and its DLQ (``arn:PARTITION:sqs:REGION:ACCOUNT:NAME``, standard queues: no
            ``.fifo``), in one account and region. Tokens (``Fn.import_value``) are accepted unchecked.
        key_arn:
            ARN of the key that encrypts both (``arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID``, not an
            alias): without it, grants lack the ``kms:`` actions and consumers fail with
            ``KMS.AccessDeniedException``.

        Returns
        -------
        ImportedQueueWithDlq
            With ``queue``, ``dead_letter_queue``, ``encryption_key`` and the grant methods.

        Raises
        ------
        ConfigurationError
            For an ARN that is not of the kind above.
        """
        if key_arn is None:
            raise ConfigurationError(
                f"{getattr(getattr(scope, 'node', None), 'path', scope)}/{id}",
                [
                    "key_arn must be the ARN of the key that encrypts the queue, got None: without it "
                    "grants give no kms:Decrypt and consumers of the queue fail"
                ],
            )
        return ImportedQueueWithDlq(
            scope, id, queue_arn=queue_arn, dead_letter_queue_arn=dead_letter_queue_arn, key_arn=key_arn, fifo=False
        )
