"""redrive tells the truth (RELIABILITY R6, R7, R9): it waits for what the DLQ holds but cannot hand out yet,
up to in_flight_timeout, counts what remains by reason, is not ok while anything it was asked to move remains,
and a run after a crash sends no FIFO message twice (its deduplication id is derived from the DLQ message)."""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from runtime_helpers import REGION, aws, depth, drain, inject_send_failures, make_queue, sqs  # noqa: F401

from constructs_sqs_runtime import OutgoingMessage, RedriveError, ReceivedMessage, redrive, send_messages
from constructs_sqs_runtime.redrive import REMAINING_REASONS, deduplication_id_of

DLQ_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs-dlq"
DLQ_ARN = "arn:aws:sqs:eu-west-1:123456789012:jobs-dlq"
COUNTERS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]


def counters(visible: int = 0, in_flight: int = 0, delayed: int = 0) -> tuple[str, dict[str, Any], dict[str, Any]]:
    values = {"ApproximateNumberOfMessages": str(visible), "ApproximateNumberOfMessagesNotVisible": str(in_flight), "ApproximateNumberOfMessagesDelayed": str(delayed)}
    return ("get_queue_attributes", {"Attributes": values}, {"QueueUrl": DLQ_URL, "AttributeNames": COUNTERS})


def task(status: str, moved: int, handle: str = "h") -> tuple[str, dict[str, Any], dict[str, Any]]:
    result = {"Status": status, "ApproximateNumberOfMessagesMoved": moved, "ApproximateNumberOfMessagesToMove": moved}
    if status == "RUNNING":
        result["TaskHandle"] = handle
    return ("list_message_move_tasks", {"Results": [result]}, {"SourceArn": DLQ_ARN, "MaxResults": 10})


def stubbed(*responses: tuple[str, dict[str, Any], dict[str, Any] | None]) -> tuple[Any, Stubber]:
    client = boto3.client("sqs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    for operation, response, params in responses:
        stubber.add_response(operation, response, params)
    stubber.activate()
    return client, stubber


def taken_elsewhere(sqs: Any, url: str, count: int, visibility: int) -> list[dict[str, Any]]:
    """Another receiver (or a run that crashed) holds ``count`` messages for ``visibility`` seconds."""
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=count, VisibilityTimeout=visibility, MessageSystemAttributeNames=["All"])["Messages"]
    assert len(messages) == count
    return list(messages)


# --- receive / send / delete -------------------------------------------------------------------------------


def test_an_empty_receive_does_not_end_the_run_while_messages_are_in_flight(aws: None, sqs: Any) -> None:
    dlq = make_queue(sqs, "busy-dlq")
    source = make_queue(sqs, "busy", dlq=dlq)
    send_messages(dlq, [f"m{i}" for i in range(5)], client=sqs)
    taken_elsewhere(sqs, dlq, 2, visibility=2)  # back in 2 s
    result = redrive(dlq, client=sqs, wait_time_seconds=1, poll_interval=0.2, in_flight_timeout=30)
    assert (result.moved, result.ok, result.remaining) == (5, True, {})
    assert sorted(m["Body"] for m in drain(sqs, source)) == [f"m{i}" for i in range(5)] and depth(sqs, dlq) == (0, 0)


def test_what_does_not_come_back_within_the_bound_is_counted_and_the_run_is_not_ok(aws: None, sqs: Any) -> None:
    dlq = make_queue(sqs, "held-dlq")
    make_queue(sqs, "held", dlq=dlq)
    send_messages(dlq, [f"m{i}" for i in range(5)], client=sqs)
    taken_elsewhere(sqs, dlq, 2, visibility=600)
    result = redrive(dlq, client=sqs, wait_time_seconds=0, poll_interval=0.1, in_flight_timeout=0.5)
    assert (result.moved, result.ok, result.remaining, result.left_undone) == (3, False, {"in_flight": 2}, 2)
    assert result.describe_remaining() == "2 remain: 2 in flight"
    assert "in_flight" in REMAINING_REASONS


