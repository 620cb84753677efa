"""``add_alarms()`` of every queue pattern: the one way the patterns reach the alarms.

It delegates to :class:`~constructs_sqs.QueueAlarms`, imported when called, so neither package imports the other
at module level: the patterns import this module, and the alarms know the patterns only through the
:class:`~constructs_sqs._facts.QueueHolder` protocol (``tests/test_import_graph.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from constructs import Node

from . import _defaults
from ._facts import QueueFacts
from ._validation import ConfigurationError

if TYPE_CHECKING:
    from .alarms import QueueAlarms

__all__ = ["AlarmsMixin", "Watchable"]


class Watchable(Protocol):
    """What :class:`AlarmsMixin` needs of the construct it is mixed into: a node to hang the alarms on, and the
    queue-holder protocol (:class:`~constructs_sqs._facts.QueueHolder`) through which ``QueueAlarms`` reads it."""

    @property
    def node(self) -> Node: ...

    def queue_facts(self) -> QueueFacts: ...


class AlarmsMixin:
    """``add_alarms()`` for the queue patterns and ``LambdaTriggeredQueue``; the class it is mixed into is
    :class:`Watchable`."""

    def add_alarms(
        self: Watchable,
        *,
        topic: sns.ITopic | None = None,
        alarm_email: str | None = None,
        depth_threshold: int | None = None,
        age_threshold: Duration | None = None,
        age_slo: Duration | None = None,
        retention_period: Duration | None = None,
        in_flight_threshold: int | None = None,
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
    ) -> QueueAlarms:
        """Watch this queue, its DLQ and (for a ``LambdaTriggeredQueue``) its consumer: CloudWatch alarms,
        an encrypted alarm topic and a dashboard.

        Returns ``QueueAlarms(self, "Alarms", queue=self, ...)`` with these arguments; see
        :class:`~constructs_sqs.QueueAlarms` for each (``retention_period`` and ``dead_letter_retention_period``
        describe an imported pattern, whose retention cannot be read). The construct id ``Alarms`` is fixed, so
        call it once; a second ``QueueAlarms`` on the same queue is refused too, it would duplicate every alarm.

        Raises
        ------
        ConfigurationError
            For invalid arguments, as ``QueueAlarms``, and when the alarms were already added.
        """
        arguments = {name: value for name, value in locals().items() if name != "self"}
        existing = self.node.try_find_child("Alarms")
        if existing is not None:
            raise ConfigurationError(
                f"{self.node.path}.add_alarms",
                [
                    f"add_alarms was already called on {self.node.path} (its alarms are {existing.node.path}): keep "
                    "the QueueAlarms the first call returned (a second set of alarms on one queue would duplicate "
                    "every alarm)"
                ],
            )
        from .alarms import QueueAlarms  # at call time: the patterns do not import the alarms

        return QueueAlarms(self, "Alarms", queue=self, **arguments)  # type: ignore[arg-type]  # **arguments: Any
