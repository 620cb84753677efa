"""What the fault drills share: the faults they inject, queues, and the ledger each drill fills and checks.

A drill puts the fault proxy (``fault_proxy.py``) between a runtime helper (or the CLI) and the emulator,
with one kind of fault at 15 % of the requests (or 0-200 ms of latency on every request), and then counts,
from the emulator directly, where every message went:

| column | meaning |
|---|---|
| sent | messages the drill asked for: given to the producer, or in the queue / DLQ at the start |
| acknowledged | what the helper reported done: sent (producer), deleted (consumer), moved (redrive) |
| not confirmed | producer: messages whose request's fate was unknown (they may have arrived) |
| handled | distinct messages that reached their end: handled by the handler, or in the target queue |
| handled twice | a consumer's handler called again on a message, or a second copy in the target queue |
| left | still in the queue the drill drained (consumer) or in the DLQ (redrive) at the end |
| in DLQ | consumer: in the queue's dead-letter queue |
| lost | acknowledged, yet neither handled nor anywhere in a queue |
| order violations | FIFO: a message of a group handled (or found in the target) after a later one of its group |

``python tests/integration/drills.py LEDGER.jsonl`` prints the rows a run wrote (``FAULT_DRILL_LEDGER=...``)
as the Markdown table of ``docs/runtime-guarantees.md``.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from fault_proxy import Faults

FAULTS: dict[str, Faults] = {
    "reset": Faults.only("reset", 0.15),
    "drop_response": Faults.only("drop_response", 0.15),
    "server_error": Faults.only("server_error", 0.15),
    "throttle": Faults.only("throttle", 0.15),
    "partial_failure": Faults.only("partial_failure", 0.15),
    "latency": Faults(latency=(0.0, 0.2)),
}
"""Each fault kind of a drill: 15 % of the requests (a partial failure: 15 % of the batch requests), or 0-200 ms
added to every request."""


@dataclass
class Ledger:
    """Where the messages of one drill went (see the module's table)."""

    drill: str
    queue: str
    fault: str
    sent: int
    acknowledged: int = 0
    not_confirmed: int = 0
    handled: int = 0
    handled_twice: int = 0
    left: int = 0
    in_dlq: int = 0
    lost: int = 0
    order_violations: int = 0
    faults_injected: int = 0

    def record(self) -> None:
        """Append the row to the file named by ``FAULT_DRILL_LEDGER``, if any (for the docs' table)."""
        path = os.environ.get("FAULT_DRILL_LEDGER")
        if path:
            with open(path, "a", encoding="utf-8") as out:
                out.write(json.dumps(asdict(self)) + "\n")


def new_queue(sqs: Any, prefix: str, *, fifo: bool, dlq: str | None = None, max_receive_count: int = 50, **attributes: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}" + (".fifo" if fifo else "")
    attrs = {**attributes, **({"FifoQueue": "true"} if fifo else {})}
    if dlq is not None:
        arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attrs["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": max_receive_count})
    return str(sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"])


def depth(sqs: Any, url: str) -> int:
    """Messages in the queue: visible, in flight and delayed."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[name]) for name in names)


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message of the queue, in the order SQS hands them out, deleted; FIFO groups one after the other."""
    found: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=60, MessageSystemAttributeNames=["All"]
        ).get("Messages") or []
        if not messages:
            return found
        found += messages
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])


def body(index: int, group: str | None) -> str:
    """``g3:0042``: the message's group and its position in the group's order (or ``-:0042``)."""
    return f"{group or '-'}:{index:04d}"


def group_and_position(text: str) -> tuple[str, int]:
    group, position = text.rsplit(":", 1)
    return group, int(position)


def order_violations(bodies: Iterable[str]) -> int:
    """Messages that come after a later message of their group (copies of one message count once)."""
    latest: dict[str, int] = {}
    violations = 0
    for text in bodies:
        group, position = group_and_position(text)
        if position < latest.get(group, -1):
            violations += 1
        latest[group] = max(latest.get(group, -1), position)
    return violations


def copies(bodies: Sequence[str]) -> tuple[int, int]:
    """(distinct messages, copies beyond the first)."""
    counted = Counter(bodies)
    return len(counted), sum(count - 1 for count in counted.values())


def render(rows: Iterable[dict[str, Any]]) -> str:
    columns = ["drill", "queue", "fault", "faults_injected", "sent", "acknowledged", "not_confirmed", "handled", "handled_twice", "left", "in_dlq", "lost", "order_violations"]
    header = [c.replace("_", " ") for c in columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(columns)]
    order = {name: n for n, name in enumerate(FAULTS)}
    for row in sorted(rows, key=lambda r: (r["drill"], r["queue"], order.get(r["fault"], 99))):
        lines.append("| " + " | ".join(str(row[c]) for c in columns) + " |")
    return "\n".join(lines)


def by_group(bodies: Iterable[str]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for text in bodies:
        group, position = group_and_position(text)
        groups[group].append(position)
    return groups


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as source:
        print(render(json.loads(line) for line in source if line.strip()))
