"""What the library can read of a queue or a function it is given, and what it cannot.

``LambdaTriggeredQueue(queue=...)`` and ``QueueAlarms(queue=...)`` accept one of the library's patterns, a
``LambdaTriggeredQueue``, a plain ``sqs.Queue`` of the app, or any imported ``sqs.IQueue``. Each is read
here once, into plain values (seconds, counts, flags), so that the plans of those constructs work on
Python values and say exactly what is unknown (None) instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ._validation import (
    SQS_DEFAULT_VISIBILITY_TIMEOUT,
    implements,
    is_unresolved,
    retention_of,
    seconds_of,
)

if TYPE_CHECKING:
    from aws_cdk import aws_kms as kms

__all__ = [
    "DERIVED_VISIBILITY_KEY",
    "FunctionFacts",
    "QueueFacts",
    "QueueHolder",
    "derived_visibility_of",
    "read_function",
    "read_queue",
    "write_derived_visibility",
]

LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3.0
"""Lambda's own timeout when a function sets none."""


@dataclass(frozen=True)
class QueueFacts:
    """A queue as the library knows it. Seconds and counts are None where they cannot be read."""

    queue: sqs.IQueue
    dead_letter_queue: sqs.IQueue | None
    encryption_key: kms.IKey | None
    fifo: bool
    retention_period: float | None
    dead_letter_retention_period: float | None
    visibility_timeout: float | None
    visibility_timeout_given: bool
    """False when the visibility timeout is a default (the library's or SQS's) a consumer may derive anew."""
    visibility_timeout_derived: bool
    """True when the visibility timeout in force was derived by a consumer (:func:`write_derived_visibility`): a
    later consumer keeps the longer of the two."""
    max_receive_count: int | None
    name: str
    """The literal queue name where known, else a token that resolves to it."""
    path: str
    imported: bool
    kind: str
    """How the queue was given, for messages: 'queue pattern', 'sqs.Queue', 'imported queue'."""
    consumer: lambda_.IFunction | None = None
    """The Lambda function of a ``LambdaTriggeredQueue``."""


@runtime_checkable
class QueueHolder(Protocol):
    """A construct of this library that holds a queue: the queue patterns and ``LambdaTriggeredQueue``.

    How consumers and alarms reach a queue of the library: they ask it for its facts, and never import the
    pattern that holds it.
    """

    def queue_facts(self) -> QueueFacts:
        """What the library knows of the queue held, as plain values."""
        ...


def read_queue(value: object) -> QueueFacts | None:
    """The facts of ``value``, or None when it is no queue at all."""
    if isinstance(value, QueueHolder):
        return value.queue_facts()
    if not implements(value, sqs.IQueue):
        return None
    assert isinstance(value, Construct)
    queue: sqs.IQueue = value  # type: ignore[assignment]
    cfn = value.node.default_child
    if isinstance(value, sqs.Queue) and isinstance(cfn, sqs.CfnQueue):
        return _read_plain_queue(value, cfn)
    return QueueFacts(
        queue=queue,
        dead_letter_queue=None,
        encryption_key=queue.encryption_master_key,
        fifo=bool(queue.fifo),
        retention_period=None,
        dead_letter_retention_period=None,
        visibility_timeout=None,
        visibility_timeout_given=True,
        visibility_timeout_derived=False,
        max_receive_count=None,
        name=queue.queue_name,
        path=value.node.path,
        imported=True,
        kind="imported queue",
    )


