"""redrive: StartMessageMoveTask where there is one; otherwise receive / send / delete, each message once,
attributes, group and order kept, fresh FIFO deduplication ids (R6, R7)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from runtime_helpers import REGION, arn_of, aws, count_requests, depth, drain, inject_send_failures, make_queue, sqs  # noqa: F401

from constructs_sqs_runtime import OutgoingMessage, RedriveError, RedriveProgress, redrive, send_messages

DLQ_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs-dlq"
DLQ_ARN = "arn:aws:sqs:eu-west-1:123456789012:jobs-dlq"
COUNTERS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
EMPTY = {name: "0" for name in COUNTERS}


def stubbed(*responses: tuple[str, dict[str, Any], dict[str, Any] | None]) -> tuple[Any, Stubber]:
    client = boto3.client("sqs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    for operation, response, params in responses:
        stubber.add_response(operation, response, params)
    stubber.activate()
    return client, stubber


def test_the_move_task_is_used_where_sqs_has_it_and_followed_until_done() -> None:
    client, stubber = stubbed(
        ("get_queue_attributes", {"Attributes": {"QueueArn": DLQ_ARN}}, {"QueueUrl": DLQ_URL, "AttributeNames": ["QueueArn"]}),
        ("start_message_move_task", {"TaskHandle": "h-1"}, {"SourceArn": DLQ_ARN, "MaxNumberOfMessagesPerSecond": 50}),
        ("list_message_move_tasks", {"Results": [{"TaskHandle": "h-1", "Status": "RUNNING", "ApproximateNumberOfMessagesMoved": 40, "ApproximateNumberOfMessagesToMove": 100}]}, {"SourceArn": DLQ_ARN, "MaxResults": 10}),
        ("list_message_move_tasks", {"Results": [{"Status": "COMPLETED", "ApproximateNumberOfMessagesMoved": 100, "ApproximateNumberOfMessagesToMove": 100}]}, {"SourceArn": DLQ_ARN, "MaxResults": 10}),
        ("get_queue_attributes", {"Attributes": EMPTY}, {"QueueUrl": DLQ_URL, "AttributeNames": COUNTERS}),
    )
    progress: list[RedriveProgress] = []
    result = redrive(DLQ_URL, client=client, max_per_second=50, poll_interval=0, on_progress=progress.append)
    assert (result.method, result.moved, result.status, result.task_handle) == ("move-task", 100, "COMPLETED", "h-1")
    assert result.ok and result.remaining == {}
    assert progress == [RedriveProgress(40, 100), RedriveProgress(100, 100)]
    stubber.assert_no_pending_responses()


def test_a_failed_move_task_raises_with_its_reason() -> None:
    client, _ = stubbed(
        ("get_queue_attributes", {"Attributes": {"QueueArn": DLQ_ARN}}, None),
        ("start_message_move_task", {"TaskHandle": "h-2"}, None),
        ("list_message_move_tasks", {"Results": [{"Status": "FAILED", "FailureReason": "AccessDenied on the key", "ApproximateNumberOfMessagesMoved": 3}]}, None),
    )
    with pytest.raises(RedriveError, match=r"the message move task failed: AccessDenied on the key") as raised:
        redrive(DLQ_URL, client=client, poll_interval=0)
    assert raised.value.result is not None and raised.value.result.moved == 3


def test_move_task_required_but_missing_is_an_error(aws: None, sqs: Any) -> None:
    dlq = make_queue(sqs, "no-task-dlq")
    with pytest.raises(RedriveError, match=r"StartMessageMoveTask is not available at this endpoint"):
        redrive(dlq, client=sqs, method="move-task")


def test_fallback_moves_every_message_once_with_its_attributes(aws: None, sqs: Any) -> None:
    dlq = make_queue(sqs, "jobs-dlq")
    source = make_queue(sqs, "jobs", dlq=dlq)
    send_messages(dlq, [OutgoingMessage(f"job {i}", attributes={"n": i, "tenant": "t", "raw": b"\x01"}) for i in range(25)], client=sqs)
    progress: list[RedriveProgress] = []
    result = redrive(dlq, client=sqs, wait_time_seconds=0, on_progress=progress.append)
    assert (result.method, result.moved, result.failures, result.destination) == ("receive-send-delete", 25, [], source)
    assert progress[-1] == RedriveProgress(25, 25)
    moved = drain(sqs, source)
    assert sorted(m["Body"] for m in moved) == sorted(f"job {i}" for i in range(25))
    for message in moved:
        attributes = message["MessageAttributes"]
        assert attributes["n"] == {"DataType": "Number", "StringValue": message["Body"].split()[1]}
        assert attributes["tenant"]["StringValue"] == "t" and attributes["raw"]["BinaryValue"] == b"\x01"
    assert depth(sqs, dlq) == (0, 0)


def test_fifo_redrive_keeps_group_order_and_gets_fresh_deduplication_ids(aws: None, sqs: Any) -> None:
    dlq = make_queue(sqs, "orders-dlq.fifo")
    source = make_queue(sqs, "orders.fifo", dlq=dlq)
    messages = [OutgoingMessage(f"{g}-{i}", group_id=g, deduplication_id=f"{g}{i}") for i in range(9) for g in "xyz"]
    # The same deduplication ids went to the source queue minutes ago: resending them would be dropped.
    send_messages(source, messages, client=sqs)
    drain(sqs, source)
    send_messages(dlq, messages, client=sqs)
    batches: list[list[str]] = []
    sqs.meta.events.register(
        "before-parameter-build.sqs.SendMessageBatch",
        lambda params, **_: batches.append([e["MessageGroupId"] for e in params["Entries"]]),
    )
    result = redrive(dlq, client=sqs, wait_time_seconds=0)
    assert result.moved == 27 and result.failures == []
    # One message of a group per request: a failure would stop its group before a later message is sent.
    assert all(len(set(groups)) == len(groups) for groups in batches) and sum(map(len, batches)) == 27
    moved = drain(sqs, source)
    for group in "xyz":
        assert [m["Body"] for m in moved if m["Attributes"]["MessageGroupId"] == group] == [f"{group}-{i}" for i in range(9)]
    # Derived from the message's id in the DLQ: not the original one, and the same on every run (R6).
    originals = {f"{g}{i}" for i in range(9) for g in "xyz"}
    assert all(m["Attributes"]["MessageDeduplicationId"].startswith("redrive-") for m in moved)
    assert not originals & {m["Attributes"]["MessageDeduplicationId"] for m in moved}


def test_a_count_moves_exactly_that_many_and_leaves_the_rest(aws: None, sqs: Any) -> None:
    dlq = make_queue(sqs, "count-dlq.fifo")
    source = make_queue(sqs, "count.fifo", dlq=dlq)
    send_messages(dlq, [OutgoingMessage(f"m-{i}", group_id="g", deduplication_id=str(i)) for i in range(15)], client=sqs)
    result = redrive(dlq, client=sqs, max_messages=12, wait_time_seconds=0)
    assert (result.method, result.moved) == ("receive-send-delete", 12)
    assert [m["Body"] for m in drain(sqs, source)] == [f"m-{i}" for i in range(12)]
    assert [m["Body"] for m in drain(sqs, dlq)] == ["m-12", "m-13", "m-14"]


def test_a_message_that_cannot_be_sent_stays_in_the_dlq_and_holds_back_its_group(aws: None, sqs: Any) -> None:
    dlq = make_queue(sqs, "stuck-dlq.fifo")
    source = make_queue(sqs, "stuck.fifo", dlq=dlq)
    send_messages(dlq, [OutgoingMessage(f"{g}-{i}", group_id=g, deduplication_id=f"{g}{i}") for i in range(3) for g in "ab"], client=sqs)
    inject_send_failures(sqs, [{}, {"2": ("KMS.AccessDeniedException", True)}])  # a-1, in the second request
    result = redrive(dlq, client=sqs, wait_time_seconds=0)
    assert result.moved == 4
    assert [(f.group_id, f.code) for f in result.failures] == [("a", "KMS.AccessDeniedException"), ("a", "SkippedAfterGroupFailure")]
    assert [m["Body"] for m in drain(sqs, source)] == ["a-0", "b-0", "b-1", "b-2"]
    assert [m["Body"] for m in drain(sqs, dlq)] == ["a-1", "a-2"]  # given back, in order


def test_a_message_whose_delete_failed_is_deleted_again_not_sent_twice(aws: None, sqs: Any) -> None:
    dlq = make_queue(sqs, "sticky-dlq")
    source = make_queue(sqs, "sticky", dlq=dlq)
    send_messages(dlq, ["one", "two"], client=sqs)
    state = {"first": True}

    def lose_first_delete(params: dict[str, Any], **_: Any) -> None:
        if state["first"]:
            state["first"] = False
            params["Entries"] = params["Entries"][1:]  # the first entry is never deleted

    sqs.meta.events.register("before-parameter-build.sqs.DeleteMessageBatch", lose_first_delete)
    result = redrive(dlq, client=sqs, visibility_timeout=1, wait_time_seconds=2)
    assert result.moved == 2
    assert sorted(m["Body"] for m in drain(sqs, source)) == ["one", "two"]
    assert depth(sqs, dlq) == (0, 0)


def test_destination_errors(aws: None, sqs: Any) -> None:
    orphan = make_queue(sqs, "orphan-dlq")
    send_messages(orphan, ["x"], client=sqs)
    with pytest.raises(RedriveError, match=r"no queue names .*orphan-dlq as its dead-letter queue; pass destination_url"):
        redrive(orphan, client=sqs, wait_time_seconds=0)
    shared = make_queue(sqs, "shared-dlq")
    make_queue(sqs, "one", dlq=shared)
    make_queue(sqs, "two", dlq=shared)
    with pytest.raises(RedriveError, match=r"2 queues use .*shared-dlq as their dead-letter queue"):
        redrive(shared, client=sqs, wait_time_seconds=0)
    with pytest.raises(ValueError, match=r"must both be FIFO or both standard"):
        redrive(shared, destination_url=make_queue(sqs, "elsewhere.fifo"), client=sqs)
    with pytest.raises(ValueError, match=r"max_messages needs method 'receive-send-delete' or 'auto'"):
        redrive(shared, client=sqs, method="move-task", max_messages=3)


def test_an_endpoint_without_the_move_task_is_asked_once_not_retried(aws: None) -> None:
    from botocore.awsrequest import AWSResponse

    from constructs_sqs_runtime._sqs import sqs_client

    client = sqs_client(max_attempts=10)
    dlq = make_queue(client, "probe-dlq")
    make_queue(client, "probe", dlq=dlq)
    send_messages(dlq, ["x"], client=client)
    attempts: list[int] = []

    class Html:
        def stream(self, **_: Any) -> Any:
            yield b"<html><title>500 Internal Server Error</title></html>"

    def emulator_500(request: Any, **_: Any) -> Any:
        attempts.append(1)
        return AWSResponse(request.url, 500, {"content-type": "text/html"}, Html())

    client.meta.events.register_first("before-send.sqs.StartMessageMoveTask", emulator_500)
    result = redrive(dlq, client=client, wait_time_seconds=0)
    assert attempts == [1] and (result.method, result.moved) == ("receive-send-delete", 1)
