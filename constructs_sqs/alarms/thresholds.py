"""How an alarm's threshold is derived: the few kinds of derivation the catalogue's entries use.

Each kind reads its own arguments of :class:`~constructs_sqs.QueueAlarms`, checks them (adding every problem to
the call's :class:`~constructs_sqs._validation.Problems`), applies its default, and says how on-call reads the
result and how the docs describe it. A new alarm picks one of these kinds with its parameters; a new kind is a
new class here with its tests.

- :class:`Count`: a whole number of messages (errors, throttles) at least 1, optionally at most a quota.
- :class:`Fixed`: a constant, no argument.
- :class:`ShareOfRetention`: a time, by default a fraction of the queue's (or its DLQ's) retention period,
  always shorter than it, or the messages would expire before the alarm fired (rule A4).
- :class:`Objective`: an opt-in time, stricter than another entry's threshold.
- :class:`MinimumRate`: an opt-in minimum count per period of its own, over several periods (a silent producer).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from aws_cdk import Duration

from .. import _defaults, _limits
from .._validation import DURATION, NUMBER, Problems, describe_duration, duration, format_duration, is_unresolved, seconds_of
from .arguments import AlarmsArguments
from .watched import MAX_RETENTION_SECONDS, WatchedQueue

__all__ = [
    "Count",
    "Derivation",
    "Fixed",
    "MinimumRate",
    "Objective",
    "ShareOfRetention",
    "Threshold",
    "seconds",
]

MAX_EVALUATION_RANGE_SECONDS = _limits.EVALUATION_RANGE.maximum
"""CloudWatch evaluates an alarm over at most one day (period x evaluation periods)."""


@dataclass(frozen=True)
class Threshold:
    """An alarm's threshold as derived, and the settings its derivation chose.

    Parameters
    ----------
    value:
        A count (a number, possibly a token) or a time (a ``Duration``); None: the alarm is not made.
    period:
        The alarm's own period, when its derivation chose one. Default: - the catalogue's (5 minutes).
    evaluation_periods:
        How many periods must breach, when its derivation chose it. Default: - the catalogue entry's.
    """

    value: float | Duration | None
    period: Duration | None = None
    evaluation_periods: int | None = None


def seconds(value: Duration) -> float:
    """A time threshold in seconds: the known length, or the token number of ``Duration.seconds(token)``."""
    known = seconds_of(value)
    return value.to_seconds() if known is None else known


def count_text(value: float) -> str:
    """A count as on-call reads it: ``1,000``, or the token as it resolves."""
    return str(value) if is_unresolved(value) else f"{int(value):,}"


class Derivation:
    """One kind of threshold. Subclasses are frozen dataclasses naming their arguments."""

    @property
    def arguments(self) -> tuple[str, ...]:
        """The arguments of ``QueueAlarms`` this derivation reads."""
        return ()

    def derive(
        self, problems: Problems, watched: WatchedQueue, given: AlarmsArguments, earlier: Mapping[str, Threshold]
    ) -> Threshold:
        """Check the arguments, add each problem to ``problems``, and return the threshold in force.

        ``earlier`` holds the thresholds of the entries before this one in the catalogue, by key.
        """
        raise NotImplementedError

    def number(self, value: float | Duration) -> float:
        """The threshold as CloudWatch compares it."""
        return seconds(value) if isinstance(value, Duration) else value

    def show(self, value: float | Duration) -> str:
        """The threshold as an alarm's description names it."""
        return describe_duration(value) if isinstance(value, Duration) else count_text(value)

    def default_text(self) -> str:
        """The default, in words, for the docs."""
        raise NotImplementedError

    def doc(self) -> str:
        """The threshold and its default, for the docs' "fires when" column."""
        return f"`{self.arguments[0]}` ({self.default_text()})" if self.arguments else self.default_text()

    def periods_doc(self, evaluation_periods: int, datapoints_to_alarm: int | None) -> str:
        """How many periods must breach, for the docs."""
        if datapoints_to_alarm is not None:
            return f" in {datapoints_to_alarm} of {evaluation_periods} periods"
        if evaluation_periods > 1:
            return f" for {evaluation_periods} periods in a row"
        return ", 1 period"

    def condition_doc(self) -> str:
        """When the alarm exists, for the docs, beyond its entry's requirement (``""``: always)."""
        return ""


# --- Checks the kinds share ---------------------------------------------------------------------------


