"""``QueueAlarms``: CloudWatch alarms, an encrypted SNS topic and a dashboard for one SQS queue.

Built in three layers, as cdk-monitoring-constructs builds its monitors: :class:`QueueMetricFactory`
makes the metrics, one ``_add_*_alarm`` method per alarm chooses metric, threshold and description,
and :meth:`QueueAlarms._add_alarm` alone names every alarm, wires its actions and records it. Before
anything is built, :func:`plan_alarms` checks the arguments and derives the thresholds: a pure step
that tests can call on its own.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union, cast

from aws_cdk import Annotations, ArnFormat, Duration, Names, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ._jsii import keyword_signature
from . import _defaults, _limits
from ._facts import QueueFacts, read_function, read_queue
from ._validation import (
    arguments_of,
    BOOLEAN,
    DURATION,
    NUMBER,
    ConfigurationError,
    Kind,
    Problems,
    acknowledge,
    check_construct_arguments,
    claim,
    describe_duration,
    environment_of,
    duration,
    format_duration,
    is_aws_managed_key,
    is_unresolved,
    retention_of,
    seconds_of,
)

if TYPE_CHECKING:
    from ._facts import QueueHolder

    Watchable = Union[QueueHolder, sqs.IQueue]
    """What QueueAlarms watches: a construct of the library holding a queue (the queue patterns and
    ``LambdaTriggeredQueue``, through the :class:`~constructs_sqs._facts.QueueHolder` protocol) or any
    ``sqs.IQueue``. The alarms never import the patterns."""

__all__ = ["ALARM_NAME_SUFFIXES", "AlarmsPlan", "QueueAlarms", "QueueMetricFactory", "plan_alarms"]

ALARM_NAME_SUFFIXES = {
    "depth": "-depth",
    "age": "-age",
    "age-slo": "-age-slo",
    "dlq": "-dlq",
    "in-flight": "-in-flight",
    "consumer-errors": "-consumer-errors",
    "consumer-throttles": "-consumer-throttles",
    "dlq-age": "-dlq-age",
    "time-to-drain": "-time-to-drain",
    "silent-producer": "-silent-producer",
}
"""Key in :attr:`QueueAlarms.alarms` -> suffix of the alarm name. Both are public contract."""

IN_FLIGHT_QUOTA_STANDARD = _limits.IN_FLIGHT_QUOTA_STANDARD
IN_FLIGHT_QUOTA_FIFO = _limits.IN_FLIGHT_QUOTA_FIFO
MAX_RETENTION_SECONDS = float(_limits.RETENTION_PERIOD.maximum)
"""The longest retention SQS allows (14 days): no message is older than this."""

ALARM_NAME_MAX_LENGTH = _limits.ALARM_NAME_MAX_LENGTH
ALARM_DESCRIPTION_MAX_LENGTH = _limits.ALARM_DESCRIPTION_MAX_LENGTH
AWS_MANAGED_SNS_KEY_ALIAS = "alias/aws/sns"
CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"
TOPIC_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")
_LONGEST_SUFFIX = max(len(suffix) for suffix in ALARM_NAME_SUFFIXES.values())
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

_TOPIC = Kind.interface("an sns.ITopic", sns.ITopic)
_DASHBOARD = Kind.of("a cloudwatch.Dashboard", cloudwatch.Dashboard)
_QUEUE = Kind.interface("an sqs.IQueue", sqs.IQueue)
_FUNCTION = Kind.interface("a lambda_.IFunction", lambda_.IFunction)
_WATCHABLE = (
    "a queue pattern of this library (e.g. FifoQueueWithDlq), a LambdaTriggeredQueue or an sqs.IQueue"
)

WARNING_RETENTION_UNKNOWN = "constructs-sqs:alarms-retention-unknown"
WARNING_NO_CONSUMER = "constructs-sqs:alarms-no-consumer"
WARNING_NO_DEAD_LETTER_QUEUE = "constructs-sqs:alarms-no-dead-letter-queue"
WARNING_DEAD_LETTER_RETENTION_UNKNOWN = "constructs-sqs:alarms-dead-letter-retention-unknown"
MAX_EVALUATION_RANGE_SECONDS = _limits.EVALUATION_RANGE.maximum
"""CloudWatch evaluates an alarm over at most one day (period x evaluation periods)."""


# --- Layer 1: metrics ----------------------------------------------------------------------------

# cloudwatch.Stats.MAXIMUM and .SUM, written out: reading a jsii class constant is a call into node.
_MAXIMUM = "Maximum"
_SUM = "Sum"


class QueueMetricFactory:
    """The metrics of one queue, its DLQ and its Lambda consumer, all over one ``period``.

    Gauges (visible, in flight, age) use ``Maximum``: the worst minute of a period is what matters.
    Counters (sent, received, deleted, errors, throttles) use ``Sum``.

    Parameters
    ----------
    queue:
        The queue.
    dead_letter_queue:
        Its DLQ. Default: - none: the DLQ metrics are None.
    consumer:
        Its Lambda consumer. Default: - none: the consumer metrics are None.
    period:
        The period of every metric. Default: 5 minutes.

    Attributes
    ----------
    queue, dead_letter_queue, consumer, period:
        As given.
    """

    def __init__(
        self,
        queue: sqs.IQueue,
        *,
        dead_letter_queue: sqs.IQueue | None = None,
        consumer: lambda_.IFunction | None = None,
        period: Duration = _defaults.ALARM_PERIOD,
    ) -> None:
        self.queue = queue
        self.dead_letter_queue = dead_letter_queue
        self.consumer = consumer
        self.period = period

    def visible(self) -> cloudwatch.Metric:
        """``ApproximateNumberOfMessagesVisible``, Maximum: the backlog waiting for a consumer."""
        return self.queue.metric_approximate_number_of_messages_visible(
            statistic=_MAXIMUM, period=self.period
        )

    def age_of_oldest_message(self) -> cloudwatch.Metric:
        """``ApproximateAgeOfOldestMessage`` in seconds, Maximum."""
        return self.queue.metric_approximate_age_of_oldest_message(
            statistic=_MAXIMUM, period=self.period
        )

    def in_flight(self) -> cloudwatch.Metric:
        """``ApproximateNumberOfMessagesNotVisible``, Maximum: received but not yet deleted."""
        return self.queue.metric_approximate_number_of_messages_not_visible(
            statistic=_MAXIMUM, period=self.period
        )

    def sent(self) -> cloudwatch.Metric:
        return self.queue.metric_number_of_messages_sent(
            statistic=_SUM, period=self.period
        )

    def received(self) -> cloudwatch.Metric:
        return self.queue.metric_number_of_messages_received(
            statistic=_SUM, period=self.period
        )

    def deleted(self) -> cloudwatch.Metric:
        return self.queue.metric_number_of_messages_deleted(
            statistic=_SUM, period=self.period
        )

    def dead_letter_visible(self) -> cloudwatch.Metric | None:
        """``ApproximateNumberOfMessagesVisible`` of the DLQ, Maximum; None without a DLQ.

        Visible, not ``NumberOfMessagesSent``: SQS does not count a message moved by the redrive
        policy as sent to the DLQ.
        """
        if self.dead_letter_queue is None:
            return None
        return self.dead_letter_queue.metric_approximate_number_of_messages_visible(
            statistic=_MAXIMUM, period=self.period
        )

    def dead_letter_age_of_oldest_message(self) -> cloudwatch.Metric | None:
        """``ApproximateAgeOfOldestMessage`` of the DLQ in seconds, Maximum; None without a DLQ.

        A moved message keeps its original enqueue time (standard queues), so this is how close the
        oldest dead letter is to expiring.
        """
        if self.dead_letter_queue is None:
            return None
        return self.dead_letter_queue.metric_approximate_age_of_oldest_message(
            statistic=_MAXIMUM, period=self.period
        )

    def time_to_drain(self, *, never: float) -> cloudwatch.MathExpression:
        """Seconds the visible backlog takes to drain at the current deletion rate (metric math).

        ``visible / (deleted / PERIOD)``; a backlog while nothing is deleted never drains and reads
        ``never`` (e.g. the retention period); an empty queue reads 0. Missing data (an idle queue
        publishes nothing) stays missing.
        """
        return cloudwatch.MathExpression(
            expression=(
                "IF(FILL(deleted, 0) > 0, visible / (FILL(deleted, 0) / PERIOD(visible)), "
                f"IF(visible > 0, {int(never)}, 0))"
            ),
            using_metrics={"visible": self.visible(), "deleted": self.deleted()},
            label="Time to drain (seconds)",
            period=self.period,
        )

    def incoming(self, period: Duration) -> cloudwatch.Metric:
        """``NumberOfMessagesSent``, Sum over ``period``: what the producers sent."""
        return self.queue.metric_number_of_messages_sent(statistic=_SUM, period=period)

    def consumer_errors(self) -> cloudwatch.Metric | None:
        """The consumer's ``Errors``, Sum; None without a consumer."""
        if self.consumer is None:
            return None
        return self.consumer.metric_errors(statistic=_SUM, period=self.period)

    def consumer_throttles(self) -> cloudwatch.Metric | None:
        """The consumer's ``Throttles``, Sum; None without a consumer."""
        if self.consumer is None:
            return None
        return self.consumer.metric_throttles(statistic=_SUM, period=self.period)


