"""consume: delete only after success, heartbeats before the timeout, FIFO order, stops that lose nothing."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import Any

import pytest
from runtime_helpers import aws, count_requests, depth, drain, make_queue, sqs  # noqa: F401

from constructs_sqs_runtime import ConsumeResult, Consumer, ReceivedMessage, consume, send_messages
from constructs_sqs_runtime.producer import OutgoingMessage


def run(url: str, handler: Any, sqs: Any, **options: Any) -> ConsumeResult:
    # One poller: moto in-process has no receive lock, so two receives at once can take one message (the
    # emulator patches that; tests/integration run several pollers against it).
    options = {"client": sqs, "wait_time_seconds": 1, "handle_signals": False, "logger": None, "pollers": 1, **options}
    return consume(url, handler, **options)


def test_no_message_is_lost_or_processed_twice_when_a_fifth_of_the_attempts_fail(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "flaky", VisibilityTimeout="1")
    send_messages(url, [f"m{i}" for i in range(120)], client=sqs)
    rng = random.Random(7)
    succeeded: Counter[str] = Counter()
    lock = threading.Lock()

    def flaky(message: ReceivedMessage) -> None:
        if rng.random() < 0.2:
            raise RuntimeError("transient")
        with lock:
            succeeded[message.body] += 1

    totals = Counter[str]()
    for _ in range(10):  # a failed message comes back after its 1-second visibility timeout
        result = run(url, flaky, sqs, concurrency=4, stop_when_empty=True, wait_time_seconds=2)
        totals.update({k: v for k, v in vars(result).items() if isinstance(v, int)})
        if len(succeeded) == 120:
            break
    assert sorted(succeeded) == sorted(f"m{i}" for i in range(120))
    assert set(succeeded.values()) == {1}
    assert totals["failed"] > 12 and totals["deleted"] == 120 and depth(sqs, url) == (0, 0)


def test_requests_per_message_are_a_fifth_of_one_at_a_time(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "batched")
    send_messages(url, [f"m{i}" for i in range(100)], client=sqs)
    requests = count_requests(sqs)
    result = run(url, lambda m: None, sqs, max_messages=100)
    assert result.deleted == 100 and result.stopped_by == "max_messages"
    assert requests["ReceiveMessage"] == 10 and requests["DeleteMessageBatch"] == 10 and "DeleteMessage" not in requests


def slow_run_with_a_rival(sqs: Any, url: str, bodies: list[str], *, sleep: float, heartbeat: bool) -> tuple[Counter[str], ConsumeResult, ConsumeResult]:
    """A worker takes every message and handles each for ``sleep`` seconds; meanwhile a second worker polls
    the same queue, and gets any message whose visibility timeout runs out."""
    send_messages(url, bodies, client=sqs)
    calls: Counter[str] = Counter()
    lock = threading.Lock()
    all_started = threading.Event()

    def slow(message: ReceivedMessage) -> None:
        with lock:
            calls[message.body] += 1
            if sum(calls.values()) >= len(bodies):
                all_started.set()
        time.sleep(sleep)

    options: dict[str, Any] = {"client": sqs, "wait_time_seconds": 1, "handle_signals": False, "logger": None, "heartbeat": heartbeat, "pollers": 1}
    worker = Consumer(url, slow, concurrency=len(bodies), max_messages=len(bodies), **options)
    rival = Consumer(url, slow, **options)
    threads = [threading.Thread(target=worker.run), threading.Thread(target=rival.run)]
    threads[0].start()
    all_started.wait(10)
    threads[1].start()
    threads[0].join(30)
    time.sleep(1.5)
    rival.stop()
    threads[1].join(30)
    return calls, worker.result, rival.result


def test_a_slow_handler_gets_heartbeats_before_its_timeout_and_is_processed_once(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "slow", VisibilityTimeout="2")
    calls, worker, rival = slow_run_with_a_rival(sqs, url, ["slow-1", "slow-2"], sleep=3.5, heartbeat=True)
    assert calls == Counter({"slow-1": 1, "slow-2": 1})
    assert worker.heartbeats >= 2 and worker.expired == 0 and worker.deleted == 2 and rival.received == 0
    assert depth(sqs, url) == (0, 0)


def test_without_the_heartbeat_a_slow_handler_is_processed_twice(aws: None, sqs: Any) -> None:
    """The control of the test above: it shows the heartbeat is what prevents the double processing."""
    url = make_queue(sqs, "slow-no-heartbeat", VisibilityTimeout="1")
    calls, worker, rival = slow_run_with_a_rival(sqs, url, ["slow"], sleep=2.5, heartbeat=False)
    assert calls["slow"] >= 2 and worker.heartbeats == 0 and rival.received >= 1


def test_fifo_groups_keep_their_order_and_a_failure_holds_back_only_its_group(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "orders.fifo", VisibilityTimeout="1", ContentBasedDeduplication="true")
    messages = [OutgoingMessage(f"{g}-{i}", group_id=g) for i in range(12) for g in ("a", "b", "c")]
    send_messages(url, messages, client=sqs)
    processed: dict[str, list[int]] = {"a": [], "b": [], "c": []}
    # b-3 and c-7 fail for the whole first run, however often a slow machine lets them come back within it
    # (their visibility timeout is 1 s), so what the first run processed does not depend on timing.
    failing = {"b-3", "c-7"}
    lock = threading.Lock()

    def handler(message: ReceivedMessage) -> None:
        if message.body in failing:
            raise RuntimeError("fails during the first run")
        with lock:
            processed[message.group_id or ""].append(int(message.body.split("-")[1]))

    first = run(url, handler, sqs, concurrency=3, stop_when_empty=True, wait_time_seconds=0)
    assert processed["a"] == list(range(12))
    assert processed["b"] == [0, 1, 2] and processed["c"] == list(range(7))
    assert first.failed >= 2 and first.held_back >= 1
    failing.clear()
    run(url, handler, sqs, concurrency=3, stop_when_empty=True, wait_time_seconds=2)
    assert processed == {g: list(range(12)) for g in "abc"}


def test_release_failures_gives_a_failed_message_back_at_once(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "release", VisibilityTimeout="300")
    send_messages(url, ["fails once"], client=sqs)
    counts: list[int] = []

    def handler(message: ReceivedMessage) -> None:
        counts.append(message.receive_count)
        if len(counts) == 1:
            raise RuntimeError("first attempt fails")

    started = time.monotonic()
    result = run(url, handler, sqs, release_failures=True, max_messages=2)
    assert counts == [1, 2] and result.released == 1 and result.deleted == 1
    assert time.monotonic() - started < 30  # not the 300-second visibility timeout


def test_stop_finishes_started_handlers_and_gives_back_the_rest(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "stopping", VisibilityTimeout="300")
    send_messages(url, [f"m{i}" for i in range(10)], client=sqs)
    started = threading.Event()
    done: list[str] = []
    consumer = Consumer(url, lambda m: None, client=sqs, wait_time_seconds=1, handle_signals=False, logger=None)

    def handler(message: ReceivedMessage) -> None:
        started.set()
        time.sleep(0.5)
        done.append(message.body)

    consumer.handler = handler
    thread = threading.Thread(target=consumer.run)
    thread.start()
    started.wait(10)
    consumer.stop()
    thread.join(30)
    result = consumer.result
    assert result.stopped_by == "stop()" and result.received == 10
    assert result.deleted == len(done) >= 1 and result.released == 10 - len(done)
    assert depth(sqs, url) == (10 - len(done), 0)  # given back at once, not after 300 seconds
    assert sorted(m["Body"] for m in drain(sqs, url)) == sorted({f"m{i}" for i in range(10)} - set(done))


def test_received_message_exposes_sqs_attributes(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "attrs.fifo")
    send_messages(url, [OutgoingMessage("hello", group_id="g-1", deduplication_id="d-1", attributes={"tenant": "a"})], client=sqs)
    seen: list[ReceivedMessage] = []
    run(url, seen.append, sqs, max_messages=1)
    (message,) = seen
    assert (message.body, message.group_id, message.receive_count) == ("hello", "g-1", 1)
    assert message.message_attributes["tenant"]["StringValue"] == "a"
    assert message.sent_at is not None and message.sent_at.year >= 2024 and message.sequence_number


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"concurrency": 0}, r"concurrency must be between 1 and 1000, got 0"),
        ({"batch_size": 11}, r"batch_size must be between 1 and 10, got 11"),
        ({"wait_time_seconds": 21}, r"wait_time_seconds must be between 0 and 20, got 21"),
        ({"visibility_timeout": 0}, r"visibility_timeout must be between 1 and 43200, got 0"),
        ({"max_messages": 0}, r"max_messages must be at least 1, got 0"),
    ],
)
def test_options_are_checked(aws: None, sqs: Any, options: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        Consumer("https://sqs.eu-west-1.amazonaws.com/123456789012/q", print, client=sqs, **options)
