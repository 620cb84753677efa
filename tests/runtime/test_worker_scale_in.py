"""Scale-in as ECS does it: a controller stops only workers whose agent says they are unprotected (as a SIGTERM
does: ``Worker.stop``, then the drain) and starts a replacement each time, while messages keep arriving in
small bursts and every agent answers 5xx to a share of the requests. The jobs (0.3 s) are longer than the drain
(0.1 s): a worker stopped while it held a job would cut it off. None may be: no scale-in finds a worker holding
a message, nothing is lost, handled twice or cut off, and every stopped worker ends with exit code 0.

The workers run in this process (with a 0.3 s idle grace and 1 s long polls instead of 5 s and 10 s, so that they
go idle between bursts); the signal path itself is covered by test_worker.py."""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from typing import Any

from test_worker import LIMIT, Project, depth, emulator, events_of, in_process_worker, new_queue, project, run_in_thread, send, sqs  # noqa: F401
from test_worker_protection import FakeAgent

from constructs_sqs_runtime.worker import Worker

MESSAGES = 200
BURST = 10
SCALE_INS = 8
FAIL_RATE = 0.5


def test_scale_in_stops_only_unprotected_workers_and_loses_nothing(sqs: Any, project: Project) -> None:
    url = new_queue(sqs, "scale-in", VisibilityTimeout="30")
    bodies = [f"work-{i:03d}" for i in range(MESSAGES)]
    agents: list[FakeAgent] = []
    running: list[tuple[Worker, FakeAgent, threading.Thread, list[int], io.StringIO]] = []
    stopped: list[tuple[int, int, io.StringIO]] = []  # (exit code, messages held when stopped, log)

    def start() -> None:
        agent = FakeAgent(fail_rate=FAIL_RATE, seed=len(agents))
        agents.append(agent)
        log = io.StringIO()
        worker = in_process_worker(sqs, url, agent.uri, log=log, concurrency=2, drain_seconds=0.1)
        thread, code = run_in_thread(worker)
        running.append((worker, agent, thread, code, log))

    def feed() -> None:
        for first in range(0, MESSAGES, BURST):
            send(sqs, url, bodies[first:first + BURST])
            time.sleep(2.0)  # idle windows between bursts, in which tasks release protection and may be stopped

    feeder = threading.Thread(target=feed, daemon=True)
    try:
        for _ in range(3):
            start()
        feeder.start()
        deadline = time.monotonic() + 3 * LIMIT
        while len({e["body"] for e in project.entries("end")}) < MESSAGES:
            assert time.monotonic() < deadline, f"not drained: {len(project.entries('end'))} of {MESSAGES} handled"
            # ECS's choice: a task without protection.
            chosen = None
            if len(stopped) < SCALE_INS:
                chosen = next((entry for entry in running if events_of(entry[4], "started") and entry[1].stop_if_unprotected()), None)
            if chosen is not None:
                entry = chosen
                running.remove(entry)
                worker, _, thread, code, log = entry
                held = worker.held()
                worker.stop("scale-in")
                thread.join(LIMIT)
                stopped.append((code[0] if code else -1, held, log))
                start()
            time.sleep(0.05)
        for worker, _, thread, code, _ in running:
            worker.stop()
            thread.join(LIMIT)
            assert code == [0]
    finally:
        feeder.join(LIMIT)
        for agent in agents:
            agent.close()

    starts, ends = project.entries("start"), project.entries("end")
    handled = Counter(e["body"] for e in ends)
    cut = Counter(e["body"] for e in starts) - handled  # started and never finished
    faults = sum(1 for agent in agents for r in agent.requests if r["status"] == 500)
    holding = sum(1 for _, held, _ in stopped if held)
    released = sum(events_of(log, "stopped")[0]["released"] for _, _, log in stopped)
    figures = (
        f"{MESSAGES} messages in bursts of {BURST}, {len(agents)} workers, {len(stopped)} scale-ins ({holding} found the worker "
        f"holding a message; {released} given back), {faults} agent 5xx answers: handled {len(handled)}, "
        f"twice {sum(1 for n in handled.values() if n > 1)}, lost {MESSAGES - len(handled)}, cut off {sum(cut.values())}"
    )
    print(figures)
    assert len(stopped) == SCALE_INS and holding == 0, figures
    assert [code for code, _, _ in stopped] == [0] * SCALE_INS, figures
    assert set(handled) == set(bodies) and set(handled.values()) == {1}, figures
    assert not cut and faults > 0 and depth(sqs, url) == (0, 0), figures
