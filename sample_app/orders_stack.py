"""Orders: checkout hands orders to fulfilment in order, exactly once, through a FIFO queue."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from constructs import Construct

from constructs_sqs import FifoQueueWithDlq, LambdaTriggeredQueue

from ._consumers import consumer_key, handlers_code, outside_vpc


class OrdersStack(Stack):
    """A FIFO queue with a FIFO DLQ between checkout and fulfilment (one message group per customer),
    consumed by a Lambda function that reports partial batch failures per message group."""

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
        )
        # The queue's visibility timeout is left to the consumer: 6 x 30 s = 3 minutes.
        self.fulfilment = outside_vpc(
            LambdaTriggeredQueue(
                self,
                "Fulfilment",
                function_encryption_key=consumer_key(self),
                queue=self.orders,
                code=handlers_code(),
                handler="orders_fulfilment.handler",
                timeout=Duration.seconds(30),
                batch_size=10,
                # Fulfilment calls the warehouse API, which takes 20 requests at a time.
                reserved_concurrent_executions=20,
            )
        )
