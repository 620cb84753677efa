"""Snapshots of QueueWorkerService's minimal and maximal configurations: they guard against unintended change (a
changed construct id replaces a resource on deploy); the properties are asserted in test_queue_worker_service.py.
Refresh with ``python -m pytest tests/worker/test_worker_snapshot.py --snapshot-update`` after a change you meant."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from helpers import new_app

from constructs_sqs import EncryptedQueue, FifoQueueWithDlq, QueueWorkerService

IMAGE = ecs.ContainerImage.from_registry("public.ecr.aws/docker/library/python:3.13-slim")


def _minimal(stack: cdk.Stack) -> None:
    QueueWorkerService(stack, "Workers", queue=EncryptedQueue(stack, "Jobs"), image=IMAGE, handler="jobs:handle")


def _maximal(stack: cdk.Stack) -> None:
    key = kms.Key(stack, "LogKey", enable_key_rotation=True)
    service = QueueWorkerService(
        stack,
        "Workers",
        queue=FifoQueueWithDlq(stack, "Jobs", content_based_deduplication=True),
        image=IMAGE,
        command=["java", "-jar", "/app/worker.jar"],
        concurrency=4,
        cpu=2_048,
        memory_limit_mib=8_192,
        environment={"MODE": "batch"},
        min_tasks=1,
        max_tasks=40,
        job_max_duration=Duration.hours(2),
        acceptable_latency=Duration.hours(6),
        stop_timeout=Duration.seconds(90),
        spot=True,
        log_retention=logs.RetentionDays.THREE_MONTHS,
        log_encryption_key=key,
    )
    service.add_alarms(alarm_email="oncall@example.com")


CONFIGURATIONS: dict[str, Callable[[cdk.Stack], None]] = {"worker-minimal": _minimal, "worker-maximal": _maximal}


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_worker_configuration(name: str, cdk_snapshot) -> None:
    stack = cdk.Stack(new_app(), "Snapshot")
    CONFIGURATIONS[name](stack)
    assert stack == cdk_snapshot