def at_least(problems: Problems, argument: str, value: object, minimum: int, unit: str) -> bool:
    """``argument`` must be a whole number >= ``minimum``; unresolved tokens pass. False on a problem."""
    if value is None:
        return True
    if not problems.of_kind(argument, value, NUMBER):
        return False
    assert isinstance(value, (int, float))
    if is_unresolved(value):
        return True
    if not float(value).is_integer():
        problems.add(f"{argument} must be a whole number of {unit}, got {value!r}")
        return False
    if value < minimum:
        problems.add(f"{argument} must be a number of {unit} of at least {minimum:,}, got {int(value):,}")
        return False
    return True


def positive_duration(problems: Problems, argument: str, value: object) -> Duration | None:
    """A positive Duration the alarm can compare with a metric in seconds; None when not given or wrong."""
    if value is None or not problems.of_kind(argument, value, DURATION):
        return None
    assert isinstance(value, Duration)
    known = seconds_of(value)
    if known is None:
        try:
            value.to_seconds()
        except RuntimeError:
            problems.add(
                f"{argument} from a token must be Duration.seconds(token): CloudWatch compares the age in "
                f"seconds, got {value.to_human_string()}"
            )
    elif known <= 0:
        problems.add(f"{argument} must be longer than 0 seconds, got {format_duration(known)}")
    return value


def _fraction_text(fraction: float) -> str:
    words = {0.5: "half", 0.25: "a quarter of"}
    return words.get(fraction, f"{fraction * 100:g} % of")


# --- The kinds ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Count(Derivation):
    """A whole number at least 1, by default ``default`` (or a function of the watched queue).

    ``at_most`` gives an upper limit from the watched queue, with the words naming it (the in-flight quota).
    """

    argument: str
    unit: str
    default: float | Callable[[WatchedQueue], float]
    default_words: str | None = None
    at_most: Callable[[WatchedQueue], tuple[int, str]] | None = None
    why: str = ""

    @property
    def arguments(self) -> tuple[str, ...]:
        return (self.argument,)

    def derive(
        self, problems: Problems, watched: WatchedQueue, given: AlarmsArguments, earlier: Mapping[str, Threshold]
    ) -> Threshold:
        value = given.given(self.argument)
        valid = at_least(problems, self.argument, value, 1, self.unit)
        if self.at_most is not None and valid and isinstance(value, (int, float)) and not is_unresolved(value):
            limit, what = self.at_most(watched)
            if value > limit:
                problems.add(
                    f"{self.argument} must be at most {limit:,} {self.unit}, {what}, got {value:,}: {self.why}"
                )
        if value is not None:
            return Threshold(value)  # type: ignore[arg-type]
        return Threshold(self.default(watched) if callable(self.default) else self.default)

    def default_text(self) -> str:
        if self.default_words is not None:
            return self.default_words
        assert not callable(self.default)
        return f"{self.default:,}"


@dataclass(frozen=True)
class Fixed(Derivation):
    """A constant threshold with no argument (the DLQ alarm fires on the first dead letter)."""

    value: float

    def derive(
        self, problems: Problems, watched: WatchedQueue, given: AlarmsArguments, earlier: Mapping[str, Threshold]
    ) -> Threshold:
        return Threshold(self.value)

    def default_text(self) -> str:
        return f"{self.value:g}"


@dataclass(frozen=True)
class ShareOfRetention(Derivation):
    """A time shorter than a retention period, by default ``fraction`` of it (rounded down to the second).

    ``of`` is ``"queue"`` (the watched queue's retention) or ``"dead letters"`` (its DLQ's; no threshold
    without a DLQ). When the retention is assumed, the limit is the longest retention SQS allows.
    """

    argument: str
    fraction: float
    of: Literal["queue", "dead letters"]
    why: str

    @property
    def arguments(self) -> tuple[str, ...]:
        return (self.argument,)

    def _retention(self, watched: WatchedQueue) -> tuple[float | None, bool, str]:
        if self.of == "queue":
            return watched.retention, watched.retention_assumed, "the retention period"
        return (
            watched.dead_letter_retention,
            watched.dead_letter_retention_assumed,
            "the retention period of the dead-letter queue",
        )

    def derive(
        self, problems: Problems, watched: WatchedQueue, given: AlarmsArguments, earlier: Mapping[str, Threshold]
    ) -> Threshold:
        retention, assumed, retention_text = self._retention(watched)
        if retention is None:
            return Threshold(None)
        value = positive_duration(problems, self.argument, given.given(self.argument))
        if value is None:
            return Threshold(duration(math.floor(retention * self.fraction)))
        limit, limit_text = (MAX_RETENTION_SECONDS, "the longest retention SQS allows") if assumed else (
            retention,
            retention_text,
        )
        known = seconds_of(value)
        if known is not None and known >= limit:
            problems.add(
                f"{self.argument} must be shorter than {limit_text} ({format_duration(limit)}), got "
                f"{format_duration(known)}: {self.why}"
            )
        return Threshold(value)

    def default_text(self) -> str:
        of = "the retention period" if self.of == "queue" else "the DLQ's retention period"
        return f"{_fraction_text(self.fraction)} {of}"

    def doc(self) -> str:
        example = seconds_of(
            _defaults.RETENTION_PERIOD if self.of == "queue" else _defaults.DEAD_LETTER_RETENTION_PERIOD
        ) or 0.0
        share = math.floor(example * self.fraction)
        return f"`{self.argument}` ({self.default_text()}: {format_duration(share)} of {format_duration(example)})"


