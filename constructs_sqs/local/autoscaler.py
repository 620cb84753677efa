"""The local autoscaler: a worker service's Application Auto Scaling policies, evaluated as AWS evaluates them.

It reads only the standard properties of what the stack deployed (the scalable target's ``MinCapacity`` and
``MaxCapacity``; the target-tracking policy's ``TargetValue``, ``CustomizedMetricSpecification.Metrics``, cooldowns
and ``DisableScaleIn``; the step policy's adjustments and the CloudWatch alarm that triggers it), so what runs
locally is what runs on AWS:

- **target tracking** evaluates the policy's metric math (``m1 / IF(m2 < 1, 1, m2)``: visible messages per running
  task) with the queue's visible count from the emulator and the running workers, and asks for
  ``ceil(current capacity x metric / TargetValue)`` tasks, as Application Auto Scaling computes it; with the
  backlog-per-task metric that is ``ceil(visible / TargetValue)``. With no task running it asks for nothing
  (``0 x metric``): target tracking cannot wake a service from zero;
- **step scaling** applies its adjustments while its alarm is in ``ALARM`` (the alarm's metric, or its metric math
  such as ``IF(FILL(m2, 0) < 1, m1, 0)`` over the visible messages and the desired tasks, against its threshold
  and comparison; CloudWatch invokes a scaling action every period while the alarm stays in ``ALARM``), so the
  contract's step policy takes the service from 0 to 1 on the first visible message;
- **scale-out acts fast, scale-in slowly**, as target tracking's own alarms do: a scale-out needs the metric high
  for ``scale_out_periods`` (3) consecutive evaluations, a scale-in needs it low for ``scale_in_periods`` (15);
  after a scaling activity the policy's cooldowns hold further ones of the same direction. AWS's periods are one
  minute; locally one period is ``period_seconds`` (the run loop's interval), and the cooldowns shrink in the
  same proportion (``cooldown x period_seconds / 60``);
- the result is bounded by ``MinCapacity`` and ``MaxCapacity``.

Only the standard library is imported here; :mod:`.workers` reads the policies from the emulator and plays them.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

AWS_PERIOD_SECONDS = 60
"""The period of the metrics and alarms target tracking creates on AWS."""
SCALE_OUT_PERIODS = 3
"""Target tracking's scale-out alarm: 3 of 3 datapoints above the target."""
SCALE_IN_PERIODS = 15
"""Target tracking's scale-in alarm: 15 of 15 datapoints below the target (scale-in is deliberately slower)."""


class MetricMathError(ValueError):
    """An expression the local autoscaler cannot evaluate (it names the expression and the position)."""


