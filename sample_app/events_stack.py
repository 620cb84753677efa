"""Events: IoT devices send readings at a high rate; a Lambda function ingests them in large batches."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from constructs import Construct

from constructs_sqs import LambdaTriggeredQueue

from ._consumers import consumer_key, handlers_code, outside_vpc


class EventsStack(Stack):
    """A high-throughput standard queue (created by the consumer construct) drained in batches of up to
    500 readings, collected for up to 10 seconds, by at most 50 concurrent invocations."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.ingest = outside_vpc(
            LambdaTriggeredQueue(
                self,
                "Ingest",
                function_encryption_key=consumer_key(self),
                code=handlers_code(),
                handler="events_ingest.handler",
                timeout=Duration.seconds(60),
                memory_size=512,
                batch_size=500,
                max_batching_window=Duration.seconds(10),
                max_concurrency=50,
                reserved_concurrent_executions=60,
                # Readings older than a day are worthless: keep them 1 day, and failures a week.
                retention_period=Duration.days(1),
                dead_letter_retention_period=Duration.days(7),
            )
        )
