"""The emulator's FIFO receive under load: CPU of a long poll that finds nothing it may hand out, the latency
of unrelated requests meanwhile, and messages per second of 1 vs 4 FIFO consumers (constructs-sqs rule E5).

Runs the same scenarios against plain moto (``python -m moto.server``, the pinned version) and against the
project's emulator (``python -m constructs_sqs.local.server``), each started here on a free port and always
stopped:

- **long poll**: a FIFO queue whose visible messages all belong to groups in flight (each group's first
  message received, visibility 60 s), then one ``ReceiveMessage`` with ``WaitTimeSeconds=5``; the server's
  CPU time over those 5 seconds (``/proc/<pid>/stat``); then the same poll again with ``GetQueueAttributes``
  on another queue every 50 ms meanwhile, and their median latency. An empty standard queue's 5 s poll is
  the yardstick.
- **consumers**: ``--messages`` messages in ``--groups`` groups, drained by 1 and by 4 consumers (threads, a
  client each) doing ``ReceiveMessage`` (10, ``WaitTimeSeconds=1``) + ``DeleteMessageBatch``; messages per
  second and the server's CPU seconds per 1,000 messages, median of ``--rounds`` rounds.

    python -m bench.emulator_fifo                 # both servers
    python -m bench.emulator_fifo --server emulator --output bench/results/emulator_fifo.json

Writes JSON (default ``bench/results/emulator_fifo.json``) and prints a table. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from constructs_sqs.local import Emulator, find_free_port  # noqa: E402

SERVERS = ("moto", "emulator")
"""``moto``: plain moto 5.2.5's server; ``emulator``: the same moto with constructs_sqs.local's patches."""


class Server:
    """A running server: its endpoint, its process id (for CPU time) and a client factory."""

    def __init__(self, emulator: Emulator, pid: int) -> None:
        self.emulator = emulator
        self.pid = pid

    def client(self) -> Any:
        return self.emulator.client("sqs")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (Linux ``/proc``)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def started(kind: str) -> Iterator[Server]:
    """The server of ``kind`` on a free port; stopped (by its pid) on the way out."""
    with tempfile.TemporaryDirectory() as state:
        emulator = Emulator(find_free_port(), state_dir=state, exit_with_parent=True)
        if kind == "emulator":
            with emulator:
                record = emulator.recorded()
                assert record is not None
                yield Server(emulator, record.pid)
            return
        log = open(Path(state) / "moto.log", "wb")  # noqa: SIM115 - closed below
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "--port", str(emulator.port)], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while not emulator.healthy(timeout=1.0):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"plain moto did not start: {(Path(state) / 'moto.log').read_text()[-2000:]}")
                time.sleep(0.1)
            yield Server(emulator, process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def fifo_queue(client: Any, visibility: int = 60) -> str:
    name = f"bench-{uuid.uuid4().hex[:10]}.fifo"
    attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": str(visibility)}
    return str(client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])


def long_poll(server: Server, groups: int = 10, wait: int = 5) -> dict[str, float]:
    """CPU of a 5 s FIFO long poll that may hand out nothing, and of an empty standard queue's; unrelated latency."""
    client = server.client()
    url = fifo_queue(client)
    def send_one_per_group(round_: int) -> None:
        entries = [{"Id": str(g), "MessageBody": f"g{g}-{round_}", "MessageGroupId": f"g{g}"} for g in range(groups)]
        client.send_message_batch(QueueUrl=url, Entries=entries)

    send_one_per_group(0)
    in_flight = 0
    while in_flight < groups:  # every group's first message in flight ...
        in_flight += len(client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []))
    send_one_per_group(1)  # ... then a second one per group: visible, but its group is locked
    before = server.cpu_seconds()
    started_at = time.monotonic()
    returned = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait).get("Messages", [])
    elapsed = time.monotonic() - started_at
    fifo_cpu = server.cpu_seconds() - before

    # The same poll again, with unrelated requests meanwhile: how much the poll slows the rest of the server
    # (and, as the yardstick, the same requests while the server has nothing else to do).
    other = client.create_queue(QueueName=f"bench-other-{uuid.uuid4().hex[:8]}")["QueueUrl"]

    def latency_during(action: Callable[[], object]) -> list[float]:
        latencies: list[float] = []
        stop = threading.Event()

        def unrelated() -> None:
            side = server.client()
            while not stop.is_set():
                sent_at = time.perf_counter()
                side.get_queue_attributes(QueueUrl=other, AttributeNames=["ApproximateNumberOfMessages"])
                latencies.append(time.perf_counter() - sent_at)
                time.sleep(0.05)

        thread = threading.Thread(target=unrelated)
        thread.start()
        action()
        stop.set()
        thread.join()
        return latencies

    idle = latency_during(lambda: time.sleep(wait))
    during = latency_during(lambda: client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait))

    empty = client.create_queue(QueueName=f"bench-empty-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    before = server.cpu_seconds()
    client.receive_message(QueueUrl=empty, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
    standard_cpu = server.cpu_seconds() - before
    return {
        "fifo_poll_cpu_s": round(fifo_cpu, 3),
        "fifo_poll_wall_s": round(elapsed, 2),
        "fifo_poll_returned": len(returned),
        "standard_empty_poll_cpu_s": round(standard_cpu, 3),
        "unrelated_idle_median_ms": round(1000 * statistics.median(idle), 1),
        "unrelated_median_ms": round(1000 * statistics.median(during), 1),
        "unrelated_requests": len(during),
    }


def drain(server: Server, messages: int, groups: int, consumers: int) -> tuple[float, float]:
    """Messages per second of ``consumers`` threads draining a FIFO queue of ``messages`` in ``groups``, and
    the server's CPU seconds per 1,000 messages consumed."""
    client = server.client()
    url = fifo_queue(client, visibility=30)
    for start in range(0, messages, 10):
        entries = [
            {"Id": str(i), "MessageBody": f"{n}", "MessageGroupId": f"g{n % groups}"}
            for i, n in enumerate(range(start, min(start + 10, messages)))
        ]
        client.send_message_batch(QueueUrl=url, Entries=entries)
    done = 0
    finished_at = 0.0
    lock = threading.Lock()

    def consume() -> None:
        nonlocal done, finished_at
        mine = server.client()
        while True:
            with lock:
                if done >= messages:
                    return
            batch = mine.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            if batch:
                entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
                mine.delete_message_batch(QueueUrl=url, Entries=entries)
                with lock:
                    done += len(batch)
                    if done >= messages:  # the clock stops at the last delete, not when idle pollers give up
                        finished_at = time.perf_counter()

    cpu = server.cpu_seconds()
    started_at = time.perf_counter()
    threads = [threading.Thread(target=consume) for _ in range(consumers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return messages / (finished_at - started_at), 1000 * (server.cpu_seconds() - cpu) / messages


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


def render(results: dict[str, dict[str, Any]]) -> str:
    rows = [
        ("5 s FIFO long poll, every group in flight: server CPU (s)", "fifo_poll_cpu_s"),
        ("  messages it returned", "fifo_poll_returned"),
        ("5 s long poll, empty standard queue: server CPU (s)", "standard_empty_poll_cpu_s"),
        ("unrelated GetQueueAttributes, idle server, median (ms)", "unrelated_idle_median_ms"),
        ("unrelated GetQueueAttributes during that poll, median (ms)", "unrelated_median_ms"),
        ("FIFO, 1 consumer (msg/s)", "consumers_1"),
        ("FIFO, 4 consumers (msg/s)", "consumers_4"),
        ("  server CPU per 1,000 messages, 1 consumer (s)", "consumers_1_cpu_s_per_1000"),
        ("  server CPU per 1,000 messages, 4 consumers (s)", "consumers_4_cpu_s_per_1000"),
    ]
    kinds = list(results)
    width = max(len(label) for label, _ in rows)
    lines = [f"{'':{width}}  " + "  ".join(f"{kind:>10}" for kind in kinds)]
    for label, key in rows:
        lines.append(f"{label:{width}}  " + "  ".join(f"{results[kind][key]:>10}" for kind in kinds))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.emulator_fifo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=(*SERVERS, "both"), default="both")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "emulator_fifo.json")
    args = parser.parse_args(argv)
    kinds = SERVERS if args.server == "both" else (args.server,)
    results: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        with started(kind) as server:
            result: dict[str, Any] = long_poll(server)
            for consumers in (1, 4):
                runs = [drain(server, args.messages, args.groups, consumers) for _ in range(args.rounds)]
                result[f"consumers_{consumers}"] = round(statistics.median(rate for rate, _ in runs), 1)
                result[f"consumers_{consumers}_cpu_s_per_1000"] = round(statistics.median(cpu for _, cpu in runs), 2)
            results[kind] = result
        print(f"{kind}: {results[kind]}", flush=True)
    print()
    print(render(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "messages": args.messages,
        "groups": args.groups,
        "rounds": args.rounds,
        "results": results,
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
