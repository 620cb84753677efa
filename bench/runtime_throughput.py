"""Runtime throughput: ``send_messages`` and ``consume`` against the best peers and a hand-written batch loop.

Every contender talks to the project's emulator (moto server, started here on a free port and always stopped)
through the project's latency proxy (``tests/integration/fault_proxy.py``, in a process of its own), once with
no latency added and once with 10 ms added to every request, on a standard and on a FIFO queue:

- sending: ``send_messages`` (the helper), a hand-written boto3 loop of ``send_message_batch`` with 10 entries,
  and the npm ``sqs-producer`` (batches of 10);
- consuming: ``consume(concurrency=4)`` and ``consume(concurrency=1)`` (handler doing nothing), a hand-written
  boto3 loop (``receive_message`` of 10, then ``delete_message_batch``), and four instances of the npm
  ``sqs-consumer`` in one node process (``batchSize`` 10, ``handleMessageBatch``: its ``DeleteMessageBatch``
  mode, the same batching).

The npm peers run on the venv's node from ``bench/node_modules`` (``bench/package.json`` and its lock, installed
by ``make bench`` with the venv's ``npm ci``). Each contender gets a fresh queue (a consumer's filled beforehand,
directly, untimed), and every round runs the contenders in a rotated order; the median of the rounds is kept.
Requests are counted by the proxy, for every contender alike. Messages are 1 KiB; FIFO messages spread over
``--groups`` message groups. Not a test: nothing here asserts; the targets are reported.

    python -m bench.runtime_throughput                       # make bench runs it
    python -m bench.runtime_throughput --messages 2000 --rounds 3 --output bench/results/runtime.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from constructs_sqs.local import Emulator, find_free_port  # noqa: E402
from constructs_sqs_runtime import OutgoingMessage, consume, send_messages  # noqa: E402
from constructs_sqs_runtime._sqs import sqs_client  # noqa: E402

BENCH = ROOT / "bench"
PROXY = ROOT / "tests" / "integration" / "fault_proxy.py"
PEERS = BENCH / "sqs_peers.mjs"
KIB = 1024
LATENCIES = (0.0, 0.01)

SEND = ("send_messages", "batch loop", "sqs-producer")
CONSUME = ("consume(concurrency=4)", "consume(concurrency=1)", "batch loop", "sqs-consumer x4")

TARGETS = {
    "consume_vs_sqs_consumer_x4": 1.0,
    "consume_vs_batch_loop": 2.0,
    "send_vs_batch_loop": 2.5,
    "send_requests_per_message": 0.10,
    "consume_requests_per_message": 0.20,
}
"""At 10 ms, standard queue: consume(concurrency=4) at least as fast as four sqs-consumer and at least twice the
batch loop; send_messages at least 2.5 times the batch loop; requests per message at the floor."""


class Proxy:
    """The latency proxy in a process of its own, so that its threads do not share the contenders' GIL."""

    def __init__(self, upstream: str, latency: float) -> None:
        self.port = find_free_port()
        self.url = f"http://localhost:{self.port}"
        command = [sys.executable, str(PROXY), "--upstream", upstream, "--port", str(self.port), "--latency", str(latency)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.process.stdout.readline()  # "fault proxy http://... -> ...": listening

    def counts(self, reset: bool = False) -> dict[str, Any]:
        request = urllib.request.Request(f"{self.url}/__fault_proxy__/{'reset' if reset else 'counts'}", method="POST" if reset else "GET")
        with urllib.request.urlopen(request, timeout=30) as answer:
            return dict(json.loads(answer.read()))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def bodies(count: int, size: int) -> list[str]:
    return [f"{i:08d}" + "x" * (size - 8) for i in range(count)]


def outgoing(messages: list[str], fifo: bool, groups: int) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(b, group_id=f"g{i % groups}" if fifo else None, deduplication_id=str(i) if fifo else None)
        for i, b in enumerate(messages)
    ]


def new_queue(direct: Any, fifo: bool) -> str:
    name = f"bench-{uuid.uuid4().hex[:10]}" + (".fifo" if fifo else "")
    attributes = {"FifoQueue": "true"} if fifo else {}
    return str(direct.create_queue(QueueName=name, Attributes={**attributes, "VisibilityTimeout": "60"})["QueueUrl"])


# --- the hand-written loops ----------------------------------------------------------------------------