# --- The plan: arguments checked, thresholds derived, nothing built ----------------------------------


@dataclass(frozen=True)
class AlarmsArguments:
    """The arguments of :class:`QueueAlarms` as the caller passed them (None: not passed)."""

    queue: object
    dead_letter_queue: object = None
    topic: object = None
    alarm_email: object = None
    depth_threshold: object = None
    age_threshold: object = None
    age_slo: object = None
    retention_period: object = None
    in_flight_threshold: object = None
    consumer_function: object = None
    consumer_errors_threshold: object = None
    consumer_throttles_threshold: object = None
    dead_letter_retention_period: object = None
    dead_letter_age_threshold: object = None
    time_to_drain_threshold: object = None
    min_incoming_messages: object = None
    incoming_period: object = None
    incoming_evaluation_periods: object = None
    alarm_name_prefix: object = None
    notify_ok: object = _defaults.ALARM_NOTIFY_OK
    dashboard: object = None
    create_dashboard: object = _defaults.ALARM_CREATE_DASHBOARD


@dataclass(frozen=True)
class AlarmsPlan:
    """What :class:`QueueAlarms` builds, decided from its arguments and the watched queue.

    Seconds are Python numbers; counts may be tokens (``CfnParameter.value_as_number``).
    """

    watched: QueueFacts
    dead_letter_queue: sqs.IQueue | None
    consumer: lambda_.IFunction | None
    retention_period: float
    retention_assumed: bool
    """True when the retention could not be read nor was given: the SQS default is assumed."""
    age_threshold: Duration
    age_slo: Duration | None
    depth_threshold: float
    in_flight_threshold: float
    in_flight_quota: int
    consumer_errors_threshold: float
    consumer_throttles_threshold: float
    dead_letter_retention_period: float | None
    """Seconds the DLQ keeps messages (read, given or assumed); None without a DLQ."""
    dead_letter_retention_assumed: bool
    dead_letter_age_threshold: Duration | None
    """None without a DLQ."""
    time_to_drain_threshold: Duration
    min_incoming_messages: float | None
    """None: no silent-producer alarm."""
    incoming_period: Duration
    incoming_evaluation_periods: int
    alarm_name_prefix: str | None
    """None: derived from the construct path when built."""
    notify_ok: bool
    topic: sns.ITopic | None
    alarm_email: str | None
    dashboard: cloudwatch.Dashboard | None
    create_dashboard: bool
    warnings: tuple[tuple[str, str], ...]
    """``(id, message)`` of each synth warning the construct adds."""


def plan_alarms(where: str, arguments: AlarmsArguments) -> AlarmsPlan:
    """Check the arguments of :class:`QueueAlarms` and derive its thresholds, building nothing.

    Raises
    ------
    ConfigurationError
        Listing every problem of the call, ``where`` being the construct path.
    """
    a = arguments
    problems = Problems(where)
    watched = read_queue(a.queue)
    if watched is None:
        problems.add(f"queue must be {_WATCHABLE}, got {type(a.queue).__name__}")
        problems.raise_if_any()
    assert watched is not None
    consumer, dead_letter = _plan_watched(problems, watched, a.consumer_function, a.dead_letter_queue)
    retention, assumed = _plan_retention(problems, watched, a.retention_period)
    age, slo = _plan_ages(problems, retention, assumed, a.age_threshold, a.age_slo)
    quota = IN_FLIGHT_QUOTA_FIFO if watched.fifo else IN_FLIGHT_QUOTA_STANDARD
    counts = _plan_counts(
        problems,
        quota=quota,
        fifo=watched.fifo,
        depth_threshold=a.depth_threshold,
        in_flight_threshold=a.in_flight_threshold,
        consumer_errors_threshold=a.consumer_errors_threshold,
        consumer_throttles_threshold=a.consumer_throttles_threshold,
    )
    dead_letter_age = _plan_dead_letter_age(problems, watched, dead_letter, a)
    drain = _plan_time_to_drain(problems, retention, assumed, a.time_to_drain_threshold)
    incoming = _plan_incoming(problems, a)
    _check_delivery(problems, a.topic, a.alarm_email, a.alarm_name_prefix, a.notify_ok, a.dashboard, a.create_dashboard)
    problems.raise_if_any()
    warnings = _plan_warnings(
        retention, assumed, age, consumer, dead_letter, a.consumer_errors_threshold, a.consumer_throttles_threshold
    )
    if dead_letter_age.assumed:
        warnings += ((
            WARNING_DEAD_LETTER_RETENTION_UNKNOWN,
            "The retention period of the dead-letter queue cannot be read (imported): the DLQ-age alarm assumes "
            f"the SQS default of {format_duration(dead_letter_age.retention or 0)} and fires at "
            f"{describe_duration(dead_letter_age.threshold) if dead_letter_age.threshold else '-'}; pass "
            "dead_letter_retention_period or dead_letter_age_threshold.",
        ),)
    return AlarmsPlan(
        watched=watched,
        dead_letter_queue=dead_letter,
        consumer=consumer,
        retention_period=retention,
        retention_assumed=assumed,
        age_threshold=age,
        age_slo=slo,
        in_flight_quota=quota,
        dead_letter_retention_period=dead_letter_age.retention,
        dead_letter_retention_assumed=dead_letter_age.assumed,
        dead_letter_age_threshold=dead_letter_age.threshold,
        time_to_drain_threshold=drain,
        min_incoming_messages=incoming[0],
        incoming_period=incoming[1],
        incoming_evaluation_periods=incoming[2],
        alarm_name_prefix=cast("str | None", a.alarm_name_prefix),
        notify_ok=bool(a.notify_ok),
        topic=cast("sns.ITopic | None", a.topic),
        alarm_email=cast("str | None", a.alarm_email),
        dashboard=cast("cloudwatch.Dashboard | None", a.dashboard),
        create_dashboard=bool(a.create_dashboard),
        warnings=warnings,
        **counts,
    )


