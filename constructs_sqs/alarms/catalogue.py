"""Layer 2 of the alarms: the catalogue, one entry per alarm.

An entry says everything about one alarm: its key and name suffix, construct id and attribute (all public
contract), the metric or metric math it watches, how its threshold is derived and checked
(:mod:`~constructs_sqs.alarms.thresholds`), the comparison, how many periods must breach, how missing data
counts, what on-call reads in the notification, which graph of the dashboard draws it, and what it needs (a DLQ,
a consumer). :func:`~constructs_sqs.alarms.plan_alarms` derives every entry's threshold, the one builder
(:mod:`~constructs_sqs.alarms.builder`) makes every alarm, the dashboard draws every graph; the README's alarm
table (:func:`alarms_table`) and the list in ``QueueAlarms``' docstring (:func:`docstring_items`) are written
from here, and ``tests/alarms/test_catalogue.py`` checks both and each entry against the synthesized template.

Adding an alarm is one entry below (and, when it takes an argument, that keyword in ``QueueAlarms`` and
``add_alarms``), with its tests. Entries are in the order the alarms are created: ``QueueAlarms.alarms`` keeps it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union, cast

from aws_cdk import aws_cloudwatch as cloudwatch

from .. import _defaults, _limits
from .._facts import QueueFacts
from .._validation import Problems, describe_duration, format_duration, seconds_of
from .arguments import AlarmsArguments
from .metrics import QueueMetricFactory
from .thresholds import Count, Derivation, Fixed, MinimumRate, Objective, ShareOfRetention, Threshold
from .watched import WatchedQueue

if TYPE_CHECKING:
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sqs as sqs

__all__ = [
    "ALARM_NAME_SUFFIXES",
    "CATALOGUE",
    "CONSUMER",
    "DEAD_LETTER_QUEUE",
    "GRAPHS",
    "AlarmEntry",
    "Graph",
    "Requirement",
    "Widget",
    "Wording",
    "alarms_table",
    "docstring_items",
]

Metric = Union[cloudwatch.Metric, cloudwatch.MathExpression]

# --- What an entry is made of ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    """What an alarm needs of the watched queue; without it the alarm is not made.

    ``refuse`` True: an argument of the alarm given without it is a problem (``problem`` names it); False: it
    is ignored with one warning (``warning``) for all such arguments.
    """

    docs: str
    """How the docs say it: ``(only with a DLQ)``."""
    met: Callable[[WatchedQueue], bool]
    refuse: bool
    problem: str = ""
    """``{argument}`` and ``{alarm}`` are filled in."""
    warning_id: str = ""
    warning: str = ""
    """``{arguments}`` and ``{verb}`` are filled in."""


DEAD_LETTER_QUEUE = Requirement(
    docs="with a DLQ",
    met=lambda watched: watched.dead_letter_queue is not None,
    refuse=True,
    problem=(
        "{argument} applies to the {alarm} alarm, but the watched queue has no dead-letter queue: pass "
        "dead_letter_queue, or leave it unset"
    ),
)
CONSUMER = Requirement(
    docs="with a consumer",
    met=lambda watched: watched.consumer is not None,
    refuse=False,
    warning_id="constructs-sqs:alarms-no-consumer",
    warning=(
        "{arguments} {verb} ignored: the watched queue has no Lambda consumer; pass consumer_function, or watch "
        "a LambdaTriggeredQueue."
    ),
)


@dataclass(frozen=True)
class Wording:
    """What an alarm's description may name, as text: the values of one ``QueueAlarms``, or the docs' examples."""

    queue: str
    dead_letter_queue: str
    function: str
    threshold: str
    retention: str
    dead_letter_retention: str
    in_flight_quota: str
    queue_type: str
    """``standard`` or ``FIFO``."""
    period: str
    period_minutes: int
    evaluation_periods: int
    datapoints_to_alarm: int | None

    @property
    def minutes(self) -> int:
        """How long the alarm looks before it fires: evaluation periods x period, in minutes."""
        return self.evaluation_periods * self.period_minutes

    @property
    def repeated(self) -> str:
        """``in 2 of the last 3 5-minute periods``."""
        return (
            f"in {self.datapoints_to_alarm or self.evaluation_periods} of the last {self.evaluation_periods} "
            f"{self.period_minutes}-minute periods"
        )


@dataclass(frozen=True)
class Widget:
    """Where the dashboard draws an alarm: on graph ``graph`` (a key of :data:`GRAPHS`), with its threshold as a
    line labelled ``annotation`` (None: no line)."""

    graph: str
    annotation: str | None


MetricOf = Callable[[QueueMetricFactory, WatchedQueue, Threshold], "Metric | None"]


@dataclass(frozen=True)
class AlarmEntry:
    """One alarm of :class:`~constructs_sqs.QueueAlarms`.

    Parameters
    ----------
    key:
        Its key in ``QueueAlarms.alarms`` (public).
    suffix:
        The end of its name, ``<alarm_name_prefix><suffix>`` (public).
    construct_id:
        Its construct id under the ``QueueAlarms`` (public: a changed id replaces the alarm).
    attribute:
        The ``QueueAlarms`` attribute holding it (public, annotated on the class).
    title:
        How messages name it: ``the <title> alarm``.
    metric:
        The metric or metric math it watches, from the metric factory, the watched queue and its threshold;
        None when the queue lacks what it needs.
    metric_docs:
        The metric and statistic, for the docs (Markdown).
    threshold:
        How its threshold is derived, checked and described.
    comparison:
        How the metric is compared with the threshold.
    description:
        What on-call reads in the notification.
    widget:
        Where the dashboard draws it.
    evaluation_periods, datapoints_to_alarm:
        How many periods are evaluated, and how many of them must breach (None: all). A derivation that
        chooses the evaluation periods itself (:class:`~constructs_sqs.alarms.thresholds.MinimumRate`) wins.
    treat_missing_data:
        Every metric here is absent when there is nothing to report (SQS stops publishing for an idle queue,
        Lambda publishes only when invoked): not breaching, unless no data is exactly the case the alarm
        is about.
    requires:
        What the watched queue must have for the alarm to exist. Default: - nothing.
    docs_example:
        The threshold the docs' example description shows, for an alarm that has no default.
    """

    key: str
    suffix: str
    construct_id: str
    attribute: str
    title: str
    metric: MetricOf
    metric_docs: str
    threshold: Derivation
    comparison: cloudwatch.ComparisonOperator
    description: Callable[[Wording], str]
    widget: Widget
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None
    treat_missing_data: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING
    requires: Requirement | None = None
    docs_example: str | None = None


LineOf = Callable[[QueueMetricFactory, WatchedQueue, Mapping[str, Threshold]], "Metric | None"]


@dataclass(frozen=True)
class Graph:
    """One graph of a queue's dashboard row: its title, its lines (label, metric), and the alarm it exists for
    (``only_with``, a catalogue key; None: drawn whenever its metrics exist). Alarms draw their thresholds on it
    through their :class:`Widget`."""

    key: str
    title: str | Callable[[Mapping[str, Threshold]], str]
    lines: tuple[tuple[str, LineOf], ...]
    only_with: str | None = None


# --- The catalogue ----------------------------------------------------------------------------------------

_PERIODS = _defaults.ALARM_DEPTH_EVALUATION_PERIODS
_QUOTA_SHARE = _defaults.ALARM_IN_FLIGHT_QUOTA_FRACTION


def _in_flight_limit(watched: WatchedQueue) -> tuple[int, str]:
    return watched.in_flight_quota, f"the in-flight quota of {'a FIFO' if watched.fifo else 'a standard'} queue"


CATALOGUE: tuple[AlarmEntry, ...] = (
    AlarmEntry(
        key="depth",
        suffix="-depth",
        construct_id="DepthAlarm",
        attribute="depth_alarm",
        title="depth",
        metric=lambda m, w, t: m.visible(),
        metric_docs="`ApproximateNumberOfMessagesVisible` (Maximum)",
        threshold=Count("depth_threshold", "messages", _defaults.ALARM_DEPTH_THRESHOLD),
        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=_defaults.ALARM_DEPTH_EVALUATION_PERIODS,
        description=lambda w: (
            f"More than {w.threshold} messages have waited in queue {w.queue} for {w.minutes} minutes: consumers are "
            "not keeping up; check the consumer's errors and throttles, then scale the consumer or slow the producers."
        ),
        widget=Widget("visible", "depth alarm"),
    ),
    AlarmEntry(
        key="age",
        suffix="-age",
        construct_id="AgeAlarm",
        attribute="age_alarm",
        title="age",
        metric=lambda m, w, t: m.age_of_oldest_message(),
        metric_docs="`ApproximateAgeOfOldestMessage` (Maximum)",
        threshold=ShareOfRetention(
            "age_threshold",
            _defaults.ALARM_AGE_RETENTION_FRACTION,
            "queue",
            why="the oldest message would expire before the alarm could fire",
        ),
        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description=lambda w: (
            f"The oldest message in queue {w.queue} is older than {w.threshold} (retention period {w.retention}): "
            "SQS deletes messages when their retention ends, so find why consumers are not processing them and fix "
            "it before then."
        ),
        widget=Widget("age", "age alarm"),
    ),
    AlarmEntry(
        key="age-slo",
        suffix="-age-slo",
        construct_id="AgeSloAlarm",
        attribute="age_slo_alarm",
        title="age SLO",
        metric=lambda m, w, t: m.age_of_oldest_message(),
        metric_docs="`ApproximateAgeOfOldestMessage` (Maximum)",
        threshold=Objective("age_slo", stricter_than="age", stricter_than_argument="age_threshold"),
        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description=lambda w: (
            f"The oldest message in queue {w.queue} is older than the {w.threshold} processing objective: consumers "
            "are falling behind; check the consumer's errors, throttles and concurrency."
        ),
        widget=Widget("age", "age SLO"),
        docs_example="15 minutes",
    ),
    AlarmEntry(
        key="dlq",
        suffix="-dlq",
        construct_id="DeadLetterAlarm",
        attribute="dead_letter_alarm",
        title="DLQ",
        metric=lambda m, w, t: m.dead_letter_visible(),
        metric_docs="DLQ `ApproximateNumberOfMessagesVisible` (Maximum)",
        threshold=Fixed(1),
        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        description=lambda w: (
            f"Messages are reaching the dead-letter queue {w.dead_letter_queue} of queue {w.queue}: a consumer is "
            "failing on them; inspect the messages, fix the cause and redrive them before the DLQ's retention ends."
        ),
        widget=Widget("dead-letters", "DLQ alarm"),
        requires=DEAD_LETTER_QUEUE,
    ),
    AlarmEntry(
        key="in-flight",
        suffix="-in-flight",
        construct_id="InFlightAlarm",
        attribute="in_flight_alarm",
        title="in-flight",
        metric=lambda m, w, t: m.in_flight(),
        metric_docs="`ApproximateNumberOfMessagesNotVisible` (Maximum)",
        threshold=Count(
            "in_flight_threshold",
            "messages",
            lambda w: math.floor(w.in_flight_quota * _QUOTA_SHARE),
            default_words=(
                f"{_QUOTA_SHARE * 100:g} % of the quota: {math.floor(_limits.IN_FLIGHT_QUOTA_STANDARD * _QUOTA_SHARE):,} "
                f"standard, {math.floor(_limits.IN_FLIGHT_QUOTA_FIFO * _QUOTA_SHARE):,} FIFO"
            ),
            at_most=_in_flight_limit,
            why="SQS stops delivering before the alarm could fire",
        ),
        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        description=lambda w: (
            f"At least {w.threshold} messages of queue {w.queue} are in flight, near the quota of {w.in_flight_quota} "
            f"for a {w.queue_type} queue, where receives fail or stall: check that consumers delete what they "
            "process and that the visibility timeout is not longer than needed."
        ),
        widget=Widget("in-flight", "in-flight alarm"),
    ),
    AlarmEntry(
        key="consumer-errors",
        suffix="-consumer-errors",
        construct_id="ConsumerErrorsAlarm",
        attribute="consumer_errors_alarm",
        title="consumer-errors",
        metric=lambda m, w, t: m.consumer_errors(),
        metric_docs="Lambda `Errors` (Sum)",
        threshold=Count("consumer_errors_threshold", "errors", _defaults.ALARM_CONSUMER_ERRORS_THRESHOLD),
        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=_defaults.ALARM_CONSUMER_EVALUATION_PERIODS,
        datapoints_to_alarm=_defaults.ALARM_CONSUMER_DATAPOINTS_TO_ALARM,
        description=lambda w: (
            f"Consumer function {w.function} of queue {w.queue} fails repeatedly ({w.repeated}): each error returns "
            "a whole batch to the queue and moves it toward the DLQ; read the function's logs and fix the error."
        ),
        widget=Widget("consumer", None),
        requires=CONSUMER,
    ),
    AlarmEntry(
        key="consumer-throttles",
        suffix="-consumer-throttles",
        construct_id="ConsumerThrottlesAlarm",
        attribute="consumer_throttles_alarm",
        title="consumer-throttles",
        metric=lambda m, w, t: m.consumer_throttles(),
        metric_docs="Lambda `Throttles` (Sum)",
        threshold=Count("consumer_throttles_threshold", "throttles", _defaults.ALARM_CONSUMER_THROTTLES_THRESHOLD),
        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=_defaults.ALARM_CONSUMER_EVALUATION_PERIODS,
        datapoints_to_alarm=_defaults.ALARM_CONSUMER_DATAPOINTS_TO_ALARM,
        description=lambda w: (
            f"Consumer function {w.function} of queue {w.queue} is throttled repeatedly ({w.repeated}): throttled "
            "deliveries count as receives and send healthy messages to the DLQ; raise the function's reserved "
            "concurrency or lower the event source's maximum concurrency below it."
        ),
        widget=Widget("consumer", None),
        requires=CONSUMER,
    ),
    AlarmEntry(
        key="dlq-age",
        suffix="-dlq-age",
        construct_id="DeadLetterAgeAlarm",
        attribute="dead_letter_age_alarm",
        title="DLQ-age",
        metric=lambda m, w, t: m.dead_letter_age_of_oldest_message(),
        metric_docs="DLQ `ApproximateAgeOfOldestMessage` (Maximum)",
        threshold=ShareOfRetention(
            "dead_letter_age_threshold",
            _defaults.ALARM_DEAD_LETTER_AGE_RETENTION_FRACTION,
            "dead letters",
            why="the oldest dead letter would expire before the alarm could fire",
        ),
        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        description=lambda w: (
            f"The oldest message in the dead-letter queue {w.dead_letter_queue} of queue {w.queue} is older than "
            f"{w.threshold} (the DLQ keeps messages {w.dead_letter_retention}): it was left there; inspect and "
            "redrive the dead letters before SQS deletes the evidence."
        ),
        widget=Widget("dead-letter-age", "DLQ-age alarm"),
        requires=DEAD_LETTER_QUEUE,
    ),
    AlarmEntry(
        key="time-to-drain",
        suffix="-time-to-drain",
        construct_id="TimeToDrainAlarm",
        attribute="time_to_drain_alarm",
        title="time-to-drain",
        metric=lambda m, w, t: m.time_to_drain(never=w.retention),
        metric_docs="`ApproximateNumberOfMessagesVisible` / (`NumberOfMessagesDeleted` / period), metric math",
        threshold=ShareOfRetention(
            "time_to_drain_threshold",
            _defaults.ALARM_TIME_TO_DRAIN_RETENTION_FRACTION,
            "queue",
            why="the backlog would expire before the alarm could fire",
        ),
        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=_defaults.ALARM_TIME_TO_DRAIN_EVALUATION_PERIODS,
        description=lambda w: (
            f"At the rate consumers delete messages, the backlog of queue {w.queue} would take more than "
            f"{w.threshold} to drain, for {w.minutes} minutes (retention period {w.retention}): scale the consumers "
            "or fix what slows them before messages expire."
        ),
        widget=Widget("time-to-drain", "time-to-drain alarm"),
    ),
    AlarmEntry(
        key="silent-producer",
        suffix="-silent-producer",
        construct_id="SilentProducerAlarm",
        attribute="silent_producer_alarm",
        title="silent-producer",
        metric=lambda m, w, t: m.incoming(t.period or _defaults.ALARM_INCOMING_PERIOD),
        metric_docs=(
            f"`NumberOfMessagesSent` (Sum per `incoming_period`, {describe_duration(_defaults.ALARM_INCOMING_PERIOD)})"
        ),
        threshold=MinimumRate(
            "min_incoming_messages",
            "incoming_period",
            "incoming_evaluation_periods",
            "messages",
            default_period=_defaults.ALARM_INCOMING_PERIOD,
            default_periods=_defaults.ALARM_INCOMING_EVALUATION_PERIODS,
            alarm="the silent-producer alarm",
        ),
        comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        # No data means nothing was sent: a producer that stopped is exactly the case.
        treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        description=lambda w: (
            f"Fewer than {w.threshold} messages were sent to queue {w.queue} per {w.period}"
            + (f", {w.evaluation_periods} periods in a row" if w.evaluation_periods > 1 else "")
            + ": a producer that should always send has stopped; check the producers and what feeds them."
        ),
        widget=Widget("incoming", "silent-producer alarm"),
        docs_example="N",
    ),
)
"""Every alarm, in the order they are made."""

ALARM_NAME_SUFFIXES: dict[str, str] = {entry.key: entry.suffix for entry in CATALOGUE}
"""Key in :attr:`QueueAlarms.alarms <constructs_sqs.QueueAlarms>` -> suffix of the alarm name. Both are public
contract."""


def _incoming_title(thresholds: Mapping[str, Threshold]) -> str:
    period = thresholds["silent-producer"].period or _defaults.ALARM_INCOMING_PERIOD
    return f"Sent per {describe_duration(period)}"


GRAPHS: tuple[Graph, ...] = (
    Graph("visible", "Messages visible", (("Visible", lambda m, w, t: m.visible()),)),
    Graph("age", "Age of oldest message (seconds)", (("Oldest message", lambda m, w, t: m.age_of_oldest_message()),)),
    Graph("in-flight", "Messages in flight", (("In flight", lambda m, w, t: m.in_flight()),)),
    Graph(
        "time-to-drain",
        "Time to drain (seconds)",
        (("Time to drain", lambda m, w, t: m.time_to_drain(never=w.retention)),),
    ),
    Graph(
        "traffic",
        "Sent / received / deleted",
        (("Sent", lambda m, w, t: m.sent()), ("Received", lambda m, w, t: m.received()),
         ("Deleted", lambda m, w, t: m.deleted())),
    ),
    Graph(
        "incoming",
        _incoming_title,
        (("Sent", lambda m, w, t: m.incoming(t["silent-producer"].period or _defaults.ALARM_INCOMING_PERIOD)),),
        only_with="silent-producer",
    ),
    Graph("dead-letters", "Dead-letter queue: messages visible", (("Dead letters", lambda m, w, t: m.dead_letter_visible()),)),
    Graph(
        "dead-letter-age",
        "Dead-letter queue: age of oldest message (seconds)",
        (("Oldest dead letter", lambda m, w, t: m.dead_letter_age_of_oldest_message()),),
    ),
    Graph(
        "consumer",
        "Consumer errors / throttles",
        (("Errors", lambda m, w, t: m.consumer_errors()), ("Throttles", lambda m, w, t: m.consumer_throttles())),
    ),
)
"""The graphs of one queue on the dashboard, in the order they are drawn (rows of three)."""


# --- The docs, written from the catalogue -----------------------------------------------------------------

_OPERATORS = {
    cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD: ">",
    cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD: ">=",
    cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD: "<",
    cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD: "<=",
}
_MISSING_DATA = {
    cloudwatch.TreatMissingData.NOT_BREACHING: "notBreaching",
    cloudwatch.TreatMissingData.BREACHING: "**breaching**",
    cloudwatch.TreatMissingData.IGNORE: "ignore",
    cloudwatch.TreatMissingData.MISSING: "missing",
}
TABLE_HEADER = (
    "| suffix | metric (statistic) | fires when (default) | missing data | description |\n"
    "|---|---|---|---|---|\n"
)
"""The header of :func:`alarms_table`: what a test looks for in a Markdown page."""


def fires_when(entry: AlarmEntry) -> str:
    """The comparison, threshold and default, periods and condition of ``entry``, for the docs (Markdown)."""
    condition = entry.threshold.condition_doc() or (f" (only {entry.requires.docs})" if entry.requires else "")
    return (
        f"{_OPERATORS[entry.comparison]} {entry.threshold.doc()}"
        f"{entry.threshold.periods_doc(entry.evaluation_periods, entry.datapoints_to_alarm)}{condition}"
    )


def _docs_watched() -> WatchedQueue:
    """The queue the docs' examples describe: standard, the library's default retention periods, a DLQ and a
    consumer (the facts are not read by any derivation)."""
    return WatchedQueue(
        facts=cast(QueueFacts, None),
        dead_letter_queue=cast("sqs.IQueue", object()),
        consumer=cast("lambda_.IFunction", object()),
        retention=seconds_of(_defaults.RETENTION_PERIOD) or 0.0,
        retention_assumed=False,
        dead_letter_retention=seconds_of(_defaults.DEAD_LETTER_RETENTION_PERIOD) or 0.0,
        dead_letter_retention_assumed=False,
        in_flight_quota=_limits.IN_FLIGHT_QUOTA_STANDARD,
    )


def docs_descriptions() -> dict[str, str]:
    """Each alarm's description for the docs' example queue ``X`` (DLQ ``D``, consumer ``F``), by key, with the
    default thresholds (an opt-in alarm shows its ``docs_example``)."""
    watched = _docs_watched()
    problems = Problems("docs")
    thresholds: dict[str, Threshold] = {}
    found = {}
    for entry in CATALOGUE:
        threshold = thresholds[entry.key] = entry.threshold.derive(
            problems, watched, AlarmsArguments(queue=None), thresholds
        )
        shown = entry.threshold.show(threshold.value) if threshold.value is not None else entry.docs_example
        assert shown is not None, f"{entry.key}: an alarm without a default needs a docs_example"
        found[entry.key] = entry.description(
            wording(
                entry,
                threshold,
                shown,
                queue="X",
                dead_letter_queue="D",
                function="F",
                retention=watched.retention,
                dead_letter_retention=watched.dead_letter_retention,
                in_flight_quota=watched.in_flight_quota,
                fifo=False,
            )
        )
    assert not problems.items, problems.items
    return found


def wording(
    entry: AlarmEntry,
    threshold: Threshold,
    shown: str,
    *,
    queue: str,
    dead_letter_queue: str,
    function: str,
    retention: float,
    dead_letter_retention: float | None,
    in_flight_quota: int,
    fifo: bool,
) -> Wording:
    """The :class:`Wording` of ``entry``'s description, its threshold shown as ``shown``."""
    period = threshold.period or _defaults.ALARM_PERIOD
    return Wording(
        queue=queue,
        dead_letter_queue=dead_letter_queue,
        function=function,
        threshold=shown,
        retention=format_duration(retention),
        dead_letter_retention=format_duration(dead_letter_retention or 0),
        in_flight_quota=f"{in_flight_quota:,}",
        queue_type="FIFO" if fifo else "standard",
        period=describe_duration(period),
        period_minutes=int((seconds_of(period) or 0) / 60),
        evaluation_periods=threshold.evaluation_periods or entry.evaluation_periods,
        datapoints_to_alarm=entry.datapoints_to_alarm,
    )


def alarms_table() -> str:
    """The README's alarm table (Markdown): one row per entry, suffix, metric, when it fires with the default,
    missing data, and the description for a queue ``X`` (DLQ ``D``, consumer ``F``)."""
    descriptions = docs_descriptions()
    rows = [
        f"| `{e.suffix}` | {e.metric_docs} | {fires_when(e)} | {_MISSING_DATA[e.treat_missing_data]} | "
        f"{descriptions[e.key]} |"
        for e in CATALOGUE
    ]
    return TABLE_HEADER + "\n".join(rows) + "\n"


def _rst(markdown: str) -> str:
    return re.sub(r"`([^`]+)`", r"``\1``", markdown)


def docstring_items() -> list[str]:
    """The list of alarms in ``QueueAlarms``' docstring (reStructuredText), one item per entry."""
    return [
        f"- ``{e.suffix}``: {_rst(e.metric_docs)} {_rst(fires_when(e))}; missing data "
        f"{_MISSING_DATA[e.treat_missing_data]}."
        for e in CATALOGUE
    ]

