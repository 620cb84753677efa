"""A stand-in for ``python -m constructs_sqs_runtime.worker`` that keeps the worker's contract (issue 19), for
the local runner's tests until the real worker lands: it reads ``CONSTRUCTS_SQS_QUEUE_URL``,
``CONSTRUCTS_SQS_CONCURRENCY``, ``CONSTRUCTS_SQS_VISIBILITY_TIMEOUT``, ``CONSTRUCTS_SQS_PROTECTION_MINUTES``;
holds ECS task scale-in protection (``PUT ${ECS_AGENT_URI}/task-protection/v1/state``) before it receives and
while it holds messages, releases it when a receive comes back empty, and takes no message while protection is
refused; on SIGTERM it finishes the messages it holds, releases protection and exits. Each handled message
appends ``<body> <pid>`` to ``STAND_IN_LEDGER`` (after ``STAND_IN_JOB_SECONDS`` of work, or
``STAND_IN_SLOW_SECONDS`` for a body ``job-<n>`` whose n is a multiple of ``STAND_IN_SLOW_EVERY``: the long jobs
that hold a worker while the queue is already empty) before its delete.
One JSON line per event on stdout.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3

stopping = threading.Event()


def log(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, "pid": os.getpid(), **fields}), flush=True)


def protect(enabled: bool) -> bool:
    uri = os.environ.get("ECS_AGENT_URI")
    if not uri:
        return True
    body: dict[str, object] = {"ProtectionEnabled": enabled}
    if enabled:
        body["ExpiresInMinutes"] = int(os.environ.get("CONSTRUCTS_SQS_PROTECTION_MINUTES", "5"))
    request = urllib.request.Request(
        f"{uri}/task-protection/v1/state", data=json.dumps(body).encode(), method="PUT", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            answer = json.loads(response.read())
    except OSError as error:
        log("protection failed", error=str(error))
        return False
    ok = "protection" in answer and answer["protection"]["ProtectionEnabled"] is enabled
    log("protection on" if enabled and ok else "protection off" if ok else "protection refused", answer=answer)
    return ok


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    queue_url = os.environ["CONSTRUCTS_SQS_QUEUE_URL"]
    concurrency = int(os.environ.get("CONSTRUCTS_SQS_CONCURRENCY", "1"))
    visibility = int(os.environ.get("CONSTRUCTS_SQS_VISIBILITY_TIMEOUT", "30"))
    job_seconds = float(os.environ.get("STAND_IN_JOB_SECONDS", "0"))
    ledger = os.open(os.environ.get("STAND_IN_LEDGER", "worker-ledger.txt"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sqs = boto3.client("sqs")
    log("started", queue=queue_url, concurrency=concurrency)
    protected = False

    slow_every = int(os.environ.get("STAND_IN_SLOW_EVERY", "0"))
    slow_seconds = float(os.environ.get("STAND_IN_SLOW_SECONDS", "0"))

    def handle(message: dict[str, str]) -> None:
        number = int(message["Body"].rsplit("-", 1)[-1]) if message["Body"].rsplit("-", 1)[-1].isdigit() else 1
        time.sleep(slow_seconds if slow_every and number % slow_every == 0 else job_seconds)
        os.write(ledger, f"{message['Body']} {os.getpid()}\n".encode())
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    with ThreadPoolExecutor(concurrency) as pool:
        while not stopping.is_set():
            if not protected:
                protected = protect(True)
                if not protected:
                    stopping.wait(1)  # no protection: take no message this worker could be stopped holding
                    continue
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=min(10, concurrency), WaitTimeSeconds=1, VisibilityTimeout=visibility
            ).get("Messages", [])
            if not messages:
                protected = not protect(False)
                stopping.wait(1)  # idle and unprotected for a while: a scale-in may stop this worker now
                continue
            list(pool.map(handle, messages))
    if protected:
        protect(False)
    log("drained")
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
