"""FIFO receives as SQS makes them (RELIABILITY E5), tried from outside with plain boto3.

A group's message is handed out only when no earlier message of the group is in flight, in order; a
message that comes back after its visibility timeout comes back before the group's later messages; a
group unlocked during a long poll hands out its next messages to that poll; moves to the DLQ keep each
group's order; a long poll waits for what it may hand out, whatever else is visible.

The issue's three cases (order after a visibility timeout, a group unlocked during a long poll, DLQ
moves) fail on plain moto 5.2.5 (``pytest tests/integration/test_local_fifo_semantics.py
--emulator=plain``); the other two guard what the emulator's own receive must keep (plain moto gets
their outcome right, the last one by spinning, which ``bench/emulator_fifo.py`` measures). No assertion
depends on timing: waits are long polls that end as soon as the awaited message is there.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest


@pytest.fixture
def sqs(emulator) -> Any:
    return emulator.client("sqs")


def fifo_queue(sqs: Any, *, visibility: int = 60, dead_letter_arn: str | None = None, max_receive_count: int = 1) -> str:
    attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": str(visibility)}
    if dead_letter_arn:
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": max_receive_count})
    return str(sqs.create_queue(QueueName=f"fifo-{uuid.uuid4().hex[:10]}.fifo", Attributes=attributes)["QueueUrl"])


def arn_of(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def send(sqs: Any, url: str, messages: list[tuple[str, str]]) -> None:
    """(group, body) pairs, in this order, one batch of up to 10 at a time."""
    for start in range(0, len(messages), 10):
        entries = [{"Id": str(i), "MessageGroupId": g, "MessageBody": b} for i, (g, b) in enumerate(messages[start : start + 10])]
        assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")


def receive(sqs: Any, url: str, **kwargs: Any) -> list[dict[str, Any]]:
    return list(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **kwargs).get("Messages", []))


def bodies(messages: list[dict[str, Any]]) -> list[str]:
    return [m["Body"] for m in messages]


def test_messages_back_after_their_visibility_timeout_come_back_first_and_in_order(sqs):
    """The issue's case: moto returned ['c'] here, SQS returns a, b, c."""
    url = fifo_queue(sqs)
    send(sqs, url, [("g", "a"), ("g", "b"), ("g", "c")])
    assert bodies(receive(sqs, url, VisibilityTimeout=1)) == ["a", "b", "c"]
    # Nothing of the group while they are in flight; then, once their 1 s is over, all three again, in
    # order (the long poll waits for that however slow the machine: it ends when they are visible).
    again = receive(sqs, url, WaitTimeSeconds=20, MessageSystemAttributeNames=["ApproximateReceiveCount"])
    assert bodies(again) == ["a", "b", "c"]
    assert [m["Attributes"]["ApproximateReceiveCount"] for m in again] == ["2", "2", "2"]


def test_a_group_is_held_while_any_of_its_messages_is_in_flight(sqs):
    url = fifo_queue(sqs)
    send(sqs, url, [("A", "a1"), ("A", "a2"), ("A", "a3"), ("B", "b1")])
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    assert bodies(first) == ["a1", "a2"], "one receive may take several messages of a group, in order"
    assert bodies(receive(sqs, url)) == ["b1"], "a3 waits while a1 and a2 are in flight"
    a1, a2 = first
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=a1["ReceiptHandle"], VisibilityTimeout=0)
    assert receive(sqs, url) == [], "a1 is visible again, but a2 is still in flight: the group stays held"
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=a2["ReceiptHandle"], VisibilityTimeout=0)
    assert bodies(receive(sqs, url)) == ["a1", "a2", "a3"], "then the group goes on from its head, in order"


def test_a_group_unlocked_during_a_long_poll_hands_its_next_messages_to_that_poll_in_order(sqs):
    """The issue's case: moto computed the locked groups once per long poll, and the poll returned [] (or
    a later message before an earlier one)."""
    url = fifo_queue(sqs)
    send(sqs, url, [("A", "a1"), ("A", "a2"), ("A", "a3")])
    (a1,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    assert receive(sqs, url) == [], "a2 and a3 wait while a1 is in flight"
    polled: list[list[str]] = []
    poll = threading.Thread(target=lambda: polled.append(bodies(receive(sqs, url, WaitTimeSeconds=20))))
    poll.start()
    # The outcome is the same whether the poll is already waiting or not (SQS returns a2, a3 either way);
    # the pause only makes it likely that it is, which is the case moto got wrong.
    time.sleep(1)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=a1["ReceiptHandle"])
    poll.join(timeout=60)
    assert polled == [["a2", "a3"]]


def test_moves_to_the_dead_letter_queue_keep_each_groups_order(sqs):
    """The issue's case: moto moved a FIFO group's messages to the DLQ as m9, m0, m1, ..."""
    dead_letters = fifo_queue(sqs)
    url = fifo_queue(sqs, visibility=1, dead_letter_arn=arn_of(sqs, dead_letters), max_receive_count=1)
    sent = [(group, f"{group}{n}") for n in range(5) for group in ("m", "n")]  # m0 n0 m1 n1 ...
    send(sqs, url, sent)
    assert sorted(bodies(receive(sqs, url))) == sorted(body for _, body in sent), "all ten in flight, each received once"
    # Their next receive moves them (receive count 1 = maxReceiveCount): poll until the DLQ has all ten.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert receive(sqs, url, WaitTimeSeconds=2) == [], "a message past maxReceiveCount is never handed out"
        depth = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["ApproximateNumberOfMessages"])
        if depth["Attributes"]["ApproximateNumberOfMessages"] == "10":
            break
    moved: list[dict[str, Any]] = []
    while len(moved) < 10 and (batch := receive(sqs, dead_letters, MessageSystemAttributeNames=["MessageGroupId"])):
        moved += batch
        sqs.delete_message_batch(QueueUrl=dead_letters, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    by_group: dict[str, list[str]] = {}
    for message in moved:
        by_group.setdefault(message["Attributes"]["MessageGroupId"], []).append(message["Body"])
    assert by_group == {"m": [f"m{n}" for n in range(5)], "n": [f"n{n}" for n in range(5)]}


def test_a_long_poll_waits_for_a_message_it_may_hand_out_not_for_any_visible_one(sqs):
    """Every visible message belongs to a group in flight: the poll must not return them, and must return
    as soon as a message it may hand out arrives (moto spun for the whole poll instead)."""
    url = fifo_queue(sqs)
    send(sqs, url, [("A", "a1"), ("B", "b1")])
    held = receive(sqs, url)
    assert bodies(held) == ["a1", "b1"]
    send(sqs, url, [("A", "a2"), ("B", "b2")])  # visible, but held behind a1 and b1
    polled: list[list[str]] = []
    poll = threading.Thread(target=lambda: polled.append(bodies(receive(sqs, url, WaitTimeSeconds=20))))
    poll.start()
    time.sleep(1)  # as above: the poll is likely waiting now; the outcome does not depend on it
    send(sqs, url, [("C", "c1")])
    poll.join(timeout=60)
    assert polled == [["c1"]], "the poll hands out the new group's message, never a2 or b2"
