"""The local autoscaler's arithmetic: metric math, target tracking's capacity, the step policy from zero,
bounds, and scale-in slower than scale-out. No clock: each evaluation gets its time."""

from __future__ import annotations

import math

import pytest

from constructs_sqs.local.autoscaler import (
    Autoscaler,
    Metric,
    MetricMathError,
    MetricQuery,
    ScalingPlan,
    StepAdjustment,
    StepPolicy,
    evaluate,
    metric_value,
    plan_from_api,
)

VISIBLE = Metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "jobs"})
RUNNING = Metric("ECS/ContainerInsights", "RunningTaskCount", {"ClusterName": "c", "ServiceName": "s"})
BACKLOG = (
    MetricQuery("m1", VISIBLE, return_data=False),
    MetricQuery("m2", RUNNING, return_data=False),
    MetricQuery("e1", expression="m1 / IF(m2 < 1, 1, m2)"),
)
DESIRED = Metric("ECS/ContainerInsights", "DesiredTaskCount", {"ClusterName": "c", "ServiceName": "s"})
WAKE = StepPolicy("Wake", "ExactCapacity", (StepAdjustment(0, None, 1),), 60, (MetricQuery("m1", VISIBLE),), 1, "GreaterThanOrEqualToThreshold")
WAKE_WHILE_NONE_DESIRED = StepPolicy(
    "scale-from-zero",
    "ChangeInCapacity",
    (StepAdjustment(0, None, 1),),
    60,
    (
        MetricQuery("expr_1", expression="IF(FILL(m2, 0) < 1, m1, 0)"),
        MetricQuery("m1", VISIBLE, return_data=False),
        MetricQuery("m2", DESIRED, return_data=False),
    ),
    1,
    "GreaterThanOrEqualToThreshold",
)


def plan(**changes):
    values = {"resource_id": "service/c/s", "min_capacity": 0, "max_capacity": 6, "target_value": 100, "metrics": BACKLOG,
              "scale_out_cooldown_seconds": 0, "scale_in_cooldown_seconds": 0, "step": WAKE}
    values.update(changes)
    return ScalingPlan(**values)


class World:
    """The metrics an evaluation sees: a queue's visible count, the running tasks, the desired count."""

    def __init__(self, visible=0, running=0, scaler=None):
        self.visible, self.running, self.scaler = visible, running, scaler

    def __call__(self, metric):
        desired = self.scaler.desired if self.scaler else 0
        return {VISIBLE.name: self.visible, RUNNING.name: self.running, DESIRED.name: desired}[metric.name]


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        ("m1 / IF(m2 < 1, 1, m2)", {"m1": 250, "m2": 0}, 250),
        ("m1 / IF(m2 < 1, 1, m2)", {"m1": 250, "m2": 5}, 50),
        ("m1 / IF(m2 < 1, 1, m2)", {"m1": 0, "m2": 3}, 0),
        ("(m1 + m2) * 2 - 1", {"m1": 1, "m2": 2}, 5),
        ("MAX(m1, m2) / MIN(m1, m2)", {"m1": 2, "m2": 8}, 4),
        ("IF(m1 > 10 AND m2 >= 1, 1, 0)", {"m1": 11, "m2": 1}, 1),
        ("m1 ^ 2 - -1", {"m1": 3}, 10),
        ("CEIL(m1 / 3)", {"m1": 10}, 4),
        ("IF(FILL(m2, 0) < 1, m1, 0)", {"m1": 7, "m2": 0}, 7),
        ("IF(FILL(m2, 0) < 1, m1, 0)", {"m1": 7, "m2": 1}, 0),
        ("IF(FILL(m2 / m3, 0) < 1, m1, 0)", {"m1": 7, "m2": 1, "m3": 0}, 7),
    ],
)
def test_metric_math_evaluates_as_cloudwatch_does(expression, values, expected):
    assert evaluate(expression, values) == expected


def test_division_by_zero_gives_no_datapoint():
    assert math.isnan(evaluate("m1 / m2", {"m1": 4, "m2": 0}))


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("m1 / m3", r"no metric with id 'm3' \(known: \['m1', 'm2'\]\)"),
        ("SUM(m1)", r"the local autoscaler has no function SUM"),
        ("m1 / (m2", r"expected \), got None"),
        ("m1 $ m2", r"cannot read metric math 'm1 \$ m2' at position 2"),
    ],
)
def test_what_the_evaluator_cannot_read_is_refused_by_name(expression, message):
    with pytest.raises(MetricMathError, match=message):
        evaluate(expression, {"m1": 1, "m2": 2})


