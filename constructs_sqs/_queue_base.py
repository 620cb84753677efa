"""What every queue pattern shares: the queue + DLQ builder, the grants, service producers, imports.

``FifoQueueWithDlq`` and ``EncryptedQueue`` are thin front doors onto :func:`build_queue_pair`; they
choose the queue type and the encryption, and this module does the rest the same way for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_cdk import ArnFormat, Duration, Names, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import _defaults
from ._validation import (
    FIFO_SUFFIX,
    acknowledge,
    QUEUE_NAME_MAX_LENGTH,
    ConfigurationError,
    Problems,
    is_aws_managed_sqs_key,
    retention_of,
)
from .queue_alarms import QueueAlarms

if TYPE_CHECKING:
    from collections.abc import Sequence


__all__ = ["ImportedQueueWithDlq", "QueueOptions", "QueueWithDlqBase", "build_queue_pair", "check_queue_options", "created_key"]

DEAD_LETTER_SUFFIX = "-dlq"

# The actions of the grants, listed once so docstrings, README and tests agree.
SEND_ACTIONS = ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")
CONSUME_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueUrl",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
)
PURGE_ACTIONS = ("sqs:PurgeQueue", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")
PRODUCER_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
CONSUMER_KEY_ACTIONS = ("kms:Decrypt",)
REDRIVE_DEAD_LETTER_ACTIONS = (
    "sqs:StartMessageMoveTask",
    "sqs:ListMessageMoveTasks",
    "sqs:CancelMessageMoveTask",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
)
SERVICE_PRODUCER_KEY_ACTIONS = ("kms:GenerateDataKey*", "kms:Decrypt")


class QueueWithDlqBase(Construct):
    """A queue and its dead-letter queue, created here or imported; the attributes every pattern has.

    Attributes
    ----------
    queue:
        The source queue.
    dead_letter_queue:
        The queue that receives messages after ``max_receive_count`` failed receives.
    encryption_key:
        The customer-managed KMS key of both queues, or None for SSE-SQS.
    fifo:
        True for FIFO queues.
    visibility_timeout, retention_period, max_receive_count:
        The values in force, or None where they are not known (imported queues).
    visibility_timeout_given:
        False when the visibility timeout is the library default, which a Lambda consumer may derive anew.
    queue_name, dead_letter_queue_name:
        The physical names (given or derived); for imported queues, the names in their ARNs; None for a
        DLQ the caller passed.
    """

    queue: sqs.IQueue
    dead_letter_queue: sqs.IQueue
    encryption_key: kms.IKey | None
    fifo: bool
    visibility_timeout: Duration | None
    visibility_timeout_given: bool
    retention_period: Duration | None
    max_receive_count: int | None
    queue_name: str | None
    dead_letter_queue_name: str | None

    # --- Grants ----------------------------------------------------------------------------------

    def grant_send_messages(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` send to the queue.

        Gives ``sqs:SendMessage``, ``sqs:GetQueueAttributes``, ``sqs:GetQueueUrl`` on the queue and, for
        a customer-managed key, ``kms:GenerateDataKey`` and ``kms:Decrypt`` on the key: exactly what
        SQS asks of a producer, without aws-cdk-lib's ``kms:ReEncrypt*`` and ``kms:GenerateDataKey*``
        wildcards (cdk-nag AwsSolutions-IAM5).
        """
        return self._grant(self.queue, grantee, SEND_ACTIONS, PRODUCER_KEY_ACTIONS)

    def grant_consume_messages(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` receive and delete messages of the queue.

        Gives ``sqs:ReceiveMessage``, ``sqs:ChangeMessageVisibility``, ``sqs:GetQueueUrl``,
        ``sqs:DeleteMessage``, ``sqs:GetQueueAttributes`` on the queue and ``kms:Decrypt`` on the key.
        """
        return self._grant(self.queue, grantee, CONSUME_ACTIONS, CONSUMER_KEY_ACTIONS)

    def grant_purge(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` purge the queue: ``sqs:PurgeQueue``, ``sqs:GetQueueAttributes``,
        ``sqs:GetQueueUrl``."""
        return self._grant(self.queue, grantee, PURGE_ACTIONS, ())

    def grant_consume_dead_letters(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read and delete the messages of the dead-letter queue (RELIABILITY K4).

        Gives the consume actions of :meth:`grant_consume_messages` on the DLQ and ``kms:Decrypt`` on
        its key: without the key, a reader of an encrypted DLQ gets ``KMS.AccessDeniedException``.
        """
        return self._grant(self.dead_letter_queue, grantee, CONSUME_ACTIONS, CONSUMER_KEY_ACTIONS)

    def grant_redrive(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` move messages from the DLQ back to the queue (``StartMessageMoveTask``).

        Gives ``sqs:StartMessageMoveTask``, ``sqs:ListMessageMoveTasks``, ``sqs:CancelMessageMoveTask``,
        ``sqs:ReceiveMessage``, ``sqs:DeleteMessage``, ``sqs:GetQueueAttributes`` on the DLQ,
        ``sqs:SendMessage`` on the queue, and ``kms:GenerateDataKey``, ``kms:Decrypt`` on the key.
        """
        grant = self._grant(self.dead_letter_queue, grantee, REDRIVE_DEAD_LETTER_ACTIONS, ())
        return grant.combine(self._grant(self.queue, grantee, ("sqs:SendMessage",), PRODUCER_KEY_ACTIONS))

    def _grant(
        self,
        queue: sqs.IQueue,
        grantee: iam.IGrantable,
        actions: Sequence[str],
        key_actions: Sequence[str],
    ) -> iam.Grant:
        grant = queue.grant(grantee, *actions)
        # The AWS-managed key alias/aws/sqs already lets the account's principals use it through SQS,
        # and its policy is not ours to extend: grants stop at the queue.
        key = self.encryption_key
        if key_actions and key is not None and not is_aws_managed_sqs_key(key):
            grant = grant.combine(key.grant(grantee, *key_actions))
        return grant

    # --- Alarms ----------------------------------------------------------------------------------

    def add_alarms(self, **kwargs: Any) -> QueueAlarms:
        """Watch this queue and its DLQ: CloudWatch alarms, an encrypted alarm topic and a dashboard.

        Returns ``QueueAlarms(self, "Alarms", queue=self, **kwargs)``; see :class:`~constructs_sqs.QueueAlarms`
        for the alarms and the arguments (``topic``, ``alarm_email``, ``depth_threshold``, ``age_threshold``,
        ``age_slo``, ``dashboard``, ...). The construct id ``Alarms`` is fixed: call it once per queue.
        """
        return QueueAlarms(self, "Alarms", queue=self, **kwargs)

    # --- Service producers -----------------------------------------------------------------------

    def allow_service_producer(self, principal: iam.ServicePrincipal | str, source_arn: str) -> None:
        """Let an AWS service (SNS, EventBridge, S3, CloudWatch, ...) send to the queue.

        Adds a queue policy statement allowing ``sqs:SendMessage`` to the service principal and, when
        the queue has a customer-managed key, a key policy statement allowing ``kms:GenerateDataKey*``
        and ``kms:Decrypt``; both are scoped by ``aws:SourceArn`` so only ``source_arn`` can publish
        (RELIABILITY Q3, K2). Without the key statement the service's messages are dropped silently.

        Parameters
        ----------
        principal:
            The service principal, e.g. ``iam.ServicePrincipal("sns.amazonaws.com")`` or
            ``"events.amazonaws.com"``.
        source_arn:
            The ARN of the topic, rule, bucket or alarm that publishes. When that producer's own
            definition names this queue (an EventBridge rule target, an S3 notification), pass an ARN
            built from its name with ``Stack.format_arn``: a ``Ref``/``GetAtt`` of the producer would
            make a dependency cycle (key policy -> rule -> queue -> key), which synth reports as F3004.

        Raises
        ------
        ConfigurationError
            When the queue is encrypted with the AWS-managed key ``alias/aws/sqs``, whose key policy
            cannot let a service use it (K3), or when the queue is imported and its policy is not ours.
        """
        if isinstance(principal, str):
            principal = iam.ServicePrincipal(principal)
        problems = Problems(f"{self.node.path}.allow_service_producer")
        if is_aws_managed_sqs_key(self.encryption_key):
            problems.add(
                f"principal {principal.service!r} cannot publish to a queue encrypted with the "
                "AWS-managed key 'alias/aws/sqs': its key policy cannot grant a service "
                "kms:GenerateDataKey*, so messages would be dropped; use encryption=SQS_MANAGED, "
                "a customer-managed key, or EncryptedQueue"
            )
        if isinstance(self, ImportedQueueWithDlq):
            problems.add(
                "the queue is imported (from_queue_arns): add the queue and key policy statements in "
                "the stack that owns the queue"
            )
        problems.raise_if_any()

        condition = {"ArnEquals": {"aws:SourceArn": source_arn}}
        self.queue.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["sqs:SendMessage"],
                principals=[principal],
                resources=[self.queue.queue_arn],
                conditions=condition,
            )
        )
        if self.encryption_key is not None:
            result = self.encryption_key.add_to_resource_policy(
                iam.PolicyStatement(
                    actions=list(SERVICE_PRODUCER_KEY_ACTIONS),
                    principals=[principal],
                    resources=["*"],
                    conditions=condition,
                )
            )
            if not result.statement_added:
                raise ConfigurationError(
                    f"{self.node.path}.allow_service_producer",
                    [
                        f"principal {principal.service!r}: the key {self.encryption_key.node.path} is "
                        "imported, so its key policy cannot be changed here; pass a key created in this "
                        "app, or add a statement allowing kms:GenerateDataKey* and kms:Decrypt to the "
                        "service, scoped by aws:SourceArn, to the key's policy where it is defined"
                    ],
                )


class ImportedQueueWithDlq(QueueWithDlqBase):
    """A queue and DLQ created by another stack or app, with the same attributes and grants.

    Made by ``FifoQueueWithDlq.from_queue_arns`` or ``EncryptedQueue.from_queue_arns``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        queue_arn: str,
        dead_letter_queue_arn: str,
        key_arn: str | None = None,
        fifo: bool,
    ) -> None:
        super().__init__(scope, id)
        problems = Problems(self.node.path)
        for argument, arn in (("queue_arn", queue_arn), ("dead_letter_queue_arn", dead_letter_queue_arn)):
            if Token.is_unresolved(arn):
                continue
            parts = arn.split(":")
            if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs":
                problems.add(f"{argument} must be an SQS queue ARN (arn:PARTITION:sqs:REGION:ACCOUNT:NAME), got {arn!r}")
                continue
            problems.queue_name(argument, parts[5], fifo=fifo)
        problems.raise_if_any()

        self.encryption_key = kms.Key.from_key_arn(self, "Key", key_arn) if key_arn else None
        self.fifo = fifo
        self.queue = sqs.Queue.from_queue_attributes(
            self, "Queue", queue_arn=queue_arn, key_arn=key_arn, fifo=fifo
        )
        self.dead_letter_queue = sqs.Queue.from_queue_attributes(
            self, "DeadLetterQueue", queue_arn=dead_letter_queue_arn, key_arn=key_arn, fifo=fifo
        )
        self.visibility_timeout = None
        self.visibility_timeout_given = True
        self.retention_period = None
        self.max_receive_count = None
        self.queue_name = self.queue.queue_name
        self.dead_letter_queue_name = self.dead_letter_queue.queue_name


@dataclass(frozen=True)
class QueueOptions:
    """The options both patterns take, after defaults are applied (see ``_defaults``)."""

    queue_name: str | None
    dead_letter_queue_name: str | None
    visibility_timeout: Duration
    visibility_timeout_given: bool
    retention_period: Duration
    dead_letter_retention_period: Duration
    max_receive_count: int
    delivery_delay: Duration
    receive_message_wait_time: Duration
    max_message_size_bytes: int
    removal_policy: RemovalPolicy
    dead_letter_removal_policy: RemovalPolicy
    dead_letter_queue: sqs.IQueue | None

    @classmethod
    def with_defaults(
        cls,
        *,
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
        visibility_timeout_given: bool | None = None,
    ) -> QueueOptions:
        """The caller's arguments, with the library's default for each one left unset (None).

        ``visibility_timeout_given`` defaults to whether ``visibility_timeout`` was passed; a consumer
        that passes a derived value says False.
        """
        return cls(
            queue_name=queue_name,
            dead_letter_queue_name=dead_letter_queue_name,
            visibility_timeout=visibility_timeout or _defaults.VISIBILITY_TIMEOUT,
            visibility_timeout_given=(
                visibility_timeout is not None if visibility_timeout_given is None else visibility_timeout_given
            ),
            retention_period=retention_period or _defaults.RETENTION_PERIOD,
            dead_letter_retention_period=dead_letter_retention_period or _defaults.DEAD_LETTER_RETENTION_PERIOD,
            max_receive_count=_defaults.MAX_RECEIVE_COUNT if max_receive_count is None else max_receive_count,
            delivery_delay=delivery_delay or _defaults.DELIVERY_DELAY,
            receive_message_wait_time=receive_message_wait_time or _defaults.RECEIVE_MESSAGE_WAIT_TIME,
            max_message_size_bytes=(
                _defaults.MAX_MESSAGE_SIZE_BYTES if max_message_size_bytes is None else max_message_size_bytes
            ),
            removal_policy=removal_policy or _defaults.REMOVAL_POLICY,
            dead_letter_removal_policy=dead_letter_removal_policy or _defaults.DEAD_LETTER_REMOVAL_POLICY,
            dead_letter_queue=dead_letter_queue,
        )


def check_queue_options(problems: Problems, options: QueueOptions, *, fifo: bool) -> None:
    """Add every problem of ``options`` to ``problems`` (RELIABILITY Q5-Q9)."""
    problems.queue_name("queue_name", options.queue_name, fifo=fifo)
    problems.queue_name("dead_letter_queue_name", options.dead_letter_queue_name, fifo=fifo)
    problems.int_between("max_receive_count", options.max_receive_count, 1, 1000)
    problems.duration_between("retention_period", options.retention_period, Duration.seconds(60), Duration.days(14))
    problems.duration_between(
        "dead_letter_retention_period", options.dead_letter_retention_period, Duration.seconds(60), Duration.days(14)
    )
    problems.duration_between("visibility_timeout", options.visibility_timeout, Duration.seconds(0), Duration.hours(12))
    problems.duration_between("delivery_delay", options.delivery_delay, Duration.seconds(0), Duration.seconds(900))
    problems.duration_between(
        "receive_message_wait_time", options.receive_message_wait_time, Duration.seconds(0), Duration.seconds(20)
    )
    problems.int_between("max_message_size_bytes", options.max_message_size_bytes, 1_024, 1_048_576, "bytes")
    problems.dead_letter_type(options.dead_letter_queue, fifo=fifo)
    if options.dead_letter_queue is None:
        problems.retention_order(options.retention_period, options.dead_letter_retention_period)
    else:
        given = retention_of(options.dead_letter_queue)
        if given is not None:
            problems.retention_order(
                options.retention_period, given, argument="dead_letter_queue's retention period"
            )
    name = options.queue_name
    if (
        options.dead_letter_queue is None
        and options.dead_letter_queue_name is None
        and name is not None
        and not Token.is_unresolved(name)
    ):
        derived = _stem(name) + DEAD_LETTER_SUFFIX + (FIFO_SUFFIX if fifo else "")
        if len(derived) > QUEUE_NAME_MAX_LENGTH:
            problems.add(
                f"queue_name {name!r} leaves no room for the DLQ name derived from it, {derived!r} "
                f"({len(derived)} characters, at most {QUEUE_NAME_MAX_LENGTH}): shorten queue_name or "
                "pass dead_letter_queue_name"
            )
    if options.dead_letter_queue is not None and options.dead_letter_queue_name is not None:
        problems.add(
            f"dead_letter_queue_name ({options.dead_letter_queue_name!r}) names a DLQ this pattern "
            "would create, but dead_letter_queue passes an existing one: give one or the other"
        )


def _stem(name: str) -> str:
    return name[: -len(FIFO_SUFFIX)] if name.endswith(FIFO_SUFFIX) else name


def generated_names(scope: Construct, options: QueueOptions, *, fifo: bool) -> tuple[str, str]:
    """The names of the queue and DLQ: the caller's, or stable ones derived from the construct path.

    A name is needed even when the caller gives none: the DLQ's byQueue redrive allow policy names its
    source by ARN, and an ARN built from a known name (``Stack.format_arn``) has no dependency on the
    source queue, where ``queue.queue_arn`` would make a cycle (source -> DLQ ARN -> source ARN).
    The DLQ is named ``<queue stem>-dlq`` (plus ``.fifo``) unless ``dead_letter_queue_name`` is given.
    """
    suffix = FIFO_SUFFIX if fifo else ""
    if options.queue_name is not None:
        queue_name = options.queue_name
    else:
        room = _defaults.GENERATED_NAME_MAX_LENGTH - len(DEAD_LETTER_SUFFIX)
        queue_name = Names.unique_resource_name(scope, max_length=room, separator="-") + suffix
    dead_letter_name = options.dead_letter_queue_name or _stem(queue_name) + DEAD_LETTER_SUFFIX + suffix
    return queue_name, dead_letter_name


def build_queue_pair(
    scope: QueueWithDlqBase,
    options: QueueOptions,
    *,
    fifo: bool,
    encryption: sqs.QueueEncryption,
    encryption_master_key: kms.IKey | None,
    data_key_reuse: Duration | None,
    fifo_settings: dict[str, object] | None = None,
) -> None:
    """Create the DLQ (unless given) and the source queue under ``scope`` and set its attributes.

    Call it after :func:`check_queue_options` found no problem. ``fifo_settings`` are extra
    ``sqs.Queue`` arguments that queue and DLQ share (deduplication scope, throughput limit).
    """
    queue_name, dead_letter_name = generated_names(scope, options, fifo=fifo)

    shared: dict[str, object] = {
        "fifo": True if fifo else None,
        "enforce_ssl": _defaults.ENFORCE_SSL,
        "encryption": encryption,
        "encryption_master_key": encryption_master_key,
        "data_key_reuse": data_key_reuse,
        "receive_message_wait_time": options.receive_message_wait_time,
        "max_message_size_bytes": options.max_message_size_bytes,
        **(fifo_settings or {}),
    }

    if options.dead_letter_queue is None:
        source_arn = Stack.of(scope).format_arn(
            service="sqs", resource=queue_name, arn_format=ArnFormat.NO_RESOURCE_NAME
        )
        dead_letter_queue: sqs.IQueue = sqs.Queue(
            scope,
            "DeadLetterQueue",
            queue_name=dead_letter_name,
            retention_period=options.dead_letter_retention_period,
            removal_policy=options.dead_letter_removal_policy,
            redrive_allow_policy=sqs.RedriveAllowPolicy(
                redrive_permission=sqs.RedrivePermission.BY_QUEUE,
                source_queues=[sqs.Queue.from_queue_arn(scope, "RedriveSource", source_arn)],
            ),
            **shared,  # type: ignore[arg-type]
        )
    else:
        dead_letter_queue = options.dead_letter_queue
    # Compliance: cdk-nag's Serverless-SQSRedrivePolicy asks the DLQ for a DLQ of its own, which a DLQ
    # does not have; acknowledged with the reason in _defaults.DEAD_LETTER_QUEUE_ACKNOWLEDGMENTS, also
    # on a DLQ the caller gives, since this pattern is what makes it one.
    acknowledge(dead_letter_queue, _defaults.DEAD_LETTER_QUEUE_ACKNOWLEDGMENTS)

    queue = sqs.Queue(
        scope,
        "Resource",
        queue_name=queue_name,
        visibility_timeout=options.visibility_timeout,
        retention_period=options.retention_period,
        delivery_delay=options.delivery_delay,
        removal_policy=options.removal_policy,
        dead_letter_queue=sqs.DeadLetterQueue(
            queue=dead_letter_queue, max_receive_count=options.max_receive_count
        ),
        **shared,  # type: ignore[arg-type]
    )

    scope.queue = queue
    scope.dead_letter_queue = dead_letter_queue
    scope.encryption_key = queue.encryption_master_key
    scope.fifo = fifo
    scope.visibility_timeout = options.visibility_timeout
    scope.visibility_timeout_given = options.visibility_timeout_given
    scope.retention_period = options.retention_period
    scope.max_receive_count = options.max_receive_count
    scope.queue_name = queue_name
    scope.dead_letter_queue_name = None if options.dead_letter_queue is not None else dead_letter_name


def created_key(
    scope: Construct, *, removal_policies: Sequence[RemovalPolicy], description: str
) -> kms.Key:
    """A customer-managed key with rotation on, kept while any queue that uses it may be kept."""
    keep = any(policy != RemovalPolicy.DESTROY for policy in removal_policies)
    return kms.Key(
        scope,
        "Key",
        description=description,
        enable_key_rotation=_defaults.KEY_ROTATION,
        pending_window=_defaults.KEY_PENDING_WINDOW,
        removal_policy=RemovalPolicy.RETAIN if keep else RemovalPolicy.DESTROY,
    )
