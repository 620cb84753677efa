"""The alarms' former module, kept so that ``from constructs_sqs.queue_alarms import ...`` goes on working.

Everything now lives in :mod:`constructs_sqs.alarms` (metrics, catalogue, plan, builder, topic, dashboard,
construct); import ``QueueAlarms``, ``AlarmsPlan`` and ``QueueMetricFactory`` from ``constructs_sqs``, and
``plan_alarms`` from ``constructs_sqs.alarms``.
"""

from .alarms import ALARM_NAME_SUFFIXES, AlarmsArguments, AlarmsPlan, QueueAlarms, QueueMetricFactory, plan_alarms

__all__ = ["ALARM_NAME_SUFFIXES", "AlarmsArguments", "AlarmsPlan", "QueueAlarms", "QueueMetricFactory", "plan_alarms"]
