"""Layer 3 of the alarms: the one alarm builder, the only place a ``cloudwatch.Alarm`` is made.

It names every alarm ``<prefix><suffix>``, refuses to make one twice, keeps descriptions within CloudWatch's
limit, wires the topic's action on ALARM (and on OK), enables actions (rule A1), and orders each alarm
after a passed topic's policy so that its first notification is allowed.
"""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct, IConstruct

from .. import _limits
from .._validation import is_unresolved
from .entry import AlarmEntry

__all__ = ["AlarmBuilder"]


class AlarmBuilder:
    """Makes the alarms of one ``QueueAlarms`` under ``scope``.

    Parameters
    ----------
    scope:
        The ``QueueAlarms``: every alarm is its child, under the entry's construct id.
    where:
        Its construct path, for messages.
    prefix:
        The start of every alarm name.
    action:
        The topic's action.
    notify_ok:
        Add the action on OK too.
    topic_policy:
        The policy of a passed topic, which every alarm must follow. Default: - none.

    Attributes
    ----------
    alarms:
        Every alarm made, by catalogue key, in the order made.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        where: str,
        prefix: str,
        action: cloudwatch.IAlarmAction,
        notify_ok: bool,
        topic_policy: IConstruct | None = None,
    ) -> None:
        self._scope = scope
        self._where = where
        self._prefix = prefix
        self._action = action
        self._notify_ok = notify_ok
        self._topic_policy = topic_policy
        self.alarms: dict[str, cloudwatch.Alarm] = {}

    def add(
        self,
        entry: AlarmEntry,
        *,
        metric: cloudwatch.IMetric,
        threshold: float,
        description: str,
        evaluation_periods: int,
    ) -> cloudwatch.Alarm:
        """Make the alarm of ``entry``.

        Parameters
        ----------
        entry:
            The catalogue entry: name suffix, construct id, comparison, datapoints, missing data.
        metric:
            What it watches.
        threshold:
            The number CloudWatch compares with.
        description:
            What on-call reads, at most 1,024 characters.
        evaluation_periods:
            How many periods are evaluated.

        Returns
        -------
        cloudwatch.Alarm
            The alarm, also recorded in :attr:`alarms`.
        """
        where = self._where
        if entry.key in self.alarms:
            raise AssertionError(f"{where}: alarm {entry.key!r} made twice")
        if len(description) > _limits.ALARM_DESCRIPTION_MAX_LENGTH and not is_unresolved(description):
            raise AssertionError(f"{where}: description of {entry.key!r} too long")
        alarm = cloudwatch.Alarm(
            self._scope,
            entry.construct_id,
            alarm_name=f"{self._prefix}{entry.suffix}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=entry.comparison,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=entry.datapoints_to_alarm,
            treat_missing_data=entry.treat_missing_data,
            actions_enabled=True,
        )
        if self._topic_policy is not None:
            # A topic passed in may carry a policy of its own: the alarm's first OK notification goes out
            # when it is created, after the statement allowing it. (A topic created here has SNS's default
            # policy, which lets the account's alarms publish, until its TLS-only policy replaces it.)
            alarm.node.add_dependency(self._topic_policy)
        alarm.add_alarm_action(self._action)
        if self._notify_ok:
            alarm.add_ok_action(self._action)
        self.alarms[entry.key] = alarm
        return alarm
