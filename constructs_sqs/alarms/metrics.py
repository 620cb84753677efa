"""Layer 1 of the alarms: the metrics of one queue, its dead-letter queue and its Lambda consumer.

The catalogue (:mod:`constructs_sqs.alarms.catalogue`) names, for each alarm, which of these metrics it
watches; the dashboard draws them. Nothing here knows thresholds or alarms.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

from .. import _defaults

__all__ = ["QueueMetricFactory"]

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
        """``NumberOfMessagesSent``, Sum: what the producers sent."""
        return self.queue.metric_number_of_messages_sent(
            statistic=_SUM, period=self.period
        )

    def received(self) -> cloudwatch.Metric:
        """``NumberOfMessagesReceived``, Sum: what the consumers received, redeliveries included."""
        return self.queue.metric_number_of_messages_received(
            statistic=_SUM, period=self.period
        )

    def deleted(self) -> cloudwatch.Metric:
        """``NumberOfMessagesDeleted``, Sum: what the consumers finished."""
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
