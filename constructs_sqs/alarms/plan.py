"""The plan of :class:`~constructs_sqs.QueueAlarms`: arguments checked, thresholds derived, nothing built.

:func:`plan_alarms` reads what is watched (:mod:`~constructs_sqs.alarms.watched`), derives the threshold of
every entry of the catalogue in its order, checks the delivery arguments (topic, email, names, dashboard), and
collects the warnings. Every problem of the call is raised at once. A test can call it alone: it adds nothing to
the construct tree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from .. import _limits
from .._facts import QueueFacts
from .._validation import BOOLEAN, Kind, Problems, describe_duration, format_duration, is_aws_managed_key
from .arguments import AlarmsArguments
from .catalogue import ALARM_NAME_SUFFIXES, CATALOGUE
from .entry import AlarmEntry
from .thresholds import Threshold
from .watched import WatchedQueue, read_watched

__all__ = ["AlarmsPlan", "plan_alarms"]

AWS_MANAGED_SNS_KEY_ALIAS = "alias/aws/sns"
WARNING_RETENTION_UNKNOWN = "constructs-sqs:alarms-retention-unknown"
WARNING_NO_DEAD_LETTER_QUEUE = "constructs-sqs:alarms-no-dead-letter-queue"
WARNING_DEAD_LETTER_RETENTION_UNKNOWN = "constructs-sqs:alarms-dead-letter-retention-unknown"

_LONGEST_SUFFIX = max(ALARM_NAME_SUFFIXES.values(), key=len)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
_TOPIC = Kind.interface("an sns.ITopic", sns.ITopic)
_DASHBOARD = Kind.of("a cloudwatch.Dashboard", cloudwatch.Dashboard)


@dataclass(frozen=True)
class AlarmsPlan:
    """What :class:`~constructs_sqs.QueueAlarms` builds, decided from its arguments and the watched queue.

    Seconds are Python numbers; counts may be tokens (``CfnParameter.value_as_number``). The named thresholds
    are those of the catalogue's first ten alarms; :attr:`thresholds` holds every alarm's, by key.
    """

    watched: QueueFacts
    """The watched queue, as read."""
    dead_letter_queue: sqs.IQueue | None
    """Its DLQ (the queue's own, or ``dead_letter_queue``); None without one."""
    consumer: lambda_.IFunction | None
    """Its Lambda consumer; None without one."""
    retention_period: float
    """Seconds the queue keeps messages: read, given or assumed."""
    retention_assumed: bool
    """True when the retention could not be read nor was given: the SQS default is assumed."""
    age_threshold: Duration
    """Of the ``-age`` alarm."""
    age_slo: Duration | None
    """Of the ``-age-slo`` alarm; None: not made."""
    depth_threshold: float
    """Of the ``-depth`` alarm."""
    in_flight_threshold: float
    """Of the ``-in-flight`` alarm."""
    in_flight_quota: int
    """The SQS in-flight quota of the queue's type."""
    consumer_errors_threshold: float
    """Of the ``-consumer-errors`` alarm (made only with a consumer)."""
    consumer_throttles_threshold: float
    """Of the ``-consumer-throttles`` alarm (made only with a consumer)."""
    dead_letter_retention_period: float | None
    """Seconds the DLQ keeps messages (read, given or assumed); None without a DLQ."""
    dead_letter_retention_assumed: bool
    """True when the DLQ's retention is the SQS default, assumed."""
    dead_letter_age_threshold: Duration | None
    """Of the ``-dlq-age`` alarm; None without a DLQ."""
    time_to_drain_threshold: Duration
    """Of the ``-time-to-drain`` alarm."""
    min_incoming_messages: float | None
    """Of the ``-silent-producer`` alarm; None: not made."""
    incoming_period: Duration
    """The period of the ``-silent-producer`` alarm."""
    incoming_evaluation_periods: int
    """How many periods in a row the ``-silent-producer`` alarm evaluates."""
    alarm_name_prefix: str | None
    """None: derived from the construct path when built."""
    notify_ok: bool
    """Notify the topic on OK too."""
    topic: sns.ITopic | None
    """The topic passed in; None: one is created."""
    alarm_email: str | None
    """The address subscribed to the topic, or None."""
    dashboard: cloudwatch.Dashboard | None
    """The dashboard passed in, or None."""
    create_dashboard: bool
    """Create a dashboard when none is passed."""
    warnings: tuple[tuple[str, str], ...]
    """``(id, message)`` of each synth warning the construct adds."""
    thresholds: Mapping[str, Threshold] = field(default_factory=dict)
    """Every alarm's threshold by catalogue key (value None: the alarm is not made for that reason)."""
    watched_queue: WatchedQueue | None = None
    """The watched queue with what the thresholds were derived from (retention periods, quota)."""


def plan_alarms(where: str, arguments: AlarmsArguments) -> AlarmsPlan:
    """Check the arguments of :class:`~constructs_sqs.QueueAlarms` and derive its thresholds, building nothing.

    Parameters
    ----------
    where:
        The construct path, for messages.
    arguments:
        The arguments as passed.

    Returns
    -------
    AlarmsPlan
        The thresholds of every alarm of the catalogue, and the delivery settings.

    Raises
    ------
    ConfigurationError
        Listing every problem of the call, ``where`` being the construct path.
    """
    a = arguments
    problems = Problems(where)
    watched = read_watched(problems, a)
    thresholds: dict[str, Threshold] = {}
    for entry in CATALOGUE:
        thresholds[entry.key] = _derive(problems, entry, watched, a, thresholds)
    _check_delivery(problems, a)
    problems.raise_if_any()
    t = {key: threshold.value for key, threshold in thresholds.items()}
    incoming = thresholds["silent-producer"]
    assert incoming.period is not None and incoming.evaluation_periods is not None
    return AlarmsPlan(
        watched=watched.facts,
        dead_letter_queue=watched.dead_letter_queue,
        consumer=watched.consumer,
        retention_period=watched.retention,
        retention_assumed=watched.retention_assumed,
        age_threshold=cast(Duration, t["age"]),
        age_slo=cast("Duration | None", t["age-slo"]),
        depth_threshold=cast(float, t["depth"]),
        in_flight_threshold=cast(float, t["in-flight"]),
        in_flight_quota=watched.in_flight_quota,
        consumer_errors_threshold=cast(float, t["consumer-errors"]),
        consumer_throttles_threshold=cast(float, t["consumer-throttles"]),
        dead_letter_retention_period=watched.dead_letter_retention,
        dead_letter_retention_assumed=watched.dead_letter_retention_assumed,
        dead_letter_age_threshold=cast("Duration | None", t["dlq-age"]),
        time_to_drain_threshold=cast(Duration, t["time-to-drain"]),
        min_incoming_messages=cast("float | None", t["silent-producer"]),
        incoming_period=incoming.period,
        incoming_evaluation_periods=incoming.evaluation_periods,
        alarm_name_prefix=cast("str | None", a.alarm_name_prefix),
        notify_ok=bool(a.notify_ok),
        topic=cast("sns.ITopic | None", a.topic),
        alarm_email=cast("str | None", a.alarm_email),
        dashboard=cast("cloudwatch.Dashboard | None", a.dashboard),
        create_dashboard=bool(a.create_dashboard),
        warnings=_warnings(watched, thresholds, a),
        thresholds=thresholds,
        watched_queue=watched,
    )


def _derive(
    problems: Problems, entry: AlarmEntry, watched: WatchedQueue, a: AlarmsArguments, earlier: Mapping[str, Threshold]
) -> Threshold:
    """The threshold of ``entry``; an argument given for an alarm whose requirement is unmet is refused (or, for
    a requirement that only ignores, left to :func:`_warnings`)."""
    requirement = entry.requires
    if requirement is not None and requirement.refuse and not requirement.met(watched):
        for argument in entry.threshold.arguments:
            if a.given(argument) is not None:
                problems.add(requirement.problem.format(argument=argument, alarm=entry.title))
        return Threshold(None)
    return entry.threshold.derive(problems, watched, a, earlier)


def _check_delivery(problems: Problems, a: AlarmsArguments) -> None:
    """Names, topic, email and dashboard."""
    prefix = problems.string("alarm_name_prefix", a.alarm_name_prefix)
    if prefix is not None:
        maximum = _limits.ALARM_NAME_MAX_LENGTH
        room = maximum - len(_LONGEST_SUFFIX)
        if not 1 <= len(prefix) <= room:
            problems.add(
                f"alarm_name_prefix must be 1 to {room} characters (CloudWatch allows {maximum} with the suffix, the "
                f"longest being '{_LONGEST_SUFFIX}'), got {len(prefix)} characters"
            )
        if "*" in prefix or "?" in prefix:
            problems.add(
                f"alarm_name_prefix must not contain '*' or '?', got {prefix!r}: they are "
                "wildcards in the aws:SourceArn condition that lets CloudWatch publish to the topic"
            )
        if _CONTROL_CHARACTERS.search(prefix):
            problems.add(f"alarm_name_prefix must not contain control characters, got {prefix!r}")
    if problems.of_kind("topic", a.topic, _TOPIC) and a.topic is not None:
        if is_aws_managed_key(a.topic.master_key, AWS_MANAGED_SNS_KEY_ALIAS):  # type: ignore[attr-defined]
            problems.add(
                "topic is encrypted with the AWS-managed key 'alias/aws/sns', whose key policy cannot let "
                "CloudWatch use it, so every alarm notification would be dropped: pass a topic encrypted "
                "with a customer-managed key, or leave topic unset to get one"
            )
    email = problems.string("alarm_email", a.alarm_email)
    if email is not None and not _EMAIL.fullmatch(email):
        problems.add(f"alarm_email must be an email address like 'oncall@example.com', got {email!r}")
    problems.of_kind("notify_ok", a.notify_ok, BOOLEAN)
    problems.of_kind("create_dashboard", a.create_dashboard, BOOLEAN)
    if problems.of_kind("dashboard", a.dashboard, _DASHBOARD) and a.dashboard is not None and a.create_dashboard is False:
        problems.add(
            "create_dashboard is False but dashboard is given: pass dashboard to add widgets to it, "
            "or create_dashboard=False for no dashboard, not both"
        )


def _warnings(
    watched: WatchedQueue, thresholds: Mapping[str, Threshold], a: AlarmsArguments
) -> tuple[tuple[str, str], ...]:
    """What the construct warns about: a retention it assumes, arguments of alarms it cannot make, no DLQ."""
    warnings: list[tuple[str, str]] = []
    age = thresholds["age"].value
    if watched.retention_assumed and isinstance(age, Duration):
        warnings.append((
            WARNING_RETENTION_UNKNOWN,
            "The retention period of the watched queue cannot be read (imported queue): the age alarm "
            f"assumes the SQS default of {format_duration(watched.retention)} and fires at {describe_duration(age)}; "
            "pass retention_period or age_threshold.",
        ))
    requirements = list(dict.fromkeys(entry.requires for entry in CATALOGUE if entry.requires is not None))
    for requirement in requirements:
        if requirement.refuse or requirement.met(watched):
            continue
        arguments = [argument for entry in CATALOGUE if entry.requires is requirement for argument in entry.threshold.arguments]
        if any(a.given(argument) is not None for argument in arguments):
            warnings.append((
                requirement.warning_id,
                requirement.warning.format(arguments=" and ".join(arguments), verb="is" if len(arguments) == 1 else "are"),
            ))
    if watched.dead_letter_queue is None:
        warnings.append((
            WARNING_NO_DEAD_LETTER_QUEUE,
            "The watched queue has no dead-letter queue: failing messages are retried until they "
            "expire and no alarm reports them (constructs-sqs rule Q4). Pass dead_letter_queue if it has one.",
        ))
    dead_letter_age = thresholds["dlq-age"].value
    if watched.dead_letter_retention_assumed:
        warnings.append((
            WARNING_DEAD_LETTER_RETENTION_UNKNOWN,
            "The retention period of the dead-letter queue cannot be read (imported): the DLQ-age alarm assumes "
            f"the SQS default of {format_duration(watched.dead_letter_retention or 0)} and fires at "
            f"{describe_duration(dead_letter_age) if isinstance(dead_letter_age, Duration) else '-'}; pass "
            "dead_letter_retention_period or dead_letter_age_threshold.",
        ))
    return tuple(warnings)