def _plan_watched(
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


def _plan_retention(problems: Problems, watched: QueueFacts, retention_period: object) -> tuple[float, bool]:
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


def _plan_ages(
    problems: Problems, retention: float, assumed: bool, age_threshold: object, age_slo: object
) -> tuple[Duration, Duration | None]:
    """A4: both age alarms fire before messages expire, the SLO before the age alarm."""
    age = _threshold(
        problems,
        "age_threshold",
        age_threshold,
        default=math.floor(retention * _defaults.ALARM_AGE_RETENTION_FRACTION),
        limit=MAX_RETENTION_SECONDS if assumed else retention,
        limit_text="the longest retention SQS allows" if assumed else "the retention period",
        why="the oldest message would expire before the alarm could fire",
    )
    age_seconds = seconds_of(age)
    slo = _age(problems, "age_slo", age_slo)
    slo_seconds = seconds_of(slo) if slo is not None else None
    if slo_seconds is not None and age_seconds is not None and 0 < age_seconds <= slo_seconds:
        problems.add(
            f"age_slo must be shorter than age_threshold ({format_duration(age_seconds)}), "
            f"got {format_duration(slo_seconds)}: an SLO alarm is the stricter of the two"
        )
    return age, slo


def _age(problems: Problems, argument: str, value: object) -> Duration | None:
    """A positive Duration the alarm can compare with ``ApproximateAgeOfOldestMessage`` (seconds)."""
    if value is None or not problems.of_kind(argument, value, DURATION):
        return None
    assert isinstance(value, Duration)
    seconds = seconds_of(value)
    if seconds is None:
        try:
            value.to_seconds()
        except RuntimeError:
            problems.add(
                f"{argument} from a token must be Duration.seconds(token): CloudWatch compares the age in "
                f"seconds, got {value.to_human_string()}"
            )
    elif seconds <= 0:
        problems.add(f"{argument} must be longer than 0 seconds, got {format_duration(seconds)}")
    return value


@dataclass(frozen=True)
class _DeadLetterAge:
    retention: float | None
    assumed: bool
    threshold: Duration | None


def _plan_dead_letter_age(
    problems: Problems, watched: QueueFacts, dead_letter: sqs.IQueue | None, a: AlarmsArguments
) -> _DeadLetterAge:
    """The DLQ's retention (read > given > the SQS default, assumed) and the DLQ-age threshold: by default
    half of it, always shorter, or dead letters would expire before the alarm could fire."""
    given = _limits.RETENTION_PERIOD.check(problems, "dead_letter_retention_period", a.dead_letter_retention_period)
    if dead_letter is None:
        for argument in ("dead_letter_retention_period", "dead_letter_age_threshold"):
            if getattr(a, argument) is not None:
                problems.add(
                    f"{argument} applies to the DLQ-age alarm, but the watched queue has no dead-letter queue: "
                    "pass dead_letter_queue, or leave it unset"
                )
        return _DeadLetterAge(retention=None, assumed=False, threshold=None)
    known = watched.dead_letter_retention_period if dead_letter is watched.dead_letter_queue else None
    if known is None:
        known = retention_of(dead_letter)
    if known is not None and given is not None and known != given:
        problems.add(
            f"dead_letter_retention_period is {format_duration(given)} but the dead-letter queue keeps messages "
            f"{format_duration(known)}: leave dead_letter_retention_period unset, it is read from the queue"
        )
    retention = known if known is not None else given
    assumed = retention is None and a.dead_letter_retention_period is None
    if retention is None:
        retention = seconds_of(_defaults.ALARM_ASSUMED_DEAD_LETTER_RETENTION_PERIOD) or 0.0
    threshold = _threshold(
        problems,
        "dead_letter_age_threshold",
        a.dead_letter_age_threshold,
        default=math.floor(retention * _defaults.ALARM_DEAD_LETTER_AGE_RETENTION_FRACTION),
        limit=MAX_RETENTION_SECONDS if assumed else retention,
        limit_text="the longest retention SQS allows" if assumed else "the retention period of the dead-letter queue",
        why="the oldest dead letter would expire before the alarm could fire",
    )
    return _DeadLetterAge(retention=retention, assumed=assumed, threshold=threshold)


def _plan_time_to_drain(problems: Problems, retention: float, assumed: bool, time_to_drain_threshold: object) -> Duration:
    """By default a quarter of the retention period; always shorter than it, or the backlog would expire
    before the alarm fired."""
    return _threshold(
        problems,
        "time_to_drain_threshold",
        time_to_drain_threshold,
        default=math.floor(retention * _defaults.ALARM_TIME_TO_DRAIN_RETENTION_FRACTION),
        limit=MAX_RETENTION_SECONDS if assumed else retention,
        limit_text="the longest retention SQS allows" if assumed else "the retention period",
        why="the backlog would expire before the alarm could fire",
    )


def _threshold(
    problems: Problems, argument: str, value: object, *, default: float, limit: float, limit_text: str, why: str
) -> Duration:
    """A time threshold: ``value`` (positive, shorter than ``limit``) or ``default`` seconds."""
    given = _age(problems, argument, value)
    if given is None:
        return duration(default)
    seconds = seconds_of(given)
    if seconds is not None and seconds >= limit:
        problems.add(
            f"{argument} must be shorter than {limit_text} ({format_duration(limit)}), got "
            f"{format_duration(seconds)}: {why}"
        )
    return given


def _plan_incoming(problems: Problems, a: AlarmsArguments) -> tuple[float | None, Duration, int]:
    """The opt-in silent-producer alarm: at least ``min_incoming_messages`` per ``incoming_period``."""
    _at_least(problems, "min_incoming_messages", a.min_incoming_messages, 1, "messages")
    period = _limits.EVALUATION_RANGE.check(problems, "incoming_period", a.incoming_period)
    if period is not None and period % 60:
        problems.add(f"incoming_period must be a whole number of minutes, got {format_duration(period)}")
    evaluations = _limits.EVALUATION_PERIODS.check_count(problems, "incoming_evaluation_periods", a.incoming_evaluation_periods)
    if a.min_incoming_messages is None:
        for argument in ("incoming_period", "incoming_evaluation_periods"):
            if getattr(a, argument) is not None:
                problems.add(
                    f"{argument} applies to the silent-producer alarm, which min_incoming_messages turns on: pass "
                    "min_incoming_messages, or leave it unset"
                )
    if a.incoming_period is None:
        period = seconds_of(_defaults.ALARM_INCOMING_PERIOD)
    if a.incoming_evaluation_periods is None:
        evaluations = _defaults.ALARM_INCOMING_EVALUATION_PERIODS
    if period is not None and evaluations is not None and period * evaluations > MAX_EVALUATION_RANGE_SECONDS:
        problems.add(
            f"incoming_period x incoming_evaluation_periods must be at most 1 day (CloudWatch evaluates an alarm "
            f"over at most one day), got {format_duration(period)} x {evaluations}"
        )
    return (
        cast("float | None", a.min_incoming_messages),
        cast(Duration, a.incoming_period) if a.incoming_period is not None else _defaults.ALARM_INCOMING_PERIOD,
        cast(int, a.incoming_evaluation_periods or _defaults.ALARM_INCOMING_EVALUATION_PERIODS),
    )


def _at_least(problems: Problems, argument: str, value: object, minimum: int, unit: str) -> bool:
    """``argument`` must be a whole number >= ``minimum``; unresolved tokens pass. False on a problem."""
    if value is None:
        return True
    if not problems.of_kind(argument, value, NUMBER):
        return False
    assert isinstance(value, (int, float))
    if is_unresolved(value):
        return True
    if not float(value).is_integer():
        problems.add(f"{argument} must be a whole number of {unit}, got {value!r}")
        return False
    if value < minimum:
        problems.add(f"{argument} must be a number of {unit} of at least {minimum:,}, got {int(value):,}")
        return False
    return True


def _plan_counts(
    problems: Problems,
    *,
    quota: int,
    fifo: bool,
    depth_threshold: object,
    in_flight_threshold: object,
    consumer_errors_threshold: object,
    consumer_throttles_threshold: object,
) -> dict[str, float]:
    """The count thresholds, checked, with their defaults."""
    _at_least(problems, "depth_threshold", depth_threshold, 1, "messages")
    _at_least(problems, "consumer_errors_threshold", consumer_errors_threshold, 1, "errors")
    _at_least(problems, "consumer_throttles_threshold", consumer_throttles_threshold, 1, "throttles")
    if (
        _at_least(problems, "in_flight_threshold", in_flight_threshold, 1, "messages")
        and isinstance(in_flight_threshold, (int, float))
        and not is_unresolved(in_flight_threshold)
        and in_flight_threshold > quota
    ):
        kind = "a FIFO" if fifo else "a standard"
        problems.add(
            f"in_flight_threshold must be at most {quota:,} messages, the in-flight quota of {kind} "
            f"queue, got {in_flight_threshold:,}: SQS stops delivering before the alarm could fire"
        )

    def given(value: object, default: float) -> float:
        return default if value is None else value  # type: ignore[return-value]

    return {
        "depth_threshold": given(depth_threshold, _defaults.ALARM_DEPTH_THRESHOLD),
        "in_flight_threshold": given(
            in_flight_threshold, math.floor(quota * _defaults.ALARM_IN_FLIGHT_QUOTA_FRACTION)
        ),
        "consumer_errors_threshold": given(consumer_errors_threshold, _defaults.ALARM_CONSUMER_ERRORS_THRESHOLD),
        "consumer_throttles_threshold": given(
            consumer_throttles_threshold, _defaults.ALARM_CONSUMER_THROTTLES_THRESHOLD
        ),
    }


def _check_delivery(
    problems: Problems,
    topic: object,
    alarm_email: object,
    alarm_name_prefix: object,
    notify_ok: object,
    dashboard: object,
    create_dashboard: object,
) -> None:
    """Names, topic, email and dashboard."""
    prefix = problems.string("alarm_name_prefix", alarm_name_prefix)
    if prefix is not None:
        room = ALARM_NAME_MAX_LENGTH - _LONGEST_SUFFIX
        if not 1 <= len(prefix) <= room:
            problems.add(
                f"alarm_name_prefix must be 1 to {room} characters (CloudWatch allows {ALARM_NAME_MAX_LENGTH} "
                f"with the suffix, the longest being '{ALARM_NAME_SUFFIXES['consumer-throttles']}'), got "
                f"{len(prefix)} characters"
            )
        if "*" in prefix or "?" in prefix:
            problems.add(
                f"alarm_name_prefix must not contain '*' or '?', got {prefix!r}: they are "
                "wildcards in the aws:SourceArn condition that lets CloudWatch publish to the topic"
            )
        if _CONTROL_CHARACTERS.search(prefix):
            problems.add(f"alarm_name_prefix must not contain control characters, got {prefix!r}")
    if problems.of_kind("topic", topic, _TOPIC) and topic is not None:
        if is_aws_managed_key(topic.master_key, AWS_MANAGED_SNS_KEY_ALIAS):  # type: ignore[attr-defined]
            problems.add(
                "topic is encrypted with the AWS-managed key 'alias/aws/sns', whose key policy cannot let "
                "CloudWatch use it, so every alarm notification would be dropped: pass a topic encrypted "
                "with a customer-managed key, or leave topic unset to get one"
            )
    email = problems.string("alarm_email", alarm_email)
    if email is not None and not _EMAIL.fullmatch(email):
        problems.add(f"alarm_email must be an email address like 'oncall@example.com', got {email!r}")
    problems.of_kind("notify_ok", notify_ok, BOOLEAN)
    problems.of_kind("create_dashboard", create_dashboard, BOOLEAN)
    if problems.of_kind("dashboard", dashboard, _DASHBOARD) and dashboard is not None and create_dashboard is False:
        problems.add(
            "create_dashboard is False but dashboard is given: pass dashboard to add widgets to it, "
            "or create_dashboard=False for no dashboard, not both"
        )


def _plan_warnings(
    retention: float,
    assumed: bool,
    age: Duration,
    consumer: lambda_.IFunction | None,
    dead_letter: sqs.IQueue | None,
    consumer_errors_threshold: object,
    consumer_throttles_threshold: object,
) -> tuple[tuple[str, str], ...]:
    warnings: list[tuple[str, str]] = []
    if assumed:
        warnings.append((
            WARNING_RETENTION_UNKNOWN,
            "The retention period of the watched queue cannot be read (imported queue): the age alarm "
            f"assumes the SQS default of {format_duration(retention)} and fires at {describe_duration(age)}; "
            "pass retention_period or age_threshold.",
        ))
    if consumer is None and (consumer_errors_threshold is not None or consumer_throttles_threshold is not None):
        warnings.append((
            WARNING_NO_CONSUMER,
            "consumer_errors_threshold and consumer_throttles_threshold are ignored: the watched queue "
            "has no Lambda consumer; pass consumer_function, or watch a LambdaTriggeredQueue.",
        ))
    if dead_letter is None:
        warnings.append((
            WARNING_NO_DEAD_LETTER_QUEUE,
            "The watched queue has no dead-letter queue: failing messages are retried until they "
            "expire and no alarm reports them (constructs-sqs rule Q4). Pass dead_letter_queue if it has one.",
        ))
    return tuple(warnings)


# --- Layer 3: the alarm builder's input ---------------------------------------------------------


@dataclass(frozen=True)
class _AlarmSpec:
    key: str  # key in QueueAlarms.alarms and ALARM_NAME_SUFFIXES
    construct_id: str
    metric: cloudwatch.IMetric
    threshold: float
    comparison: cloudwatch.ComparisonOperator
    description: str
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None
    # Every QueueAlarms metric is absent when there is nothing to report: SQS stops publishing for a
    # queue that holds no message and sees no call for 6 hours, Lambda publishes only when invoked.
    treat_missing_data: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING


def _seconds(value: Duration) -> float:
    """A threshold in seconds: the known length, or the token number of ``Duration.seconds(token)``."""
    seconds = seconds_of(value)
    return value.to_seconds() if seconds is None else seconds


@keyword_signature
class QueueAlarms(Construct):
    """Alarms on an SQS queue, its DLQ and its Lambda consumer, an alarm topic and a dashboard.

    Every alarm notifies one SNS topic (rule A1), on ALARM and on OK. The topic is created,
    encrypted with a customer-managed key with rotation and TLS-only, or passed in; either way its
    topic policy and key policy let ``cloudwatch.amazonaws.com`` publish, scoped by ``aws:SourceAccount``
    and by ``aws:SourceArn`` to the alarms named ``<alarm_name_prefix>-*`` (A3, K2). The topic
    policy that ``enforce_ssl`` adds replaces SNS's default one, and CDK adds no key statement for
    CloudWatch (aws/aws-cdk#11121): without these two statements every notification would be refused
    while the alarms look wired.

    - ``-depth``: ``ApproximateNumberOfMessagesVisible`` (Maximum) > ``depth_threshold`` for 3 periods.
    - ``-age``: ``ApproximateAgeOfOldestMessage`` (Maximum) > ``age_threshold``.
    - ``-age-slo``: ``ApproximateAgeOfOldestMessage`` (Maximum) > ``age_slo``; only when given.
    - ``-dlq``: the DLQ's ``ApproximateNumberOfMessagesVisible`` (Maximum) >= 1; only with a DLQ.
    - ``-in-flight``: ``ApproximateNumberOfMessagesNotVisible`` (Maximum) >= ``in_flight_threshold``.
    - ``-consumer-errors``, ``-consumer-throttles``: the consumer's ``Errors`` / ``Throttles`` (Sum)
      >= their threshold in 2 of 3 periods; only with a Lambda consumer.
    - ``-dlq-age``: the DLQ's ``ApproximateAgeOfOldestMessage`` (Maximum) > ``dead_letter_age_threshold``;
      only with a DLQ.
    - ``-time-to-drain``: visible messages / deletes per second (metric math) > ``time_to_drain_threshold``
      for 3 periods.
    - ``-silent-producer``: ``NumberOfMessagesSent`` (Sum per ``incoming_period``) < ``min_incoming_messages``,
      missing data breaching; only when ``min_incoming_messages`` is given.

    Periods are 5 minutes and missing data is not breaching: an idle queue publishes no metric (A2).
    Alarms get physical names, ``<alarm_name_prefix><suffix>``, so that the key and topic policies can
    name them in ``aws:SourceArn`` without a dependency cycle (key -> alarm -> topic -> key) and on-call
    reads a meaningful name in the notification. Renaming replaces an alarm, which only resets its
    state. The construct ids (``DepthAlarm``, ``AgeAlarm``, ``AgeSloAlarm``, ``DeadLetterAlarm``,
    ``InFlightAlarm``, ``ConsumerErrorsAlarm``, ``ConsumerThrottlesAlarm``, ``DeadLetterAgeAlarm``,
    ``TimeToDrainAlarm``, ``SilentProducerAlarm``, ``Topic``, ``TopicKey``, ``Dashboard``) are public contract.

    Example::

        orders = FifoQueueWithDlq(self, "Orders")
        monitoring = QueueAlarms(self, "OrdersAlarms", queue=orders, alarm_email="oncall@example.com",
                                 age_slo=Duration.minutes(15))
        QueueAlarms(self, "MediaAlarms", queue=media, topic=monitoring.topic,
                    dashboard=monitoring.dashboard)

    Parameters
    ----------
    queue:
        What to watch: one of the library's queue patterns (``FifoQueueWithDlq``, ``EncryptedQueue``,
        an imported ``ImportedQueueWithDlq``), whose DLQ, type and retention are then used; a
        ``LambdaTriggeredQueue`` (anything with ``function`` and ``queue``), whose function also gets
        the consumer alarms; or any ``sqs.IQueue``, whose DLQ and retention are read when it is an
        ``sqs.Queue`` of this app.
    dead_letter_queue:
        The DLQ of a plain ``sqs.IQueue``. Default: - the DLQ of ``queue``; no DLQ alarm when it has none.
    topic:
        The topic every alarm notifies. A topic created in this app gets the CloudWatch statements in
        its topic and key policies; for an imported one a warning says what its owner must add; one
        encrypted with the AWS-managed key ``alias/aws/sns`` is refused, CloudWatch cannot use that key.
        Default: - a topic is created, encrypted with a new customer-managed key, TLS-only.
    alarm_email:
        An address subscribed to the topic; AWS mails it a confirmation link first. Default: - none.
    depth_threshold:
        Visible messages above which the ``-depth`` alarm fires, at least 1. Default: 1,000.
    age_threshold:
        Age of the oldest message above which the ``-age`` alarm fires; shorter than the retention
        period, or it could never fire before the messages expire. Default: half the retention period
        (2 days for the default 4 days); when retention is unknown, half of 4 days, with a warning.
    age_slo:
        A stricter age objective, shorter than ``age_threshold``, for a second alarm ``-age-slo``.
        Default: - no SLO alarm.
    retention_period:
        The retention period of an imported queue, which cannot be read from it; refused when it
        disagrees with a known one. Default: - read from ``queue``, else assumed to be 4 days.
    in_flight_threshold:
        In-flight messages at which ``-in-flight`` fires, 1 to the quota (120,000 standard, 20,000
        FIFO). Default: 80 % of the quota: 96,000 standard, 16,000 FIFO.
    consumer_function:
        The Lambda function consuming a plain queue; a ``LambdaTriggeredQueue``'s own function is used
        without it. Default: - none: no consumer alarms.
    consumer_errors_threshold, consumer_throttles_threshold:
        Errors or throttles per 5 minutes that count as breaching, at least 1. Default: 1.
    dead_letter_retention_period:
        The retention period of an imported DLQ, which cannot be read from it. Default: - read from the
        DLQ, else assumed to be 4 days, with a warning.
    dead_letter_age_threshold:
        Age of the oldest dead letter above which ``-dlq-age`` fires; shorter than the DLQ's retention.
        Default: half the DLQ's retention period (7 days of the default 14).
    time_to_drain_threshold:
        Time the backlog would take to drain, at the rate messages are deleted, above which
        ``-time-to-drain`` fires (3 periods in a row). Default: a quarter of the retention period.
    min_incoming_messages:
        Messages sent per ``incoming_period`` below which ``-silent-producer`` fires (missing data is
        breaching). Default: - none: no silent-producer alarm.
    incoming_period, incoming_evaluation_periods:
        The period of the silent-producer alarm and how many in a row must breach, at most one day in
        all. Default: 1 hour, 1.
    alarm_name_prefix:
        Start of every alarm name, at most 236 characters, without ``*`` or ``?`` (they would widen the
        ``aws:SourceArn`` conditions). Default: - a stable name from the construct path, at most 64
        characters, e.g. ``Monitoring-OrdersAlarms-1A2B3C4D``.
    notify_ok:
        Also notify the topic when an alarm returns to OK. Default: True.
    dashboard:
        An existing dashboard to add this queue's widgets to, so one dashboard shows several queues.
        Default: - a dashboard is created unless ``create_dashboard`` is False.
    create_dashboard:
        Create a dashboard when none is passed. Default: True.

    Attributes
    ----------
    alarms:
        Every alarm, by key: ``depth``, ``age``, ``age-slo``, ``dlq``, ``in-flight``,
        ``consumer-errors``, ``consumer-throttles``, ``dlq-age``, ``time-to-drain``, ``silent-producer``
        (the keys of the alarms that exist).
    depth_alarm, age_alarm, in_flight_alarm, time_to_drain_alarm:
        The alarms every queue gets (never None).
    age_slo_alarm, dead_letter_alarm, consumer_errors_alarm, consumer_throttles_alarm, dead_letter_age_alarm,
    silent_producer_alarm:
        The same alarms, or None for one that was not made (no ``age_slo``, no DLQ, no consumer, no
        ``min_incoming_messages``).
    topic, topic_key:
        The alarm topic, and its key when created here (else None).
    dashboard:
        The dashboard the widgets went to, or None.
    queue, dead_letter_queue, consumer_function:
        What is watched.
    alarm_name_prefix, depth_threshold, age_threshold, age_slo, in_flight_threshold, in_flight_quota,
    dead_letter_age_threshold, time_to_drain_threshold, min_incoming_messages, retention_period:
        The values in force (None for an alarm not made).
    fifo:
        True when the watched queue is FIFO.
    email_dead_letter_queue:
        The DLQ of the email subscription, or None without ``alarm_email``.
    plan:
        The :class:`AlarmsPlan` the construct was built from.
    metrics:
        The :class:`QueueMetricFactory`, for more widgets or alarms.

    Raises
    ------
    ConfigurationError
        (a ``ValueError``) listing every invalid argument of the call.
    """

    depth_alarm: cloudwatch.Alarm
    age_alarm: cloudwatch.Alarm
    age_slo_alarm: cloudwatch.Alarm | None
    dead_letter_alarm: cloudwatch.Alarm | None
    in_flight_alarm: cloudwatch.Alarm
    consumer_errors_alarm: cloudwatch.Alarm | None
    consumer_throttles_alarm: cloudwatch.Alarm | None
    dead_letter_age_alarm: cloudwatch.Alarm | None
    time_to_drain_alarm: cloudwatch.Alarm
    silent_producer_alarm: cloudwatch.Alarm | None

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        queue: Watchable,
        dead_letter_queue: sqs.IQueue | None = None,
        topic: sns.ITopic | None = None,
        alarm_email: str | None = None,
        depth_threshold: int | None = None,
        age_threshold: Duration | None = None,
        age_slo: Duration | None = None,
        retention_period: Duration | None = None,
        in_flight_threshold: int | None = None,
        consumer_function: lambda_.IFunction | None = None,
        consumer_errors_threshold: int | None = None,
        consumer_throttles_threshold: int | None = None,
        dead_letter_retention_period: Duration | None = None,
        dead_letter_age_threshold: Duration | None = None,
        time_to_drain_threshold: Duration | None = None,
        min_incoming_messages: int | None = None,
        incoming_period: Duration | None = None,
        incoming_evaluation_periods: int | None = None,
        alarm_name_prefix: str | None = None,
        notify_ok: bool = _defaults.ALARM_NOTIFY_OK,
        dashboard: cloudwatch.Dashboard | None = None,
        create_dashboard: bool = _defaults.ALARM_CREATE_DASHBOARD,
    ) -> None:
        arguments = arguments_of(AlarmsArguments, locals())
        check_construct_arguments(type(self).__name__, scope, id)
        super().__init__(scope, id)
        self._path = self.node.path
        plan = plan_alarms(self._path, arguments)
        self._claim_queue(plan.watched.queue)
        if plan.alarm_name_prefix is not None:
            self._claim_prefix(plan.alarm_name_prefix)  # a prefix derived from the construct path is unique
        self.alarm_name_prefix: str = plan.alarm_name_prefix or Names.unique_resource_name(
            self, max_length=_defaults.ALARM_NAME_PREFIX_MAX_LENGTH, separator="-"
        )
        self.plan = plan
        self._apply(plan)
        for warning_id, message in plan.warnings:
            Annotations.of(self).add_warning_v2(warning_id, message)
        self._build_topic(plan)
        self._build_alarms(plan)
        self.dashboard = plan.dashboard or (cloudwatch.Dashboard(self, "Dashboard") if plan.create_dashboard else None)
        if self.dashboard is not None:
            self.add_to_dashboard(self.dashboard)

    def _claim_queue(self, queue: sqs.IQueue) -> None:
        """One QueueAlarms per queue: a second one would duplicate every alarm and notification."""
        first = claim(self, self._path, "watched queue", queue.node.path)
        if first is not None:
            raise ConfigurationError(
                self.node.path,
                [
                    f"queue {queue.node.path} is already watched by the QueueAlarms {first}: a second QueueAlarms "
                    "would duplicate every alarm; keep the first one (add_alarms() returns it), and pass its "
                    "topic or dashboard to the QueueAlarms of other queues"
                ],
            )

    def _claim_prefix(self, prefix: str) -> None:
        """Alarm names are unique per account and region: a prefix two QueueAlarms share fails here."""
        first = claim(self, self._path, "alarm name prefix", f"{environment_of(self)}/{prefix}")
        if first is not None:
            raise ConfigurationError(
                self.node.path,
                [
                    f"alarm_name_prefix {prefix!r} is already the prefix of the alarms of {first}: alarm names must "
                    "be unique in an account and region; pass another alarm_name_prefix"
                ],
            )

    def _apply(self, plan: AlarmsPlan) -> None:
        """The plan's values as the construct's public attributes."""
        self.queue: sqs.IQueue = plan.watched.queue
        self.dead_letter_queue: sqs.IQueue | None = plan.dead_letter_queue
        self.consumer_function: lambda_.IFunction | None = plan.consumer
        self.fifo: bool = plan.watched.fifo
        self.depth_threshold: float = plan.depth_threshold
        self.age_threshold: Duration = plan.age_threshold
        self.age_slo: Duration | None = plan.age_slo
        self.in_flight_threshold: float = plan.in_flight_threshold
        self.in_flight_quota: int = plan.in_flight_quota
        self.dead_letter_age_threshold: Duration | None = plan.dead_letter_age_threshold
        self.time_to_drain_threshold: Duration = plan.time_to_drain_threshold
        self.min_incoming_messages: float | None = plan.min_incoming_messages
        self._queue_name = plan.watched.name
        self._notify_ok = plan.notify_ok
        self.metrics = QueueMetricFactory(self.queue, dead_letter_queue=self.dead_letter_queue, consumer=self.consumer_function)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

    @property
    def retention_period(self) -> Duration:
        """The retention period of the watched queue: read, given, or the SQS default assumed."""
        return duration(self.plan.retention_period)

    def _build_topic(self, plan: AlarmsPlan) -> None:
        self.topic_key: kms.Key | None = None
        self.topic: sns.ITopic = plan.topic if plan.topic is not None else self._create_topic()
        self._allow_cloudwatch_to_publish()
        self._topic_policy = self.topic.node.try_find_child("Policy") if plan.topic is not None else None
        self._action = cloudwatch_actions.SnsAction(self.topic)
        self.email_dead_letter_queue: sqs.Queue | None = None
        if plan.alarm_email is not None:
            self.email_dead_letter_queue = self._email_dead_letter_queue()
            self.topic.add_subscription(
                subscriptions.EmailSubscription(plan.alarm_email, dead_letter_queue=self.email_dead_letter_queue)
            )

    def _build_alarms(self, plan: AlarmsPlan) -> None:
        """Layer 2: one method per alarm."""
        self.depth_alarm = self._add_depth_alarm()
        self.age_alarm = self._add_age_alarm()
        self.age_slo_alarm = self._add_age_slo_alarm()
        self.dead_letter_alarm = self._add_dead_letter_alarm()
        self.in_flight_alarm = self._add_in_flight_alarm()
        self.consumer_errors_alarm = self._add_consumer_errors_alarm(plan.consumer_errors_threshold)
        self.consumer_throttles_alarm = self._add_consumer_throttles_alarm(plan.consumer_throttles_threshold)
        self.dead_letter_age_alarm = self._add_dead_letter_age_alarm()
        self.time_to_drain_alarm = self._add_time_to_drain_alarm()
        self.silent_producer_alarm = self._add_silent_producer_alarm(plan)

    # --- Topic -----------------------------------------------------------------------------------

    def _email_dead_letter_queue(self) -> sqs.Queue:
        """Notifications SNS cannot deliver to the email address (cdk-nag Serverless-SNSRedrivePolicy).

        SSE-SQS, TLS-only, kept 14 days and on stack deletion, like every DLQ of the library.
        """
        queue = sqs.Queue(
            self,
            "EmailDeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=_defaults.ENFORCE_SSL,
            retention_period=_defaults.DEAD_LETTER_RETENTION_PERIOD,
            removal_policy=_defaults.DEAD_LETTER_REMOVAL_POLICY,
        )
        acknowledge(queue, _defaults.SUBSCRIPTION_DEAD_LETTER_QUEUE_ACKNOWLEDGMENTS)
        return queue

    def _create_topic(self) -> sns.Topic:
        self.topic_key = kms.Key(
            self,
            "TopicKey",
            description=f"constructs-sqs: encrypts the alarm topic of {self.node.path}",
            enable_key_rotation=_defaults.KEY_ROTATION,
            pending_window=_defaults.KEY_PENDING_WINDOW,
            removal_policy=_defaults.ALARM_TOPIC_KEY_REMOVAL_POLICY,
        )
        return sns.Topic(self, "Topic", master_key=self.topic_key, enforce_ssl=True)

    def _allow_cloudwatch_to_publish(self) -> None:
        """Topic and key policy statements letting this construct's alarms publish (A3, K2)."""
        stack = Stack.of(self)
        alarm_arns = stack.format_arn(
            service="cloudwatch",
            resource="alarm",
            resource_name=f"{self.alarm_name_prefix}-*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        conditions = {
            "ArnLike": {"aws:SourceArn": alarm_arns},
            "StringEquals": {"aws:SourceAccount": stack.account},
        }
        principal = iam.ServicePrincipal(CLOUDWATCH_PRINCIPAL)
        added = self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["sns:Publish"],
                principals=[principal],
                resources=[self.topic.topic_arn],
                conditions=conditions,
            )
        )
        if not added.statement_added:
            Annotations.of(self).add_warning_v2(
                "constructs-sqs:alarms-imported-topic",
                f"The alarm topic {self.topic.node.path} is imported, so its policy cannot be changed here: "
                f"if it has a topic policy, it must allow {CLOUDWATCH_PRINCIPAL} sns:Publish for the alarms "
                f"'{self.alarm_name_prefix}-*', or their notifications are refused.",
            )
        key = self.topic.master_key
        if key is None:
            return
        added = key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=list(TOPIC_KEY_ACTIONS),
                principals=[principal],
                resources=["*"],
                conditions=conditions,
            )
        )
        if not added.statement_added:
            Annotations.of(self).add_warning_v2(
                "constructs-sqs:alarms-imported-topic-key",
                f"The key of the alarm topic ({key.node.path}) is imported, so its policy cannot be changed "
                f"here: it must allow {CLOUDWATCH_PRINCIPAL} {' and '.join(TOPIC_KEY_ACTIONS)}, or every "
                "alarm notification is dropped (aws/aws-cdk#11121).",
            )

    # --- Layer 2: one method per alarm ----------------------------------------------------------

    def _add_depth_alarm(self) -> cloudwatch.Alarm:
        periods = _defaults.ALARM_DEPTH_EVALUATION_PERIODS
        minutes = self._minutes(periods)
        return self._add_alarm(
            _AlarmSpec(
                key="depth",
                construct_id="DepthAlarm",
                metric=self.metrics.visible(),
                threshold=self.depth_threshold,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=periods,
                description=(
                    f"More than {self._count(self.depth_threshold)} messages have waited in queue "
                    f"{self._queue_name} for {minutes} minutes: consumers are not keeping up; check the "
                    "consumer's errors and throttles, then scale the consumer or slow the producers."
                ),
            )
        )

    def _add_age_alarm(self) -> cloudwatch.Alarm:
        return self._add_alarm(
            _AlarmSpec(
                key="age",
                construct_id="AgeAlarm",
                metric=self.metrics.age_of_oldest_message(),
                threshold=_seconds(self.age_threshold),
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                description=(
                    f"The oldest message in queue {self._queue_name} is older than "
                    f"{describe_duration(self.age_threshold)} (retention period "
                    f"{format_duration(self.plan.retention_period)}): SQS deletes messages when their retention "
                    "ends, so find why consumers are not processing them and fix it before then."
                ),
            )
        )

    def _add_age_slo_alarm(self) -> cloudwatch.Alarm | None:
        if self.age_slo is None:
            return None
        return self._add_alarm(
            _AlarmSpec(
                key="age-slo",
                construct_id="AgeSloAlarm",
                metric=self.metrics.age_of_oldest_message(),
                threshold=_seconds(self.age_slo),
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                description=(
                    f"The oldest message in queue {self._queue_name} is older than the "
                    f"{describe_duration(self.age_slo)} processing objective: consumers are falling behind; "
                    "check the consumer's errors, throttles and concurrency."
                ),
            )
        )

    def _add_dead_letter_alarm(self) -> cloudwatch.Alarm | None:
        metric = self.metrics.dead_letter_visible()
        if metric is None or self.dead_letter_queue is None:
            return None
        return self._add_alarm(
            _AlarmSpec(
                key="dlq",
                construct_id="DeadLetterAlarm",
                metric=metric,
                threshold=1,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                description=(
                    f"Messages are reaching the dead-letter queue {self.dead_letter_queue.queue_name} of "
                    f"queue {self._queue_name}: a consumer is failing on them; inspect the messages, fix "
                    "the cause and redrive them before the DLQ's retention ends."
                ),
            )
        )

    def _add_in_flight_alarm(self) -> cloudwatch.Alarm:
        kind = "FIFO" if self.fifo else "standard"
        return self._add_alarm(
            _AlarmSpec(
                key="in-flight",
                construct_id="InFlightAlarm",
                metric=self.metrics.in_flight(),
                threshold=self.in_flight_threshold,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                description=(
                    f"At least {self._count(self.in_flight_threshold)} messages of queue {self._queue_name} "
                    f"are in flight, near the quota of {self.in_flight_quota:,} for a {kind} queue, where "
                    "receives fail or stall: check that consumers delete what they process and that the "
                    "visibility timeout is not longer than needed."
                ),
            )
        )

    def _add_consumer_errors_alarm(self, threshold: float) -> cloudwatch.Alarm | None:
        metric = self.metrics.consumer_errors()
        if metric is None or self.consumer_function is None:
            return None
        return self._add_alarm(
            _AlarmSpec(
                key="consumer-errors",
                construct_id="ConsumerErrorsAlarm",
                metric=metric,
                threshold=threshold,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=_defaults.ALARM_CONSUMER_EVALUATION_PERIODS,
                datapoints_to_alarm=_defaults.ALARM_CONSUMER_DATAPOINTS_TO_ALARM,
                description=(
                    f"Consumer function {self.consumer_function.function_name} of queue {self._queue_name} "
                    f"fails repeatedly ({self._repeated()}): each error returns a whole batch to the queue "
                    "and moves it toward the DLQ; read the function's logs and fix the error."
                ),
            )
        )

    def _add_consumer_throttles_alarm(self, threshold: float) -> cloudwatch.Alarm | None:
        metric = self.metrics.consumer_throttles()
        if metric is None or self.consumer_function is None:
            return None
        return self._add_alarm(
            _AlarmSpec(
                key="consumer-throttles",
                construct_id="ConsumerThrottlesAlarm",
                metric=metric,
                threshold=threshold,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=_defaults.ALARM_CONSUMER_EVALUATION_PERIODS,
                datapoints_to_alarm=_defaults.ALARM_CONSUMER_DATAPOINTS_TO_ALARM,
                description=(
                    f"Consumer function {self.consumer_function.function_name} of queue {self._queue_name} "
                    f"is throttled repeatedly ({self._repeated()}): throttled deliveries count as receives "
                    "and send healthy messages to the DLQ; raise the function's reserved concurrency or "
                    "lower the event source's maximum concurrency below it."
                ),
            )
        )

    def _add_dead_letter_age_alarm(self) -> cloudwatch.Alarm | None:
        metric = self.metrics.dead_letter_age_of_oldest_message()
        if metric is None or self.dead_letter_queue is None or self.dead_letter_age_threshold is None:
            return None
        retention = self.plan.dead_letter_retention_period
        return self._add_alarm(
            _AlarmSpec(
                key="dlq-age",
                construct_id="DeadLetterAgeAlarm",
                metric=metric,
                threshold=_seconds(self.dead_letter_age_threshold),
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                description=(
                    f"The oldest message in the dead-letter queue {self.dead_letter_queue.queue_name} of queue "
                    f"{self._queue_name} is older than {describe_duration(self.dead_letter_age_threshold)} "
                    f"(the DLQ keeps messages {format_duration(retention or 0)}): it was left there; inspect and "
                    "redrive the dead letters before SQS deletes the evidence."
                ),
            )
        )

    def _add_time_to_drain_alarm(self) -> cloudwatch.Alarm:
        periods = _defaults.ALARM_TIME_TO_DRAIN_EVALUATION_PERIODS
        return self._add_alarm(
            _AlarmSpec(
                key="time-to-drain",
                construct_id="TimeToDrainAlarm",
                metric=self.metrics.time_to_drain(never=self.plan.retention_period),
                threshold=_seconds(self.time_to_drain_threshold),
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=periods,
                description=(
                    f"At the rate consumers delete messages, the backlog of queue {self._queue_name} would take more "
                    f"than {describe_duration(self.time_to_drain_threshold)} to drain, for {self._minutes(periods)} "
                    f"minutes (retention period {format_duration(self.plan.retention_period)}): scale the consumers "
                    "or fix what slows them before messages expire."
                ),
            )
        )

    def _add_silent_producer_alarm(self, plan: AlarmsPlan) -> cloudwatch.Alarm | None:
        if plan.min_incoming_messages is None:
            return None
        periods = plan.incoming_evaluation_periods
        period = describe_duration(plan.incoming_period)
        return self._add_alarm(
            _AlarmSpec(
                key="silent-producer",
                construct_id="SilentProducerAlarm",
                metric=self.metrics.incoming(plan.incoming_period),
                threshold=plan.min_incoming_messages,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=periods,
                # No data means nothing was sent: a producer that stopped is exactly the case.
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
                description=(
                    f"Fewer than {self._count(plan.min_incoming_messages)} messages were sent to queue "
                    f"{self._queue_name} per {period}"
                    + (f", {periods} periods in a row" if periods > 1 else "")
                    + ": a producer that should always send has stopped; check the producers and what feeds them."
                ),
            )
        )

    # --- Layer 3: the one alarm builder --------------------------------------------------------

    def _add_alarm(self, spec: _AlarmSpec) -> cloudwatch.Alarm:
        """Name, describe and wire one alarm: the only place alarms are made."""
        if spec.key in self.alarms:
            raise AssertionError(f"{self.node.path}: alarm {spec.key!r} made twice")
        if len(spec.description) > ALARM_DESCRIPTION_MAX_LENGTH and not is_unresolved(spec.description):
            raise AssertionError(f"{self.node.path}: description of {spec.key!r} too long")
        alarm = cloudwatch.Alarm(
            self,
            spec.construct_id,
            alarm_name=f"{self.alarm_name_prefix}{ALARM_NAME_SUFFIXES[spec.key]}",
            alarm_description=spec.description,
            metric=spec.metric,
            threshold=spec.threshold,
            comparison_operator=spec.comparison,
            evaluation_periods=spec.evaluation_periods,
            datapoints_to_alarm=spec.datapoints_to_alarm,
            treat_missing_data=spec.treat_missing_data,
            actions_enabled=True,
        )
        if self._topic_policy is not None:
            # A topic passed in may carry a policy of its own: the alarm's first OK notification goes out
            # when it is created, after the statement allowing it. (A topic created here has SNS's default
            # policy, which lets the account's alarms publish, until its TLS-only policy replaces it.)
            alarm.node.add_dependency(self._topic_policy)
        alarm.add_alarm_action(self._action)
        if self._notify_ok:
            alarm.add_ok_action(self._action)
        self.alarms[spec.key] = alarm
        return alarm

    # --- Dashboard -------------------------------------------------------------------------------

    def add_to_dashboard(self, dashboard: cloudwatch.Dashboard) -> None:
        """Add this queue's widgets to ``dashboard``: a title row, rows of three graphs and the alarm states.

        Graphs: visible messages, age of the oldest message, in flight, time to drain (each with its alarm
        threshold), sent / received / deleted, sent per incoming period (with a silent-producer alarm), the
        DLQ's visible messages and age of its oldest message, consumer errors and throttles.
        """
        problems = Problems(f"{self.node.path}.add_to_dashboard")
        problems.of_kind("dashboard", dashboard, _DASHBOARD)
        problems.raise_if_any()
        metrics = self.metrics
        incoming = [("silent-producer alarm", self.min_incoming_messages)] if self.min_incoming_messages else []
        graphs = [
            self._graph("Messages visible", [("Visible", metrics.visible())], [("depth alarm", self.depth_threshold)]),
            self._graph(
                "Age of oldest message (seconds)",
                [("Oldest message", metrics.age_of_oldest_message())],
                [("age alarm", _seconds(self.age_threshold))]
                + ([("age SLO", _seconds(self.age_slo))] if self.age_slo is not None else []),
            ),
            self._graph(
                "Messages in flight", [("In flight", metrics.in_flight())], [("in-flight alarm", self.in_flight_threshold)]
            ),
            self._graph(
                "Time to drain (seconds)",
                [("Time to drain", metrics.time_to_drain(never=self.plan.retention_period))],
                [("time-to-drain alarm", _seconds(self.time_to_drain_threshold))],
            ),
            self._graph(
                "Sent / received / deleted",
                [("Sent", metrics.sent()), ("Received", metrics.received()), ("Deleted", metrics.deleted())],
                [],
            ),
        ]
        if self.min_incoming_messages is not None:
            graphs.append(
                self._graph(
                    f"Sent per {describe_duration(self.plan.incoming_period)}",
                    [("Sent", metrics.incoming(self.plan.incoming_period))],
                    incoming,
                )
            )
        dead_letters = metrics.dead_letter_visible()
        dead_letter_age = metrics.dead_letter_age_of_oldest_message()
        if dead_letters is not None and dead_letter_age is not None and self.dead_letter_age_threshold is not None:
            graphs.append(
                self._graph("Dead-letter queue: messages visible", [("Dead letters", dead_letters)], [("DLQ alarm", 1)])
            )
            graphs.append(
                self._graph(
                    "Dead-letter queue: age of oldest message (seconds)",
                    [("Oldest dead letter", dead_letter_age)],
                    [("DLQ-age alarm", _seconds(self.dead_letter_age_threshold))],
                )
            )
        errors, throttles = metrics.consumer_errors(), metrics.consumer_throttles()
        if errors is not None and throttles is not None:
            graphs.append(
                self._graph("Consumer errors / throttles", [("Errors", errors), ("Throttles", throttles)], [])
            )
        dashboard.add_widgets(cloudwatch.TextWidget(markdown=f"### Queue {self._queue_name}", width=24, height=1))
        for row in range(0, len(graphs), 3):
            dashboard.add_widgets(*graphs[row : row + 3])
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title=f"Alarms of queue {self._queue_name}", alarms=list(self.alarms.values()), width=24, height=3
            )
        )

    @staticmethod
    def _graph(
        title: str,
        metrics: list[tuple[str, cloudwatch.Metric | cloudwatch.MathExpression]],
        thresholds: list[tuple[str, float]],
    ) -> cloudwatch.GraphWidget:
        return cloudwatch.GraphWidget(
            title=title,
            left=[metric.with_(label=label) for label, metric in metrics],
            left_annotations=[cloudwatch.HorizontalAnnotation(value=value, label=label) for label, value in thresholds],
            width=8,
            height=6,
        )

    # --- Text ------------------------------------------------------------------------------------

    @staticmethod
    def _count(value: float) -> str:
        return str(value) if is_unresolved(value) else f"{int(value):,}"

    @staticmethod
    def _minutes(periods: int) -> int:
        return int(periods * _period_minutes())

    @classmethod
    def _repeated(cls) -> str:
        return (
            f"in {_defaults.ALARM_CONSUMER_DATAPOINTS_TO_ALARM} of the last "
            f"{_defaults.ALARM_CONSUMER_EVALUATION_PERIODS} {int(_period_minutes())}-minute periods"
        )


def _period_minutes() -> float:
    return (seconds_of(_defaults.ALARM_PERIOD) or 300.0) / 60
