"""Orders: checkout hands orders to fulfilment in order, exactly once, through a FIFO queue."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from constructs import Construct

from constructs_sqs import FifoQueueWithDlq


class OrdersStack(Stack):
    """A FIFO queue with a FIFO DLQ between checkout and fulfilment (one message group per order)."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.orders = FifoQueueWithDlq(
            self,
            "Orders",
            # Checkout sends the order id as MessageDeduplicationId; bodies of retried sends are identical,
            # so content-based deduplication also covers producers that forget the id.
            content_based_deduplication=True,
            # Orders of different customers are independent message groups: per-group throughput.
            high_throughput=True,
            visibility_timeout=Duration.minutes(3),
        )
