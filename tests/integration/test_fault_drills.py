"""Fault drills: the runtime helpers and the CLI between the fault proxy and the emulator (RELIABILITY R1-R11).

For each fault kind (a connection reset before the server sees the request, a response dropped after the server
acted, a 500, the query protocol's throttle, a partial batch failure, each at 15 %; 0-200 ms of latency) and each
queue type, every message is accounted for in a ledger (``drills.Ledger``): nothing acknowledged is lost, FIFO
groups keep their order and get no duplicate, a standard queue's copies stay within what the helper reported as
possible, and the CLI's exit status tells the truth. ``redrive`` is killed (SIGKILL) half-way and run again.

No timing is asserted: the loops below are bounded in rounds, and the visibility timeouts are short only so that
the drills end soon. Set ``FAULT_DRILL_LEDGER=path.jsonl`` to keep the ledgers (``python drills.py path.jsonl``
prints the table of docs/runtime-guarantees.md).

The FIFO drills read queues as users have them: several long-polling pollers, each group 10 messages deep, so a
receive whose answer was lost, or a killed redrive, returns several messages of one group together after their
visibility timeout. That their order holds is the emulator's FIFO receive (issue 15) as much as the helpers'.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from drills import FAULTS, Ledger, body, by_group, copies, depth, drain, new_queue, order_violations
from fault_proxy import FaultProxy

from constructs_sqs_runtime import OutgoingMessage, ReceivedMessage, SendMessagesError, consume, send_messages
from constructs_sqs_runtime._sqs import sqs_client

MESSAGES = 150
GROUPS = 15  # FIFO sends: 10 messages a group
GROUPS_READ = {"consumer": GROUPS, "redrive": 10}  # FIFO queues read under faults: 10 messages a group
CLI_LINES = {"standard": 100, "FIFO": 30}
SCRIPT = str(Path(sys.executable).parent / "constructs-sqs")
QUEUES = pytest.mark.parametrize("fifo", [False, True], ids=["standard", "fifo"])
KINDS = pytest.mark.parametrize("fault", list(FAULTS))


def client_through(emulator: Any, proxy: FaultProxy, **options: Any) -> Any:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=emulator.region)
    return sqs_client(session=session, endpoint_url=proxy.url, **options)


def messages(fifo: bool, count: int = MESSAGES, groups: int = GROUPS) -> list[OutgoingMessage]:
    """``count`` bodies; FIFO: spread over ``groups`` groups in turn (message i: group i % groups, its i // groups-th)."""
    if not fifo:
        return [OutgoingMessage(body(i, None)) for i in range(count)]
    return [
        OutgoingMessage(body(i // groups, f"g{i % groups}"), group_id=f"g{i % groups}", deduplication_id=f"d{i}") for i in range(count)
    ]


# Seeds of the proxy's draws whose first 12 draws hold a fault at 15 %: the shortest drill (15 requests) always
# gets one. The draws' count does not depend on thread scheduling (only which request gets which draw does).
SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13]


def seed(fault: str, fifo: bool) -> int:
    return SEEDS[list(FAULTS).index(fault) * 2 + int(fifo)]


# --- the producer ------------------------------------------------------------------------------------------


@KINDS
@QUEUES
def test_producer_drill(emulator: Any, fault: str, fifo: bool) -> None:
    sqs = emulator.client("sqs")
    url = new_queue(sqs, "drill-send", fifo=fifo, ContentBasedDeduplication="true" if fifo else "false")
    outgoing = messages(fifo)
    with FaultProxy(emulator.endpoint_url, FAULTS[fault], seed=seed(fault, fifo)) as proxy:
        result = send_messages(url, outgoing, client=client_through(emulator, proxy))
        injected = proxy.counts.fault_total()
    found = [m["Body"] for m in drain(sqs, url)]
    distinct, extra = copies(found)
    acknowledged = {outgoing[s.index].body for s in result.sent}
    ledger = Ledger("producer", "FIFO" if fifo else "standard", fault, len(outgoing), len(result.sent), len(result.not_confirmed),
                    distinct, extra, lost=len(acknowledged - set(found)), order_violations=order_violations(found) if fifo else 0,
                    faults_injected=injected)
    ledger.record()
    assert injected > 0 or fault == "latency"
    assert result.ok and ledger.acknowledged == ledger.sent == distinct, result.failed[:3]
    assert ledger.lost == 0
    if fifo:  # R10: the same deduplication id on every attempt, one message of a group in flight at a time
        assert (extra, ledger.order_violations) == (0, 0)
    else:  # at-least-once: only what a lost answer let the retry send again
        assert extra <= result.possible_duplicates


@pytest.mark.parametrize("fault", ["drop_response", "reset", "server_error", "throttle"])
@QUEUES
def test_producer_out_of_retries_reports_not_confirmed_apart_from_not_sent(emulator: Any, fault: str, fifo: bool) -> None:
    """Two attempts a request, half of them faulty: requests fail for good. What the result calls sent is in the
    queue, what it calls not sent is not, what it calls not confirmed may be; FIFO groups hold what they have in
    order, a prefix of each group (R10)."""
    sqs = emulator.client("sqs")
    url = new_queue(sqs, "drill-give-up", fifo=fifo, ContentBasedDeduplication="true" if fifo else "false")
    outgoing = messages(fifo)
    with FaultProxy(emulator.endpoint_url, replace(FAULTS[fault], **{fault: 0.5}), seed=seed(fault, fifo)) as proxy:
        try:
            result = send_messages(url, outgoing, client=client_through(emulator, proxy, max_attempts=2), max_workers=2,
                                   content_based_deduplication=fifo or None)
        except SendMessagesError as error:
            assert error.kind in ("unreachable", "throttled", "failed") and url in str(error)
            result = error.result
    found = set(m["Body"] for m in drain(sqs, url))
    assert not result.ok and len(result.sent) + len(result.failed) == len(outgoing)
    assert {outgoing[s.index].body for s in result.sent} <= found
    assert not {outgoing[f.index].body for f in result.not_sent} & found
    if fault == "throttle":  # SQS refused each of them: never "not confirmed"
        assert not result.not_confirmed
    if fault == "drop_response":
        assert result.not_confirmed
    if fifo:
        for group, positions in by_group(found).items():
            assert sorted(positions) == list(range(len(positions))), group


# --- the consumer ------------------------------------------------------------------------------------------


@KINDS
@QUEUES
def test_consumer_drill(emulator: Any, fault: str, fifo: bool) -> None:
    sqs = emulator.client("sqs")
    dlq = new_queue(sqs, "drill-consume-dlq", fifo=fifo)
    url = new_queue(sqs, "drill-consume", fifo=fifo, dlq=dlq, VisibilityTimeout="2")
    assert send_messages(url, messages(fifo, groups=GROUPS_READ["consumer"]), client=sqs).ok
    handled: Counter[str] = Counter()
    sequence: list[str] = []
    lock = threading.Lock()

    def handler(message: ReceivedMessage) -> None:
        with lock:
            handled[message.body] += 1
            sequence.append(message.body)

    totals: Counter[str] = Counter()
    with FaultProxy(emulator.endpoint_url, FAULTS[fault], seed=seed(fault, fifo)) as proxy:
        client = client_through(emulator, proxy)
        for _ in range(60):  # messages behind a lost answer come back after their 2 s visibility timeout
            result = consume(url, handler, client=client, concurrency=4, wait_time_seconds=1,
                             stop_when_empty=True, handle_signals=False, logger=None)
            totals.update({k: v for k, v in vars(result).items() if isinstance(v, int)})
            if len(handled) == MESSAGES and depth(sqs, url) == 0:
                break
            time.sleep(1)
        injected = proxy.counts.fault_total()
    left, in_dlq = depth(sqs, url), depth(sqs, dlq)
    ledger = Ledger("consumer", "FIFO" if fifo else "standard", fault, MESSAGES, totals["deleted"], 0, len(handled),
                    sum(n - 1 for n in handled.values()), left, in_dlq, MESSAGES - len(handled) - left - in_dlq,
                    order_violations(sequence) if fifo else 0, injected)
    ledger.record()
    assert injected > 0 or fault == "latency"
    assert (ledger.handled, ledger.left, ledger.in_dlq, ledger.lost) == (MESSAGES, 0, 0, 0)
    assert ledger.order_violations == 0
    # R1: a second handling only after a delete that failed for good or a visibility timeout that ran out.
    assert ledger.handled_twice <= totals["delete_failed"] + totals["expired"]


# --- the CLI: send, then redrive killed half-way and run again ----------------------------------------------


def cli(emulator: Any, proxy: FaultProxy, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCRIPT, *args, "--endpoint-url", proxy.url], capture_output=True, text=True, timeout=300, env=emulator.environment())


@KINDS
@QUEUES
def test_cli_send_then_redrive_killed_and_run_again(emulator: Any, fault: str, fifo: bool, tmp_path: Path) -> None:
    sqs = emulator.client("sqs")
    dlq = new_queue(sqs, "drill-dlq", fifo=fifo)
    source = new_queue(sqs, "drill-source", fifo=fifo, dlq=dlq)
    queue_type = "FIFO" if fifo else "standard"
    # The CLI sends the lines of a file: 100 to the standard DLQ; on FIFO, 30 lines of one group (each request
    # waits for the one before) to a queue of their own, and the FIFO DLQ is filled directly with 100 messages
    # of 10 groups in turn.
    lines = [body(i, "c" if fifo else None) for i in range(CLI_LINES[queue_type])]
    (tmp_path / "lines.txt").write_text("".join(f"{line}\n" for line in lines))
    target = new_queue(sqs, "drill-cli-send", fifo=True) if fifo else dlq
    with FaultProxy(emulator.endpoint_url, FAULTS[fault], seed=seed(fault, fifo)) as proxy:
        done = cli(emulator, proxy, "send", target, "--file", str(tmp_path / "lines.txt"), *(["--group-id", "c"] if fifo else []), "--json")
        send_faults = proxy.counts.fault_total()
        assert done.returncode == 0, done.stderr
        sent = json.loads(done.stdout)
        assert not sent["failed"] and len(sent["sent"]) == len(lines)
        if fifo:
            arrived = [m["Body"] for m in drain(sqs, target)]
            distinct, extra = copies(arrived)
            assert send_messages(dlq, messages(True, 100, GROUPS_READ["redrive"]), client=sqs).ok
        else:  # left in the DLQ for the redrive: counted, not read (the redrive's ledger checks each one)
            arrived, distinct, extra = [], len(lines), depth(sqs, dlq) - len(lines)
        send_ledger = Ledger("cli send", queue_type, fault, len(lines), len(sent["sent"]), 0, distinct, extra,
                             order_violations=order_violations(arrived) if fifo else 0, faults_injected=send_faults)
        send_ledger.record()
        if fifo:  # the body's hash is the deduplication id: a resent request adds nothing; one group, in order
            assert arrived == lines
        else:
            assert 0 <= extra <= sent["possible_duplicates"]
        total = depth(sqs, dlq)
        expected = {m.body for m in messages(True, 100, GROUPS_READ["redrive"])} if fifo else set(lines)
        copies_before = total - len(expected)  # a standard DLQ may hold copies the send's lost answers left

        # Killed half-way: slowed down so that the kill lands while it moves.
        proxy.faults = replace(FAULTS[fault], latency=0.03) if fault != "latency" else FAULTS[fault]
        proxy.reset_counts()
        options = ["--visibility-timeout", "2", "--in-flight-timeout", "30", "--json"]
        killed = subprocess.Popen([SCRIPT, "redrive", dlq, *options, "--endpoint-url", proxy.url],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=emulator.environment())
        try:
            for _ in range(1200):
                if depth(sqs, source) >= total // 3 or killed.poll() is not None:
                    break
                time.sleep(0.05)
            killed.send_signal(signal.SIGKILL)
            killed.wait(30)
        finally:
            if killed.poll() is None:
                killed.kill()
        found_at_kill, left_at_kill = depth(sqs, source), depth(sqs, dlq)
        assert killed.returncode == -signal.SIGKILL and left_at_kill > 0  # it died with work left

        # Run again at once: it waits for what the killed run held hidden, and moves the rest.
        proxy.faults = FAULTS[fault]
        rerun = cli(emulator, proxy, "redrive", dlq, *options)
        dropped_sends = proxy.counts.faults["drop_response"]["SendMessageBatch"]
        injected = proxy.counts.fault_total()
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    result = json.loads(rerun.stdout)
    assert result["ok"] is True and result["remaining"] == {}
    moved = [m["Body"] for m in drain(sqs, source)]
    distinct, extra = copies(moved)
    left = depth(sqs, dlq)
    ledger = Ledger("redrive killed + rerun", queue_type, fault, total, found_at_kill + result["moved"], 0, distinct, extra - copies_before,
                    left, lost=len(expected - set(moved)), order_violations=order_violations(moved) if fifo else 0, faults_injected=injected)
    ledger.record()
    assert (ledger.lost, ledger.left) == (0, 0) and distinct == len(expected)
    if fifo:  # R6: the same deduplication id on both runs: nothing twice, each group in order
        assert (extra, ledger.order_violations) == (0, 0)
    else:  # the batch in flight when it was killed, and sends repeated after a lost answer
        assert ledger.handled_twice <= 10 + 10 * dropped_sends
