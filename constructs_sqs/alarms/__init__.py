"""``QueueAlarms`` and its layers: metrics, the catalogue of alarms, the plan, the builder, the topic, the dashboard.

=====================  ===========================================================================
``metrics``            :class:`QueueMetricFactory`: the metrics of a queue, its DLQ and its consumer
``catalogue``          one entry per alarm (:data:`CATALOGUE`), and the dashboard's graphs
``entry``              what an entry is made of (:class:`AlarmEntry`), and how it words its description
``thresholds``         the kinds of threshold derivation the entries use
``docs``               the README's alarm table and the docstring's list, written from the catalogue
``watched``, ``plan``  :func:`plan_alarms`: what is watched, every threshold derived, nothing built
``builder``            the one place an alarm is made: naming, actions, de-duplication
``topic``              the alarm topic, its key and the policies that let CloudWatch publish
``dashboard``          a queue's rows on a dashboard
``construct``          :class:`QueueAlarms`, which puts them together
=====================  ===========================================================================

The alarms reach the queues only through the queue-holder protocol (``constructs_sqs._facts``); the patterns
reach the alarms only through ``add_alarms`` (``constructs_sqs._add_alarms``), which imports this package when
called.
"""

from .arguments import AlarmsArguments
from .catalogue import ALARM_NAME_SUFFIXES, CATALOGUE
from .docs import alarms_table
from .entry import AlarmEntry
from .construct import QueueAlarms
from .metrics import QueueMetricFactory
from .plan import AlarmsPlan, plan_alarms

__all__ = [
    "ALARM_NAME_SUFFIXES",
    "CATALOGUE",
    "AlarmEntry",
    "AlarmsArguments",
    "AlarmsPlan",
    "QueueAlarms",
    "QueueMetricFactory",
    "alarms_table",
    "plan_alarms",
]
