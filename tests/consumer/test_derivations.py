"""The derivations a consumer shares (constructs_sqs/_derivations.py): plain inputs, plain outputs, and the one
place a derived visibility timeout is written on a queue, recorded on it instead of in a module registry."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs

from constructs_sqs import EncryptedQueue, FifoQueueWithDlq, LambdaTriggeredQueue
from constructs_sqs._derivations import (
    LAMBDA,
    WARNING_VISIBILITY,
    ConsumerWords,
    derived_visibility_timeout,
    plan_visibility,
)
from constructs_sqs._facts import (
    DERIVED_VISIBILITY_KEY,
    QueueFacts,
    derived_visibility_of,
    read_queue,
    write_derived_visibility,
)
from constructs_sqs._validation import Problems
from constructs_sqs.lambda_triggered_queue import ConsumerArguments, plan_consumer, read_consumer_sources

CODE = lambda_.Code.from_inline("def handler(event, context):\n    return {'batchItemFailures': []}\n")


def _facts(**overrides: Any) -> QueueFacts:
    """A queue as the plan sees it, without any construct: the derivations read only these values."""
    values: dict[str, Any] = {
        "queue": cast(sqs.IQueue, None),
        "dead_letter_queue": None,
        "encryption_key": None,
        "fifo": False,
        "retention_period": 345_600.0,
        "dead_letter_retention_period": 1_209_600.0,
        "visibility_timeout": 30.0,
        "visibility_timeout_given": False,
        "visibility_timeout_derived": False,
        "max_receive_count": 5,
        "name": "jobs",
        "path": "App/Jobs",
        "imported": False,
        "kind": "queue pattern",
    }
    return QueueFacts(**{**values, **overrides})


# --- The formula ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timeout", "window", "per_timeout", "expected"),
    [(30, 0, 6, 180), (120, 10, 6, 730), (0.5, 0.2, 6, 4), (10, 0, 2, 20)],
)
def test_the_visibility_timeout_is_per_timeout_times_the_timeout_plus_the_window_rounded_up(
    timeout: float, window: float, per_timeout: float, expected: float
) -> None:
    assert derived_visibility_timeout(timeout, window, per_timeout=per_timeout) == expected


# --- The decision, from plain values -----------------------------------------------------------------------


def test_a_queue_to_create_gets_the_derived_value_and_a_note() -> None:
    problems = Problems("here")
    plan = plan_visibility(problems, timeout=120, window=10, queue=None, requested=None)
    assert (plan.derived, plan.in_force, plan.set_on_queue, plan.given) == (730, 730, None, False)
    assert plan.notes == (
        "visibility timeout of the created queue: 12 minutes 10 seconds = 6 x the function timeout (2 minutes) "
        "+ max_batching_window (10 seconds)",
    )
    assert problems.items == [] and plan.warnings == ()


def test_a_requested_visibility_below_the_timeout_is_a_problem_and_below_6x_a_warning() -> None:
    problems = Problems("here")
    plan_visibility(problems, timeout=30, window=0, queue=None, requested=Duration.seconds(20))
    assert problems.items == [
        "visibility_timeout must be at least the function timeout (30 seconds), got 20 seconds: Lambda refuses to "
        "create the event source mapping; leave it unset to derive 3 minutes (6 x timeout + max_batching_window)"
    ]
    problems = Problems("here")
    plan = plan_visibility(problems, timeout=30, window=0, queue=None, requested=Duration.seconds(60))
    assert problems.items == [] and plan.in_force == 60 and plan.given is True
    assert [warning_id for warning_id, _ in plan.warnings] == [WARNING_VISIBILITY]


def test_a_given_queue_that_kept_its_default_gets_the_derived_value_even_a_shorter_one() -> None:
    plan = plan_visibility(Problems("here"), timeout=3, window=0, queue=_facts(), requested=None)
    assert (plan.set_on_queue, plan.in_force) == (18, 18)


@pytest.mark.parametrize(("earlier", "mine", "written"), [(720, 180, None), (180, 720, 720)])
def test_a_queue_another_consumer_derived_keeps_the_longer_value(earlier: float, mine: float, written: float | None) -> None:
    queue = _facts(visibility_timeout=earlier, visibility_timeout_derived=True)
    plan = plan_visibility(Problems("here"), timeout=mine / 6, window=0, queue=queue, requested=None)
    assert plan.set_on_queue == written
    assert plan.in_force == max(earlier, mine)


def test_a_visibility_the_queue_was_given_is_kept_and_checked() -> None:
    problems = Problems("here")
    plan = plan_visibility(
        problems, timeout=30, window=0, queue=_facts(visibility_timeout=20.0, visibility_timeout_given=True), requested=None
    )
    assert plan.set_on_queue is None
    assert problems.items == [
        "visibility_timeout of queue=App/Jobs must be at least the function timeout (30 seconds), got 20 seconds: "
        "Lambda refuses to create the event source mapping; leave it unset to derive 3 minutes "
        "(6 x timeout + max_batching_window)"
    ]


def test_an_imported_queue_is_warned_about_unless_described() -> None:
    imported = _facts(visibility_timeout=None, visibility_timeout_given=True, imported=True, kind="imported queue")
    plan = plan_visibility(Problems("here"), timeout=30, window=0, queue=imported, requested=None)
    assert plan.in_force is None and plan.set_on_queue is None
    ((warning_id, message),) = plan.warnings
    assert warning_id == WARNING_VISIBILITY and "it must be at least 3 minutes" in message
    described = plan_visibility(Problems("here"), timeout=30, window=0, queue=imported, requested=Duration.minutes(3))
    assert described.in_force == 180 and described.warnings == ()


def test_another_engine_brings_its_own_words_and_factor() -> None:
    """An ECS worker service (issue 19) shares the decision with its own timeout's name and factor."""
    words = ConsumerWords(
        timeout="the handler timeout",
        timeout_argument="handler_timeout",
        window="receive_wait",
        below_timeout="messages become visible again while they are processed",
    )
    problems = Problems("here")
    plan = plan_visibility(problems, timeout=60, window=0, queue=None, requested=Duration.seconds(30), words=words,
                           per_timeout=2)
    assert plan.derived == 120
    assert problems.items == [
        "visibility_timeout must be at least the handler timeout (1 minute), got 30 seconds: messages become visible "
        "again while they are processed; leave it unset to derive 2 minutes (2 x handler_timeout + receive_wait)"
    ]
    assert LAMBDA == ConsumerWords()


