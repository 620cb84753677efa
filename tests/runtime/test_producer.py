"""send_messages: batches within the quotas, FIFO ids, retries of partial failures, bad input refused first."""

from __future__ import annotations

import hashlib
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from runtime_helpers import REGION, aws, count_requests, drain, inject_send_failures, make_queue, sqs  # noqa: F401

from constructs_sqs_runtime import InvalidMessageError, OutgoingMessage, SendMessagesError, send_messages
from constructs_sqs_runtime._sqs import sqs_client
from constructs_sqs_runtime.producer import (
    SKIPPED_AFTER_GROUP_FAILURE,
    Producer,
    _entry,
    message_size,
    plan_batches,
)

MiB = 1_048_576
STANDARD_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs"
FIFO_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo"


def offline_client() -> Any:
    """A client whose every request fails the test: a Stubber with no responses queued."""
    client = boto3.client("sqs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    Stubber(client).activate()
    return client


def sizes_of(messages: list[OutgoingMessage]) -> list[list[int]]:
    entries = [_entry(i, m, False, False) for i, m in enumerate(messages)]
    return [[e.index for e in batch] for batch in plan_batches(entries)]


# --- bad input: refused before any request (R5) --------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message", "expected"),
    [
        (STANDARD_URL, OutgoingMessage("x" * (MiB + 1)), r"message 0 \('x{30}\.\.\.'\): body and attributes are 1,048,577 bytes; SQS takes at most 1,048,576"),
        (STANDARD_URL, OutgoingMessage("x" * (MiB - 10), attributes={"big": "y" * 20}), r"body and attributes are 1,048,595 bytes"),
        (STANDARD_URL, OutgoingMessage("bell \x07 here"), r"the body has a character SQS rejects, '\\x07' at position 5"),
        (STANDARD_URL, OutgoingMessage("lone \ud800 surrogate"), r"character SQS rejects, '\\ud800' at position 5"),
        (STANDARD_URL, OutgoingMessage(""), r"message 0 \(''\): the body must be a non-empty string"),
        (FIFO_URL, OutgoingMessage("order 1"), r"message 0 \('order 1'\): a FIFO queue needs a MessageGroupId; pass group_id"),
        (STANDARD_URL, OutgoingMessage("x", attributes={f"a{i}": "v" for i in range(11)}), r"11 attributes; SQS takes at most 10"),
        (STANDARD_URL, OutgoingMessage("x", attributes={"AWS.trace": "v"}), r"attribute 'AWS.trace': a name is 1-256"),
        (STANDARD_URL, OutgoingMessage("x", attributes={"a..b": "v"}), r"attribute 'a..b': a name is"),
        (STANDARD_URL, OutgoingMessage("x", attributes={"n": {"DataType": "Number", "StringValue": "ten"}}), r"a Number attribute needs a number, got 'ten'"),
        (STANDARD_URL, OutgoingMessage("x", attributes={"t": {"DataType": "Text", "StringValue": "a"}}), r"DataType must be String, Number or Binary"),
        (STANDARD_URL, OutgoingMessage("x", attributes={"t": "tab\tok but \x0b not"}), r"attribute 't': the value has a character SQS rejects"),
        (STANDARD_URL, OutgoingMessage("x", deduplication_id="d-1"), r"deduplication_id applies to FIFO queues only"),
        (FIFO_URL, OutgoingMessage("x", group_id="g", delay_seconds=5), r"a FIFO queue takes no delay per message"),
        (STANDARD_URL, OutgoingMessage("x", delay_seconds=901), r"delay_seconds must be between 0 and 900, got 901"),
        (FIFO_URL, OutgoingMessage("x", group_id="has space"), r"group_id must be 1-128 printable ASCII characters without spaces, got 'has space'"),
        (FIFO_URL, OutgoingMessage("x", group_id="g", deduplication_id="d" * 129), r"deduplication_id must be 1-128"),
    ],
)
def test_bad_input_is_refused_before_any_request(url: str, message: OutgoingMessage, expected: str) -> None:
    messages = [OutgoingMessage("fine", group_id="g") if url == FIFO_URL else "fine", message]
    with pytest.raises(InvalidMessageError, match=expected.replace("message 0", "message 1")) as raised:
        send_messages(url, messages, client=offline_client())
    assert [index for index, _ in raised.value.problems] == [1] * len(raised.value.problems)


