"""What :class:`~constructs_sqs.QueueAlarms` watches, read once into plain values: the first step of the plan.

The queue comes through the queue-holder protocol (:func:`~constructs_sqs._facts.read_queue`): a queue pattern
or a ``LambdaTriggeredQueue`` describes itself, a plain ``sqs.IQueue`` is read. From it and the arguments that
describe what cannot be read (an imported queue's retention), this module settles the dead-letter queue, the
consumer, both retention periods (read > given > the SQS default, assumed) and the in-flight quota. Every
threshold of the catalogue is derived from these values, never from the queue itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .. import _defaults, _limits
from .._facts import QueueFacts, read_function, read_queue
from .._validation import Kind, Problems, format_duration, retention_of, seconds_of
from .arguments import AlarmsArguments

__all__ = ["MAX_RETENTION_SECONDS", "WatchedQueue", "read_watched"]

MAX_RETENTION_SECONDS = float(_limits.RETENTION_PERIOD.maximum)
"""The longest retention SQS allows (14 days): no message is older than this."""

_QUEUE = Kind.interface("an sqs.IQueue", sqs.IQueue)
_FUNCTION = Kind.interface("a lambda_.IFunction", lambda_.IFunction)
_WATCHABLE = (
    "a queue pattern of this library (e.g. FifoQueueWithDlq), a LambdaTriggeredQueue or an sqs.IQueue"
)


@dataclass(frozen=True)
class WatchedQueue:
    """The watched queue as the thresholds see it. Seconds are Python numbers.

    Parameters
    ----------
    facts:
        The queue as read (:class:`~constructs_sqs._facts.QueueFacts`).
    dead_letter_queue:
        Its DLQ: the queue's own, or the one the caller passed for a plain queue; None without one.
    consumer:
        Its Lambda consumer: a ``LambdaTriggeredQueue``'s function, or ``consumer_function``; None without one.
    retention:
        Seconds the queue keeps messages: read, given, or the SQS default.
    retention_assumed:
        True when the retention could be neither read nor was given: the SQS default is assumed.
    dead_letter_retention:
        Seconds the DLQ keeps messages (read, given or assumed); None without a DLQ.
    dead_letter_retention_assumed:
        True when the DLQ's retention is the SQS default, assumed.
    in_flight_quota:
        The SQS in-flight quota of the queue's type.
    """

    facts: QueueFacts
    dead_letter_queue: sqs.IQueue | None
    consumer: lambda_.IFunction | None
    retention: float
    retention_assumed: bool
    dead_letter_retention: float | None
    dead_letter_retention_assumed: bool
    in_flight_quota: int

    @property
    def fifo(self) -> bool:
        """True for a FIFO queue."""
        return self.facts.fifo


def read_watched(problems: Problems, arguments: AlarmsArguments) -> WatchedQueue:
    """Read the watched queue and settle what the thresholds derive from, adding problems to ``problems``.

    Raises
    ------
    ConfigurationError
        At once, when ``queue`` is no queue at all (nothing else can be checked without one).
    """
    a = arguments
    facts = read_queue(a.queue)
    if facts is None:
        problems.add(f"queue must be {_WATCHABLE}, got {type(a.queue).__name__}")
        problems.raise_if_any()
    assert facts is not None
    consumer, dead_letter = _consumer_and_dead_letter_queue(problems, facts, a.consumer_function, a.dead_letter_queue)
    retention, assumed = _retention(problems, facts, a.retention_period)
    dead_letter_retention, dead_letter_assumed = _dead_letter_retention(
        problems, facts, dead_letter, a.dead_letter_retention_period
    )
    return WatchedQueue(
        facts=facts,
        dead_letter_queue=dead_letter,
        consumer=consumer,
        retention=retention,
        retention_assumed=assumed,
        dead_letter_retention=dead_letter_retention,
        dead_letter_retention_assumed=dead_letter_assumed,
        in_flight_quota=_limits.IN_FLIGHT_QUOTA_FIFO if facts.fifo else _limits.IN_FLIGHT_QUOTA_STANDARD,
    )


def _consumer_and_dead_letter_queue(
    problems: Problems, watched: QueueFacts, consumer_function: object, dead_letter_queue: object
) -> tuple[lambda_.IFunction | None, sqs.IQueue | None]:
    """The consumer and the DLQ: the watched queue's own, or the caller's for a plain queue."""
    consumer = watched.consumer
    if problems.of_kind("consumer_function", consumer_function, _FUNCTION) and consumer_function is not None:
        facts = read_function(consumer_function)
        assert facts is not None
        if consumer is not None and consumer_function is not consumer:
            problems.add(
                f"consumer_function ({facts.path}) differs from the function of the watched LambdaTriggeredQueue "
                f"({consumer.node.path}): leave consumer_function unset"
            )
        consumer = facts.function
    dead_letter = watched.dead_letter_queue
    if problems.of_kind("dead_letter_queue", dead_letter_queue, _QUEUE) and dead_letter_queue is not None:
        assert isinstance(dead_letter_queue, Construct)
        if dead_letter is not None and dead_letter_queue is not cast(Construct, dead_letter):
            problems.add(
                f"dead_letter_queue ({dead_letter_queue.node.path}) differs from the dead-letter queue of the "
                f"watched queue ({dead_letter.node.path}): leave dead_letter_queue unset"
            )
        dead_letter = dead_letter_queue  # type: ignore[assignment]
    return consumer, dead_letter


def _retention(problems: Problems, watched: QueueFacts, retention_period: object) -> tuple[float, bool]:
    """Retention: the queue's > the caller's > the SQS default, assumed (True) with a warning."""
    given = _limits.RETENTION_PERIOD.check(problems, "retention_period", retention_period)
    known = watched.retention_period
    if known is not None and given is not None and known != given:
        problems.add(
            f"retention_period is {format_duration(given)} but the watched queue keeps messages "
            f"{format_duration(known)}: leave retention_period unset, it is read from the queue"
        )
    if known is not None:
        return known, False
    if given is not None:
        return given, False
    if retention_period is not None:  # given but invalid or a token: nothing better to go on
        return seconds_of(_defaults.ALARM_ASSUMED_RETENTION_PERIOD) or 0.0, False
    return seconds_of(_defaults.ALARM_ASSUMED_RETENTION_PERIOD) or 0.0, True


def _dead_letter_retention(
    problems: Problems, watched: QueueFacts, dead_letter: sqs.IQueue | None, retention_period: object
) -> tuple[float | None, bool]:
    """The DLQ's retention: read > given > the SQS default, assumed (True) with a warning; None without a DLQ."""
    given = _limits.RETENTION_PERIOD.check(problems, "dead_letter_retention_period", retention_period)
    if dead_letter is None:
        if retention_period is not None:
            problems.add(
                "dead_letter_retention_period applies to the DLQ-age alarm, but the watched queue has no dead-letter "
                "queue: pass dead_letter_queue, or leave it unset"
            )
        return None, False
    known = watched.dead_letter_retention_period if dead_letter is watched.dead_letter_queue else None
    if known is None:
        known = retention_of(dead_letter)
    if known is not None and given is not None and known != given:
        problems.add(
            f"dead_letter_retention_period is {format_duration(given)} but the dead-letter queue keeps messages "
            f"{format_duration(known)}: leave dead_letter_retention_period unset, it is read from the queue"
        )
    retention = known if known is not None else given
    assumed = retention is None and retention_period is None
    if retention is None:
        retention = seconds_of(_defaults.ALARM_ASSUMED_DEAD_LETTER_RETENTION_PERIOD) or 0.0
    return retention, assumed
