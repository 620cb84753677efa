"""The construct and the worker entrypoint agree: what QueueWorkerService writes in the container's environment is
what ``python -m constructs_sqs_runtime.worker`` parses, for the defaults and for the limits of each range."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Template
from helpers import new_app

from constructs_sqs import EncryptedQueue, QueueWorkerService
from constructs_sqs.queue_worker_service import ENVIRONMENT as CONSTRUCT_ENVIRONMENT
from constructs_sqs_runtime.worker import ENVIRONMENT as WORKER_ENVIRONMENT
from constructs_sqs_runtime.worker import parse_config

IMAGE = ecs.ContainerImage.from_registry("public.ecr.aws/docker/library/python:3.13-slim")
QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/111111111111/jobs"


def test_both_sides_name_the_same_variables() -> None:
    assert CONSTRUCT_ENVIRONMENT == WORKER_ENVIRONMENT


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"concurrency": 1_000, "job_max_duration": Duration.days(2), "stop_timeout": Duration.seconds(120)},
        {"concurrency": 1, "job_max_duration": Duration.seconds(1), "stop_timeout": Duration.seconds(11)},
        {"task_protection": False},
    ],
    ids=["defaults", "longest", "shortest", "no-protection"],
)
def test_the_worker_parses_what_the_construct_writes(arguments: dict) -> None:
    stack = cdk.Stack(new_app(), "S")
    service = QueueWorkerService(stack, "W", queue=EncryptedQueue(stack, "Q"), image=IMAGE, handler="jobs:handle", **arguments)
    (definition,) = Template.from_stack(stack).find_resources("AWS::ECS::TaskDefinition").values()
    (container,) = definition["Properties"]["ContainerDefinitions"]
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    environment["CONSTRUCTS_SQS_QUEUE_URL"] = QUEUE_URL  # a token in the template, the queue's URL at run time
    config = parse_config([], environment)
    plan = service.plan
    assert (config.queue_url, config.handler) == (QUEUE_URL, "jobs:handle")
    assert config.concurrency == plan.concurrency
    assert config.visibility_timeout == plan.visibility_timeout
    assert config.drain_seconds == plan.drain_seconds == plan.stop_timeout - 10
    assert config.task_protection is plan.task_protection
    assert config.protection_minutes == plan.protection_minutes
