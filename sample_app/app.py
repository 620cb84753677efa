"""Builds every sample stack into an App."""

from __future__ import annotations

import aws_cdk as cdk

from .media_stack import MediaStack
from .orders_stack import OrdersStack


def build(app: cdk.App) -> dict[str, cdk.Stack]:
    """Add the sample stacks to ``app`` and return them by name."""
    stacks: dict[str, cdk.Stack] = {
        "Orders": OrdersStack(app, "ConstructsSqsOrders", description="constructs-sqs sample: FIFO orders queue"),
        "Media": MediaStack(app, "ConstructsSqsMedia", description="constructs-sqs sample: encrypted media queue"),
    }
    return stacks
