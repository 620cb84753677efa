"""The producer and consumer helpers against the emulator (a moto server over HTTP), as a worker uses them."""

from __future__ import annotations

import hashlib
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from constructs_sqs_runtime import Consumer, InvalidMessageError, OutgoingMessage, ReceivedMessage, consume, send_messages
from fault_proxy import FaultProxy, Faults

MiB = 1_048_576


def new_queue(sqs: Any, prefix: str, *, fifo: bool = False, **attributes: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}" + (".fifo" if fifo else "")
    attrs = {**attributes, **({"FifoQueue": "true"} if fifo else {})}
    return str(sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"])


def count_requests(client: Any) -> Counter[str]:
    counter: Counter[str] = Counter()
    client.meta.events.register_first("before-send.sqs", lambda event_name, **_: counter.update([event_name.rsplit(".", 1)[-1]]))
    return counter


def mixed_bodies(count: int, seed: int) -> list[str]:
    """Bodies of 1 KiB to exactly 1 MiB: mostly small, some of 64 KiB and 256 KiB, a few of 1 MiB."""
    rng = random.Random(seed)
    sizes = [MiB] * 5 + [256 * 1024] * 15 + [64 * 1024] * 80 + [rng.randint(16, 2048) for _ in range(count - 100)]
    rng.shuffle(sizes)
    return [f"{i:05d}:" + "x" * (size - 6) for i, size in enumerate(sizes)]


@pytest.mark.parametrize("fifo", [False, True], ids=["standard", "fifo"])
def test_a_thousand_messages_up_to_one_mib_arrive_once(emulator: Any, fifo: bool) -> None:
    sqs = emulator.client("sqs")
    url = new_queue(sqs, "thousand", fifo=fifo, VisibilityTimeout="30", ContentBasedDeduplication="true" if fifo else "false")
    bodies = mixed_bodies(1_000, seed=int(fifo))
    requests = count_requests(sqs)
    result = send_messages(url, [OutgoingMessage(b, group_id=f"g{i % 7}" if fifo else None) for i, b in enumerate(bodies)], client=sqs)
    assert result.ok and len(result.sent) == 1_000
    # 1 MiB bodies go alone, four 256 KiB bodies fill a request, small ones ten at a time
    assert 100 < requests["SendMessageBatch"] < 200
    received: Counter[str] = Counter()
    order: dict[str, list[int]] = {}
    lock = threading.Lock()

    def record(message: ReceivedMessage) -> None:
        with lock:
            received[hashlib.sha256(message.body.encode()).hexdigest()] += 1
            order.setdefault(message.group_id or "", []).append(int(message.body[:5]))

    outcome = consume(url, record, client=sqs, concurrency=1 if fifo else 4, wait_time_seconds=1, stop_when_empty=True, handle_signals=False)
    assert outcome.received == outcome.deleted == 1_000
    assert received == Counter(hashlib.sha256(b.encode()).hexdigest() for b in bodies)
    if fifo:
        assert all(sequence == sorted(sequence) for sequence in order.values())


def test_a_batch_over_one_mib_is_split(emulator: Any) -> None:
    sqs = emulator.client("sqs")
    url = new_queue(sqs, "split")
    requests = count_requests(sqs)
    bodies = [f"{i}" * 300_000 for i in range(5)]  # three fit in 1 MiB, the fourth would not
    assert send_messages(url, bodies, client=sqs, max_workers=1).ok
    assert requests["SendMessageBatch"] == 2
    seen: list[str] = []
    consume(url, lambda m: seen.append(m.body), client=sqs, wait_time_seconds=1, stop_when_empty=True, handle_signals=False)
    assert sorted(seen) == sorted(bodies)


def test_partial_batch_failures_are_retried(emulator: Any) -> None:
    sqs = emulator.client("sqs")
    url = new_queue(sqs, "partial")
    calls: list[int] = []

    def before(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        calls.append(len(params["Entries"]))
        if len(calls) == 1:  # the first request loses entries 2 and 5: not sent, reported failed
            context["dropped"] = [e["Id"] for e in params["Entries"] if e["Id"] in ("2", "5")]
            params["Entries"] = [e for e in params["Entries"] if e["Id"] not in ("2", "5")]

    def after(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        for entry_id in context.get("dropped", []):
            parsed.setdefault("Failed", []).append({"Id": entry_id, "Code": "InternalError", "Message": "injected", "SenderFault": False})

    sqs.meta.events.register("before-parameter-build.sqs.SendMessageBatch", before)
    sqs.meta.events.register("after-call.sqs.SendMessageBatch", after)
    result = send_messages(url, [f"m{i}" for i in range(8)], client=sqs)
    assert result.ok and calls == [8, 2]  # the second request carries only the two failed entries
    seen: list[str] = []
    consume(url, lambda m: seen.append(m.body), client=sqs, wait_time_seconds=1, stop_when_empty=True, handle_signals=False)
    assert sorted(seen) == [f"m{i}" for i in range(8)]


def test_bad_input_makes_no_request(emulator: Any) -> None:
    sqs = emulator.client("sqs")
    url = new_queue(sqs, "bad", fifo=True)
    requests = count_requests(sqs)
    with pytest.raises(InvalidMessageError, match=r"message 1 \('no group'\): a FIFO queue needs a MessageGroupId"):
        send_messages(url, [OutgoingMessage("ok", group_id="g"), "no group", OutgoingMessage("x" * (MiB + 1), group_id="g")], client=sqs)
    assert sum(requests.values()) == 0


def test_no_loss_and_no_double_processing_with_failures_and_slow_handlers(emulator: Any) -> None:
    sqs = emulator.client("sqs")
    url = new_queue(sqs, "flaky", VisibilityTimeout="2")
    send_messages(url, [f"m{i}" for i in range(200)], client=sqs)
    rng = random.Random(20)
    done: Counter[str] = Counter()
    lock = threading.Lock()

    def handler(message: ReceivedMessage) -> None:
        with lock:
            fail, slow = rng.random() < 0.2, message.body in ("m7", "m150", "m199")
        if slow:
            time.sleep(3.5)  # past the 2-second visibility timeout: only the heartbeat keeps it ours
        if fail:
            raise RuntimeError("fails 20% of the time")
        with lock:
            done[message.body] += 1

    heartbeats = failed = 0
    for _ in range(12):
        result = consume(url, handler, client=sqs, concurrency=8, wait_time_seconds=3, stop_when_empty=True, handle_signals=False, logger=None)
        heartbeats, failed = heartbeats + result.heartbeats, failed + result.failed
        if len(done) == 200:
            break
    assert sorted(done) == sorted(f"m{i}" for i in range(200)) and set(done.values()) == {1}
    assert failed > 20 and heartbeats >= 1
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")


def test_fifo_order_is_kept_per_group_through_failures(emulator: Any) -> None:
    sqs = emulator.client("sqs")
    url = new_queue(sqs, "order", fifo=True, VisibilityTimeout="1", ContentBasedDeduplication="true")
    send_messages(url, [OutgoingMessage(f"{g}:{i}", group_id=g) for i in range(12) for g in "abcd"], client=sqs)
    rng = random.Random(3)
    processed: dict[str, list[int]] = {g: [] for g in "abcd"}
    lock = threading.Lock()

    def handler(message: ReceivedMessage) -> None:
        with lock:
            if rng.random() < 0.2:
                raise RuntimeError("fails")
            group, number = message.body.split(":")
            processed[group].append(int(number))

    for _ in range(15):
        # Four long-polling pollers: a group's next message is not handed to one while another holds the one before.
        consume(url, handler, client=sqs, concurrency=4, wait_time_seconds=1, stop_when_empty=True, handle_signals=False, logger=None)
        if all(len(v) == 12 for v in processed.values()):
            break
        time.sleep(1)  # a failed message, still in flight, holds its group: it comes back after its 1 s timeout
    assert processed == {g: list(range(12)) for g in "abcd"}


WORKER = textwrap.dedent(
    """
    import sys, time
    from constructs_sqs_runtime import consume

    url, log = sys.argv[1], sys.argv[2]

    def handler(message):
        with open(log, "a") as out:
            out.write("start " + message.body + "\\n")
        time.sleep(0.4)
        with open(log, "a") as out:
            out.write("done " + message.body + "\\n")

    result = consume(url, handler, concurrency=2, wait_time_seconds=1)
    print(f"{result.stopped_by}|{result.deleted}|{result.released}", flush=True)
    """
)


def test_sigterm_mid_batch_loses_nothing(emulator: Any, tmp_path: Path) -> None:
    sqs = emulator.client("sqs")
    url = new_queue(sqs, "sigterm", VisibilityTimeout="120")
    send_messages(url, [f"m{i}" for i in range(40)], client=sqs)
    log = tmp_path / "worker.log"
    log.touch()
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, url, str(log)], env=emulator.environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while log.read_text().count("done ") < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    stopped_by, deleted, released = out.strip().split("|")
    lines = log.read_text().splitlines()
    started = {line.split()[1] for line in lines if line.startswith("start ")}
    finished = {line.split()[1] for line in lines if line.startswith("done ")}
    assert stopped_by == "signal SIGTERM"
    assert started == finished and int(deleted) == len(finished)  # what started, finished and was deleted
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    # The rest was given back at once, though the visibility timeout is 2 minutes.
    assert int(attributes["ApproximateNumberOfMessages"]) == 40 - len(finished)
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0" and int(released) <= 40 - len(finished)
    left: list[str] = []
    consume(url, lambda m: left.append(m.body), client=sqs, wait_time_seconds=0, stop_when_empty=True, handle_signals=False)
    assert sorted(left + sorted(finished)) == sorted(f"m{i}" for i in range(40))


def test_receives_overlap_each_other_handling_and_deletes(emulator: Any) -> None:
    """Where each request takes time (50 ms added by the proxy), consume(concurrency=4) keeps several receives in
    flight, handles messages while the next receive is out, and deletes off the receive path."""
    sqs = emulator.client("sqs")
    url = new_queue(sqs, "overlap")
    send_messages(url, [f"m{i}" for i in range(200)], client=sqs)
    lock = threading.Lock()
    in_flight: Counter[str] = Counter()
    seen_together: set[tuple[str, ...]] = set()
    handled_during_receive = 0

    with FaultProxy(emulator.endpoint_url, Faults(latency=0.05)) as proxy:
        from constructs_sqs_runtime._sqs import sqs_client

        import boto3

        client = sqs_client(session=boto3.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name=emulator.region), endpoint_url=proxy.url)

        def before(event_name: str, **_: Any) -> None:
            operation = event_name.rsplit(".", 1)[-1]
            with lock:
                in_flight[operation] += 1
                seen_together.add(tuple(sorted(op for op, n in in_flight.items() for _ in range(n))))

        def after(event_name: str, **_: Any) -> None:
            with lock:
                in_flight[event_name.rsplit(".", 1)[-1]] -= 1

        client.meta.events.register("before-send.sqs", before)
        client.meta.events.register("needs-retry.sqs", after)

        def handler(message: ReceivedMessage) -> None:
            nonlocal handled_during_receive
            with lock:
                handled_during_receive += in_flight["ReceiveMessage"] > 0

        result = consume(url, handler, client=client, concurrency=4, max_messages=200, wait_time_seconds=1, handle_signals=False)
    assert result.deleted == 200 and result.requests <= 45  # 20 receives, 20 deletes, the visibility: the floor
    assert any(together.count("ReceiveMessage") >= 2 for together in seen_together)  # several pollers
    assert any("ReceiveMessage" in together and "DeleteMessageBatch" in together for together in seen_together)
    assert handled_during_receive > 0


def test_fifo_groups_stay_in_order_across_pollers(emulator: Any) -> None:
    sqs = emulator.client("sqs")
    url = new_queue(sqs, "pollers", fifo=True, ContentBasedDeduplication="true")
    groups = [f"g{n}" for n in range(40)]
    send_messages(url, [OutgoingMessage(f"{g}:{i}", group_id=g) for i in range(5) for g in groups], client=sqs)
    order: dict[str, list[int]] = {g: [] for g in groups}
    lock = threading.Lock()

    def handler(message: ReceivedMessage) -> None:
        group, position = message.body.split(":")
        with lock:
            order[group].append(int(position))

    consumer = Consumer(url, handler, client=sqs, concurrency=8, pollers=4, wait_time_seconds=0, stop_when_empty=True, handle_signals=False)
    result = consumer.run()
    assert result.deleted == 200 and order == {g: list(range(5)) for g in groups}
