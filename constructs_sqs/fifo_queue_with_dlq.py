"""``FifoQueueWithDlq``: a FIFO queue with a FIFO dead-letter queue."""

from __future__ import annotations

from dataclasses import replace

from aws_cdk import Duration, RemovalPolicy
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
from ._validation import AWS_MANAGED_SQS_KEY_ALIAS, BOOLEAN, Kind, Problems, arguments_of, check_construct_arguments

__all__ = ["FifoQueueWithDlq"]


@keyword_signature
class FifoQueueWithDlq(QueueWithDlqBase):
    """A FIFO queue and a FIFO dead-letter queue, encrypted, TLS-only, with long polling.

    Messages that fail ``max_receive_count`` receives move to the DLQ, whose redrive allow policy names
    this queue only. Both queues share encryption, deduplication and throughput settings, so a message
    redriven from the DLQ is handled as it was the first time.

    Example::

        orders = FifoQueueWithDlq(self, "Orders", queue_name="orders.fifo",
                                  content_based_deduplication=True)
        orders.grant_send_messages(checkout_function)

    Parameters
    ----------
    queue_name:
        Name of the queue, ending in ``.fifo``, at most 80 characters of ``[A-Za-z0-9_-]``.
        Default: a stable name derived from the construct path. Changing it replaces the queue.
    dead_letter_queue_name:
        Name of the DLQ. Default: the queue name with ``-dlq`` before ``.fifo``.
    content_based_deduplication:
        Deduplicate on a SHA-256 of the body when the producer sends no deduplication id.
        Default: False.
    high_throughput:
        Deduplicate and limit throughput per message group instead of per queue, on queue and DLQ
        (``deduplication_scope=MESSAGE_GROUP``, ``fifo_throughput_limit=PER_MESSAGE_GROUP_ID``).
        Default: False.
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
    encryption:
        ``SQS_MANAGED`` (SSE-SQS), ``KMS_MANAGED`` (the AWS-managed key ``alias/aws/sqs``) or ``KMS``
        (a customer-managed key, created with rotation unless ``encryption_master_key`` is given).
        ``UNENCRYPTED`` is refused. Default: ``sqs.QueueEncryption.SQS_MANAGED``.
    encryption_master_key:
        A customer-managed key for both queues; implies ``encryption=KMS``. Default: - none.
    data_key_reuse:
        How long SQS reuses a data key, 60 s to 24 h, with a KMS key only. Default: ``Duration.minutes(5)``.
    removal_policy:
        What happens to the queue when it leaves the stack. Default: ``RemovalPolicy.DESTROY``.
    dead_letter_removal_policy:
        What happens to the DLQ when it leaves the stack. Default: ``RemovalPolicy.RETAIN``.
    dead_letter_queue:
        An existing FIFO queue to use as the DLQ instead of creating one; its retention must be longer
        than ``retention_period`` (checked when it is defined in this app), and its redrive allow policy
        is its owner's to set. Default: - a DLQ is created.

    Attributes
    ----------
    content_based_deduplication, high_throughput:
        The values in force.
    queue, dead_letter_queue, encryption_key, fifo, visibility_timeout, visibility_timeout_given, retention_period,
    dead_letter_retention_period, max_receive_count, queue_name, dead_letter_queue_name:
        As for :class:`~constructs_sqs.QueueWithDlqBase`.

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
        queue_name: str | None = None,
        dead_letter_queue_name: str | None = None,
        content_based_deduplication: bool = _defaults.CONTENT_BASED_DEDUPLICATION,
        high_throughput: bool = _defaults.HIGH_THROUGHPUT,
        visibility_timeout: Duration | None = None,
        retention_period: Duration | None = None,
        dead_letter_retention_period: Duration | None = None,
        max_receive_count: int | None = None,
        delivery_delay: Duration | None = None,
        receive_message_wait_time: Duration | None = None,
        max_message_size_bytes: int | None = None,
        encryption: sqs.QueueEncryption | None = None,
        encryption_master_key: kms.IKey | None = None,
        data_key_reuse: Duration | None = None,
        removal_policy: RemovalPolicy | None = None,
        dead_letter_removal_policy: RemovalPolicy | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
    ) -> None:
        check_construct_arguments(type(self).__name__, scope, id)
        super().__init__(scope, id)
        problems = Problems(self.node.path)
        plan = plan_queue_pair(problems, arguments_of(QueueOptions, locals()), fifo=True)
        for argument, value in (
            ("content_based_deduplication", content_based_deduplication),
            ("high_throughput", high_throughput),
        ):
            problems.of_kind(argument, value, BOOLEAN)
        chosen = _check_encryption(problems, encryption, encryption_master_key, data_key_reuse)
        names = claim_names(problems, self, plan, fifo=True)
        problems.raise_if_any()
        assert chosen is not None

        key = encryption_master_key
        if chosen == sqs.QueueEncryption.KMS and key is None:
            key = created_key(
                self,
                removal_policies=(plan.removal_policy, plan.dead_letter_removal_policy),
                description=f"constructs-sqs: encrypts the FIFO queue {self.node.path} and its DLQ",
            )
        fifo_settings: dict[str, object] = {"content_based_deduplication": content_based_deduplication}
        if high_throughput:
            fifo_settings["deduplication_scope"] = sqs.DeduplicationScope.MESSAGE_GROUP
            fifo_settings["fifo_throughput_limit"] = sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID
        kms_encrypted = chosen != sqs.QueueEncryption.SQS_MANAGED
        pair = build_queue_pair(
            self,
            plan,
            names=names,
            fifo=True,
            encryption=chosen,
            encryption_master_key=key,
            data_key_reuse=(data_key_reuse or _defaults.DATA_KEY_REUSE) if kms_encrypted else None,
            fifo_settings=fifo_settings,
        )
        if chosen == sqs.QueueEncryption.KMS_MANAGED:
            # aws-cdk-lib leaves encryption_master_key unset for KMS_MANAGED; name the key it uses, so
            # grants and allow_service_producer see it.
            pair = replace(
                pair, encryption_key=kms.Alias.from_alias_name(self, "AwsManagedKey", AWS_MANAGED_SQS_KEY_ALIAS)
            )
        self._hold(pair)
        self.high_throughput = high_throughput
        self.content_based_deduplication = content_based_deduplication

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
        """Use a FIFO queue and DLQ that another stack or app created.

        Parameters
        ----------
        queue_arn, dead_letter_queue_arn:
            ARNs of the queue and its DLQ (``arn:PARTITION:sqs:REGION:ACCOUNT:NAME``), names ending in
            ``.fifo``, in one account and region. Tokens (``Fn.import_value``) are accepted unchecked.
        key_arn:
            ARN of their customer-managed key (``arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID``, not an
            alias), so that grants include the KMS actions. Default: - SSE-SQS, no key.

        Returns
        -------
        ImportedQueueWithDlq
            With ``queue``, ``dead_letter_queue``, ``encryption_key`` and the grant methods.

        Raises
        ------
        ConfigurationError
            For an ARN that is not of the kind above.
        """
        return ImportedQueueWithDlq(
            scope, id, queue_arn=queue_arn, dead_letter_queue_arn=dead_letter_queue_arn, key_arn=key_arn, fifo=True
        )


_ENCRYPTION = Kind.of("an sqs.QueueEncryption", sqs.QueueEncryption)


def _check_encryption(
    problems: Problems, encryption: object, key: object, data_key_reuse: object
) -> sqs.QueueEncryption | None:
    """The encryption in force: KMS with a key, else ``encryption``, else SSE-SQS; problems for the rest."""
    if not problems.of_kind("encryption", encryption, _ENCRYPTION):
        return None
    check_key(problems, "encryption_master_key", key)
    if key is not None and encryption not in (None, sqs.QueueEncryption.KMS):
        problems.add(f"encryption must be KMS (or left unset) when encryption_master_key is given, got {encryption}")
    if encryption == sqs.QueueEncryption.UNENCRYPTED:
        problems.add(
            "encryption must be SQS_MANAGED, KMS_MANAGED or KMS, got UNENCRYPTED: every queue of "
            "this library is encrypted (Security Hub SQS.1)"
        )
    chosen = sqs.QueueEncryption.KMS if key is not None else (encryption or _defaults.ENCRYPTION)
    if data_key_reuse is not None and chosen == sqs.QueueEncryption.SQS_MANAGED:
        problems.add(
            "data_key_reuse applies only to KMS encryption, got it with encryption=SQS_MANAGED: "
            "pass encryption=KMS or encryption_master_key, or drop data_key_reuse"
        )
    _limits.DATA_KEY_REUSE.check(problems, "data_key_reuse", data_key_reuse)
    return chosen  # type: ignore[return-value]