def _read_plain_queue(queue: sqs.Queue, cfn: sqs.CfnQueue) -> QueueFacts:
    dead_letter = queue.dead_letter_queue
    dead_letter_queue = dead_letter.queue if dead_letter is not None else None
    receives = dead_letter.max_receive_count if dead_letter is not None else None
    visibility = cfn.visibility_timeout
    derived = _recorded_on(cfn)
    name = cfn.queue_name
    return QueueFacts(
        queue=queue,
        dead_letter_queue=dead_letter_queue,
        encryption_key=queue.encryption_master_key,
        fifo=bool(queue.fifo),
        retention_period=retention_of(queue),
        dead_letter_retention_period=retention_of(dead_letter_queue) if dead_letter_queue is not None else None,
        visibility_timeout=(
            derived
            if derived is not None
            else seconds_of(SQS_DEFAULT_VISIBILITY_TIMEOUT)
            if visibility is None
            else (None if is_unresolved(visibility) else float(visibility))
        ),
        visibility_timeout_given=visibility is not None and derived is None,
        visibility_timeout_derived=derived is not None,
        max_receive_count=None if receives is None or is_unresolved(receives) else int(receives),
        name=name if isinstance(name, str) and not is_unresolved(name) else queue.queue_name,
        path=queue.node.path,
        imported=False,
        kind="sqs.Queue",
    )


# --- The derived visibility timeout: written in one place, recorded on the queue's resource -----------------

DERIVED_VISIBILITY_KEY = "constructs-sqs:derived-visibility-timeout"
"""The key under which the ``AWS::SQS::Queue`` resource of a queue records, in its construct node, a visibility
timeout a consumer derived and wrote there (the seconds). The record travels with the queue in the construct tree,
instead of in a registry of this module, so what a later consumer reads depends on nothing but the queue it is
given. It is node context on the resource, a leaf of the tree: nothing synthesizes it (templates and the cloud
assembly are unchanged), and reading it is one call into jsii (construct metadata would be eight)."""


def write_derived_visibility(queue: sqs.IQueue, seconds: float) -> bool:
    """Write a derived visibility timeout on ``queue``: the one place the library changes another construct's
    queue.

    Sets ``VisibilityTimeout`` of its ``AWS::SQS::Queue`` and records there that a consumer derived it
    (:data:`DERIVED_VISIBILITY_KEY`), so a later consumer of the same queue may raise it, but never overrides a
    value the queue was given.

    Parameters
    ----------
    queue:
        The queue consumed.
    seconds:
        The visibility timeout, in whole seconds.

    Returns
    -------
    bool
        False, and nothing written, when the queue's resource is not an ``AWS::SQS::Queue`` of this app.
    """
    cfn = queue.node.default_child
    if not isinstance(cfn, sqs.CfnQueue):
        return False
    cfn.visibility_timeout = int(seconds)
    cfn.node.set_context(DERIVED_VISIBILITY_KEY, int(seconds))
    return True


def derived_visibility_of(queue: sqs.IQueue) -> float | None:
    """The visibility timeout a consumer derived and wrote on ``queue`` (the longest, the last written), or None."""
    cfn = queue.node.default_child if isinstance(queue, Construct) else None
    return _recorded_on(cfn) if isinstance(cfn, sqs.CfnQueue) else None


def _recorded_on(cfn: sqs.CfnQueue) -> float | None:
    value = cfn.node.try_get_context(DERIVED_VISIBILITY_KEY)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class FunctionFacts:
    """A Lambda function as the library knows it."""

    function: lambda_.IFunction
    timeout: float | None
    """Seconds; None when it cannot be read (an imported function, an alias, a token)."""
    reserved_concurrency: int | None
    has_role: bool
    path: str


def read_function(value: object) -> FunctionFacts | None:
    """The facts of ``value``, or None when it is not a Lambda function."""
    if not implements(value, lambda_.IFunction):
        return None
    assert isinstance(value, Construct)
    function: lambda_.IFunction = value  # type: ignore[assignment]
    timeout: float | None = None
    reserved: int | None = None
    if isinstance(value, lambda_.Function):
        given = value.timeout
        timeout = LAMBDA_DEFAULT_TIMEOUT_SECONDS if given is None else seconds_of(given)
        cfn = value.node.default_child
        if isinstance(cfn, lambda_.CfnFunction):
            count = cfn.reserved_concurrent_executions
            reserved = int(count) if isinstance(count, (int, float)) and not is_unresolved(count) else None
    return FunctionFacts(
        function=function,
        timeout=timeout,
        reserved_concurrency=reserved,
        has_role=function.role is not None,
        path=value.node.path,
    )