def test_fifo_messages_behind_a_message_in_flight_are_counted_as_group_locked(aws: None, sqs: Any) -> None:
    dlq = make_queue(sqs, "locked-dlq.fifo")
    source = make_queue(sqs, "locked.fifo", dlq=dlq)
    send_messages(dlq, [OutgoingMessage(f"g-{i}", group_id="g", deduplication_id=f"g{i}") for i in range(3)], client=sqs)
    taken_elsewhere(sqs, dlq, 1, visibility=600)  # g-0: g-1 and g-2 wait behind it
    send_messages(dlq, [OutgoingMessage("h-0", group_id="h", deduplication_id="h0")], client=sqs)
    result = redrive(dlq, client=sqs, wait_time_seconds=0, poll_interval=0.1, in_flight_timeout=0.5)
    assert (result.moved, result.ok) == (1, False)
    assert result.remaining == {"in_flight": 1, "group_locked": 2}
    assert [m["Body"] for m in drain(sqs, source)] == ["h-0"]


def test_messages_beyond_max_messages_are_not_asked_and_leave_the_run_ok(aws: None, sqs: Any) -> None:
    dlq = make_queue(sqs, "partly-dlq")
    make_queue(sqs, "partly", dlq=dlq)
    send_messages(dlq, [f"m{i}" for i in range(15)], client=sqs)
    result = redrive(dlq, client=sqs, max_messages=10, wait_time_seconds=0)
    assert (result.moved, result.ok, result.remaining) == (10, True, {"not_asked": 5})


def test_a_message_that_cannot_be_moved_is_counted_with_its_group(aws: None, sqs: Any) -> None:
    dlq = make_queue(sqs, "stuck-dlq.fifo")
    make_queue(sqs, "stuck.fifo", dlq=dlq)
    send_messages(dlq, [OutgoingMessage(f"{g}-{i}", group_id=g, deduplication_id=f"{g}{i}") for i in range(3) for g in "ab"], client=sqs)
    inject_send_failures(sqs, [{"0": ("KMS.AccessDeniedException", True)}])  # a-0, in the first request
    result = redrive(dlq, client=sqs, wait_time_seconds=0, poll_interval=0.1, in_flight_timeout=1)
    assert not result.ok and result.moved == 3  # b-0 .. b-2
    assert result.remaining.get("not_moved", 0) + result.remaining.get("behind_not_moved", 0) == 3
    assert [f.code for f in result.failures][0] == "KMS.AccessDeniedException"


def test_a_run_after_a_crash_sends_no_fifo_message_twice_and_keeps_each_group_in_order(aws: None, sqs: Any) -> None:
    """A crashed run sent a group's first messages (with the derived deduplication id, as redrive does) and died
    before deleting them from the DLQ. The next run sends them again with the same id: SQS drops them."""
    dlq = make_queue(sqs, "crash-dlq.fifo")
    source = make_queue(sqs, "crash.fifo", dlq=dlq)
    send_messages(dlq, [OutgoingMessage(f"{g}-{i}", group_id=g, deduplication_id=f"{g}{i}") for i in range(6) for g in "xy"], client=sqs)
    crashed = [ReceivedMessage.from_response(m) for m in taken_elsewhere(sqs, dlq, 4, visibility=1)]
    assert send_messages(source, [OutgoingMessage(m.body, group_id=m.group_id, deduplication_id=deduplication_id_of(m)) for m in crashed], client=sqs).ok
    time.sleep(1.2)  # the crashed run's messages come back to the DLQ
    result = redrive(dlq, client=sqs, wait_time_seconds=0, poll_interval=0.2, in_flight_timeout=10)
    assert result.ok and result.moved == 12
    moved = [(m["Attributes"]["MessageGroupId"], m["Body"]) for m in drain(sqs, source)]
    for group in "xy":
        assert [body for g, body in moved if g == group] == [f"{group}-{i}" for i in range(6)]  # once each, in order


def test_the_deduplication_id_is_derived_from_the_dlq_message_not_drawn() -> None:
    message = ReceivedMessage("4f1c-id", "handle", "body", {"MessageGroupId": "g", "MessageDeduplicationId": "original"})
    assert deduplication_id_of(message) == deduplication_id_of(message) == "redrive-4f1c-id"


