"""Monitoring: one stack owns the alarms, the alarm topic and the dashboard of every sample queue."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from constructs_sqs import LambdaTriggeredQueue, QueueAlarms

from .settings import SampleSettings


class MonitoringStack(Stack):
    """Watches queues and consumers that other stacks own, through cross-stack references: one encrypted
    topic for on-call, one dashboard, and per queue the depth, age, DLQ, in-flight and consumer alarms."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        consumers: dict[str, LambdaTriggeredQueue],
        settings: SampleSettings,
        orders: str = "Orders",
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.alarms: dict[str, QueueAlarms] = {}
        first: QueueAlarms | None = None
        for name, consumer in consumers.items():
            self.alarms[name] = QueueAlarms(
                self,
                f"{name}Alarms",
                queue=consumer,
                topic=first.topic if first else None,
                dashboard=first.dashboard if first else None,
                alarm_email=settings.alarm_email if first is None else None,
                depth_threshold=settings.depth_threshold,
                age_slo=settings.orders_age_slo if name == orders else None,
            )
            first = first or self.alarms[name]
        assert first is not None, "MonitoringStack needs at least one consumer to watch"
        self.topic = first.topic
        self.dashboard = first.dashboard