def test_the_query_that_returns_data_is_the_policy_metric():
    assert metric_value(BACKLOG, World(visible=600, running=3)) == 200


@pytest.mark.parametrize(
    ("current", "visible", "expected"),
    [(1, 300, 3), (3, 300, 3), (2, 301, 4), (4, 100, 1), (6, 0, 0), (0, 500, 0)],
)
def test_target_tracking_asks_for_ceil_of_visible_over_target(current, visible, expected):
    """ceil(current x (visible / running) / target) with running == current is ceil(visible / target);
    at 0 tasks target tracking asks for nothing (it cannot scale from zero)."""
    assert plan().tracking_capacity(current, World(visible, current)) == expected


def test_the_step_policy_wakes_the_service_from_zero_on_the_first_visible_message():
    scaler = Autoscaler(plan(), period_seconds=1)
    assert scaler.evaluate(0, World(visible=0)).desired == 0
    decision = scaler.evaluate(1, World(visible=1))
    assert decision.desired == 1
    assert decision.reason == "step policy Wake: alarm on ApproximateNumberOfMessagesVisible"


def test_a_metric_math_alarm_on_the_desired_count_wakes_from_zero_only():
    """The construct's alarm: visible messages while no task is desired; +1 while in ALARM, so 0 -> 1 and no more."""
    scaler = Autoscaler(plan(step=WAKE_WHILE_NONE_DESIRED, target_value=None, metrics=()), period_seconds=1)
    world = World(visible=500, scaler=scaler)
    decisions = [scaler.evaluate(now, world) for now in range(5)]
    assert [d.desired for d in decisions] == [1, 1, 1, 1, 1]
    assert decisions[0].reason == "step policy scale-from-zero: alarm on IF(FILL(m2, 0) < 1, m1, 0)"


def test_target_tracking_cannot_wake_from_zero_without_the_step_policy():
    scaler = Autoscaler(plan(step=None), period_seconds=1)
    for now in range(10):
        assert scaler.evaluate(now, World(visible=5000)).desired == 0


def test_scale_out_after_three_high_periods_bounded_by_max_capacity():
    scaler = Autoscaler(plan(), period_seconds=1, initial=1)
    world = World(visible=2000, running=1)
    assert [scaler.evaluate(now, world).desired for now in range(4)] == [1, 1, 6, 6]


def test_scale_in_waits_fifteen_low_periods_and_stops_at_min_capacity():
    scaler = Autoscaler(plan(min_capacity=2), period_seconds=1, initial=6)
    world = World(visible=0, running=6)
    desired = [scaler.evaluate(now, world).desired for now in range(16)]
    assert desired[:14] == [6] * 14
    assert desired[14:] == [2, 2]


def test_scale_in_is_slower_than_scale_out():
    out = Autoscaler(plan(), period_seconds=1, initial=1)
    periods_out = next(n for n in range(1, 100) if out.evaluate(n, World(visible=600, running=1)).desired > 1)
    back = Autoscaler(plan(), period_seconds=1, initial=6)
    periods_in = next(n for n in range(1, 100) if back.evaluate(n, World(visible=0, running=6)).desired < 6)
    assert (periods_out, periods_in) == (3, 15)


def test_a_dip_resets_the_count_of_low_periods():
    scaler = Autoscaler(plan(), period_seconds=1, initial=3)
    for now in range(14):
        scaler.evaluate(now, World(visible=0, running=3))
    scaler.evaluate(14, World(visible=300, running=3))  # on target again: the 15 low periods start over
    assert [scaler.evaluate(15 + n, World(visible=0, running=3)).desired for n in range(15)][-2:] == [3, 0]


def test_disable_scale_in_keeps_the_count():
    scaler = Autoscaler(plan(disable_scale_in=True), period_seconds=1, initial=4)
    assert {scaler.evaluate(now, World(visible=0, running=4)).desired for now in range(30)} == {4}


def test_cooldowns_shrink_with_the_local_period():
    """A 60 s scale-out cooldown is one period: with 2 s periods, 2 s must pass between two scale-outs."""
    scaler = Autoscaler(plan(scale_out_cooldown_seconds=60, max_capacity=20), period_seconds=2, initial=1)
    scaler.desired, scaler.last_out = 2, 10.0
    scaler.high = 2
    assert scaler.evaluate(11.0, World(visible=1000, running=2)).desired == 2, "inside the 2 s cooldown"
    assert scaler.evaluate(12.0, World(visible=1000, running=2)).desired == 10


