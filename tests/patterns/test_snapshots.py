"""Snapshots of every sample stack and of each pattern's minimal and maximal configuration.

They guard against unintended change; the properties themselves are asserted in the other tests.
Refresh them with `make snapshot-update` after a change you meant.
"""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from helpers import new_app

from constructs_sqs import EncryptedQueue, FifoQueueWithDlq
from sample_app import build


@pytest.fixture(scope="module")
def sample_stacks() -> dict[str, cdk.Stack]:
    return build(new_app())


@pytest.mark.parametrize("name", ["Orders", "Media", "Events", "Monitoring", "Transcoding"])
def test_sample_stack(sample_stacks: dict[str, cdk.Stack], name: str, cdk_snapshot) -> None:
    assert sample_stacks[name] == cdk_snapshot


def _fifo_maximal(stack: cdk.Stack) -> None:
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    FifoQueueWithDlq(
        stack,
        "Pattern",
        queue_name="payments.fifo",
        dead_letter_queue_name="payments-failed.fifo",
        content_based_deduplication=True,
        high_throughput=True,
        visibility_timeout=Duration.minutes(5),
        retention_period=Duration.days(7),
        dead_letter_retention_period=Duration.days(14),
        max_receive_count=10,
        delivery_delay=Duration.seconds(5),
        receive_message_wait_time=Duration.seconds(10),
        max_message_size_bytes=262_144,
        encryption_master_key=key,
        data_key_reuse=Duration.hours(1),
        removal_policy=RemovalPolicy.RETAIN,
        dead_letter_removal_policy=RemovalPolicy.RETAIN,
    ).allow_service_producer("sns.amazonaws.com", "arn:aws:sns:eu-west-1:111111111111:payments.fifo")


def _encrypted_maximal(stack: cdk.Stack) -> None:
    EncryptedQueue(
        stack,
        "Pattern",
        queue_name="thumbnails",
        data_key_reuse=Duration.minutes(15),
        visibility_timeout=Duration.minutes(2),
        retention_period=Duration.days(2),
        dead_letter_retention_period=Duration.days(10),
        max_receive_count=3,
        receive_message_wait_time=Duration.seconds(5),
        removal_policy=RemovalPolicy.DESTROY,
        dead_letter_removal_policy=RemovalPolicy.DESTROY,
    ).allow_service_producer("events.amazonaws.com", "arn:aws:events:eu-west-1:111111111111:rule/thumbnails")


CONFIGURATIONS: dict[str, Callable[[cdk.Stack], object]] = {
    "fifo-minimal": lambda stack: FifoQueueWithDlq(stack, "Pattern"),
    "fifo-maximal": _fifo_maximal,
    "encrypted-minimal": lambda stack: EncryptedQueue(stack, "Pattern"),
    "encrypted-maximal": _encrypted_maximal,
}


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_pattern_configuration(name: str, cdk_snapshot) -> None:
    stack = cdk.Stack(new_app(), "Snapshot")
    CONFIGURATIONS[name](stack)
    assert stack == cdk_snapshot
