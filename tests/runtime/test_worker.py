"""python -m constructs_sqs_runtime.worker against the emulator (a moto server over HTTP, started for this module
as tests/integration's fixture starts it) and a fake ECS agent: protection set, renewed and released with the
documented bodies; nothing received while the agent fails, and receiving again once it answers; SIGTERM,
a second signal and SIGKILL in the middle of a job; FIFO order across workers; bad options refused before any
receive. Every wait has a generous limit that only stops a broken test; no assertion is about time."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from runtime_helpers import count_requests
from test_worker_protection import FakeAgent, free_port

from constructs_sqs.local import Emulator, find_free_port
from constructs_sqs_runtime import TaskProtection
from constructs_sqs_runtime.worker import JsonLog, Worker, WorkerConfig

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 90.0
"""Seconds after which a wait gives up and fails the test (never reached when the worker works)."""

HANDLER = '''
import json, os, pathlib, time

NOT_CALLABLE = 42


def write(entry):
    with open(os.environ["LEDGER"], "a") as ledger:  # one short line per write, appended: the lines of several processes do not mix
        ledger.write(json.dumps(entry) + "\\n")


def handle(message):
    write({"event": "start", "body": message.body, "group": message.group_id, "pid": os.getpid()})
    if message.body.startswith("work"):
        time.sleep(0.3)  # longer than the scale-in drill's drain
    if message.body.startswith("block"):
        while not (pathlib.Path(os.environ["GATES"]) / message.body).exists():  # the test opens the gate when it wants the job to finish
            time.sleep(0.02)
    write({"event": "end", "body": message.body, "group": message.group_id, "pid": os.getpid()})
'''


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    server = Emulator(find_free_port(), state_dir=tmp_path_factory.mktemp("worker-emulator"), exit_with_parent=True)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def sqs(emulator: Emulator) -> Any:
    return emulator.client("sqs")


@pytest.fixture
def agent() -> Iterator[FakeAgent]:
    fake = FakeAgent()
    yield fake
    fake.close()


class Project:
    """A user's project directory with the ledger handler, its ledger and its gates."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "jobs.py").write_text(textwrap.dedent(HANDLER))
        self.ledger = root / "ledger.jsonl"
        self.gates = root / "gates"
        self.gates.mkdir()

    def entries(self, event: str | None = None) -> list[dict[str, Any]]:
        if not self.ledger.exists():
            return []
        rows = [json.loads(line) for line in self.ledger.read_text().splitlines() if line.strip()]
        return [row for row in rows if event is None or row["event"] == event]

    def open_gate(self, body: str) -> None:
        (self.gates / body).touch()

    def wait_for(self, predicate: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + LIMIT
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting for {what}; ledger: {self.entries()}")
            time.sleep(0.05)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.syspath_prepend(str(tmp_path))
    project = Project(tmp_path)
    monkeypatch.setenv("LEDGER", str(project.ledger))  # for the workers that run in this process
    monkeypatch.setenv("GATES", str(project.gates))
    return project


def new_queue(sqs: Any, prefix: str, *, fifo: bool = False, **attributes: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}" + (".fifo" if fifo else "")
    attrs = {**attributes, **({"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {})}
    return str(sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"])


def send(sqs: Any, url: str, bodies: list[str], group: Callable[[str], str] | None = None) -> None:
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body, **({"MessageGroupId": group(body)} if group else {}))


def depth(sqs: Any, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


class WorkerProcess:
    """``python -m constructs_sqs_runtime.worker`` in the project directory, its JSON lines collected."""

    def __init__(self, emulator: Emulator, project: Project, queue_url: str, agent_uri: str | None, **variables: str) -> None:
        env = emulator.environment()
        env.pop("ECS_AGENT_URI", None)
        env.update({
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(project.root)]),
            "LEDGER": str(project.ledger),
            "GATES": str(project.gates),
            "CONSTRUCTS_SQS_QUEUE_URL": queue_url,
            "CONSTRUCTS_SQS_HANDLER": "jobs:handle",
            **variables,
        })
        if agent_uri is not None:
            env["ECS_AGENT_URI"] = agent_uri
        self.process = subprocess.Popen(
            [sys.executable, "-m", "constructs_sqs_runtime.worker"], cwd=project.root, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.events: list[dict[str, Any]] = []
        self.stderr = ""
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.events.append(json.loads(line))
                self._changed.notify_all()

    def wait_event(self, name: str, predicate: Callable[[dict[str, Any]], bool] = lambda e: True) -> dict[str, Any]:
        with self._changed:
            found: list[dict[str, Any]] = []

            def seen() -> bool:
                found[:] = [e for e in self.events if e["event"] == name and predicate(e)]
                return bool(found) or self.process.poll() is not None

            self._changed.wait_for(seen, LIMIT)
            if not found:
                raise AssertionError(f"the worker did not log {name!r}; it logged {self.events}")
            return found[0]

    def named(self, name: str) -> list[dict[str, Any]]:
        with self._changed:
            return [e for e in self.events if e["event"] == name]

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self) -> int:
        code = self.process.wait(LIMIT)
        self._reader.join(10)
        assert self.process.stderr is not None
        self.stderr = self.process.stderr.read()
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def workers() -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:  # a failing test leaves no process behind
        worker.kill()


# --- bad options: exit 2 before any receive ---------------------------------------------------------------

BAD_OPTIONS = [
    ({"CONSTRUCTS_SQS_CONCURRENCY": "0"}, r"CONSTRUCTS_SQS_CONCURRENCY must be a whole number between 1 and 1,000, got '0'"),
    ({"CONSTRUCTS_SQS_CONCURRENCY": "four"}, r"CONSTRUCTS_SQS_CONCURRENCY must be a whole number between 1 and 1,000, got 'four'"),
    ({"CONSTRUCTS_SQS_VISIBILITY_TIMEOUT": "43201"}, r"CONSTRUCTS_SQS_VISIBILITY_TIMEOUT must be a whole number between 1 and 43,200, got '43201'"),
    ({"CONSTRUCTS_SQS_DRAIN_SECONDS": "115"}, r"CONSTRUCTS_SQS_DRAIN_SECONDS must be a number of seconds between 0 and 110 .*Fargate's 120 s\), got '115'"),
    ({"CONSTRUCTS_SQS_TASK_PROTECTION": "maybe"}, r"CONSTRUCTS_SQS_TASK_PROTECTION must be true or false, got 'maybe'"),
    ({"CONSTRUCTS_SQS_PROTECTION_MINUTES": "2881"}, r"CONSTRUCTS_SQS_PROTECTION_MINUTES must be a whole number between 1 and 2,880, got '2881'"),
    ({"CONSTRUCTS_SQS_QUEUE_URL": "jobs"}, r"CONSTRUCTS_SQS_QUEUE_URL must be a queue URL such as https://.*, got 'jobs'"),
    ({"CONSTRUCTS_SQS_HANDLER": "jobs.handle"}, r"CONSTRUCTS_SQS_HANDLER must be module:function, such as handlers.jobs:handle, got 'jobs.handle'"),
    ({"CONSTRUCTS_SQS_HANDLER": "no_such_module:handle"}, r"CONSTRUCTS_SQS_HANDLER='no_such_module:handle': cannot import module 'no_such_module' from the working directory .* No module named 'no_such_module'"),
    ({"CONSTRUCTS_SQS_HANDLER": "jobs:handel"}, r"CONSTRUCTS_SQS_HANDLER='jobs:handel': 'jobs' has no attribute 'handel'|jobs has no attribute 'handel'"),
    ({"CONSTRUCTS_SQS_HANDLER": "jobs:NOT_CALLABLE"}, r"CONSTRUCTS_SQS_HANDLER='jobs:NOT_CALLABLE': NOT_CALLABLE is a int, not a function"),
]


@pytest.mark.parametrize(("variables", "message"), BAD_OPTIONS, ids=[next(iter(v)) + "=" + next(iter(v.values())) for v, _ in BAD_OPTIONS])
def test_a_bad_option_exits_2_naming_it_before_any_receive(emulator: Emulator, sqs: Any, project: Project, workers: list[WorkerProcess],
                                                           variables: dict[str, str], message: str) -> None:
    import re

    url = new_queue(sqs, "bad-options")
    send(sqs, url, ["untouched"])
    worker = WorkerProcess(emulator, project, url, None, **variables)
    workers.append(worker)
    assert worker.wait() == 2
    assert re.search(message, worker.stderr), worker.stderr
    errors = worker.named("error")
    assert len(errors) == 1 and re.search(message, errors[0]["error"]) and not worker.named("started")
    received = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert depth(sqs, url) == (1, 0) and project.entries() == []
    # Never received: a receive would have left a receive count behind.
    peek = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["ApproximateReceiveCount"], VisibilityTimeout=0)["Messages"][0]
    assert peek["Attributes"]["ApproximateReceiveCount"] == "1" and received["ApproximateNumberOfMessages"] == "1"


def test_every_problem_of_a_start_is_named_at_once(emulator: Emulator, sqs: Any, project: Project, workers: list[WorkerProcess]) -> None:
    worker = WorkerProcess(emulator, project, "", None, CONSTRUCTS_SQS_HANDLER="", CONSTRUCTS_SQS_CONCURRENCY="-1")
    workers.append(worker)
    assert worker.wait() == 2
    assert "CONSTRUCTS_SQS_QUEUE_URL (or --queue-url) is required" in worker.stderr
    assert "CONSTRUCTS_SQS_HANDLER (or --handler) is required" in worker.stderr
    assert "CONSTRUCTS_SQS_CONCURRENCY must be a whole number between 1 and 1,000, got '-1'" in worker.stderr


# --- protection: set, renewed, released ----------------------------------------------------------------


def run_in_thread(worker: Worker) -> tuple[threading.Thread, list[int]]:
    code: list[int] = []
    thread = threading.Thread(target=lambda: code.append(worker.run()), daemon=True)
    thread.start()
    return thread, code


def in_process_worker(sqs: Any, url: str, agent_uri: str, *, log: io.StringIO | None = None, timeout: float = 5.0,
                      concurrency: int = 1, drain_seconds: float = 30, **gate: float) -> Worker:
    sys.modules.pop("jobs", None)
    import jobs  # this test's project's handler module (the project fixture puts its directory on sys.path)

    config = WorkerConfig(queue_url=url, handler="jobs:handle", concurrency=concurrency, visibility_timeout=30, drain_seconds=drain_seconds,
                          protection_minutes=1)
    protection = TaskProtection(agent_uri, expires_in_minutes=1, timeout=timeout, attempts=2, backoff=0.05)
    options = {"idle_grace_seconds": 0.3, "idle_probe_seconds": 0.2, "retry_max_seconds": 0.5, **gate}
    return Worker(config, jobs.handle, protection=protection, client=sqs, log=JsonLog(log or io.StringIO()), wait_time_seconds=1, **options)


def events_of(log: io.StringIO, name: str | None = None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in log.getvalue().splitlines()]
    return [row for row in rows if name is None or row["event"] == name]


def wait_until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + LIMIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def test_protection_is_set_before_the_first_receive_renewed_while_a_job_runs_and_released_when_idle(
    sqs: Any, project: Project, agent: FakeAgent
) -> None:
    url = new_queue(sqs, "renewed")
    log = io.StringIO()
    requests = count_requests(sqs)
    agent.on_request = lambda: requests["ReceiveMessage"]  # receives sent when the agent was asked
    worker = in_process_worker(sqs, url, agent.uri, log=log, renew_after_seconds=0.5)
    thread, code = run_in_thread(worker)
    wait_until(lambda: requests["GetQueueAttributes"] >= 3, "idle probes")
    assert agent.requests == [] and requests["ReceiveMessage"] == 0  # idle with an empty queue: unprotected, not receiving
    send(sqs, url, ["block-long-job"])
    project.wait_for(lambda: project.entries("start"), "the job to start")
    agent.wait_for(lambda r: len(r) >= 3)  # the protect, then renewals while the job runs
    project.open_gate("block-long-job")
    agent.wait_for(lambda r: r[-1]["body"] == {"ProtectionEnabled": False})
    worker.stop()
    thread.join(LIMIT)
    assert code == [0]
    bodies = agent.bodies()
    assert bodies[0] == {"ProtectionEnabled": True, "ExpiresInMinutes": 1} and bodies[-1] == {"ProtectionEnabled": False}
    assert set(map(json.dumps, bodies[1:-1])) == {json.dumps({"ProtectionEnabled": True, "ExpiresInMinutes": 1})} and len(bodies) >= 4
    assert all(r["method"] == "PUT" and r["path"] == "/api/0123/task-protection/v1/state" and r["content_type"] == "application/json"
               for r in agent.requests)
    assert agent.requests[0]["seen"] == 0  # protection was asked for before the first receive went out
    assert [e["event"] for e in events_of(log) if e["event"].startswith("protection")] == (
        ["protection_on"] + ["protection_renewed"] * (len(bodies) - 2) + ["protection_off"]
    )
    assert events_of(log, "protection_off")[0]["reason"] == "idle" and events_of(log, "stopped")[0]["deleted"] == 1
    assert depth(sqs, url) == (0, 0)


@pytest.mark.parametrize("fault", ["5xx", "timeout", "refused"])
def test_nothing_is_received_while_protection_cannot_be_set_and_receiving_resumes_when_it_can(
    sqs: Any, project: Project, fault: str
) -> None:
    url = new_queue(sqs, f"agent-{fault}")
    port = free_port()
    agent = None if fault == "refused" else FakeAgent(port)
    if agent is not None:
        agent.mode, agent.hang_seconds = ("5xx" if fault == "5xx" else "hang"), 1.0
    log = io.StringIO()
    requests = count_requests(sqs)
    send(sqs, url, [f"m{i}" for i in range(5)])
    worker = in_process_worker(sqs, url, f"http://127.0.0.1:{port}/api/0123", log=log, timeout=0.3)
    thread, code = run_in_thread(worker)
    try:
        wait_until(lambda: len(events_of(log, "protection_failed")) >= 3, "three failed attempts to set protection")
        # Messages waited the whole time, and not one receive went out.
        assert requests["ReceiveMessage"] == 0 and worker.consumer.result.received == 0 and depth(sqs, url) == (5, 0)
        assert {e["code"] for e in events_of(log, "protection_failed")} == {{"5xx": "ServerException", "timeout": "timeout", "refused": "connection"}[fault]}
        if agent is None:
            agent = FakeAgent(port)  # the agent comes up on its port
        agent.mode = "ok"
        project.wait_for(lambda: len(project.entries("end")) == 5, "the five messages handled")
    finally:
        worker.stop()
        thread.join(LIMIT)
        if agent is not None:
            agent.close()
    assert code == [0] and depth(sqs, url) == (0, 0)
    assert Counter(e["body"] for e in project.entries("end")) == Counter(f"m{i}" for i in range(5))
    first_success = next(i for i, r in enumerate(agent.requests) if r["status"] == 200)
    assert agent.requests[first_success]["body"] == {"ProtectionEnabled": True, "ExpiresInMinutes": 1}
    on = events_of(log, "protection_on")
    assert len(on) >= 1 and requests["ReceiveMessage"] >= 1


def test_a_renewal_that_fails_stops_new_receives_until_it_succeeds(sqs: Any, project: Project, agent: FakeAgent) -> None:
    url = new_queue(sqs, "renewal-fails")
    log = io.StringIO()
    requests = count_requests(sqs)
    worker = in_process_worker(sqs, url, agent.uri, log=log, renew_after_seconds=0.4)
    send(sqs, url, ["block-first"])
    thread, code = run_in_thread(worker)
    try:
        project.wait_for(lambda: project.entries("start"), "the first job to start")
        agent.mode = "5xx"
        wait_until(lambda: len(events_of(log, "protection_failed")) >= 2, "two failed renewals")
        receives_before = requests["ReceiveMessage"]
        send(sqs, url, ["later-1", "later-2", "later-3"])
        wait_until(lambda: len(events_of(log, "protection_failed")) >= 4, "two more failed renewals")
        # The job goes on; the new messages wait: no receive went out since the renewal failed.
        assert requests["ReceiveMessage"] == receives_before and depth(sqs, url) == (3, 1)
        assert {e["action"] for e in events_of(log, "protection_failed")} == {"renew"}
        agent.mode = "ok"
        wait_until(lambda: bool(events_of(log, "protection_renewed")), "a renewal that succeeds")
        project.open_gate("block-first")
        project.wait_for(lambda: len(project.entries("end")) == 4, "all four handled")
    finally:
        worker.stop()
        thread.join(LIMIT)
    assert code == [0] and depth(sqs, url) == (0, 0) and Counter(e["body"] for e in project.entries("end")) == Counter(
        ["block-first", "later-1", "later-2", "later-3"])


# --- signals --------------------------------------------------------------------------------------------


def test_sigterm_mid_job_finishes_the_job_takes_no_other_releases_protection_and_exits_0(
    emulator: Emulator, sqs: Any, project: Project, agent: FakeAgent, workers: list[WorkerProcess]
) -> None:
    url = new_queue(sqs, "sigterm", VisibilityTimeout="60")
    bodies = [f"block-{i}" for i in range(5)]
    send(sqs, url, bodies)
    worker = WorkerProcess(emulator, project, url, agent.uri, CONSTRUCTS_SQS_DRAIN_SECONDS="60")
    workers.append(worker)
    project.wait_for(lambda: project.entries("start"), "a job to start")
    worker.wait_event("protection_on")
    running = project.entries("start")[0]["body"]
    worker.signal(signal.SIGTERM)
    stopping = worker.wait_event("stopping")
    project.open_gate(running)  # the job finishes after the signal
    assert worker.wait() == 0, worker.stderr
    assert [e["body"] for e in project.entries("end")] == [running] and len(project.entries("start")) == 1
    stopped = worker.wait_event("stopped")
    # One handler thread: the worker held only the message it was handling (no prefetch), nothing to give back.
    assert stopping["held"] == 1 and stopped["deleted"] == 1 and stopped["released"] == 0 and stopped["exit_code"] == 0
    assert worker.named("drained") and worker.named("protection_off")[0]["reason"] == "stopping"
    assert agent.bodies()[-1] == {"ProtectionEnabled": False}
    # The four not started were never taken; the finished one is gone: none lost, none deleted unhandled.
    assert depth(sqs, url) == (4, 0)


def test_a_second_signal_stops_at_once_and_deletes_nothing_unhandled(
    emulator: Emulator, sqs: Any, project: Project, agent: FakeAgent, workers: list[WorkerProcess]
) -> None:
    url = new_queue(sqs, "second-signal", VisibilityTimeout="60")
    send(sqs, url, [f"block-{i}" for i in range(3)])
    worker = WorkerProcess(emulator, project, url, agent.uri, CONSTRUCTS_SQS_DRAIN_SECONDS="60")
    workers.append(worker)
    project.wait_for(lambda: project.entries("start"), "a job to start")
    worker.signal(signal.SIGTERM)
    worker.wait_event("stopping")
    worker.signal(signal.SIGTERM)
    assert worker.wait() == 128 + signal.SIGTERM
    assert project.entries("end") == [] and worker.named("stopped")[0]["deleted"] == 0
    visible, in_flight = depth(sqs, url)
    assert visible + in_flight == 3  # every message is still in the queue


def test_sigkill_mid_job_the_message_comes_back_and_another_worker_handles_it(
    emulator: Emulator, sqs: Any, project: Project, agent: FakeAgent, workers: list[WorkerProcess]
) -> None:
    url = new_queue(sqs, "sigkill", VisibilityTimeout="2")
    send(sqs, url, ["block-job"])
    first = WorkerProcess(emulator, project, url, agent.uri, CONSTRUCTS_SQS_VISIBILITY_TIMEOUT="2")
    workers.append(first)
    project.wait_for(lambda: project.entries("start"), "the job to start")
    first.signal(signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL
    project.open_gate("block-job")
    second = WorkerProcess(emulator, project, url, agent.uri, CONSTRUCTS_SQS_VISIBILITY_TIMEOUT="2")
    workers.append(second)
    project.wait_for(lambda: project.entries("end"), "the job to be handled again")
    second.wait_event("protection_off")  # it held the job, deleted it, and went idle
    second.signal(signal.SIGTERM)
    assert second.wait() == 0
    starts, ends = project.entries("start"), project.entries("end")
    assert [s["pid"] for s in starts] == [first.process.pid, second.process.pid] and [e["pid"] for e in ends] == [second.process.pid]
    assert second.named("stopped")[0]["deleted"] == 1 and depth(sqs, url) == (0, 0)


def test_fifo_groups_keep_their_order_across_a_stopped_worker_and_the_next(
    emulator: Emulator, sqs: Any, project: Project, agent: FakeAgent, workers: list[WorkerProcess]
) -> None:
    url = new_queue(sqs, "order", fifo=True, VisibilityTimeout="30")
    bodies = [f"{group}-{i:02d}" for i in range(15) for group in "abc"]
    send(sqs, url, bodies, group=lambda body: body.split("-")[0])
    first = WorkerProcess(emulator, project, url, agent.uri, CONSTRUCTS_SQS_CONCURRENCY="3")
    workers.append(first)
    project.wait_for(lambda: len(project.entries("end")) >= 10, "ten messages handled")
    first.signal(signal.SIGTERM)
    assert first.wait() == 0
    second = WorkerProcess(emulator, project, url, agent.uri, CONSTRUCTS_SQS_CONCURRENCY="3")
    workers.append(second)
    project.wait_for(lambda: len(project.entries("end")) >= 45, "all 45 handled")
    second.signal(signal.SIGTERM)
    assert second.wait() == 0
    ends = project.entries("end")
    assert Counter(e["body"] for e in ends) == Counter(bodies)  # each once
    for group in "abc":
        sequence = [int(e["body"].split("-")[1]) for e in ends if e["group"] == group]
        assert sequence == list(range(15)), (group, sequence)
    assert {e["pid"] for e in ends} == {first.process.pid, second.process.pid} and depth(sqs, url) == (0, 0)


def test_off_ecs_the_worker_says_so_and_runs_without_protection(
    emulator: Emulator, sqs: Any, project: Project, workers: list[WorkerProcess]
) -> None:
    url = new_queue(sqs, "off-ecs")
    send(sqs, url, ["one", "two"])
    worker = WorkerProcess(emulator, project, url, None)
    workers.append(worker)
    project.wait_for(lambda: len(project.entries("end")) == 2, "both handled")
    worker.signal(signal.SIGINT)
    assert worker.wait() == 0
    assert len(worker.named("protection_unavailable")) == 1 and worker.named("started")[0]["task_protection"] is False
    assert not worker.named("protection_on") and worker.named("stopped")[0]["deleted"] == 2
