"""No loss: 10,000 messages through a deployed standard queue, a handler failing 20% of attempts, the
DLQ moved back and processed again (RELIABILITY R1, Q4, Q7; the issue's soak).

The queue is the test-only stack of ``local_soak_app.py`` (the library's ``LambdaTriggeredQueue`` with
a 1-second timeout, so failed messages come back after 6 seconds), deployed with the real CDK CLI.
Which attempts fail is drawn from a seeded generator per (message, attempt), so the run is random
but reproducible whatever the threads' order, and the messages that must reach the DLQ are known.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from constructs_sqs.local.deploy import deploy_app
from constructs_sqs.local.mappings import EventSourceMapping, discover_mappings
from constructs_sqs.local.runner import LocalEventSourceRunner

ROOT = Path(__file__).resolve().parents[2]
SENT = 10_000
FAILURE_RATE = 0.2
SEED = 20_260_101
SOAK_SECONDS = 240
"""The bound of each phase; the run takes about a minute."""


def fails(body: str, attempt: int) -> bool:
    """Whether attempt ``attempt`` (1-based) at the message ``body`` fails: 20% of attempts, seeded."""
    return random.Random(f"{SEED}:{body}:{attempt}").random() < FAILURE_RATE


class FlakyHandler:
    """A Lambda handler that fails each attempt with probability 0.2 and reports it in batchItemFailures."""

    def __init__(self, fail: bool = True) -> None:
        self.fail = fail
        self.lock = threading.Lock()
        self.attempts: Counter[str] = Counter()
        self.processed: Counter[str] = Counter()
        self.receive_counts: dict[str, list[int]] = {}

    def __call__(self, event, context):
        failures = []
        for record in event["Records"]:
            body = record["body"]
            with self.lock:
                self.attempts[body] += 1
                self.receive_counts.setdefault(body, []).append(int(record["attributes"]["ApproximateReceiveCount"]))
                failed = self.fail and fails(body, self.attempts[body])
                if not failed:
                    self.processed[body] += 1
            if failed:
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}


@pytest.fixture(scope="module")
def soak_mapping(emulator, tmp_path_factory) -> EventSourceMapping:
    """The soak stack, deployed with the CLI next to the sample app, and its one mapping."""
    work = tmp_path_factory.mktemp("soak")
    with (work / "cdk.log").open("w") as log:
        deployment = deploy_app(
            emulator,
            project_dir=ROOT,
            app=f"{sys.executable} tests/integration/local_soak_app.py",
            output_dir=work / "cdk.out",
            reset=False,
            log=log,
        )
    assert [s.status for s in deployment.stacks] == ["CREATE_COMPLETE"]
    (mapping,) = discover_mappings(emulator, deployment)
    return mapping


def _send_all(emulator, url: str, bodies: list[str]) -> None:
    sqs = emulator.client("sqs")

    def send(start: int) -> None:
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + 10])]
        response = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert not response.get("Failed"), response["Failed"]

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, range(0, len(bodies), 10)))


def _drain_and_move_back(emulator, mapping: EventSourceMapping) -> dict[str, int]:
    """Move every DLQ message back to its queue: receive, send, then delete (RELIABILITY R6).

    Returns the moved bodies with the ApproximateReceiveCount the DLQ reported for them.
    """
    sqs = emulator.client("sqs")
    moved: dict[str, int] = {}
    while True:
        messages = sqs.receive_message(
            QueueUrl=mapping.dead_letter_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60,
            WaitTimeSeconds=0, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return moved
        for message in messages:
            attributes = {"MessageAttributes": message["MessageAttributes"]} if message.get("MessageAttributes") else {}
            sqs.send_message(QueueUrl=mapping.queue_url, MessageBody=message["Body"], **attributes)
            sqs.delete_message(QueueUrl=mapping.dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"])
            moved[message["Body"]] = int(message["Attributes"]["ApproximateReceiveCount"])


def _queue_counts(emulator, url: str) -> tuple[int, int]:
    attributes = emulator.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_ten_thousand_messages_with_failures_lose_nothing_and_come_back_from_the_dlq(emulator, soak_mapping, capsys):
    mapping = soak_mapping
    max_receive_count = mapping.max_receive_count
    assert (max_receive_count, mapping.batch_size, mapping.report_batch_item_failures) == (5, 10, True)
    bodies = [json.dumps({"message": n, "soak": SEED}) for n in range(SENT)]
    doomed = {body for body in bodies if all(fails(body, attempt) for attempt in range(1, max_receive_count + 1))}
    assert doomed, f"seed {SEED} sends no message to the DLQ: pick another so the test can fail"

    started = time.monotonic()
    _send_all(emulator, mapping.queue_url, bodies)
    sent_seconds = time.monotonic() - started
    flaky = FlakyHandler()
    runner = LocalEventSourceRunner(emulator, [mapping.with_handler(flaky)], poll_seconds=1)
    # A batch that waited past its invoke deadline (a loaded machine) comes back unprocessed, as a throttled
    # one does in Lambda: its receive counts, though the handler never saw it. Record those receives too.
    returned: dict[str, list[int]] = {}
    call = runner.call

    def recording_call(*args):
        failed = call(*args)
        if failed is None:
            for record in args[2]["Records"]:
                returned.setdefault(record["body"], []).append(int(record["attributes"]["ApproximateReceiveCount"]))
        return failed

    runner.call = recording_call  # type: ignore[method-assign]
    stats = runner.run(
        duration=SOAK_SECONDS,
        until=lambda s: len(flaky.processed) + s[mapping.queue_name].in_dead_letter_queue >= SENT,
        interval=0.5,
    )[mapping.queue_name]
    soak_seconds = time.monotonic() - started

    # processed + in the DLQ == sent, exactly; nothing processed twice after it succeeded
    moved = _drain_and_move_back(emulator, mapping)
    assert len(flaky.processed) + len(moved) == SENT
    assert set(flaky.processed) | set(moved) == set(bodies)
    assert not set(flaky.processed) & set(moved)
    assert set(flaky.processed.values()) == {1}, "a message was processed again after it succeeded"
    assert stats.delete_errors == 0
    # the messages in the DLQ were received exactly max_receive_count times: counts 1, 2, 3, 4, 5
    receives = {body: sorted(flaky.receive_counts.get(body, []) + returned.get(body, [])) for body in bodies}
    assert {body: receives[body] for body in moved} == dict.fromkeys(moved, [1, 2, 3, 4, 5])
    assert all(receives[body] == list(range(1, len(receives[body]) + 1)) for body in flaky.processed)
    assert sum(flaky.attempts.values()) == stats.received - stats.expired
    assert sum(len(counts) for counts in returned.values()) == stats.expired
    if not returned:  # every receive reached the handler: exactly the messages whose five attempts failed
        assert set(moved) == doomed

    # the moved messages, processed again by a healthy handler: every message processed once in all
    healthy = FlakyHandler(fail=False)
    redriven = LocalEventSourceRunner(emulator, [mapping.with_handler(healthy)], poll_seconds=1).run(
        duration=SOAK_SECONDS, until=lambda s: len(healthy.processed) >= len(moved), interval=0.2
    )[mapping.queue_name]
    assert set(healthy.processed) == set(moved)
    assert (flaky.processed + healthy.processed) == Counter(dict.fromkeys(bodies, 1))
    assert (redriven.failed, redriven.delete_errors) == (0, 0)
    assert _queue_counts(emulator, mapping.queue_url) == (0, 0)
    assert _queue_counts(emulator, mapping.dead_letter_queue_url) == (0, 0)

    with capsys.disabled():
        print(
            f"\nsoak: sent {SENT} (in {sent_seconds:.1f} s), processed {len(flaky.processed)}, in the DLQ "
            f"{len(moved)}, moved back {len(moved)}, processed after {len(healthy.processed)}; "
            f"{stats.received} deliveries, {stats.failed} failed attempts, {stats.expired} returned unprocessed "
            f"(waited past the invoke deadline), {soak_seconds:.1f} s"
        )