@pytest.mark.parametrize(
    ("adjustment_type", "adjustment", "current", "expected"),
    [("ExactCapacity", 1, 0, 1), ("ChangeInCapacity", 2, 1, 3), ("PercentChangeInCapacity", 50, 3, 5), ("PercentChangeInCapacity", -50, 3, 1)],
)
def test_step_adjustment_types(adjustment_type, adjustment, current, expected):
    step = StepPolicy("s", adjustment_type, (StepAdjustment(0, None, adjustment),), 0, (MetricQuery("m1", VISIBLE),), 1, "GreaterThanOrEqualToThreshold")
    assert step.capacity(current, 5) == expected
    assert step.capacity(current, 0) is None, "the alarm is OK below its threshold"


def test_step_intervals_are_relative_to_the_threshold():
    steps = (StepAdjustment(0, 10, 1), StepAdjustment(10, None, 3))
    step = StepPolicy("s", "ChangeInCapacity", steps, 0, (MetricQuery("m1", VISIBLE),), 5, "GreaterThanThreshold")
    assert [step.capacity(0, value) for value in (5, 6, 14.9, 15, 100)] == [None, 1, 1, 3, 3]


def test_the_plan_is_read_from_the_api_shapes():
    target = {"ResourceId": "service/c/s", "MinCapacity": 1, "MaxCapacity": 8}
    tracking = {
        "PolicyARN": "arn:tt",
        "PolicyName": "Backlog",
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": 40,
            "ScaleInCooldown": 120,
            "ScaleOutCooldown": 30,
            "DisableScaleIn": False,
            "CustomizedMetricSpecification": {
                "Metrics": [
                    {"Id": "m1", "ReturnData": False, "MetricStat": {"Metric": {"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible", "Dimensions": [{"Name": "QueueName", "Value": "jobs"}]}, "Stat": "Average"}},
                    {"Id": "e1", "Expression": "m1 / 2", "ReturnData": True},
                ]
            },
        },
    }
    step = {
        "PolicyARN": "arn:step",
        "PolicyName": "Wake",
        "PolicyType": "StepScaling",
        "StepScalingPolicyConfiguration": {"AdjustmentType": "ExactCapacity", "Cooldown": 60, "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]},
    }
    alarm = {"AlarmActions": ["arn:step"], "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
             "Dimensions": [{"Name": "QueueName", "Value": "jobs"}], "Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold"}
    read = plan_from_api(target, [tracking, step], [{"AlarmActions": ["arn:other"]}, alarm])
    assert (read.min_capacity, read.max_capacity, read.target_value) == (1, 8, 40)
    assert (read.scale_in_cooldown_seconds, read.scale_out_cooldown_seconds) == (120, 30)
    assert [q.id for q in read.metrics] == ["m1", "e1"] and read.metrics[1].expression == "m1 / 2"
    assert read.step == WAKE
    assert read.queue_name == "jobs"
    assert plan_from_api(target, [step], []).step is None, "a step policy no alarm triggers does nothing"
    math_alarm = {
        "AlarmActions": ["arn:step"], "Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Metrics": [
            {"Id": "expr_1", "Expression": "IF(FILL(m2, 0) < 1, m1, 0)", "ReturnData": True},
            {"Id": "m1", "ReturnData": False, "MetricStat": {"Metric": {"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible", "Dimensions": [{"Name": "QueueName", "Value": "jobs"}]}, "Period": 60, "Stat": "Maximum"}},
            {"Id": "m2", "ReturnData": False, "MetricStat": {"Metric": {"Namespace": "ECS/ContainerInsights", "MetricName": "DesiredTaskCount", "Dimensions": [{"Name": "ClusterName", "Value": "c"}, {"Name": "ServiceName", "Value": "s"}]}, "Period": 60, "Stat": "Average"}},
        ],
    }
    step["StepScalingPolicyConfiguration"]["AdjustmentType"] = "ChangeInCapacity"
    assert plan_from_api(target, [step], [math_alarm]).step == WAKE_WHILE_NONE_DESIRED.__class__(
        "Wake", "ChangeInCapacity", WAKE_WHILE_NONE_DESIRED.adjustments, 60, WAKE_WHILE_NONE_DESIRED.alarm_metrics, 1, "GreaterThanOrEqualToThreshold"
    )
    assert plan_from_api(target, [step], [math_alarm]).queue_name == "jobs"


def test_a_period_must_be_positive():
    with pytest.raises(ValueError, match="period_seconds must be above 0, got 0"):
        Autoscaler(plan(), period_seconds=0)
