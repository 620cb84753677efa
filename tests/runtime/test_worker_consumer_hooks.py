"""The two hooks the worker needs of the Consumer: the count of messages held, and a gate before each receive."""

from __future__ import annotations

import threading
from typing import Any

from runtime_helpers import aws, count_requests, depth, make_queue, sqs  # noqa: F401

from constructs_sqs_runtime import Consumer, ReceivedMessage, send_messages


def options(sqs: Any, **extra: Any) -> dict[str, Any]:
    return {"client": sqs, "wait_time_seconds": 0, "handle_signals": False, "logger": None, "pollers": 1, **extra}


def test_on_held_change_follows_every_message_from_receive_to_delete(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "held")
    send_messages(url, [f"m{i}" for i in range(25)], client=sqs)
    counts: list[int] = []
    seen_while_handling: list[int] = []
    consumer: Consumer

    def handler(message: ReceivedMessage) -> None:
        seen_while_handling.append(counts[-1])

    consumer = Consumer(url, handler, concurrency=2, max_messages=25, on_held_change=counts.append, **options(sqs))
    result = consumer.run()
    assert result.deleted == 25
    # Each handler ran while its message counted as held, and the count went back to 0 at the end.
    assert min(seen_while_handling) >= 1 and counts[-1] == 0 and max(counts) <= 25
    # Every change is reported once: the count moves by the messages of one receive or one delete batch.
    assert all(a != b for a, b in zip(counts, counts[1:]))


def test_a_failed_message_left_for_redelivery_is_no_longer_held(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "left", VisibilityTimeout="60")
    send_messages(url, ["bad"], client=sqs)
    counts: list[int] = []

    def fail(message: ReceivedMessage) -> None:
        raise RuntimeError("left for redelivery")

    Consumer(url, fail, max_messages=1, on_held_change=counts.append, **options(sqs)).run()
    assert counts == [1, 0] and depth(sqs, url) == (0, 1)


class CountingGate:
    """Refuses the first ``refuse`` receives, then lets them through; counts what it is told."""

    def __init__(self, refuse: int) -> None:
        self.refuse = refuse
        self.asked = 0
        self.let_through = 0
        self.told: list[int] = []
        self.lock = threading.Lock()

    def before_receive(self) -> bool:
        with self.lock:
            self.asked += 1
            if self.asked <= self.refuse:
                return False
            self.let_through += 1
            return True

    def after_receive(self, received: int) -> None:
        with self.lock:
            self.told.append(received)


def test_no_receive_goes_out_while_the_gate_refuses(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "gated")
    send_messages(url, [f"m{i}" for i in range(12)], client=sqs)
    requests = count_requests(sqs)
    gate = CountingGate(refuse=5)
    result = Consumer(url, lambda m: None, max_messages=12, receive_gate=gate, **options(sqs)).run()
    assert result.deleted == 12
    # Five refusals cost no request; every receive that went out was let through, and reported back once.
    assert gate.asked == 5 + gate.let_through
    assert requests["ReceiveMessage"] == gate.let_through == len(gate.told) and sum(gate.told) == 12


def test_a_gate_that_never_opens_receives_nothing_and_a_stop_still_ends_the_run(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "closed")
    send_messages(url, ["m"], client=sqs)
    requests = count_requests(sqs)
    gate = CountingGate(refuse=10**9)
    consumer = Consumer(url, lambda m: None, receive_gate=gate, **options(sqs))
    thread = threading.Thread(target=consumer.run)
    thread.start()
    while gate.asked < 20:
        threading.Event().wait(0.01)
    consumer.stop()
    thread.join(30)
    assert not thread.is_alive() and requests["ReceiveMessage"] == 0 and consumer.result.received == 0 and depth(sqs, url) == (1, 0)


def test_without_prefetch_a_worker_never_holds_a_message_it_has_not_started(aws: None, sqs: Any) -> None:
    """``prefetch=False`` (the ECS worker): received only for free handler threads, so the count held never passes
    ``concurrency``, with several pollers racing; with prefetch the same worker holds messages ahead."""
    held: dict[bool, list[int]] = {}
    for prefetch in (False, True):
        url = make_queue(sqs, f"prefetch-{prefetch}".lower())
        send_messages(url, [f"m{i}" for i in range(40)], client=sqs)
        counts: list[int] = []
        release = threading.Event()

        def handler(message: ReceivedMessage) -> None:
            release.wait(0.05)

        result = Consumer(
            url, handler, concurrency=3, max_messages=40, on_held_change=counts.append,
            **options(sqs, pollers=3, prefetch=prefetch),
        ).run()
        assert result.deleted == 40
        held[prefetch] = counts
    assert max(held[False]) <= 3
    assert max(held[True]) > 3  # the property tested is prefetch's, not the queue's or the handler's
