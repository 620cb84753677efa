"""What a catalogue entry is made of: the alarm, what it needs, how it words its description, where it is drawn.

The entries themselves are in :mod:`~constructs_sqs.alarms.catalogue`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Union

from aws_cdk import aws_cloudwatch as cloudwatch

from .. import _defaults
from .._validation import describe_duration, format_duration, seconds_of
from .metrics import QueueMetricFactory
from .thresholds import Derivation, Threshold
from .watched import WatchedQueue

__all__ = [
    "CONSUMER",
    "DEAD_LETTER_QUEUE",
    "AlarmEntry",
    "Graph",
    "Metric",
    "Requirement",
    "Widget",
    "Wording",
    "wording",
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
