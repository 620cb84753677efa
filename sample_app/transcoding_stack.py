"""Transcoding: the Media use case's long job, which Lambda cannot hold, on an ECS Fargate worker service.

The Media stack's uploads topic also feeds an encrypted queue of transcoding jobs; a ``QueueWorkerService`` runs
``sample_app/handlers/transcoding_worker.py`` with the package's worker entrypoint, scales on backlog per task
(from zero: no task runs while nothing waits) and stops only tasks that hold no video.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from constructs_sqs import EncryptedQueue, QueueWorkerService

from ._consumers import consumer_key
from .settings import SampleSettings

SAMPLE_DIR = Path(__file__).resolve().parent

JOB_MAX_DURATION = Duration.minutes(45)
"""The longest transcoding of one video: a feature-length rendition ladder, three times Lambda's 15 minutes."""

ACCEPTABLE_LATENCY = Duration.hours(2)
"""How long an upload may wait for its transcoding: editors publish the renditions the same afternoon."""


def worker_image(name: str | None = None) -> ecs.ContainerImage:
    """The worker's image: ``name`` from a registry when given (``-c constructs-sqs:workerImage=...``), else built
    from ``sample_app/transcoding.Dockerfile`` by ``cdk deploy`` (synth only stages the context: no Docker needed
    to synthesize or test)."""
    if name:
        return ecs.ContainerImage.from_registry(name)
    return ecs.ContainerImage.from_asset(
        str(SAMPLE_DIR),
        file="transcoding.Dockerfile",
        exclude=["**/__pycache__", "*.pyc", "*.py", "!handlers/*.py"],
    )


class TranscodingStack(Stack):
    """An encrypted queue of transcoding jobs subscribed to the Media uploads topic, and the worker service that
    transcodes them: up to 8 Fargate tasks of 2 vCPU and 4 GiB, none while the queue is empty (a new
    service starts with one, which scale-in stops once it is idle)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        uploads: sns.ITopic,
        settings: SampleSettings,
        image: ecs.ContainerImage | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.jobs = EncryptedQueue(self, "Jobs")
        self.jobs.allow_service_producer("sns.amazonaws.com", uploads.topic_arn)
        uploads.add_subscription(
            subscriptions.SqsSubscription(
                self.jobs.queue, raw_message_delivery=True, dead_letter_queue=self.jobs.dead_letter_queue
            )
        )
        self.workers = QueueWorkerService(
            self,
            "Workers",
            queue=self.jobs,
            image=image or worker_image(settings.worker_image),
            handler="transcoding_worker:transcode",
            # The handler's module is found the same way in the image (WORKDIR /app) and when the local
            # emulator runs the command from the project directory.
            environment={"PYTHONPATH": "sample_app/handlers"},
            cpu=2_048,
            memory_limit_mib=4_096,
            min_tasks=0,
            max_tasks=8,
            job_max_duration=JOB_MAX_DURATION,
            acceptable_latency=ACCEPTABLE_LATENCY,
            log_encryption_key=consumer_key(self),
        )
        self.alarms = self.workers.add_alarms(alarm_email=settings.alarm_email, depth_threshold=settings.depth_threshold)
