"""What a FIFO group's later messages cost when its head message fails, measured on the emulator (the example of
docs/runtime-guarantees.md), and what the consumer offers against it.

A FIFO receive hands out up to ``batch_size`` messages of a group at once; when the first fails, the consumer
gives the others back unhandled (R3), but SQS has counted a receive for each. After ``maxReceiveCount`` failed
deliveries the head goes to the DLQ, and the healthy messages received with it each time have used up their
receives too: they follow it into the DLQ (Lambda's FIFO event source does the same). Receiving one message at a
time (``batch_size=1``) spares them, at a request per message; retrying in place (``handler_attempts``) spares
them from a head that fails only a few times, at no extra receive.

Set ``FIFO_HEAD_OF_LINE_OUT=path.jsonl`` to keep the rows of the docs' table.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from typing import Any

import pytest
from drills import depth, drain, new_queue

from constructs_sqs_runtime import OutgoingMessage, ReceivedMessage, consume, send_messages

HEALTHY = 9


def scenario(emulator: Any, *, head_failures: int | None, **options: Any) -> dict[str, Any]:
    """Group g: a head that fails ``head_failures`` times (None: always), then 9 healthy messages; group h: 10
    healthy ones. maxReceiveCount 3, a visibility timeout of 1 s. Consumes until the queue is empty."""
    sqs = emulator.client("sqs")
    dlq = new_queue(sqs, "hol-dlq", fifo=True)
    url = new_queue(sqs, "hol", fifo=True, dlq=dlq, max_receive_count=3, VisibilityTimeout="1", ContentBasedDeduplication="true")
    for g in "gh":  # group g's ten messages first, then h's: a receive of ten carries the head and all nine
        send_messages(url, [OutgoingMessage(f"{g}-{i}", group_id=g) for i in range(1 + HEALTHY)], client=sqs)
    calls: Counter[str] = Counter()
    handled: set[str] = set()
    deliveries: Counter[str] = Counter()  # every delivery of every message, handled or given back unhandled
    lock = threading.Lock()
    consumer_client = emulator.client("sqs")  # its receives are the queue's, counted; the DLQ is read with another
    consumer_client.meta.events.register(
        "after-call.sqs.ReceiveMessage", lambda parsed, **_: deliveries.update(m["Body"] for m in parsed.get("Messages") or [])
    )

    def handler(message: ReceivedMessage) -> None:
        with lock:
            calls[message.body] += 1
            if message.body == "g-0" and (head_failures is None or calls["g-0"] <= head_failures):
                raise RuntimeError("the head fails")
            handled.add(message.body)

    requests = 0
    for _ in range(20):
        result = consume(url, handler, client=consumer_client, wait_time_seconds=0, stop_when_empty=True, handle_signals=False, logger=None, **options)
        requests += result.requests
        if depth(sqs, url) == 0:
            break
        time.sleep(1.1)  # the failed head comes back after its visibility timeout
    dead = sorted(m["Body"] for m in drain(sqs, dlq))
    healthy_dead = [b for b in dead if b != "g-0"]
    return {
        "head": "fails always" if head_failures is None else f"fails {head_failures} times, then succeeds",
        "options": ", ".join(f"{k}={v}" for k, v in options.items()) or "defaults (batch_size=10)",
        "healthy_in_dlq": len(healthy_dead),
        "head_in_dlq": "g-0" in dead,
        "healthy_handled": len([b for b in handled if b.startswith("g-") and b != "g-0"]),
        "receives_of_the_healthy": sum(n for body, n in deliveries.items() if body.startswith("g-") and body != "g-0"),
        "requests": requests,
        "other_group_handled": len([b for b in handled if b.startswith("h-")]),
        "dead": dead,
    }


def record(row: dict[str, Any]) -> None:
    path = os.environ.get("FIFO_HEAD_OF_LINE_OUT")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({k: v for k, v in row.items() if k != "dead"}) + "\n")


@pytest.mark.parametrize(
    ("head_failures", "options", "healthy_in_dlq"),
    [
        (None, {}, HEALTHY),  # every healthy message of the group follows the head
        (None, {"batch_size": 1}, 0),  # received one at a time: only the head goes
        (3, {}, HEALTHY),  # a head that would have succeeded on its 4th try takes the group with it
        (3, {"handler_attempts": 4, "retry_backoff": 0.05}, 0),  # retried in place: one receive, nothing lost to the DLQ
    ],
    ids=["always-batch10", "always-batch1", "thrice-batch10", "thrice-retried-in-place"],
)
def test_what_a_failing_head_costs_its_group(emulator: Any, head_failures: int | None, options: dict[str, Any], healthy_in_dlq: int) -> None:
    row = scenario(emulator, head_failures=head_failures, **options)
    record(row)
    assert row["healthy_in_dlq"] == healthy_in_dlq
    assert row["healthy_handled"] == HEALTHY - healthy_in_dlq
    assert row["other_group_handled"] == 1 + HEALTHY  # the other group never waits
    assert row["head_in_dlq"] is (head_failures is None or not options.get("handler_attempts"))
