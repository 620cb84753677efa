"""What every queue pattern shares: the queue + DLQ plan and builder, the grants, service producers, imports.

``FifoQueueWithDlq`` and ``EncryptedQueue`` are thin front doors onto :func:`plan_queue_pair` and
:func:`build_queue_pair`; they choose the queue type and the encryption, and this module does the rest the
same way for both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, cast

from aws_cdk import ArnFormat, Duration, Names, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct, Node

from ._add_alarms import AlarmsMixin
from ._jsii import keyword_signature
from . import _defaults, _limits, _producers
from ._facts import QueueFacts, derived_visibility_of
from ._validation import (
    FIFO_SUFFIX,
    KMS_KEY_ARN,
    QUEUE_NAME_MAX_LENGTH,
    SQS_QUEUE_ARN,
    ConfigurationError,
    Kind,
    Problems,
    acknowledge,
    check_construct_arguments,
    claim,
    duration,
    environment_of,
    format_duration,
    is_aws_managed_sqs_key,
    is_unresolved,
    retention_of,
    seconds_of,
)

if TYPE_CHECKING:
    from collections.abc import Sequence


__all__ = [
    "GrantTarget",
    "ImportedQueueWithDlq",
    "QueueOptions",
    "QueuePair",
    "QueuePlan",
    "QueueWithDlqBase",
    "build_queue_pair",
    "created_key",
    "plan_queue_pair",
]

DEAD_LETTER_SUFFIX = "-dlq"

# The actions of the grants, listed once so docstrings, the documentation and tests agree.
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

GRANTEE = Kind.interface("an iam.IGrantable (a role, a function, a user, ...)", iam.IGrantable)
QUEUE = Kind.interface("an sqs.IQueue", sqs.IQueue)
KEY = Kind.interface("a kms.IKey", kms.IKey)
REMOVAL_POLICY = Kind.of("a RemovalPolicy", RemovalPolicy)
SERVICE_PRINCIPAL = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com(\.cn)?")
# Services whose aws:SourceArn names one of their own resources: a principal and an ARN of different
# services never match, and the service's messages would be refused.
_SOURCE_SERVICES = {"sns": "sns", "events": "events", "s3": "s3", "cloudwatch": "cloudwatch"}


def grant(
    queue: sqs.IQueue,
    key: kms.IKey | None,
    grantee: iam.IGrantable,
    actions: Sequence[str],
    key_actions: Sequence[str],
    *,
    where: str,
) -> iam.Grant:
    """Grant ``actions`` on ``queue`` and ``key_actions`` on its customer-managed ``key``.

    The AWS-managed key ``alias/aws/sqs`` already lets the account's principals use it through SQS, and
    its policy is not ours to extend: grants stop at the queue.
    """
    problems = Problems(where)
    problems.of_kind("grantee", grantee, GRANTEE)
    problems.raise_if_any()
    given = queue.grant(grantee, *actions)
    if key_actions and key is not None and not is_aws_managed_sqs_key(key):
        given = given.combine(key.grant(grantee, *key_actions))
    return given


class GrantTarget(Protocol):
    """What :class:`QueueGrants` needs of the construct it is mixed into (the contract of the mixin, checked by
    mypy where a grant method is called): a queue, its DLQ where known, their key, and a node for messages."""

    @property
    def node(self) -> Node: ...

    @property
    def queue(self) -> sqs.IQueue: ...

    @property
    def dead_letter_queue(self) -> sqs.IQueue | None: ...

    @property
    def encryption_key(self) -> kms.IKey | None: ...


class QueueGrants:
    """The grants of everything that holds a queue (the patterns, ``LambdaTriggeredQueue``): exact SQS and
    KMS actions, written once. The class it is mixed into is a :class:`GrantTarget`."""

    def grant_send_messages(self: GrantTarget, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` send to the queue.

        Gives ``sqs:SendMessage``, ``sqs:GetQueueAttributes``, ``sqs:GetQueueUrl`` on the queue and, for
        a customer-managed key, ``kms:GenerateDataKey`` and ``kms:Decrypt`` on the key: exactly what
        SQS asks of a producer, without aws-cdk-lib's ``kms:ReEncrypt*`` and ``kms:GenerateDataKey*``
        wildcards (cdk-nag AwsSolutions-IAM5).
        """
        return _grant(self, self.queue, grantee, SEND_ACTIONS, PRODUCER_KEY_ACTIONS, "grant_send_messages")

    def grant_consume_messages(self: GrantTarget, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` receive and delete messages of the queue.

        Gives ``sqs:ReceiveMessage``, ``sqs:ChangeMessageVisibility``, ``sqs:GetQueueUrl``,
        ``sqs:DeleteMessage``, ``sqs:GetQueueAttributes`` on the queue and ``kms:Decrypt`` on the key.
        """
        return _grant(self, self.queue, grantee, CONSUME_ACTIONS, CONSUMER_KEY_ACTIONS, "grant_consume_messages")

    def grant_purge(self: GrantTarget, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` purge the queue: ``sqs:PurgeQueue``, ``sqs:GetQueueAttributes``,
        ``sqs:GetQueueUrl``."""
        return _grant(self, self.queue, grantee, PURGE_ACTIONS, (), "grant_purge")

    def grant_consume_dead_letters(self: GrantTarget, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read and delete the messages of the dead-letter queue (rule K4).

        Gives the consume actions of :meth:`grant_consume_messages` on the DLQ and ``kms:Decrypt`` on
        its key: without the key, a reader of an encrypted DLQ gets ``KMS.AccessDeniedException``.
        """
        dead_letter_queue = _granted_dead_letter_queue(self, "grant_consume_dead_letters")
        return _grant(
            self, dead_letter_queue, grantee, CONSUME_ACTIONS, CONSUMER_KEY_ACTIONS, "grant_consume_dead_letters"
        )

    def grant_redrive(self: GrantTarget, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` move messages from the DLQ back to the queue (``StartMessageMoveTask``).

        Gives ``sqs:StartMessageMoveTask``, ``sqs:ListMessageMoveTasks``, ``sqs:CancelMessageMoveTask``,
        ``sqs:ReceiveMessage``, ``sqs:DeleteMessage``, ``sqs:GetQueueAttributes`` on the DLQ,
        ``sqs:SendMessage`` on the queue, and ``kms:GenerateDataKey``, ``kms:Decrypt`` on the key.
        """
        dead_letter_queue = _granted_dead_letter_queue(self, "grant_redrive")
        given = _grant(self, dead_letter_queue, grantee, REDRIVE_DEAD_LETTER_ACTIONS, (), "grant_redrive")
        return given.combine(
            _grant(self, self.queue, grantee, ("sqs:SendMessage",), PRODUCER_KEY_ACTIONS, "grant_redrive")
        )


def _granted_dead_letter_queue(target: GrantTarget, method: str) -> sqs.IQueue:
    """The DLQ a grant names (a holder that does not know its DLQ refuses here)."""
    if target.dead_letter_queue is None:
        raise ConfigurationError(
            f"{target.node.path}.{method}",
            ["the queue has no dead-letter queue this construct knows of: grant on the DLQ where it is defined"],
        )
    return target.dead_letter_queue


def _grant(
    target: GrantTarget,
    queue: sqs.IQueue,
    grantee: iam.IGrantable,
    actions: Sequence[str],
    key_actions: Sequence[str],
    method: str,
) -> iam.Grant:
    return grant(queue, target.encryption_key, grantee, actions, key_actions, where=f"{target.node.path}.{method}")


@dataclass(frozen=True)
class QueuePair:
    """A queue and its DLQ as a pattern holds them: what :func:`build_queue_pair` made, or what
    :class:`ImportedQueueWithDlq` imported. :meth:`QueueWithDlqBase._hold` makes it the pattern's attributes.

    Durations and counts are None where they are not known (imported queues, a DLQ passed in that is not a
    queue of this app).
    """

    queue: sqs.IQueue
    dead_letter_queue: sqs.IQueue
    encryption_key: kms.IKey | None
    fifo: bool
    visibility_timeout: Duration | None
    visibility_timeout_given: bool
    retention_period: Duration | None
    dead_letter_retention_period: Duration | None
    max_receive_count: int | None
    queue_name: str | None
    dead_letter_queue_name: str | None


class QueueWithDlqBase(QueueGrants, AlarmsMixin, Construct):
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
        The values in force, or None where they are not known (imported queues). The visibility timeout is
        the one a Lambda consumer derived, once one did (it writes it on the queue).
    dead_letter_retention_period:
        How long the DLQ keeps messages, or None where it is not known (imported, or a DLQ passed in
        that is not a queue of this app).
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
    visibility_timeout_given: bool
    retention_period: Duration | None
    dead_letter_retention_period: Duration | None
    max_receive_count: int | None
    queue_name: str | None
    dead_letter_queue_name: str | None
    _visibility_timeout: Duration | None
    _path: str

    def _hold(self, pair: QueuePair) -> None:
        """Take ``pair`` as this pattern's attributes: the one place a pattern's queue attributes are set."""
        self._path = self.node.path
        self.queue = pair.queue
        self.dead_letter_queue = pair.dead_letter_queue
        self.encryption_key = pair.encryption_key
        self.fifo = pair.fifo
        self._visibility_timeout = pair.visibility_timeout
        self.visibility_timeout_given = pair.visibility_timeout_given
        self.retention_period = pair.retention_period
        self.dead_letter_retention_period = pair.dead_letter_retention_period
        self.max_receive_count = pair.max_receive_count
        self.queue_name = pair.queue_name
        self.dead_letter_queue_name = pair.dead_letter_queue_name

    @property
    def visibility_timeout(self) -> Duration | None:
        """The queue's visibility timeout in force: the one it was built with, or the one a consumer derived and
        wrote on it later (``LambdaTriggeredQueue``); None when unknown (imported)."""
        derived = self._derived_visibility()
        return duration(derived) if derived is not None else self._visibility_timeout

    def _derived_visibility(self) -> float | None:
        """What a consumer wrote on the queue; only a visibility timeout the queue was not given is ever written."""
        return None if self.visibility_timeout_given else derived_visibility_of(self.queue)

    def queue_facts(self) -> QueueFacts:
        """What the library knows of this queue pair, as plain values (for consumers and alarms)."""
        return self._facts(self._derived_visibility())

    def _facts(self, derived: float | None) -> QueueFacts:
        """The facts, with ``derived`` the visibility timeout a consumer wrote on the queue (None: none)."""
        imported = isinstance(self, ImportedQueueWithDlq)
        if derived is not None:
            visibility: float | None = derived
        else:
            visibility = seconds_of(self._visibility_timeout) if self._visibility_timeout is not None else None
        retention = seconds_of(self.retention_period) if self.retention_period is not None else None
        dead_letter_retention = (
            seconds_of(self.dead_letter_retention_period) if self.dead_letter_retention_period is not None else None
        )
        name = self.queue_name
        return QueueFacts(
            queue=self.queue,
            dead_letter_queue=self.dead_letter_queue,
            encryption_key=self.encryption_key,
            fifo=self.fifo,
            retention_period=retention,
            dead_letter_retention_period=dead_letter_retention,
            visibility_timeout=visibility,
            visibility_timeout_given=self.visibility_timeout_given,
            visibility_timeout_derived=derived is not None,
            max_receive_count=self.max_receive_count,
            name=name if name is not None and not is_unresolved(name) else self.queue.queue_name,
            path=self._path,
            imported=imported,
            kind="imported queue pattern" if imported else "queue pattern",
        )

    # --- Service producers -----------------------------------------------------------------------

    def allow_service_producer(self, principal: iam.ServicePrincipal | str, source_arn: str) -> None:
        """Let an AWS service (SNS, EventBridge, S3, CloudWatch, ...) send to the queue.

        Adds a queue policy statement allowing ``sqs:SendMessage`` to the service principal and, when
        the queue has a customer-managed key, a key policy statement allowing ``kms:GenerateDataKey*``
        and ``kms:Decrypt``; both are scoped by ``aws:SourceArn`` so only ``source_arn`` can publish
        (rules Q3, K2). Without the key statement the service's messages are dropped silently.

        Parameters
        ----------
        principal:
            The service principal, e.g. ``iam.ServicePrincipal("sns.amazonaws.com")`` or
            ``"events.amazonaws.com"``.
        source_arn:
            The ARN of the topic, rule, bucket or alarm that publishes, of the principal's service. When
            that producer's own definition names this queue (an EventBridge rule target, an S3
            notification), pass an ARN built from its name with ``Stack.format_arn``: a ``Ref``/``GetAtt``
            of the producer would make a dependency cycle (key policy -> rule -> queue -> key), which
            synth reports as F3004.

        Raises
        ------
        ConfigurationError
            When ``principal`` is not an AWS service principal or ``source_arn`` not an ARN (of that
            service), when a FIFO queue is given ``s3.amazonaws.com`` or the literal ARN of a standard SNS
            topic (neither can send to it, K6), when the queue is encrypted with the AWS-managed key
            ``alias/aws/sqs``, whose key policy cannot let a service use it (K3), or when the queue or its
            key is imported and its policy is not ours.
        """
        problems = Problems(f"{self.node.path}.allow_service_producer")
        service = _service_principal(problems, principal)
        _source_arn(problems, source_arn, service)
        _producers.check_service_producer(problems, service, source_arn, fifo=self.fifo)
        problems.raise_if_any()
        assert service is not None
        if is_aws_managed_sqs_key(self.encryption_key):
            problems.add(
                f"principal {service!r} cannot publish to a queue encrypted with the "
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
        self._add_service_statements(iam.ServicePrincipal(service), source_arn)

    def _add_service_statements(self, principal: iam.ServicePrincipal, source_arn: str) -> None:
        condition = {"ArnEquals": {"aws:SourceArn": source_arn}}
        self.queue.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["sqs:SendMessage"],
                principals=[principal],
                resources=[self.queue.queue_arn],
                conditions=condition,
            )
        )
        key = self.encryption_key
        if key is None:
            return
        result = key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=list(SERVICE_PRODUCER_KEY_ACTIONS), principals=[principal], resources=["*"], conditions=condition
            )
        )
        if not result.statement_added:
            raise ConfigurationError(
                f"{self.node.path}.allow_service_producer",
                [
                    f"principal {principal.service!r}: the key {key.node.path} is imported, so its key policy "
                    "cannot be changed here; pass a key created in this app, or add a statement allowing "
                    "kms:GenerateDataKey* and kms:Decrypt to the service, scoped by aws:SourceArn, to the "
                    "key's policy where it is defined"
                ],
            )


def allow_producer_on_source(
    consumer: Construct,
    source: QueueWithDlqBase | None,
    facts: QueueFacts,
    principal: iam.ServicePrincipal | str,
    source_arn: str,
) -> None:
    """``allow_service_producer`` of a consumer (``LambdaTriggeredQueue``, ``QueueWorkerService``): delegated to
    the queue pattern it consumes, refused when it consumes a plain ``IQueue`` whose policies it does not own."""
    if source is None:
        raise ConfigurationError(
            f"{consumer.node.path}.allow_service_producer",
            [
                f"the queue consumed ({facts.path}, an {facts.kind}) is not a queue pattern of this "
                "library: add the queue policy (and key policy) statements where it is defined, or consume an "
                "EncryptedQueue"
            ],
        )
    source.allow_service_producer(principal, source_arn)


def _service_principal(problems: Problems, principal: object) -> str | None:
    """The service name of ``principal`` (``sns.amazonaws.com``), or None and a problem."""
    if isinstance(principal, iam.ServicePrincipal):
        service = principal.service
    elif isinstance(principal, str):
        service = principal
    else:
        problems.of_kind("principal", principal, Kind.of("an iam.ServicePrincipal or a str", iam.ServicePrincipal, str))
        return None
    if not is_unresolved(service) and not SERVICE_PRINCIPAL.fullmatch(service):
        problems.add(
            f"principal must be an AWS service principal like 'sns.amazonaws.com', got {service!r}: only "
            "services publish with aws:SourceArn; grant a role or user with grant_send_messages instead"
        )
        return None
    return service


def _source_arn(problems: Problems, source_arn: object, service: str | None) -> None:
    """``source_arn`` must be an ARN (or a token), of the principal's service when that is known."""
    literal = problems.string("source_arn", source_arn)
    if source_arn is None:
        problems.add("source_arn must be the ARN of the topic, rule, bucket or alarm that publishes, got None")
    if literal is None:
        return
    parts = literal.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[2]:
        problems.add(
            f"source_arn must be an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE), got {literal!r}: "
            "a policy scoped by it would match no publisher and every message would be refused"
        )
        return
    expected = _SOURCE_SERVICES.get((service or "").split(".")[0])
    if expected is not None and not is_unresolved(parts[2]) and parts[2] != expected:
        problems.add(
            f"source_arn must be an ARN of {expected} for principal {service!r}, got one of {parts[2]} "
            f"({literal!r}): the service's aws:SourceArn would never match it"
        )


@keyword_signature
class ImportedQueueWithDlq(QueueWithDlqBase):
    """A queue and DLQ created by another stack or app, with the same attributes and grants.

    Made by ``FifoQueueWithDlq.from_queue_arns`` or ``EncryptedQueue.from_queue_arns``.

    Parameters
    ----------
    queue_arn, dead_letter_queue_arn:
        ARNs of the queue and its DLQ, in one account and region.
    key_arn:
        ARN of the key that encrypts both. Default: - none (SSE-SQS).
    fifo:
        True for FIFO queues (names ending in ``.fifo``).

    Attributes
    ----------
    queue, dead_letter_queue, encryption_key, fifo, visibility_timeout, visibility_timeout_given,
    retention_period, dead_letter_retention_period, max_receive_count, queue_name, dead_letter_queue_name:
        As for :class:`QueueWithDlqBase`; the durations and counts are None (not readable).
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
        check_construct_arguments(type(self).__name__, scope, id)
        super().__init__(scope, id)
        check_imported_arns(
            Problems(self.node.path),
            queue_arn=queue_arn,
            dead_letter_queue_arn=dead_letter_queue_arn,
            key_arn=key_arn,
            fifo=fifo,
        ).raise_if_any()

        key = kms.Key.from_key_arn(self, "Key", key_arn) if key_arn else None
        queue = sqs.Queue.from_queue_attributes(self, "Queue", queue_arn=queue_arn, key_arn=key_arn, fifo=fifo)
        dead_letter_queue = sqs.Queue.from_queue_attributes(
            self, "DeadLetterQueue", queue_arn=dead_letter_queue_arn, key_arn=key_arn, fifo=fifo
        )
        self._hold(
            QueuePair(
                queue=queue,
                dead_letter_queue=dead_letter_queue,
                encryption_key=key,
                fifo=fifo,
                visibility_timeout=None,
                visibility_timeout_given=True,
                retention_period=None,
                dead_letter_retention_period=None,
                max_receive_count=None,
                queue_name=queue.queue_name,
                dead_letter_queue_name=dead_letter_queue.queue_name,
            )
        )


def check_imported_arns(
    problems: Problems, *, queue_arn: object, dead_letter_queue_arn: object, key_arn: object, fifo: bool
) -> Problems:
    """Every ARN of ``from_queue_arns``: SQS queue ARNs with valid names of the queue type, a KMS key ARN,
    all in one account and region (constructs-sqs rule Q5)."""
    found = []
    for argument, value in (("queue_arn", queue_arn), ("dead_letter_queue_arn", dead_letter_queue_arn)):
        if value is None:
            problems.add(f"{argument} must be {SQS_QUEUE_ARN.description} ({SQS_QUEUE_ARN.template}), got None")
            continue
        arn = problems.arn(argument, value, shape=SQS_QUEUE_ARN)
        if arn is not None:
            problems.queue_name(argument, arn.resource, fifo=fifo)
            found.append((argument, arn))
    key = problems.arn("key_arn", key_arn, shape=KMS_KEY_ARN)
    if key is not None:
        found.append(("key_arn", key))
    for field in ("account", "region"):
        values = {getattr(arn, field) for _, arn in found if not is_unresolved(getattr(arn, field))}
        if len(values) > 1:
            listed = ", ".join(f"{argument} {getattr(arn, field)!r}" for argument, arn in found)
            problems.add(
                f"queue_arn, dead_letter_queue_arn and key_arn must be in one {field}, got {listed}: SQS moves "
                "messages only to a DLQ of the same account and region"
            )
    return problems


# --- The queue pair: options, plan, build -------------------------------------------------------------


@dataclass(frozen=True)
class QueueOptions:
    """The queue arguments every pattern takes, as the caller passed them (None: not passed)."""

    queue_name: object = None
    dead_letter_queue_name: object = None
    visibility_timeout: object = None
    retention_period: object = None
    dead_letter_retention_period: object = None
    max_receive_count: object = None
    delivery_delay: object = None
    receive_message_wait_time: object = None
    max_message_size_bytes: object = None
    removal_policy: object = None
    dead_letter_removal_policy: object = None
    dead_letter_queue: object = None


@dataclass(frozen=True)
class QueuePlan:
    """The checked queue settings, with every default applied (``_defaults``)."""

    queue_name: str | None
    dead_letter_queue_name: str | None
    visibility_timeout: Duration
    visibility_timeout_given: bool
    retention_period: Duration
    dead_letter_retention_period: Duration | None
    """None for a DLQ the caller passed whose retention cannot be read."""
    max_receive_count: int
    delivery_delay: Duration
    receive_message_wait_time: Duration
    max_message_size_bytes: int
    removal_policy: RemovalPolicy
    dead_letter_removal_policy: RemovalPolicy
    dead_letter_queue: sqs.IQueue | None


def _or(value: object, default: object) -> object:
    return default if value is None else value


def _shown(value: object) -> str:
    if isinstance(value, Duration):
        seconds = seconds_of(value)
        return value.to_human_string() if seconds is None else format_duration(seconds)
    return repr(value) if isinstance(value, str) else str(value)


def plan_queue_pair(problems: Problems, options: QueueOptions, *, fifo: bool) -> QueuePlan:
    """Check ``options`` (rules Q5-Q9), adding every problem to ``problems``, and apply the
    defaults. The plan is meaningful only when ``problems`` stayed empty."""
    o = options
    names = [problems.queue_name(arg, getattr(o, arg), fifo=fifo) for arg in ("queue_name", "dead_letter_queue_name")]
    _limits.MAX_RECEIVE_COUNT.check_count(problems, "max_receive_count", o.max_receive_count)
    retention = _limits.RETENTION_PERIOD.check(problems, "retention_period", o.retention_period)
    dead_letter_retention = _limits.RETENTION_PERIOD.check(
        problems, "dead_letter_retention_period", o.dead_letter_retention_period
    )
    _limits.VISIBILITY_TIMEOUT.check(problems, "visibility_timeout", o.visibility_timeout)
    _limits.DELIVERY_DELAY.check(problems, "delivery_delay", o.delivery_delay)
    _limits.RECEIVE_WAIT_TIME.check(problems, "receive_message_wait_time", o.receive_message_wait_time)
    _limits.MAX_MESSAGE_SIZE.check_count(problems, "max_message_size_bytes", o.max_message_size_bytes)
    for argument in ("removal_policy", "dead_letter_removal_policy"):
        problems.of_kind(argument, getattr(o, argument), REMOVAL_POLICY)
    dead_letter_queue = o.dead_letter_queue
    if problems.of_kind("dead_letter_queue", dead_letter_queue, QUEUE) and dead_letter_queue is not None:
        given_dead_letter_queue = cast(sqs.IQueue, dead_letter_queue)
        problems.dead_letter_type(
            "dead_letter_queue", given_dead_letter_queue, bool(given_dead_letter_queue.fifo), fifo=fifo
        )
        dead_letter_retention = retention_of(given_dead_letter_queue)
        for argument in ("dead_letter_queue_name", "dead_letter_retention_period", "dead_letter_removal_policy"):
            if getattr(o, argument) is not None:
                problems.add(
                    f"{argument} ({_shown(getattr(o, argument))}) applies to the DLQ this pattern would create, but "
                    "dead_letter_queue passes an existing one: give one or the other"
                )
    default_retention = seconds_of(_defaults.RETENTION_PERIOD)
    _check_retention_order(problems, o, retention if o.retention_period is not None else default_retention, dead_letter_retention)
    _check_derived_dead_letter_name(problems, o, names[0], fifo=fifo)
    return QueuePlan(
        queue_name=names[0],
        dead_letter_queue_name=names[1],
        visibility_timeout=_or(o.visibility_timeout, _defaults.VISIBILITY_TIMEOUT),  # type: ignore[arg-type]
        visibility_timeout_given=o.visibility_timeout is not None,
        retention_period=_or(o.retention_period, _defaults.RETENTION_PERIOD),  # type: ignore[arg-type]
        dead_letter_retention_period=(
            _or(o.dead_letter_retention_period, _defaults.DEAD_LETTER_RETENTION_PERIOD)  # type: ignore[arg-type]
            if dead_letter_queue is None
            else None
        ),
        max_receive_count=_or(o.max_receive_count, _defaults.MAX_RECEIVE_COUNT),  # type: ignore[arg-type]
        delivery_delay=_or(o.delivery_delay, _defaults.DELIVERY_DELAY),  # type: ignore[arg-type]
        receive_message_wait_time=_or(o.receive_message_wait_time, _defaults.RECEIVE_MESSAGE_WAIT_TIME),  # type: ignore[arg-type]
        max_message_size_bytes=_or(o.max_message_size_bytes, _defaults.MAX_MESSAGE_SIZE_BYTES),  # type: ignore[arg-type]
        removal_policy=_or(o.removal_policy, _defaults.REMOVAL_POLICY),  # type: ignore[arg-type]
        dead_letter_removal_policy=_or(o.dead_letter_removal_policy, _defaults.DEAD_LETTER_REMOVAL_POLICY),  # type: ignore[arg-type]
        dead_letter_queue=dead_letter_queue,  # type: ignore[arg-type]
    )


def _check_retention_order(
    problems: Problems, options: QueueOptions, source: float | None, dead_letter: float | None
) -> None:
    """Q6: the DLQ keeps messages longer than the source, or moved messages expire early.

    Only between values that are valid and known; a default is named as such.
    """
    if options.dead_letter_queue is None and options.dead_letter_retention_period is None:
        dead_letter = seconds_of(_defaults.DEAD_LETTER_RETENTION_PERIOD)
    if source is None or dead_letter is None or dead_letter > source:
        return
    why = "a moved message keeps its original enqueue time and would expire from the DLQ early"
    if options.dead_letter_queue is not None:
        problems.add(
            f"dead_letter_queue's retention period must be longer than retention_period "
            f"({format_duration(source)}), got {format_duration(dead_letter)}: {why}"
        )
    elif options.dead_letter_retention_period is not None:
        problems.add(
            f"dead_letter_retention_period must be longer than retention_period ({format_duration(source)}), "
            f"got {format_duration(dead_letter)}: {why}"
        )
    else:
        problems.add(
            f"retention_period must be shorter than 14 days, the longest a DLQ can keep messages, got "
            f"{format_duration(source)}: {why}"
        )


def _check_derived_dead_letter_name(problems: Problems, options: QueueOptions, name: str | None, *, fifo: bool) -> None:
    if options.dead_letter_queue is not None or options.dead_letter_queue_name is not None or name is None:
        return
    derived = _stem(name) + DEAD_LETTER_SUFFIX + (FIFO_SUFFIX if fifo else "")
    if len(derived) > QUEUE_NAME_MAX_LENGTH:
        problems.add(
            f"queue_name {name!r} leaves no room for the DLQ name derived from it, {derived!r} "
            f"({len(derived)} characters, at most {QUEUE_NAME_MAX_LENGTH}): shorten queue_name or "
            "pass dead_letter_queue_name"
        )


def claim_names(problems: Problems, scope: Construct, plan: QueuePlan, *, fifo: bool) -> tuple[str, str]:
    """The names of the queue and its DLQ (:func:`generated_names`), claimed for ``scope`` in its app.

    Queue names are unique per account and region: a name two constructs of the app would use fails here,
    not at deploy. Names are claimed only by a call that is otherwise valid.
    """
    if problems.items:
        return ("", "")
    names = generated_names(scope, plan, fifo=fifo)
    if plan.queue_name is None and plan.dead_letter_queue_name is None:
        return names  # both derived from the construct path, which is unique in the app
    environment = environment_of(scope)
    arguments = ("queue_name", "dead_letter_queue_name" if plan.dead_letter_queue_name else "the DLQ name derived from queue_name")
    for argument, name in zip(arguments, names):
        if plan.dead_letter_queue is not None and argument != "queue_name":
            continue
        first = claim(scope, problems.where, "queue name", f"{environment}/{name}")
        if first is not None:
            problems.add(
                f"{argument} {name!r} is already the name of a queue of {first} in the same account and "
                "region: queue names must be unique there, or the second deploy fails"
            )
    return names


def _stem(name: str) -> str:
    return name[: -len(FIFO_SUFFIX)] if name.endswith(FIFO_SUFFIX) else name


def generated_names(scope: Construct, plan: QueuePlan, *, fifo: bool) -> tuple[str, str]:
    """The names of the queue and DLQ: the caller's, or stable ones derived from the construct path.

    A name is needed even when the caller gives none: the DLQ's byQueue redrive allow policy names its
    source by ARN, and an ARN built from a known name (``Stack.format_arn``) has no dependency on the
    source queue, where ``queue.queue_arn`` would make a cycle (source -> DLQ ARN -> source ARN).
    The DLQ is named ``<queue stem>-dlq`` (plus ``.fifo``) unless ``dead_letter_queue_name`` is given.
    """
    suffix = FIFO_SUFFIX if fifo else ""
    if plan.queue_name is not None:
        queue_name = plan.queue_name
    else:
        room = _defaults.GENERATED_NAME_MAX_LENGTH - len(DEAD_LETTER_SUFFIX)
        queue_name = Names.unique_resource_name(scope, max_length=room, separator="-") + suffix
    dead_letter_name = plan.dead_letter_queue_name or _stem(queue_name) + DEAD_LETTER_SUFFIX + suffix
    return queue_name, dead_letter_name


def build_queue_pair(
    scope: Construct,
    plan: QueuePlan,
    *,
    names: tuple[str, str],
    fifo: bool,
    encryption: sqs.QueueEncryption,
    encryption_master_key: kms.IKey | None,
    data_key_reuse: Duration | None,
    fifo_settings: dict[str, object] | None = None,
) -> QueuePair:
    """Create the DLQ (unless given) and the source queue under ``scope``; the pattern holds the result
    (:meth:`QueueWithDlqBase._hold`).

    ``names`` are the queue's and the DLQ's (:func:`claim_names`). ``fifo_settings`` are extra ``sqs.Queue``
    arguments that queue and DLQ share (deduplication scope, throughput limit).
    """
    queue_name, dead_letter_name = names
    shared: dict[str, object] = {
        "fifo": True if fifo else None,
        "enforce_ssl": _defaults.ENFORCE_SSL,
        "encryption": encryption,
        "encryption_master_key": encryption_master_key,
        "data_key_reuse": data_key_reuse,
        "receive_message_wait_time": plan.receive_message_wait_time,
        "max_message_size_bytes": plan.max_message_size_bytes,
        **(fifo_settings or {}),
    }
    dead_letter_queue = plan.dead_letter_queue or _build_dead_letter_queue(
        scope, plan, queue_name, dead_letter_name, shared
    )
    # Compliance: cdk-nag's Serverless-SQSRedrivePolicy asks the DLQ for a DLQ of its own, which a DLQ
    # does not have; acknowledged with the reason in _defaults.DEAD_LETTER_QUEUE_ACKNOWLEDGMENTS, also
    # on a DLQ the caller gives, since this pattern is what makes it one.
    acknowledge(dead_letter_queue, _defaults.DEAD_LETTER_QUEUE_ACKNOWLEDGMENTS)

    queue = _producers.OwnedQueue(
        scope,
        "Resource",
        queue_name=queue_name,
        visibility_timeout=plan.visibility_timeout,
        retention_period=plan.retention_period,
        delivery_delay=plan.delivery_delay,
        removal_policy=plan.removal_policy,
        dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letter_queue, max_receive_count=plan.max_receive_count),
        **shared,  # type: ignore[arg-type]
    )

    # K5, K6: producers wired by any API, checked at synth. The checks read the pattern's attributes when the
    # tree is complete, after the pattern holds this pair (QueueWithDlqBase._hold).
    _producers.watch(cast("_producers.Watched", scope))
    return QueuePair(
        queue=queue,
        dead_letter_queue=dead_letter_queue,
        encryption_key=encryption_master_key,
        fifo=fifo,
        visibility_timeout=plan.visibility_timeout,
        visibility_timeout_given=plan.visibility_timeout_given,
        retention_period=plan.retention_period,
        dead_letter_retention_period=plan.dead_letter_retention_period or _read_retention(dead_letter_queue),
        max_receive_count=plan.max_receive_count,
        queue_name=queue_name,
        dead_letter_queue_name=None if plan.dead_letter_queue is not None else dead_letter_name,
    )


def _build_dead_letter_queue(
    scope: Construct, plan: QueuePlan, queue_name: str, dead_letter_name: str, shared: dict[str, object]
) -> sqs.Queue:
    source_arn = Stack.of(scope).format_arn(service="sqs", resource=queue_name, arn_format=ArnFormat.NO_RESOURCE_NAME)
    return _producers.OwnedQueue(
        scope,
        "DeadLetterQueue",
        queue_name=dead_letter_name,
        retention_period=plan.dead_letter_retention_period,
        removal_policy=plan.dead_letter_removal_policy,
        redrive_allow_policy=sqs.RedriveAllowPolicy(
            redrive_permission=sqs.RedrivePermission.BY_QUEUE,
            source_queues=[sqs.Queue.from_queue_arn(scope, "RedriveSource", source_arn)],
        ),
        **shared,  # type: ignore[arg-type]
    )


def _read_retention(queue: sqs.IQueue) -> Duration | None:
    seconds = retention_of(queue)
    return None if seconds is None else Duration.seconds(seconds)


def created_key(scope: Construct, *, removal_policies: Sequence[RemovalPolicy], description: str) -> kms.Key:
    """A customer-managed key with rotation on, kept while any queue that uses it may be kept."""
    keep = any(policy != RemovalPolicy.DESTROY for policy in removal_policies)
    return _producers.OwnedKey(
        scope,
        "Key",
        description=description,
        enable_key_rotation=_defaults.KEY_ROTATION,
        pending_window=_defaults.KEY_PENDING_WINDOW,
        removal_policy=RemovalPolicy.RETAIN if keep else RemovalPolicy.DESTROY,
    )


def check_key(problems: Problems, argument: str, key: object) -> kms.IKey | None:
    """``key`` when it is a ``kms.IKey``; None (and a problem for a wrong type) otherwise."""
    if key is None or not problems.of_kind(argument, key, KEY):
        return None
    return key  # type: ignore[return-value]