@dataclass(frozen=True)
class Objective(Derivation):
    """An opt-in time, shorter than the threshold of the entry ``stricter_than`` (whose argument is
    ``stricter_than_argument``): an objective is the stricter of the two alarms."""

    argument: str
    stricter_than: str
    stricter_than_argument: str

    @property
    def arguments(self) -> tuple[str, ...]:
        return (self.argument,)

    def derive(
        self, problems: Problems, watched: WatchedQueue, given: AlarmsArguments, earlier: Mapping[str, Threshold]
    ) -> Threshold:
        value = positive_duration(problems, self.argument, given.given(self.argument))
        other = earlier[self.stricter_than].value
        mine = seconds_of(value) if value is not None else None
        theirs = seconds_of(other) if isinstance(other, Duration) else None
        if mine is not None and theirs is not None and 0 < theirs <= mine:
            problems.add(
                f"{self.argument} must be shorter than {self.stricter_than_argument} ({format_duration(theirs)}), "
                f"got {format_duration(mine)}: an SLO alarm is the stricter of the two"
            )
        return Threshold(value)

    def default_text(self) -> str:
        return "only when given"


@dataclass(frozen=True)
class MinimumRate(Derivation):
    """An opt-in minimum count per period: the alarm fires below ``argument`` per ``period_argument``, over
    ``periods_argument`` periods in a row, at most one day in all (CloudWatch's evaluation range)."""

    argument: str
    period_argument: str
    periods_argument: str
    unit: str
    default_period: Duration
    default_periods: int
    alarm: str
    """The alarm's name in messages ("the silent-producer alarm")."""

    @property
    def arguments(self) -> tuple[str, ...]:
        return (self.argument, self.period_argument, self.periods_argument)

    def derive(
        self, problems: Problems, watched: WatchedQueue, given: AlarmsArguments, earlier: Mapping[str, Threshold]
    ) -> Threshold:
        minimum, period_given, periods_given = (given.given(name) for name in self.arguments)
        at_least(problems, self.argument, minimum, 1, self.unit)
        period = _limits.EVALUATION_RANGE.check(problems, self.period_argument, period_given)
        if period is not None and period % 60:
            problems.add(f"{self.period_argument} must be a whole number of minutes, got {format_duration(period)}")
        periods = _limits.EVALUATION_PERIODS.check_count(problems, self.periods_argument, periods_given)
        if minimum is None:
            for argument, value in ((self.period_argument, period_given), (self.periods_argument, periods_given)):
                if value is not None:
                    problems.add(
                        f"{argument} applies to {self.alarm}, which {self.argument} turns on: pass {self.argument}, "
                        "or leave it unset"
                    )
        if period_given is None:
            period = seconds_of(self.default_period)
        if periods_given is None:
            periods = self.default_periods
        if period is not None and periods is not None and period * periods > MAX_EVALUATION_RANGE_SECONDS:
            problems.add(
                f"{self.period_argument} x {self.periods_argument} must be at most 1 day (CloudWatch evaluates an "
                f"alarm over at most one day), got {format_duration(period)} x {periods}"
            )
        return Threshold(
            minimum,  # type: ignore[arg-type]
            period=period_given if period_given is not None else self.default_period,  # type: ignore[arg-type]
            evaluation_periods=periods_given or self.default_periods,  # type: ignore[arg-type]
        )

    def default_text(self) -> str:
        return "only when given"

    def doc(self) -> str:
        return f"`{self.argument}`"

    def periods_doc(self, evaluation_periods: int, datapoints_to_alarm: int | None) -> str:
        return f" for `{self.periods_argument}` ({self.default_periods}) periods"

    def condition_doc(self) -> str:
        return f" (only when `{self.argument}` is given)"
