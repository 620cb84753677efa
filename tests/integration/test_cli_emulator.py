"""The constructs-sqs console script against the emulator, as an operator runs it (a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from constructs_sqs_runtime import OutgoingMessage, send_messages

SCRIPT = str(Path(sys.executable).parent / "constructs-sqs")


def cli(emulator: Any, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCRIPT, *args], input=stdin, capture_output=True, text=True, timeout=120, env=emulator.environment())


def queue_pair(sqs: Any, prefix: str, *, fifo: bool) -> tuple[str, str]:
    suffix = ".fifo" if fifo else ""
    base = f"{prefix}-{uuid.uuid4().hex[:8]}"
    attrs = {"FifoQueue": "true"} if fifo else {}
    dlq = sqs.create_queue(QueueName=f"{base}-dlq{suffix}", Attributes=attrs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3})
    url = sqs.create_queue(QueueName=f"{base}{suffix}", Attributes={**attrs, "RedrivePolicy": policy})["QueueUrl"]
    return url, dlq


def bodies(sqs: Any, url: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]).get("Messages"):
        found += [(m["Attributes"].get("MessageGroupId", ""), m["Body"]) for m in messages]
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    return found


def test_stats_of_the_deployed_sample_app_by_stack_and_construct_path(emulator: Any, deployed_sample_app: Any) -> None:
    done = cli(emulator, "stats", "--stack", "ConstructsSqsOrders", "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["label"]: row for row in json.loads(done.stdout)}
    assert set(rows) == {"ConstructsSqsOrders/Orders", "ConstructsSqsOrders/Orders/DeadLetterQueue"}
    assert rows["ConstructsSqsOrders/Orders"]["type"] == "FIFO"
    assert rows["ConstructsSqsOrders/Orders"]["dead_letter_queue"] == rows["ConstructsSqsOrders/Orders/DeadLetterQueue"]["queue"]
    done = cli(emulator, "stats", "ConstructsSqsMedia/Transcode", "ConstructsSqsEvents/Ingest")
    assert done.returncode == 0, done.stderr
    assert "ConstructsSqsMedia-Transcode" in done.stdout and "ConstructsSqsEvents-Ingest-Queue" in done.stdout
    # Read-only on the shared deployment: other tests of the session count its messages.


def test_every_command_on_a_fifo_queue_and_its_dlq(emulator: Any, tmp_path: Path) -> None:
    sqs = emulator.client("sqs")
    url, dlq = queue_pair(sqs, "cli", fifo=True)
    name, dlq_name = url.rsplit("/", 1)[-1], dlq.rsplit("/", 1)[-1]
    lines = tmp_path / "orders.txt"
    lines.write_text("".join(f"order {i}\n" for i in range(15)))
    done = cli(emulator, "send", name, "--group-id", "c-1", "--file", str(lines))
    assert done.returncode == 0 and done.stdout.startswith(f"sent 15 message(s) to {name}"), done.stderr
    done = cli(emulator, "send", url, "--group-id", "c-2", "--json", stdin="a\nb\n")
    assert done.returncode == 0 and len(json.loads(done.stdout)["sent"]) == 2
    assert bodies(sqs, url) == [("c-1", f"order {i}") for i in range(15)] + [("c-2", "a"), ("c-2", "b")]

    # Failed messages, as a consumer leaves them in the DLQ: two groups, in order.
    send_messages(dlq, [OutgoingMessage(f"{g}-{i}", group_id=g, deduplication_id=f"{g}{i}") for i in range(6) for g in ("c-1", "c-2")], client=sqs)
    done = cli(emulator, "failed", name, "--json")
    assert done.returncode == 0, done.stderr
    assert [(m["group_id"], m["body"]) for m in json.loads(done.stdout)["messages"]] == [(g, f"{g}-{i}") for i in range(6) for g in ("c-1", "c-2")][:10]
    assert cli(emulator, "failed", dlq_name).returncode == 0

    done = cli(emulator, "purge", dlq_name, "--yes")
    assert done.returncode == 2 and "refusing to purge" in done.stderr and "pass --dead-letter" in done.stderr
    done = cli(emulator, "purge", name)  # no answer on stdin: nothing is purged
    assert done.returncode == 1 and done.stderr.endswith("constructs-sqs: error: aborted: nothing was changed\n")

    done = cli(emulator, "redrive", dlq_name)
    assert done.returncode == 0 and f"moved 12 message(s) from {dlq_name}" in done.stdout, done.stderr
    moved = bodies(sqs, url)
    for group in ("c-1", "c-2"):  # Lift's retry breaks here (getlift/lift#189); the group order is kept
        assert [b for g, b in moved if g == group] == [f"{group}-{i}" for i in range(6)]
    stats = json.loads(cli(emulator, "stats", name, "--json").stdout)
    assert (stats[0]["visible"], stats[0]["dead_letter_depth"]) == (0, 0)


def test_error_paths(emulator: Any) -> None:
    sqs = emulator.client("sqs")
    url, _ = queue_pair(sqs, "errors", fifo=True)
    done = cli(emulator, "send", url, "no group")
    assert (done.returncode, done.stderr) == (2, f"constructs-sqs: error: {url.rsplit('/', 1)[-1]} is a FIFO queue: pass --group-id (the messages' MessageGroupId)\n")
    done = cli(emulator, "stats", "no-such-queue")
    assert (done.returncode, done.stderr) == (3, f"constructs-sqs: error: no queue named 'no-such-queue' at {emulator.endpoint_url}\n")
    done = cli(emulator, "stats", "NoSuchStack/Orders")
    assert done.returncode == 3 and "NoSuchStack" in done.stderr