# --- the move task -----------------------------------------------------------------------------------------


def test_a_move_task_that_leaves_messages_in_flight_is_followed_by_another_when_they_come_back() -> None:
    client, stubber = stubbed(
        ("get_queue_attributes", {"Attributes": {"QueueArn": DLQ_ARN}}, {"QueueUrl": DLQ_URL, "AttributeNames": ["QueueArn"]}),
        ("start_message_move_task", {"TaskHandle": "h-1"}, {"SourceArn": DLQ_ARN}),
        task("COMPLETED", 90),
        counters(in_flight=10),  # someone held ten while the task ran
        counters(visible=10),  # they are back
        ("start_message_move_task", {"TaskHandle": "h-2"}, {"SourceArn": DLQ_ARN}),
        task("COMPLETED", 10),
        counters(),
    )
    result = redrive(DLQ_URL, client=client, poll_interval=0, in_flight_timeout=60)
    assert (result.method, result.moved, result.ok, result.remaining, result.task_handle) == ("move-task", 100, True, {}, "h-2")
    stubber.assert_no_pending_responses()


def test_a_move_task_that_completes_with_messages_left_is_not_ok() -> None:
    client, _ = stubbed(
        ("get_queue_attributes", {"Attributes": {"QueueArn": DLQ_ARN}}, None),
        ("start_message_move_task", {"TaskHandle": "h-1"}, None),
        task("COMPLETED", 40),
        counters(in_flight=5, delayed=2),
    )
    result = redrive(DLQ_URL, client=client, poll_interval=0, in_flight_timeout=0)
    assert (result.moved, result.status, result.ok, result.remaining) == (40, "COMPLETED", False, {"in_flight": 5, "delayed": 2})


def test_a_cancelled_move_task_is_not_ok() -> None:
    client, _ = stubbed(
        ("get_queue_attributes", {"Attributes": {"QueueArn": DLQ_ARN}}, None),
        ("start_message_move_task", {"TaskHandle": "h-1"}, None),
        task("CANCELLED", 7),
        counters(visible=93),
    )
    result = redrive(DLQ_URL, client=client, poll_interval=0)
    assert (result.moved, result.status, result.ok, result.remaining) == (7, "CANCELLED", False, {"visible": 93})


def test_a_failed_move_task_raises_with_what_remains() -> None:
    client, _ = stubbed(
        ("get_queue_attributes", {"Attributes": {"QueueArn": DLQ_ARN}}, None),
        ("start_message_move_task", {"TaskHandle": "h-1"}, None),
        task("FAILED", 3),
    )
    with pytest.raises(RedriveError, match=r"the message move task failed: no reason given") as raised:
        redrive(DLQ_URL, client=client, poll_interval=0)
    assert raised.value.result is not None and (raised.value.result.moved, raised.value.result.ok) == (3, False)


def test_a_destination_that_cannot_be_used_stops_the_run_and_gives_the_messages_back(aws: None, sqs: Any) -> None:
    dlq = make_queue(sqs, "orphaned-dlq")
    target = make_queue(sqs, "removed")
    send_messages(dlq, ["a", "b"], client=sqs)
    sqs.delete_queue(QueueUrl=target)
    with pytest.raises(RedriveError, match=r"SendMessageBatch on .*removed failed .*the queue does not exist") as raised:
        redrive(dlq, destination_url=target, client=sqs, wait_time_seconds=0, max_messages=5)
    assert raised.value.kind == "not-found" and raised.value.result is not None and raised.value.result.moved == 0
    assert depth(sqs, dlq) == (2, 0)  # given back at once


def test_progress_and_waiting_happen_on_the_callers_thread(aws: None, sqs: Any) -> None:
    dlq = make_queue(sqs, "thread-dlq")
    make_queue(sqs, "thread", dlq=dlq)
    send_messages(dlq, ["a"], client=sqs)
    threads: set[str] = set()
    redrive(dlq, client=sqs, wait_time_seconds=0, on_progress=lambda p: threads.add(threading.current_thread().name))
    assert threads == {threading.current_thread().name}