# --- The write, and what a later reader sees ---------------------------------------------------------------


def test_the_write_sets_the_resource_and_records_that_it_was_derived(stack: cdk.Stack) -> None:
    queue = sqs.Queue(stack, "Plain")
    assert derived_visibility_of(queue) is None and read_queue(queue).visibility_timeout_given is False
    assert write_derived_visibility(queue, 180) is True
    cfn = queue.node.default_child
    assert cfn.visibility_timeout == 180
    assert cfn.node.try_get_context(DERIVED_VISIBILITY_KEY) == 180
    facts = read_queue(queue)
    assert (facts.visibility_timeout, facts.visibility_timeout_given, facts.visibility_timeout_derived) == (
        180, False, True
    )


def test_an_imported_queue_is_not_written(stack: cdk.Stack) -> None:
    imported = sqs.Queue.from_queue_arn(stack, "Imported", "arn:aws:sqs:eu-west-1:111111111111:jobs")
    assert write_derived_visibility(imported, 180) is False
    assert derived_visibility_of(imported) is None


def test_a_given_visibility_is_never_taken_for_a_derived_one(stack: cdk.Stack) -> None:
    queue = sqs.Queue(stack, "Plain", visibility_timeout=Duration.minutes(10))
    facts = read_queue(queue)
    assert (facts.visibility_timeout, facts.visibility_timeout_given, facts.visibility_timeout_derived) == (
        600, True, False
    )


@pytest.mark.parametrize("make", [lambda s: sqs.Queue(s, "Q"), lambda s: FifoQueueWithDlq(s, "Q")],
                         ids=["sqs.Queue", "pattern"])
def test_two_consumers_keep_the_longer_derived_visibility_whichever_comes_first(stack: cdk.Stack, make) -> None:
    queue = make(stack)
    LambdaTriggeredQueue(stack, "Fast", queue=queue, code=CODE, handler="index.handler")
    slow = LambdaTriggeredQueue(stack, "Slow", queue=queue, code=CODE, handler="index.handler", timeout=Duration.minutes(2))
    assert slow.visibility_timeout.to_seconds() == 720
    held = queue.queue if isinstance(queue, FifoQueueWithDlq) else queue
    assert held.node.default_child.visibility_timeout == 720
    if isinstance(queue, FifoQueueWithDlq):
        assert queue.visibility_timeout.to_seconds() == 720  # the pattern's attribute follows the write
        assert queue.visibility_timeout_given is False


def test_the_plan_reads_only_its_inputs(stack: cdk.Stack) -> None:
    """A plan made from sources read before another consumer wrote the queue is the plan those sources give:
    nothing is read behind its back (no module registry)."""
    queue = sqs.Queue(stack, "Plain")
    arguments = ConsumerArguments(queue=queue, code=CODE, handler="index.handler")
    sources = read_consumer_sources(arguments)
    before = plan_consumer("TestStack/C", arguments, sources, default_service_name="C")
    LambdaTriggeredQueue(stack, "Slow", queue=queue, code=CODE, handler="index.handler", timeout=Duration.minutes(2))
    again = plan_consumer("TestStack/C", arguments, sources, default_service_name="C")
    assert (again.set_visibility_timeout, again.visibility_timeout) == (before.set_visibility_timeout, 180)
    after = plan_consumer("TestStack/C", arguments, read_consumer_sources(arguments), default_service_name="C")
    assert (after.set_visibility_timeout, after.visibility_timeout) == (None, 720)


def test_the_sources_say_when_the_function_already_consumes_the_queue(stack: cdk.Stack) -> None:
    queue = EncryptedQueue(stack, "Jobs")
    first = LambdaTriggeredQueue(stack, "First", queue=queue, code=CODE, handler="index.handler")
    arguments = ConsumerArguments(queue=queue, function=first.function)
    sources = read_consumer_sources(arguments)
    assert sources.already_consumed is True
    assert read_consumer_sources(replace(arguments, queue=EncryptedQueue(stack, "Other"))).already_consumed is False