def loop_send(client: Any, url: str, messages: list[OutgoingMessage]) -> None:
    for start in range(0, len(messages), 10):
        entries = []
        for n, message in enumerate(messages[start : start + 10]):
            entry: dict[str, Any] = {"Id": str(n), "MessageBody": message.body}
            if message.group_id is not None:
                entry.update(MessageGroupId=message.group_id, MessageDeduplicationId=message.deduplication_id)
            entries.append(entry)
        response = client.send_message_batch(QueueUrl=url, Entries=entries)
        if response.get("Failed"):
            raise RuntimeError(f"batch loop: {response['Failed'][:2]}")


def loop_consume(client: Any, url: str, count: int) -> None:
    done = 0
    while done < count:
        messages = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages") or []
        if messages:
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)]
            client.delete_message_batch(QueueUrl=url, Entries=entries)
            done += len(messages)


# --- one contender -----------------------------------------------------------------------------------------


def peer(options: dict[str, Any]) -> float:
    node = shutil.which("node", path=str(Path(sys.executable).parent)) or "node"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}
    done = subprocess.run([node, str(PEERS), json.dumps(options)], cwd=BENCH, capture_output=True, text=True, timeout=900, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{options['mode']} with the npm peer failed: {done.stderr[-2000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def timed(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def run_send(name: str, proxy: Proxy, direct: Any, clients: dict[str, Any], fifo: bool, messages: list[OutgoingMessage], args: argparse.Namespace) -> dict[str, float]:
    url = new_queue(direct, fifo)
    proxy.counts(reset=True)
    if name == "send_messages":

        def work() -> None:
            result = send_messages(url, messages, client=clients["helpers"])
            if not result.ok:
                raise RuntimeError(f"send_messages: {result.failed[:2]}")

        seconds = timed(work)
    elif name == "batch loop":
        seconds = timed(lambda: loop_send(clients["loop"], url, messages))
    else:
        seconds = peer({"mode": "send", "endpoint": proxy.url, "queueUrl": url, "count": len(messages), "bodyBytes": args.body_bytes, "fifo": fifo, "groups": args.groups})
    requests = sum(proxy.counts()["requests"].values())
    direct.delete_queue(QueueUrl=url)
    return {"seconds": seconds, "messages_per_second": len(messages) / seconds, "requests_per_message": requests / len(messages)}


def run_consume(name: str, proxy: Proxy, direct: Any, clients: dict[str, Any], fifo: bool, messages: list[OutgoingMessage], args: argparse.Namespace) -> dict[str, float]:
    url = new_queue(direct, fifo)
    if not send_messages(url, messages, client=direct).ok:
        raise RuntimeError("could not fill the queue")
    count = len(messages)
    proxy.counts(reset=True)
    if name.startswith("consume("):
        concurrency = int(name.split("=")[1].rstrip(")"))

        def work() -> None:
            result = consume(url, lambda m: None, client=clients["helpers"], concurrency=concurrency, max_messages=count, wait_time_seconds=1, handle_signals=False)
            if result.deleted != count:
                raise RuntimeError(f"consume deleted {result.deleted} of {count}")

        seconds = timed(work)
    elif name == "batch loop":
        seconds = timed(lambda: loop_consume(clients["loop"], url, count))
    else:
        seconds = peer({"mode": "consume", "endpoint": proxy.url, "queueUrl": url, "count": count, "bodyBytes": args.body_bytes, "fifo": fifo, "instances": 4})
    requests = sum(proxy.counts()["requests"].values())
    direct.delete_queue(QueueUrl=url)
    return {"seconds": seconds, "messages_per_second": count / seconds, "requests_per_message": requests / count}


def scenario(emulator: Emulator, latency: float, fifo: bool, args: argparse.Namespace) -> dict[str, Any]:
    import boto3
    from botocore.config import Config

    proxy = Proxy(emulator.endpoint_url, latency)
    try:
        direct = emulator.client("sqs")
        config = Config(retries={"mode": "standard", "total_max_attempts": 10}, max_pool_connections=32)
        clients = {
            "helpers": sqs_client(endpoint_url=proxy.url, max_pool_connections=32),
            "loop": boto3.client("sqs", endpoint_url=proxy.url, region_name=emulator.region, config=config,
                                 aws_access_key_id="testing", aws_secret_access_key="testing"),
        }
        messages = outgoing(bodies(args.messages, args.body_bytes), fifo, args.groups)
        rounds: dict[str, dict[str, list[dict[str, float]]]] = {"send": {n: [] for n in SEND}, "consume": {n: [] for n in CONSUME}}
        for number in range(args.rounds):
            for side, names, run in (("send", SEND, run_send), ("consume", CONSUME, run_consume)):
                shift = number % len(names)
                for name in names[shift:] + names[:shift]:
                    rounds[side][name].append(run(name, proxy, direct, clients, fifo, messages, args))
                    print(f"  {'FIFO' if fifo else 'standard'} +{latency * 1000:.0f} ms round {number + 1} {side} {name}: "
                          f"{rounds[side][name][-1]['messages_per_second']:.0f} msg/s", flush=True)
    finally:
        proxy.stop()
    medians = {
        side: {name: {key: statistics.median(run[key] for run in runs) for key in runs[0]} for name, runs in contenders.items()}
        for side, contenders in rounds.items()
    }
    for side in medians.values():  # msg/s from the median time, so that it matches the seconds shown
        for figures in side.values():
            figures["messages_per_second"] = args.messages / figures["seconds"]
    return {"latency_ms": latency * 1000, "queue": "FIFO" if fifo else "standard", **medians, "rounds": rounds}


def targets(results: list[dict[str, Any]]) -> dict[str, Any]:
    row = next(r for r in results if r["latency_ms"] == 10 and r["queue"] == "standard")
    send, take = row["send"], row["consume"]
    figures = {
        "consume_vs_sqs_consumer_x4": take["consume(concurrency=4)"]["messages_per_second"] / take["sqs-consumer x4"]["messages_per_second"],
        "consume_vs_batch_loop": take["consume(concurrency=4)"]["messages_per_second"] / take["batch loop"]["messages_per_second"],
        "send_vs_batch_loop": send["send_messages"]["messages_per_second"] / send["batch loop"]["messages_per_second"],
        "send_requests_per_message": send["send_messages"]["requests_per_message"],
        "consume_requests_per_message": take["consume(concurrency=4)"]["requests_per_message"],
    }
    met = {
        name: (round(value, 2) <= TARGETS[name]) if name.endswith("requests_per_message") else value >= TARGETS[name]
        for name, value in figures.items()
    }
    return {"at": "10 ms added, standard queue", "targets": TARGETS, "figures": figures, "met": met}


def machine() -> dict[str, Any]:
    import boto3
    import moto

    node = shutil.which("node", path=str(Path(sys.executable).parent)) or "node"
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    lock = json.loads((BENCH / "package-lock.json").read_text())["packages"]
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg()[0],
        "python": platform.python_version(),
        "boto3": boto3.__version__,
        "node": node_version,
        "peers": {name: lock[f"node_modules/{name}"]["version"] for name in ("sqs-consumer", "sqs-producer", "@aws-sdk/client-sqs")},
        "emulator": f"moto server {moto.__version__} (constructs_sqs.local)",
    }


def render(results: list[dict[str, Any]]) -> str:
    lines = []
    for row in results:
        lines.append(f"{row['queue']}, +{row['latency_ms']:.0f} ms")
        for side in ("send", "consume"):
            for name, figures in row[side].items():
                lines.append(f"  {side:8} {name:24} {figures['messages_per_second']:8.0f} msg/s  {figures['requests_per_message']:.3f} requests/message")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2_000, help="messages per contender and round (default 2000)")
    parser.add_argument("--body-bytes", type=int, default=KIB, help="bytes per body (default 1024)")
    parser.add_argument("--groups", type=int, default=100, help="message groups of the FIFO runs (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per scenario, median kept (default 3)")
    parser.add_argument("--output", type=Path, default=BENCH / "results" / "runtime.json")
    args = parser.parse_args(argv)
    if not (BENCH / "node_modules" / "sqs-consumer").exists():
        print("the npm peers are not installed: make bench (or: cd bench && npm ci)", file=sys.stderr)
        return 2
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with tempfile.TemporaryDirectory() as state, Emulator(find_free_port(), state_dir=state, exit_with_parent=True) as emulator:
        os.environ.setdefault("AWS_REGION", emulator.region)
        about = machine()
        results = [scenario(emulator, latency, fifo, args) for latency in LATENCIES for fifo in (False, True)]
    report = {
        "machine": about,
        "settings": {"messages": args.messages, "body_bytes": args.body_bytes, "fifo_groups": args.groups, "rounds": args.rounds,
                     "latencies_ms": [latency * 1000 for latency in LATENCIES]},
        "results": results,
        "targets": targets(results),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(render(results))
    print(json.dumps(report["targets"], indent=2))
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