def test_every_problem_of_a_call_is_reported_at_once() -> None:
    with pytest.raises(InvalidMessageError, match=r"^5 problem\(s\) in the messages, nothing was sent") as raised:
        send_messages(FIFO_URL, ["no group", "", OutgoingMessage("ok", group_id="g"), "x" * (MiB + 1)], client=offline_client())
    assert [index for index, _ in raised.value.problems] == [0, 1, 1, 3, 3]


def test_a_body_of_exactly_one_mib_is_accepted(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "big")
    result = send_messages(url, ["é" * (MiB // 2)], client=sqs)  # 2 bytes a character in UTF-8: exactly 1 MiB
    assert result.ok and len(result.sent) == 1
    assert len(drain(sqs, url)[0]["Body"].encode()) == MiB


# --- batches: at most 10 entries and 1 MiB (R5) ---------------------------------------------------


def test_batches_hold_at_most_ten_entries() -> None:
    assert sizes_of([OutgoingMessage(str(i)) for i in range(23)]) == [list(range(10)), list(range(10, 20)), [20, 21, 22]]


def test_a_batch_over_one_mib_is_split_and_four_quarter_mib_bodies_fill_one_exactly() -> None:
    quarter = OutgoingMessage("q" * (MiB // 4))
    assert sizes_of([quarter] * 4) == [[0, 1, 2, 3]]
    with_attribute = OutgoingMessage("q" * (MiB // 4), attributes={"k": "v"})  # 1 + 6 + 1 bytes more
    assert sizes_of([quarter, quarter, quarter, with_attribute]) == [[0, 1, 2], [3]]
    assert sizes_of([OutgoingMessage("x" * 400_000)] * 5) == [[0, 1], [2, 3], [4]]


def test_strict_group_order_puts_one_message_of_a_group_in_each_batch_and_interleaves_groups() -> None:
    entries = [_entry(i, OutgoingMessage(str(i), group_id=g), True, False) for i, g in enumerate("aabcab")]
    # Each batch takes the groups whose next message comes first: a's three messages in three batches, in order.
    assert [[e.index for e in b] for b in plan_batches(entries, one_per_group=True)] == [[0, 2, 3], [1, 5], [4]]


def test_strict_plans_full_batches_of_distinct_groups_when_there_are_ten_groups_or_more() -> None:
    entries = [_entry(i, OutgoingMessage(str(i), group_id=f"g{i // 5}"), True, False) for i in range(100)]  # 20 groups of 5
    batches = plan_batches(entries, one_per_group=True)
    assert [len(b) for b in batches] == [10] * 10
    assert all(len({e.group_id for e in b}) == 10 for b in batches)
    # The first two batches hold the first message of twenty different groups: nothing ties them together.
    assert {e.group_id for e in batches[0]}.isdisjoint({e.group_id for e in batches[1]})
    positions = {e.index: n for n, b in enumerate(batches) for e in b}
    for group in range(20):
        assert [positions[i] for i in range(group * 5, group * 5 + 5)] == sorted(positions[i] for i in range(group * 5, group * 5 + 5))


def test_message_size_counts_body_and_each_attributes_name_type_and_value() -> None:
    message = OutgoingMessage("héllo", attributes={"tenant": "a", "n": 12, "raw": b"\x00\x01\x02"})
    # body 6 + (6 + 6 + 1) + (1 + 6 + 2) + (3 + 6 + 3)
    assert message_size(message) == 6 + 13 + 9 + 12


def test_large_messages_go_in_as_few_requests_as_the_quota_allows(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "large")
    requests = count_requests(sqs)
    bodies = [f"{i:04d}" + "x" * 300_000 for i in range(7)]  # three fit in 1 MiB
    result = send_messages(url, bodies, client=sqs, max_workers=1)
    assert result.ok and result.requests == 3 and requests["SendMessageBatch"] == 3
    assert sorted(m["Body"][:4] for m in drain(sqs, url)) == [f"{i:04d}" for i in range(7)]


# --- FIFO: group and deduplication ids -------------------------------------------------------------


def fifo_stub(content_based: str | None, expected_entries: list[dict[str, Any]]) -> Any:
    client = boto3.client("sqs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    if content_based is not None:
        stubber.add_response(
            "get_queue_attributes",
            {"Attributes": {"ContentBasedDeduplication": content_based}},
            {"QueueUrl": FIFO_URL, "AttributeNames": ["ContentBasedDeduplication"]},
        )
    successful = [{"Id": e["Id"], "MessageId": f"m-{e['Id']}", "MD5OfMessageBody": "x", "SequenceNumber": e["Id"]} for e in expected_entries]
    stubber.add_response(
        "send_message_batch", {"Successful": successful, "Failed": []}, {"QueueUrl": FIFO_URL, "Entries": expected_entries}
    )
    stubber.activate()
    return client


def test_fifo_deduplication_id_is_derived_from_the_body_when_the_queue_has_no_content_based_deduplication() -> None:
    sha = hashlib.sha256(b"order 1").hexdigest()
    client = fifo_stub(
        "false",
        [
            {"Id": "0", "MessageBody": "order 1", "MessageGroupId": "c-1", "MessageDeduplicationId": sha},
            {"Id": "1", "MessageBody": "order 2", "MessageGroupId": "c-2", "MessageDeduplicationId": "given"},
        ],
    )
    result = send_messages(FIFO_URL, ["order 1", OutgoingMessage("order 2", group_id="c-2", deduplication_id="given")], group_id="c-1", client=client)
    assert [(s.index, s.message_id, s.sequence_number) for s in result.sent] == [(0, "m-0", "0"), (1, "m-1", "1")]


def test_fifo_deduplication_id_is_left_to_a_queue_with_content_based_deduplication() -> None:
    client = fifo_stub("true", [{"Id": "0", "MessageBody": "order 1", "MessageGroupId": "c-1"}])
    assert send_messages(FIFO_URL, ["order 1"], group_id="c-1", client=client).message_ids == ["m-0"]


def test_attributes_delay_and_defaults_reach_the_request() -> None:
    client = boto3.client("sqs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    entry = {
        "Id": "0",
        "MessageBody": "job",
        "MessageAttributes": {
            "tenant": {"DataType": "String", "StringValue": "b"},
            "priority": {"DataType": "Number", "StringValue": "3"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00"},
        },
        "DelaySeconds": 30,
    }
    stubber.add_response("send_message_batch", {"Successful": [{"Id": "0", "MessageId": "m", "MD5OfMessageBody": "x"}], "Failed": []}, {"QueueUrl": STANDARD_URL, "Entries": [entry]})
    stubber.activate()
    message = OutgoingMessage("job", attributes={"tenant": "b", "blob": b"\x00"})
    assert send_messages(STANDARD_URL, [message], attributes={"tenant": "a", "priority": 3}, delay_seconds=30, client=client).ok
    stubber.assert_no_pending_responses()


# --- partial failures: retried, with backoff; sender faults are final (R4) --------------------------


def test_entries_of_a_partial_failure_are_retried_until_sent(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "partial")
    calls = inject_send_failures(sqs, [{"1": ("InternalError", False), "3": ("ServiceUnavailable", False)}, {"3": ("InternalError", False)}])
    result = send_messages(url, [f"m{i}" for i in range(5)], client=sqs)
    assert calls == [["0", "1", "2", "3", "4"], ["1", "3"], ["3"]]
    assert result.ok and [s.index for s in result.sent] == [0, 1, 2, 3, 4] and result.requests == 3
    assert sorted(m["Body"] for m in drain(sqs, url)) == ["m0", "m1", "m2", "m3", "m4"]


def test_a_sender_fault_is_not_retried_and_a_transient_one_gives_up_after_max_attempts(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "doomed")
    plan = [{"0": ("InvalidParameterValue", True), "1": ("InternalError", False)}] + [{"1": ("InternalError", False)}] * 5
    calls = inject_send_failures(sqs, plan)
    result = send_messages(url, ["a", "b", "c"], client=sqs, max_attempts=3)
    assert calls == [["0", "1", "2"], ["1"], ["1"]]
    assert [(f.index, f.code, f.sender_fault, f.attempts) for f in result.failed] == [
        (0, "InvalidParameterValue", True, 1),
        (1, "InternalError", False, 3),
    ]
    assert not result.ok and result.message_ids == [result.sent[0].message_id]
    assert [m["Body"] for m in drain(sqs, url)] == ["c"]


def test_fifo_failure_for_good_stops_the_rest_of_its_group_and_no_other(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "halt.fifo", ContentBasedDeduplication="true")
    messages = [OutgoingMessage(f"{group}-{i}", group_id=group) for i in range(8) for group in ("a", "b")]
    inject_send_failures(sqs, [{}, {"2": ("InvalidParameterValue", True)}])  # a-1, in the second request
    result = send_messages(url, messages, client=sqs)
    # By default a request holds one message of a group, so nothing of a went after a-1 (R10).
    assert [(f.index, f.code) for f in result.failed] == [(2, "InvalidParameterValue")] + [
        (i, SKIPPED_AFTER_GROUP_FAILURE) for i in (4, 6, 8, 10, 12, 14)
    ]
    received = [m["Body"] for m in drain(sqs, url)]
    assert [b for b in received if b.startswith("a")] == ["a-0"]
    assert [b for b in received if b.startswith("b")] == [f"b-{i}" for i in range(8)]


def test_without_strict_group_order_a_failed_entry_is_overtaken_by_its_group(aws: None, sqs: Any) -> None:
    """What strict_group_order=False trades away: SQS takes a-2 .. a-4 in the same request in which a-1 failed."""
    url = make_queue(sqs, "loose.fifo", ContentBasedDeduplication="true")
    messages = [OutgoingMessage(f"{group}-{i}", group_id=group) for i in range(8) for group in ("a", "b")]
    inject_send_failures(sqs, [{"2": ("InvalidParameterValue", True)}])  # a-1, the 3rd message
    result = send_messages(url, messages, client=sqs, strict_group_order=False)
    # SQS took a-2 .. a-4 in the same request as a-1; from the next request on, group a is held back.
    assert [(f.index, f.code) for f in result.failed] == [(2, "InvalidParameterValue")] + [
        (i, SKIPPED_AFTER_GROUP_FAILURE) for i in (10, 12, 14)
    ]
    received = [m["Body"] for m in drain(sqs, url)]
    assert [b for b in received if b.startswith("a")] == ["a-0", "a-2", "a-3", "a-4"]
    assert [b for b in received if b.startswith("b")] == [f"b-{i}" for i in range(8)]


@pytest.mark.parametrize(("strict", "requests"), [(True, 20), (False, 10)], ids=["strict", "loose"])
def test_fifo_batches_of_different_groups_go_at_once_and_keep_each_groups_order(aws: None, sqs: Any, strict: bool, requests: int) -> None:
    """Strict: one message of each of the 5 groups per request (20 requests for 100). Loose: messages that
    come group by group make batches of one group each (10 requests), which wait only for the earlier batches
    of their own group. Either way several batches go at once, each group in its order."""
    url = make_queue(sqs, "lanes.fifo", ContentBasedDeduplication="true")
    groups = [f"g{n}" for n in range(5)]
    messages = [OutgoingMessage(f"{group}:{i}", group_id=group) for group in groups for i in range(20)]
    calls = inject_send_failures(sqs, [])
    result = send_messages(url, messages, client=sqs, max_workers=4, strict_group_order=strict)
    assert result.ok and result.requests == requests
    in_a_call = [[messages[int(i)].group_id for i in ids] for ids in calls]
    if strict:
        assert all(len(set(g)) == len(g) == 5 for g in in_a_call)
    else:
        assert all(len(set(g)) == 1 for g in in_a_call)
    received = [m["Body"] for m in drain(sqs, url)]
    for group in groups:
        assert [b for b in received if b.startswith(f"{group}:")] == [f"{group}:{i}" for i in range(20)]


def test_throttling_of_whole_requests_is_retried_by_botocore(aws: None) -> None:
    client = sqs_client(retry_mode="standard", max_attempts=4)
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 4}
    url = client.create_queue(QueueName="throttled")["QueueUrl"]
    throttled = {"count": 0}

    def throttle(request: Any, **_: Any) -> AWSResponse | None:
        if throttled["count"] < 2:
            throttled["count"] += 1
            body = b'{"__type": "com.amazonaws.sqs#RequestThrottled", "message": "slow down"}'
            return AWSResponse(request.url, 400, {"x-amzn-query-error": "RequestThrottled;Sender"}, _Raw(body))
        return None

    client.meta.events.register_first("before-send.sqs.SendMessageBatch", throttle)
    result = send_messages(url, ["a", "b"], client=client)
    assert result.ok and result.requests == 1 and throttled["count"] == 2


def test_a_request_that_fails_for_good_raises_with_what_was_sent(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "vanishing")
    state = {"calls": 0}

    def delete_after_first(**_: Any) -> None:
        state["calls"] += 1
        if state["calls"] == 2:
            sqs.delete_queue(QueueUrl=url)

    sqs.meta.events.register("before-call.sqs.SendMessageBatch", delete_after_first)
    expected = (
        r"SendMessageBatch on https://sqs\.eu-west-1\.amazonaws\.com/123456789012/vanishing failed after 10 message\(s\) "
        r"were sent; 0 not confirmed, 15 not sent: the queue does not exist\. Fix: check the queue URL"
    )
    with pytest.raises(SendMessagesError, match=expected) as raised:
        send_messages(url, [str(i) for i in range(25)], client=sqs, max_workers=1)
    assert (raised.value.code, raised.value.kind, raised.value.queue_url) == ("AWS.SimpleQueueService.NonExistentQueue", "not-found", url)
    assert [s.index for s in raised.value.result.sent] == list(range(10))
    assert [f.index for f in raised.value.result.failed] == list(range(10, 25))


def test_progress_is_reported_per_batch(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "progress")
    seen: list[tuple[int, int]] = []
    send_messages(url, [str(i) for i in range(25)], client=sqs, max_workers=1, on_progress=lambda d, t: seen.append((d, t)))
    assert seen == [(10, 25), (20, 25), (25, 25)]


def test_parallel_batches_send_everything_once(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "parallel")
    result = send_messages(url, [f"m{i}" for i in range(95)], client=sqs, max_workers=4)
    assert result.ok and result.requests == 10 and len(set(result.message_ids)) == 95
    assert sorted(m["Body"] for m in drain(sqs, url)) == sorted(f"m{i}" for i in range(95))


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match=r"max_attempts must be between 1 and 100, got 0; max_workers must be between 1 and 100, got 0"):
        Producer(STANDARD_URL, client=offline_client(), max_attempts=0, max_workers=0)


class _Raw:
    """The raw stream botocore reads an injected response's body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any) -> bytes:
        body, self._body = self._body, b""
        return body
