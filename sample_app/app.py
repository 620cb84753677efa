"""Builds every sample stack into an App."""

from __future__ import annotations

import aws_cdk as cdk

from .events_stack import EventsStack
from .media_stack import MediaStack
from .monitoring_stack import MonitoringStack
from .orders_stack import OrdersStack
from .settings import SampleSettings
from .transcoding_stack import TranscodingStack


def build(app: cdk.App) -> dict[str, cdk.Stack]:
    """Add the sample stacks to ``app`` and return them by name (Orders, Media, Events, Monitoring, Transcoding)."""
    settings = SampleSettings.from_context(app)
    prefix = settings.stack_prefix
    orders = OrdersStack(app, f"{prefix}Orders", description="constructs-sqs sample: FIFO orders queue and fulfilment")
    media = MediaStack(app, f"{prefix}Media", description="constructs-sqs sample: encrypted media queue and transcoder")
    events = EventsStack(app, f"{prefix}Events", description="constructs-sqs sample: high-throughput IoT ingestion")
    monitoring = MonitoringStack(
        app,
        f"{prefix}Monitoring",
        description="constructs-sqs sample: alarms, alarm topic and dashboard of every sample queue",
        consumers={"Orders": orders.fulfilment, "Media": media.transcoder, "Events": events.ingest},
        settings=settings,
    )
    transcoding = TranscodingStack(
        app,
        f"{prefix}Transcoding",
        description="constructs-sqs sample: long transcoding jobs on an ECS Fargate worker service",
        uploads=media.uploads,
        settings=settings,
    )
    return {"Orders": orders, "Media": media, "Events": events, "Monitoring": monitoring, "Transcoding": transcoding}
