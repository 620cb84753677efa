"""Layer 2 of the alarms: the catalogue, one entry per alarm, and the graphs of the dashboard.

An entry (:class:`~constructs_sqs.alarms.entry.AlarmEntry`) says everything about one alarm: its key and name
suffix, construct id and attribute (all public contract), the metric or metric math it watches, how its threshold
is derived and checked (:mod:`~constructs_sqs.alarms.thresholds`), the comparison, how many periods must breach,
how missing data counts, what on-call reads in the notification, which graph of the dashboard draws it, and what
it needs (a DLQ, a consumer). :func:`~constructs_sqs.alarms.plan_alarms` derives every entry's threshold, the one
builder (:mod:`~constructs_sqs.alarms.builder`) makes every alarm, the dashboard draws every graph; the README's
alarm table and the list in ``QueueAlarms``' docstring are written from here (:mod:`~constructs_sqs.alarms.docs`),
and ``tests/alarms/test_catalogue.py`` checks both and each entry against the synthesized template.

Adding an alarm is one entry below (its defaults, with their reasons, in ``_defaults``), with its tests; when it
takes an argument, that keyword in ``QueueAlarms``, ``add_alarms`` and ``AlarmsArguments`` too. Entries are in the
order the alarms are made: ``QueueAlarms.alarms`` keeps it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from aws_cdk import aws_cloudwatch as cloudwatch

from .. import _defaults, _limits
from .._validation import describe_duration
from .entry import CONSUMER, DEAD_LETTER_QUEUE, AlarmEntry, Graph, Widget
from .thresholds import Count, Fixed, MinimumRate, Objective, ShareOfRetention, Threshold
from .watched import WatchedQueue

__all__ = ["ALARM_NAME_SUFFIXES", "CATALOGUE", "GRAPHS"]

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


