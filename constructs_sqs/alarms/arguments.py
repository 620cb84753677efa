"""The arguments of :class:`~constructs_sqs.QueueAlarms`, as the caller passed them.

Filled from the constructor's ``locals()`` by :func:`~constructs_sqs._validation.arguments_of`, which refuses a
field the constructor does not have; ``tests/test_signatures.py`` ties the fields, their defaults and
``add_alarms`` to the constructor, and ``tests/alarms/test_catalogue.py`` each catalogue entry's arguments to
them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import _defaults

__all__ = ["AlarmsArguments"]


@dataclass(frozen=True)
class AlarmsArguments:
    """The arguments of :class:`~constructs_sqs.QueueAlarms` as the caller passed them (None: not passed).

    Every value is ``object``: nothing is checked yet; :func:`~constructs_sqs.alarms.plan_alarms` checks them.
    """

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

    def given(self, argument: str) -> object:
        """The value of ``argument`` (a field name), for derivations that name their arguments by string.

        Raises
        ------
        AttributeError
            When ``argument`` is no field: a catalogue entry naming an argument ``QueueAlarms`` lacks.
        """
        if argument not in self.__dataclass_fields__:
            raise AttributeError(f"QueueAlarms has no argument {argument!r}")
        return getattr(self, argument)
