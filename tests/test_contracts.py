"""Mixins and builders with written contracts.

``QueueGrants`` and ``AlarmsMixin`` say what they need of the class they are mixed into with a Protocol as the type
of ``self`` (``GrantTarget``, ``Watchable``): mypy refuses a class that lacks a member, where once ``getattr``
found out at synth. ``build_queue_pair`` returns what it made (a ``QueuePair``) instead of setting eleven
attributes on its caller; the pattern holds it in one place (``_hold``).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import aws_cdk as cdk
import pytest
from constructs import Construct

from constructs_sqs._queue_base import QueueOptions, QueuePair, build_queue_pair, plan_queue_pair
from constructs_sqs._validation import Problems

mypy_api = pytest.importorskip("mypy.api")

HALF = '''
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_sqs._add_alarms import AlarmsMixin
from constructs_sqs._facts import QueueFacts
from constructs_sqs._queue_base import QueueGrants


class Half(QueueGrants, AlarmsMixin, Construct):
    """Holds a queue, but says nothing of its DLQ and key, and cannot describe itself."""

    queue: sqs.IQueue


class Whole(QueueGrants, AlarmsMixin, Construct):
    queue: sqs.IQueue
    dead_letter_queue: sqs.IQueue | None
    encryption_key: None

    def queue_facts(self) -> QueueFacts:
        raise NotImplementedError


def use(half: Half, whole: Whole, role: iam.IRole) -> None:
    half.grant_redrive(role)
    half.add_alarms()
    whole.grant_redrive(role)
    whole.add_alarms()
'''


def test_mypy_refuses_a_class_that_does_not_keep_a_mixin_s_contract(tmp_path: Path) -> None:
    module = tmp_path / "half.py"
    module.write_text(textwrap.dedent(HALF))
    out, _, status = mypy_api.run(["--strict", "--no-error-summary", str(module)])
    errors = [line.split(": error: ", 1)[1] for line in out.splitlines() if ": error:" in line]
    assert status == 1
    assert len(errors) == 2, out  # Whole keeps both contracts
    assert errors[0].startswith('Invalid self argument "Half" to attribute function "grant_redrive"'), out
    assert errors[1].startswith('Invalid self argument "Half" to attribute function "add_alarms"'), out


def test_build_queue_pair_returns_what_it_made_and_sets_nothing_on_its_scope(stack: cdk.Stack) -> None:
    from aws_cdk import aws_sqs as sqs

    scope = Construct(stack, "Pair")
    problems = Problems("here")
    plan = plan_queue_pair(problems, QueueOptions(), fifo=False)
    before = dict(vars(scope))
    pair = build_queue_pair(
        scope,
        plan,
        names=("jobs", "jobs-dlq"),
        fifo=False,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key=None,
        data_key_reuse=None,
    )
    assert vars(scope) == before
    assert isinstance(pair, QueuePair)
    assert pair.queue.node.path == "TestStack/Pair/Resource" and pair.dead_letter_queue.node.path == "TestStack/Pair/DeadLetterQueue"
    assert (pair.queue_name, pair.dead_letter_queue_name, pair.max_receive_count, pair.fifo) == ("jobs", "jobs-dlq", 5, False)


def test_a_pattern_holds_every_attribute_of_its_pair(stack: cdk.Stack) -> None:
    from dataclasses import fields

    from constructs_sqs import EncryptedQueue, FifoQueueWithDlq

    for pattern in (EncryptedQueue(stack, "Encrypted"), FifoQueueWithDlq(stack, "Fifo")):
        for field in fields(QueuePair):
            assert hasattr(pattern, field.name), field.name
        assert pattern.queue.node.path.endswith("/Resource") and pattern.dead_letter_queue is not None