_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|==|!=|<|>|[-+*/(),^]))")
_COMPARE: Mapping[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def _tokens(expression: str) -> list[str]:
    tokens, position = [], 0
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if not match or match.end() == position:
            if expression[position:].strip():
                raise MetricMathError(f"cannot read metric math {expression!r} at position {position}")
            break
        tokens.append(next(group for group in match.groups() if group is not None))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over CloudWatch metric math for single values: numbers, metric ids, ``+ - * / ^``,
    comparisons (1 or 0), ``AND``/``OR``, and the functions ``IF``, ``FILL`` (with a number), ``MIN``, ``MAX``,
    ``ABS``, ``CEIL``, ``FLOOR``."""

    FUNCTIONS: Mapping[str, Callable[..., float]] = {
        # FILL(m, value): the value where m has no datapoint (locally every metric has one, unless it is NaN).
        "FILL": lambda value, filler: filler if math.isnan(value) else value,
        "MIN": lambda *values: min(values),
        "MAX": lambda *values: max(values),
        "ABS": abs,
        "CEIL": math.ceil,
        "FLOOR": math.floor,
    }

    def __init__(self, expression: str, values: Mapping[str, float]) -> None:
        self.expression = expression
        self.tokens = _tokens(expression)
        self.position = 0
        self.values = values

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> str:
        token = self._peek()
        if token is None or (expected is not None and token.upper() != expected):
            raise MetricMathError(f"metric math {self.expression!r}: expected {expected or 'more'}, got {token!r}")
        self.position += 1
        return token

    def parse(self) -> float:
        value = self._logical()
        if self._peek() is not None:
            raise MetricMathError(f"metric math {self.expression!r}: unexpected {self._peek()!r}")
        return value

    def _logical(self) -> float:
        value = self._comparison()
        while (self._peek() or "").upper() in ("AND", "OR"):
            word = self._take().upper()
            right = self._comparison()
            value = float(bool(value) and bool(right)) if word == "AND" else float(bool(value) or bool(right))
        return value

    def _comparison(self) -> float:
        value = self._sum()
        while self._peek() in _COMPARE:
            compare = _COMPARE[self._take()]
            value = float(compare(value, self._sum()))
        return value

    def _sum(self) -> float:
        value = self._product()
        while self._peek() in ("+", "-"):
            value = value + self._product() if self._take() == "+" else value - self._product()
        return value

    def _product(self) -> float:
        value = self._power()
        while self._peek() in ("*", "/"):
            if self._take() == "*":
                value *= self._power()
            else:
                divisor = self._power()
                # CloudWatch returns no datapoint for a division by zero; the policy then does not act.
                value = value / divisor if divisor else math.nan
        return value

    def _power(self) -> float:
        value = self._unary()
        if self._peek() == "^":
            self._take()
            return float(value ** self._power())
        return value

    def _unary(self) -> float:
        if self._peek() == "-":
            self._take()
            return -self._unary()
        return self._atom()

    def _atom(self) -> float:
        token = self._take()
        if token == "(":
            value = self._logical()
            self._take(")")
            return value
        if token[0].isdigit() or token[0] == ".":
            return float(token)
        name = token.upper()
        if self._peek() == "(":
            self._take("(")
            arguments = [self._logical()]
            while self._peek() == ",":
                self._take(",")
                arguments.append(self._logical())
            self._take(")")
            if name == "IF":
                if len(arguments) not in (2, 3):
                    raise MetricMathError(f"metric math {self.expression!r}: IF takes 2 or 3 arguments")
                otherwise = arguments[2] if len(arguments) == 3 else math.nan
                return arguments[1] if arguments[0] else otherwise
            if name not in self.FUNCTIONS:
                raise MetricMathError(f"metric math {self.expression!r}: the local autoscaler has no function {token}")
            return float(self.FUNCTIONS[name](*arguments))
        if token not in self.values:
            raise MetricMathError(f"metric math {self.expression!r}: no metric with id {token!r} (known: {sorted(self.values)})")
        return float(self.values[token])


def evaluate(expression: str, values: Mapping[str, float]) -> float:
    """The value of a CloudWatch metric math ``expression`` for one datapoint of each metric id in ``values``.

    Raises
    ------
    MetricMathError
        For syntax the evaluator does not read, an unknown function or an unknown metric id.

    Example
    -------
    >>> evaluate("m1 / IF(m2 < 1, 1, m2)", {"m1": 250, "m2": 0})
    250.0
    """
    return _Parser(expression, values).parse()


@dataclass(frozen=True)
class Metric:
    """One ``MetricStat`` metric: what the local autoscaler must value (namespace, name, dimensions)."""

    namespace: str
    name: str
    dimensions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricQuery:
    """One entry of ``CustomizedMetricSpecification.Metrics``: a metric, or an expression over other ids."""

    id: str
    metric: Metric | None = None
    expression: str | None = None
    return_data: bool = True


MetricSource = Callable[[Metric], float]
"""Gives the current value of a metric (the queue's visible count, the running workers)."""


def metric_value(queries: Sequence[MetricQuery], source: MetricSource) -> float:
    """The value of the query with ``ReturnData`` true (the last one if none says so), its metrics from ``source``."""
    values: dict[str, float] = {}
    for query in queries:
        if query.metric is not None:
            values[query.id] = source(query.metric)
    for query in queries:
        if query.expression is not None:
            values[query.id] = evaluate(query.expression, values)
    returned = [query for query in queries if query.return_data] or list(queries[-1:])
    if len(returned) != 1:
        raise MetricMathError(f"exactly one metric must return data, got {[q.id for q in returned]}")
    return values[returned[0].id]


@dataclass(frozen=True)
class StepAdjustment:
    """``StepAdjustments`` entry: bounds relative to the alarm threshold, and the adjustment."""

    lower: float | None
    upper: float | None
    adjustment: int

    def covers(self, distance: float) -> bool:
        """Whether ``metric - threshold`` falls in ``[lower, upper)`` (a missing bound is infinite)."""
        return (self.lower is None or distance >= self.lower) and (self.upper is None or distance < self.upper)


@dataclass(frozen=True)
class StepPolicy:
    """A ``StepScaling`` policy with the alarm whose action it is."""

    name: str
    adjustment_type: str
    adjustments: tuple[StepAdjustment, ...]
    cooldown_seconds: float
    alarm_metrics: tuple[MetricQuery, ...]
    """The alarm's metric (one query), or its ``Metrics`` (metric math such as ``IF(FILL(m2, 0) < 1, m1, 0)``)."""
    threshold: float
    comparison: str

    @property
    def alarm_label(self) -> str:
        """What the alarm watches, for the reason of a decision."""
        returned = [q for q in self.alarm_metrics if q.return_data] or list(self.alarm_metrics[-1:])
        query = returned[0]
        return query.metric.name if query.metric is not None else (query.expression or query.id)

    def in_alarm(self, value: float) -> bool:
        """Whether the alarm breaches for ``value``, as CloudWatch compares it."""
        compare = {
            "GreaterThanOrEqualToThreshold": operator.ge,
            "GreaterThanThreshold": operator.gt,
            "LessThanThreshold": operator.lt,
            "LessThanOrEqualToThreshold": operator.le,
        }[self.comparison]
        return bool(compare(value, self.threshold))

    def capacity(self, current: int, value: float) -> int | None:
        """The capacity the policy sets for an alarm ``value`` (None when the alarm is OK or no step covers it)."""
        if not self.in_alarm(value):
            return None
        step = next((s for s in self.adjustments if s.covers(value - self.threshold)), None)
        if step is None:
            return None
        if self.adjustment_type == "ExactCapacity":
            return step.adjustment
        if self.adjustment_type == "PercentChangeInCapacity":
            change = current * step.adjustment / 100
            return current + (math.ceil(change) if change > 0 else math.floor(change))
        return current + step.adjustment


@dataclass(frozen=True)
class ScalingPlan:
    """What the local autoscaler plays for one ECS service: the target's bounds and its policies."""

    resource_id: str
    min_capacity: int
    max_capacity: int
    target_value: float | None = None
    metrics: tuple[MetricQuery, ...] = ()
    scale_out_cooldown_seconds: float = 300
    scale_in_cooldown_seconds: float = 300
    disable_scale_in: bool = False
    step: StepPolicy | None = None

    def bounded(self, capacity: int) -> int:
        """``capacity`` within ``[MinCapacity, MaxCapacity]``."""
        return max(self.min_capacity, min(self.max_capacity, capacity))

    def tracking_capacity(self, current: int, source: MetricSource) -> int | None:
        """Target tracking's capacity: ``ceil(current x metric / TargetValue)``; None without a policy or a value."""
        if self.target_value is None or not self.metrics:
            return None
        value = metric_value(self.metrics, source)
        if math.isnan(value):
            return None
        return math.ceil(round(current * value / self.target_value, 9))

    @property
    def queue_name(self) -> str | None:
        """The queue whose ``ApproximateNumberOfMessagesVisible`` the policies read."""
        metrics = [q.metric for q in self.metrics if q.metric is not None]
        if self.step is not None:
            metrics += [q.metric for q in self.step.alarm_metrics if q.metric is not None]
        for metric in metrics:
            if metric.namespace == "AWS/SQS" and "QueueName" in metric.dimensions:
                return metric.dimensions["QueueName"]
        return None


def plan_from_api(target: Mapping[str, Any], policies: Sequence[Mapping[str, Any]], alarms: Sequence[Mapping[str, Any]]) -> ScalingPlan:
    """A :class:`ScalingPlan` from ``DescribeScalableTargets``, ``DescribeScalingPolicies`` and ``DescribeAlarms``
    entries (the API's shapes, which are the template's properties)."""
    plan: dict[str, Any] = {
        "resource_id": target["ResourceId"],
        "min_capacity": int(target["MinCapacity"]),
        "max_capacity": int(target["MaxCapacity"]),
    }
    for policy in policies:
        if policy.get("PolicyType") == "TargetTrackingScaling":
            config = policy["TargetTrackingScalingPolicyConfiguration"]
            plan["target_value"] = float(config["TargetValue"])
            plan["metrics"] = tuple(_query(m) for m in config.get("CustomizedMetricSpecification", {}).get("Metrics", []))
            plan["scale_out_cooldown_seconds"] = float(config.get("ScaleOutCooldown", 300))
            plan["scale_in_cooldown_seconds"] = float(config.get("ScaleInCooldown", 300))
            plan["disable_scale_in"] = bool(config.get("DisableScaleIn", False))
        elif policy.get("PolicyType") == "StepScaling":
            alarm = next((a for a in alarms if policy["PolicyARN"] in a.get("AlarmActions", [])), None)
            if alarm is None:
                continue  # no alarm triggers it: nothing to play
            if alarm.get("MetricName"):
                dimensions = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
                alarm_metrics: tuple[MetricQuery, ...] = (MetricQuery("m1", Metric(alarm["Namespace"], alarm["MetricName"], dimensions)),)
            else:
                alarm_metrics = tuple(_query(m) for m in alarm.get("Metrics", []))
            config = policy["StepScalingPolicyConfiguration"]
            plan["step"] = StepPolicy(
                name=policy["PolicyName"],
                adjustment_type=config.get("AdjustmentType", "ChangeInCapacity"),
                adjustments=tuple(
                    StepAdjustment(s.get("MetricIntervalLowerBound"), s.get("MetricIntervalUpperBound"), int(s["ScalingAdjustment"]))
                    for s in config.get("StepAdjustments", [])
                ),
                cooldown_seconds=float(config.get("Cooldown", 0)),
                alarm_metrics=alarm_metrics,
                threshold=float(alarm["Threshold"]),
                comparison=alarm["ComparisonOperator"],
            )
    return ScalingPlan(**plan)


def _query(entry: Mapping[str, Any]) -> MetricQuery:
    stat = entry.get("MetricStat")
    metric = None
    if stat:
        inner = stat["Metric"]
        metric = Metric(inner["Namespace"], inner["MetricName"], {d["Name"]: d["Value"] for d in inner.get("Dimensions", [])})
    return MetricQuery(entry["Id"], metric, entry.get("Expression"), bool(entry.get("ReturnData", True)))


@dataclass(frozen=True)
class Decision:
    """One evaluation: the desired count and why it changed (empty when it did not)."""

    desired: int
    reason: str = ""


class Autoscaler:
    """Plays a :class:`ScalingPlan` over time: call :meth:`evaluate` once per period.

    Parameters
    ----------
    plan:
        The service's scaling.
    period_seconds:
        How many seconds one local period stands for one of AWS's one-minute periods (the cooldowns shrink in
        the same proportion).
    initial:
        The desired count at the start (the service's ``DesiredCount``).
    scale_out_periods, scale_in_periods:
        Consecutive evaluations above (below) the current capacity before target tracking acts (3 and 15, as
        its alarms on AWS).
    """

    def __init__(
        self,
        plan: ScalingPlan,
        *,
        period_seconds: float,
        initial: int = 0,
        scale_out_periods: int = SCALE_OUT_PERIODS,
        scale_in_periods: int = SCALE_IN_PERIODS,
    ) -> None:
        if period_seconds <= 0:
            raise ValueError(f"period_seconds must be above 0, got {period_seconds!r}")
        self.plan = plan
        self.period_seconds = period_seconds
        self.desired = plan.bounded(initial)
        self.scale_out_periods = scale_out_periods
        self.scale_in_periods = scale_in_periods
        self.high = 0
        self.low = 0
        self.last_out: float | None = None
        self.last_in: float | None = None

    def _cooldown(self, seconds: float) -> float:
        return seconds * self.period_seconds / AWS_PERIOD_SECONDS

    def evaluate(self, now: float, source: MetricSource) -> Decision:
        """One period: the desired count given the metrics ``source`` gives (running tasks included).

        The step policy acts first (it is the only one that acts at zero); target tracking then moves the count
        out after ``scale_out_periods`` high evaluations, in after ``scale_in_periods`` low ones, each outside
        its cooldown.
        """
        plan = self.plan
        step = plan.step
        if step is not None:
            wanted = step.capacity(self.desired, metric_value(step.alarm_metrics, source))
            in_cooldown = self.last_out is not None and now - self.last_out < self._cooldown(step.cooldown_seconds)
            if wanted is not None and plan.bounded(wanted) > self.desired and not in_cooldown:
                self.desired, self.last_out, self.high, self.low = plan.bounded(wanted), now, 0, 0
                return Decision(self.desired, f"step policy {step.name}: alarm on {step.alarm_label}")
        # Application Auto Scaling's current capacity is the service's desired count; at 0 target tracking is idle.
        tracked = plan.tracking_capacity(self.desired, source)
        if tracked is None or self.desired == 0:
            self.high = self.low = 0
            return Decision(self.desired)
        wanted = plan.bounded(tracked)
        self.high = self.high + 1 if wanted > self.desired else 0
        self.low = self.low + 1 if wanted < self.desired else 0
        out_cooled = self.last_out is None or now - self.last_out >= self._cooldown(plan.scale_out_cooldown_seconds)
        if self.high >= self.scale_out_periods and out_cooled:
            self.desired, self.last_out, self.high = wanted, now, 0
            return Decision(wanted, f"target tracking: metric above target for {self.scale_out_periods} periods")
        in_cooled = self.last_in is None or now - self.last_in >= self._cooldown(plan.scale_in_cooldown_seconds)
        if self.low >= self.scale_in_periods and not plan.disable_scale_in and in_cooled:
            self.desired, self.last_in, self.low = wanted, now, 0
            return Decision(wanted, f"target tracking: metric below target for {self.scale_in_periods} periods")
        return Decision(self.desired)
