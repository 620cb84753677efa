"""The plans: arguments in, checked and derived settings out, nothing built.

``plan_consumer`` and ``plan_alarms`` are the first step of ``LambdaTriggeredQueue`` and ``QueueAlarms``;
these tests call them alone and check that they add nothing to the construct tree.
"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_

from constructs_sqs import ConfigurationError, EncryptedQueue, FifoQueueWithDlq
from constructs_sqs.lambda_triggered_queue import ConsumerArguments, ConsumerSources, plan_consumer, read_consumer_sources
from constructs_sqs.alarms import AlarmsArguments, plan_alarms

CODE = lambda_.Code.from_inline("def handler(event, context):\n    return {'batchItemFailures': []}\n")


def _tree(stack: cdk.Stack) -> list[str]:
    return [child.node.path for child in stack.node.find_all()]


def test_consumer_plan_of_a_created_queue_derives_visibility_from_timeout_and_window() -> None:
    plan = plan_consumer(
        "Test/C",
        ConsumerArguments(
            code=CODE, handler="index.handler", timeout=Duration.minutes(2), batch_size=50,
            max_batching_window=Duration.seconds(10),
        ),
        ConsumerSources(),  # no queue, no function given: nothing to read
        default_service_name="C",
    )
    assert plan.queue is None and plan.queue_plan is not None
    assert plan.function_timeout == 120
    assert plan.derived_visibility_timeout == plan.visibility_timeout == 6 * 120 + 10
    assert plan.queue_plan.visibility_timeout_given is False
    assert plan.function_settings is not None
    assert plan.function_settings.environment == {"POWERTOOLS_SERVICE_NAME": "C"}
    assert plan.describe() == (
        "visibility timeout of the created queue: 12 minutes 10 seconds = 6 x the function timeout (2 minutes) "
        "+ max_batching_window (10 seconds)"
    )
    assert plan.warnings == ()


def test_consumer_plan_builds_nothing_and_follows_reserved_concurrency(stack: cdk.Stack) -> None:
    queue = FifoQueueWithDlq(stack, "Orders")
    before = _tree(stack)
    arguments = ConsumerArguments(queue=queue, code=CODE, handler="index.handler", reserved_concurrent_executions=20)
    plan = plan_consumer("TestStack/C", arguments, read_consumer_sources(arguments), default_service_name="C")
    assert _tree(stack) == before
    assert plan.fifo is True and plan.max_concurrency == 20
    assert plan.set_visibility_timeout == 180  # the pattern kept its default: set it to 6 x 30 s
    assert "max_concurrency: 20, the function's reserved concurrency" in plan.describe()
    assert queue.queue.node.default_child.visibility_timeout == 30  # the plan did not write it


def test_consumer_plan_raises_every_problem_at_once() -> None:
    with pytest.raises(ConfigurationError) as raised:
        plan_consumer(
            "Test/C",
            ConsumerArguments(code=CODE, handler="index.handler", memory_size=64, max_concurrency=1, batch_size="10"),
            ConsumerSources(),
            default_service_name="C",
        )
    assert raised.value.where == "Test/C"
    assert [problem.split(" ", 1)[0] for problem in raised.value.problems] == [
        "memory_size", "batch_size", "max_concurrency",
    ]


def test_alarms_plan_derives_thresholds_and_builds_nothing(stack: cdk.Stack) -> None:
    media = EncryptedQueue(stack, "Media", retention_period=Duration.days(6))
    before = _tree(stack)
    plan = plan_alarms("TestStack/Alarms", AlarmsArguments(queue=media, age_slo=Duration.hours(1)))
    assert _tree(stack) == before
    assert plan.retention_period == 6 * 86_400 and plan.retention_assumed is False
    assert plan.age_threshold.to_seconds() == 3 * 86_400
    assert plan.age_slo is not None and plan.age_slo.to_seconds() == 3_600
    assert plan.in_flight_threshold == 96_000 and plan.in_flight_quota == 120_000
    assert plan.dead_letter_queue is media.dead_letter_queue
    assert plan.warnings == ()


def test_alarms_plan_of_an_imported_queue_assumes_the_sqs_default_and_says_so(stack: cdk.Stack) -> None:
    from aws_cdk import aws_sqs as sqs

    queue = sqs.Queue.from_queue_arn(stack, "Imported", "arn:aws:sqs:eu-west-1:111111111111:jobs")
    plan = plan_alarms("TestStack/Alarms", AlarmsArguments(queue=queue))
    assert plan.retention_assumed is True and plan.retention_period == 4 * 86_400
    assert [warning_id for warning_id, _ in plan.warnings] == [
        "constructs-sqs:alarms-retention-unknown",
        "constructs-sqs:alarms-no-dead-letter-queue",
    ]
