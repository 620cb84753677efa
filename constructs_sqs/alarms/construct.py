"""``QueueAlarms``: CloudWatch alarms, an encrypted SNS topic and a dashboard for one SQS queue.

The construct puts the layers together: :func:`~constructs_sqs.alarms.plan_alarms` checks the arguments and
derives every threshold of the catalogue; :func:`~constructs_sqs.alarms.topic.build_topic` makes the topic;
the :class:`~constructs_sqs.alarms.builder.AlarmBuilder` makes one alarm per catalogue entry whose metric
exists, from the :class:`~constructs_sqs.alarms.metrics.QueueMetricFactory`; the dashboard draws the
catalogue's graphs. Nothing here is specific to one alarm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

from aws_cdk import Annotations, Duration, Names
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .. import _defaults
from .._jsii import keyword_signature
from .._validation import (
    ConfigurationError,
    Kind,
    Problems,
    arguments_of,
    check_construct_arguments,
    claim,
    duration,
    environment_of,
)
from .arguments import AlarmsArguments
from .builder import AlarmBuilder
from .catalogue import CATALOGUE
from .entry import wording
from .dashboard import add_queue_widgets, graphs
from .metrics import QueueMetricFactory
from .plan import AlarmsPlan, plan_alarms
from .topic import build_topic

if TYPE_CHECKING:
    from .._facts import QueueHolder

    Watchable = Union[QueueHolder, sqs.IQueue]
    """What QueueAlarms watches: a construct of the library holding a queue (the queue patterns and
    ``LambdaTriggeredQueue``, through the :class:`~constructs_sqs._facts.QueueHolder` protocol) or any
    ``sqs.IQueue``. The alarms never import the patterns."""

__all__ = ["QueueAlarms"]

_DASHBOARD = Kind.of("a cloudwatch.Dashboard", cloudwatch.Dashboard)


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

    The alarms (one entry each in ``constructs_sqs.alarms.catalogue``; a test keeps this list in step):

    - ``-depth``: ``ApproximateNumberOfMessagesVisible`` (Maximum) > ``depth_threshold`` (1,000) for 3
      periods in a row; missing data notBreaching.
    - ``-age``: ``ApproximateAgeOfOldestMessage`` (Maximum) > ``age_threshold`` (half the retention period:
      2 days of 4 days), 1 period; missing data notBreaching.
    - ``-age-slo``: ``ApproximateAgeOfOldestMessage`` (Maximum) > ``age_slo`` (only when given), 1 period;
      missing data notBreaching.
    - ``-dlq``: DLQ ``ApproximateNumberOfMessagesVisible`` (Maximum) >= 1, 1 period (only with a DLQ);
      missing data notBreaching.
    - ``-in-flight``: ``ApproximateNumberOfMessagesNotVisible`` (Maximum) >= ``in_flight_threshold`` (80 %
      of the quota: 96,000 standard, 16,000 FIFO), 1 period; missing data notBreaching.
    - ``-consumer-errors``: Lambda ``Errors`` (Sum) >= ``consumer_errors_threshold`` (1) in 2 of 3 periods
      (only with a consumer); missing data notBreaching.
    - ``-consumer-throttles``: Lambda ``Throttles`` (Sum) >= ``consumer_throttles_threshold`` (1) in 2 of 3
      periods (only with a consumer); missing data notBreaching.
    - ``-dlq-age``: DLQ ``ApproximateAgeOfOldestMessage`` (Maximum) > ``dead_letter_age_threshold`` (half
      the DLQ's retention period: 7 days of 14 days), 1 period (only with a DLQ); missing data notBreaching.
    - ``-time-to-drain``: ``ApproximateNumberOfMessagesVisible`` / (``NumberOfMessagesDeleted`` / period),
      metric math > ``time_to_drain_threshold`` (a quarter of the retention period: 1 day of 4 days) for 3
      periods in a row; missing data notBreaching.
    - ``-silent-producer``: ``NumberOfMessagesSent`` (Sum per ``incoming_period``, 1 hour) <
      ``min_incoming_messages`` for ``incoming_evaluation_periods`` (1) periods (only when
      ``min_incoming_messages`` is given); missing data **breaching**.

    Periods are 5 minutes (the silent-producer alarm's is ``incoming_period``); missing data is not
    breaching (A2: an idle queue publishes no metric), but for the silent-producer alarm, where no data
    means nothing was sent. Alarms get physical names, ``<alarm_name_prefix><suffix>``, so that the key and
    topic policies can name them in ``aws:SourceArn`` without a dependency cycle (key -> alarm -> topic ->
    key) and on-call reads a meaningful name in the notification. Renaming replaces an alarm, which only
    resets its state. The construct ids (``DepthAlarm``, ``AgeAlarm``, ``AgeSloAlarm``, ``DeadLetterAlarm``,
    ``InFlightAlarm``, ``ConsumerErrorsAlarm``, ``ConsumerThrottlesAlarm``, ``DeadLetterAgeAlarm``,
    ``TimeToDrainAlarm``, ``SilentProducerAlarm``, ``Topic``, ``TopicKey``, ``EmailDeadLetterQueue``,
    ``Dashboard``) are public contract.

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
        ``LambdaTriggeredQueue``, whose function also gets the consumer alarms; or any ``sqs.IQueue``,
        whose DLQ and retention are read when it is an ``sqs.Queue`` of this app.
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
        (the keys of the alarms that exist, in this order).
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
        self.plan: AlarmsPlan = plan
        self._apply(plan)
        for warning_id, message in plan.warnings:
            Annotations.of(self).add_warning_v2(warning_id, message)
        built = build_topic(self, topic=plan.topic, alarm_email=plan.alarm_email, prefix=self.alarm_name_prefix)
        self.topic: sns.ITopic = built.topic
        self.topic_key: kms.Key | None = built.key
        self.email_dead_letter_queue: sqs.Queue | None = built.email_dead_letter_queue
        self._builder = AlarmBuilder(
            self, where=self._path, prefix=self.alarm_name_prefix, action=built.action, notify_ok=plan.notify_ok, topic_policy=built.policy
        )
        self.alarms: dict[str, cloudwatch.Alarm] = self._builder.alarms
        self._build_alarms(plan)
        self.dashboard: cloudwatch.Dashboard | None = plan.dashboard or (
            cloudwatch.Dashboard(self, "Dashboard") if plan.create_dashboard else None
        )
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
        self.metrics = QueueMetricFactory(self.queue, dead_letter_queue=self.dead_letter_queue, consumer=self.consumer_function)

    @property
    def retention_period(self) -> Duration:
        """The retention period of the watched queue: read, given, or the SQS default assumed."""
        return duration(self.plan.retention_period)

    def _build_alarms(self, plan: AlarmsPlan) -> None:
        """One alarm per catalogue entry whose metric exists and whose threshold is set; each kept under the
        entry's attribute too (None when not made)."""
        watched = plan.watched_queue
        assert watched is not None
        dead_letter_name = self.dead_letter_queue.queue_name if self.dead_letter_queue is not None else ""
        function_name = self.consumer_function.function_name if self.consumer_function is not None else ""
        for entry in CATALOGUE:
            threshold = plan.thresholds[entry.key]
            value = threshold.value
            metric = entry.metric(self.metrics, watched, threshold) if value is not None else None
            alarm = None
            if metric is not None and value is not None:
                words = wording(
                    entry,
                    threshold,
                    entry.threshold.show(value),
                    queue=plan.watched.name,
                    dead_letter_queue=dead_letter_name,
                    function=function_name,
                    retention=plan.retention_period,
                    dead_letter_retention=plan.dead_letter_retention_period,
                    in_flight_quota=plan.in_flight_quota,
                    fifo=plan.watched.fifo,
                )
                alarm = self._builder.add(
                    entry,
                    metric=metric,
                    threshold=entry.threshold.number(value),
                    description=entry.description(words),
                    evaluation_periods=words.evaluation_periods,
                )
            setattr(self, entry.attribute, alarm)

    def add_to_dashboard(self, dashboard: cloudwatch.Dashboard) -> None:
        """Add this queue's widgets to ``dashboard``: a title row, rows of three graphs and the alarm states.

        Graphs: visible messages, age of the oldest message, in flight, time to drain (each with its alarm
        threshold), sent / received / deleted, sent per incoming period (with a silent-producer alarm), the
        DLQ's visible messages and age of its oldest message, consumer errors and throttles.

        Parameters
        ----------
        dashboard:
            The dashboard, e.g. another ``QueueAlarms``' ``dashboard``.

        Raises
        ------
        ConfigurationError
            When ``dashboard`` is not a ``cloudwatch.Dashboard``.
        """
        problems = Problems(f"{self.node.path}.add_to_dashboard")
        problems.of_kind("dashboard", dashboard, _DASHBOARD)
        problems.raise_if_any()
        watched = self.plan.watched_queue
        assert watched is not None
        add_queue_widgets(
            dashboard,
            queue_name=self.plan.watched.name,
            graphs=graphs(self.metrics, watched, self.plan.thresholds, self.alarms),
            alarms=list(self.alarms.values()),
        )
