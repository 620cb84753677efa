"""Runtime throughput: ``send_messages`` and ``consume`` against a one-message-at-a-time boto3 loop.

Runs against the project's emulator (moto server, started here on a free port and always stopped), for
1 KiB and 256 KiB bodies on a standard and a FIFO queue, and reports messages per second and HTTP requests
per message (counted with botocore's ``before-send`` event) of each, side by side in the same run. Each
scenario runs ``--rounds`` times, alternating which side goes first, and keeps the median. The targets of
issue 10: the helpers at least 5x the loop's messages per second, and at most 0.2 requests per message sent.

    python -m bench.runtime_throughput            # or: python bench/runtime_throughput.py
    python -m bench.runtime_throughput --messages 2000 --rounds 5 --output bench/results/runtime.json

Writes JSON (default ``bench/results/runtime.json``) and prints a table. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from constructs_sqs.local import Emulator, find_free_port  # noqa: E402
from constructs_sqs_runtime import OutgoingMessage, consume, send_messages  # noqa: E402

KIB = 1024
TARGET_SPEEDUP = 5.0
TARGET_SEND_REQUESTS_PER_MESSAGE = 0.2


def counted_client(emulator: Emulator) -> tuple[Any, Counter[str]]:
    """A client of the emulator, and a Counter of the HTTP requests it sends, by operation."""
    client = emulator.client("sqs")
    requests: Counter[str] = Counter()
    client.meta.events.register_first("before-send.sqs", lambda event_name, **_: requests.update([event_name.rsplit(".", 1)[-1]]))
    return client, requests


def new_queue(client: Any, fifo: bool) -> str:
    name = f"bench-{uuid.uuid4().hex[:10]}" + (".fifo" if fifo else "")
    attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    return str(client.create_queue(QueueName=name, Attributes={**attributes, "VisibilityTimeout": "60"})["QueueUrl"])


def bodies(count: int, size: int) -> list[str]:
    return [f"{i:08d}" + "x" * (size - 8) for i in range(count)]


def naive_send(client: Any, url: str, messages: list[str], fifo: bool) -> None:
    for i, body in enumerate(messages):
        extra = {"MessageGroupId": f"g{i % 10}", "MessageDeduplicationId": str(i)} if fifo else {}
        client.send_message(QueueUrl=url, MessageBody=body, **extra)


def naive_consume(client: Any, url: str, count: int) -> None:
    done = 0
    while done < count:
        response = client.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1)
        for message in response.get("Messages") or []:
            client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            done += 1


def helper_send(client: Any, url: str, messages: list[str], fifo: bool) -> None:
    outgoing = [OutgoingMessage(b, group_id=f"g{i % 10}" if fifo else None) for i, b in enumerate(messages)]
    result = send_messages(url, outgoing, client=client)
    if not result.ok:
        raise RuntimeError(f"send_messages failed: {result.failed[:3]}")


def helper_consume(client: Any, url: str, count: int, concurrency: int) -> None:
    result = consume(url, lambda m: None, client=client, max_messages=count, wait_time_seconds=1, concurrency=concurrency, handle_signals=False)
    if result.deleted != count:
        raise RuntimeError(f"consume deleted {result.deleted} of {count}")


def measure(work: Callable[[], None], requests: Counter[str], messages: int) -> dict[str, float]:
    requests.clear()
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "messages_per_second": messages / seconds, "requests_per_message": sum(requests.values()) / messages}


def one_round(emulator: Emulator, size: int, count: int, fifo: bool, helpers_first: bool, concurrency: int) -> dict[str, dict[str, float]]:
    """Send then consume ``count`` messages both ways, on fresh queues."""
    client, requests = counted_client(emulator)
    messages = bodies(count, size)
    results: dict[str, dict[str, float]] = {}
    for side in (["helpers", "loop"] if helpers_first else ["loop", "helpers"]):
        url = new_queue(client, fifo)
        if side == "helpers":
            results["send_messages"] = measure(lambda: helper_send(client, url, messages, fifo), requests, count)
            results["consume"] = measure(lambda: helper_consume(client, url, count, concurrency), requests, count)
        else:
            results["loop_send"] = measure(lambda: naive_send(client, url, messages, fifo), requests, count)
            results["loop_consume"] = measure(lambda: naive_consume(client, url, count), requests, count)
        client.delete_queue(QueueUrl=url)
    return results


def scenario(emulator: Emulator, size: int, count: int, fifo: bool, rounds: int, concurrency: int) -> dict[str, Any]:
    runs = [one_round(emulator, size, count, fifo, helpers_first=r % 2 == 0, concurrency=concurrency) for r in range(rounds)]
    medians = {
        name: {key: statistics.median(run[name][key] for run in runs) for key in runs[0][name]} for name in runs[0]
    }
    return {
        "body_bytes": size,
        "queue": "FIFO" if fifo else "standard",
        "messages": count,
        "rounds": rounds,
        **medians,
        "send_speedup": medians["send_messages"]["messages_per_second"] / medians["loop_send"]["messages_per_second"],
        "consume_speedup": medians["consume"]["messages_per_second"] / medians["loop_consume"]["messages_per_second"],
    }


def machine() -> dict[str, Any]:
    import moto

    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "emulator": f"moto server {moto.__version__} (constructs_sqs.local)",
    }


def render(results: list[dict[str, Any]]) -> str:
    header = f"{'body':>8} {'queue':>8} | {'send msg/s':>21} {'x':>5} {'req/msg':>11} | {'consume msg/s':>21} {'x':>5} {'req/msg':>11}"
    lines = [header, "-" * len(header)]
    for r in results:
        send = f"{r['send_messages']['messages_per_second']:9.0f} vs {r['loop_send']['messages_per_second']:8.0f}"
        recv = f"{r['consume']['messages_per_second']:9.0f} vs {r['loop_consume']['messages_per_second']:8.0f}"
        lines.append(
            f"{r['body_bytes'] // KIB:>5} KiB {r['queue']:>8} | {send} {r['send_speedup']:5.1f} "
            f"{r['send_messages']['requests_per_message']:5.2f}/{r['loop_send']['requests_per_message']:<5.2f} | "
            f"{recv} {r['consume_speedup']:5.1f} {r['consume']['requests_per_message']:5.2f}/{r['loop_consume']['requests_per_message']:<5.2f}"
        )
    lines.append("(helpers vs one-message-at-a-time loop; x = speedup; req/msg = helpers/loop)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000, help="messages per 1 KiB scenario (default 1000)")
    parser.add_argument("--large-messages", type=int, default=200, help="messages per 256 KiB scenario (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per scenario, median kept (default 3)")
    parser.add_argument("--concurrency", type=int, default=4, help="consume's handler threads (default 4)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "runtime.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as state, Emulator(find_free_port(), state_dir=state, exit_with_parent=True) as emulator:
        results = [
            scenario(emulator, size, count, fifo, args.rounds, args.concurrency)
            for size, count in ((KIB, args.messages), (256 * KIB, args.large_messages))
            for fifo in (False, True)
        ]
    targets = {
        "speedup_at_least": TARGET_SPEEDUP,
        "send_requests_per_message_at_most": TARGET_SEND_REQUESTS_PER_MESSAGE,
        "met": {
            f"{r['body_bytes'] // KIB} KiB {r['queue']}": {
                "send_speedup": r["send_speedup"] >= TARGET_SPEEDUP,
                "consume_speedup": r["consume_speedup"] >= TARGET_SPEEDUP,
                "send_requests_per_message": r["send_messages"]["requests_per_message"] <= TARGET_SEND_REQUESTS_PER_MESSAGE,
            }
            for r in results
        },
    }
    report = {"machine": machine(), "consume_concurrency": args.concurrency, "results": results, "targets": targets}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(render(results))
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
