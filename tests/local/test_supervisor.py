"""The worker supervisor: each task a local process with the container's command and environment, the emulator's
endpoint and its own ECS_AGENT_URI; scale-in stops only unprotected tasks, with SIGTERM, then SIGKILL after the
stop timeout. Conditions are waited for (with a generous limit), never timed."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from constructs_sqs.local.supervisor import (
    ContainerSpec,
    WorkerSupervisor,
    local_command,
)
from constructs_sqs.local.task_protection import TaskProtectionEndpoint

WORKER = """
import json, os, signal, sys, time
def terminated(*_):
    open(f"terminated-{os.getpid()}", "w").close()
    sys.exit(0)
signal.signal(signal.SIGTERM, signal.SIG_IGN if os.environ.get("MODE") == "ignore-term" else terminated)
seen = {name: os.environ.get(name) for name in ("AWS_ENDPOINT_URL", "ECS_AGENT_URI", "MODE", "AWS_SECRET_ACCESS_KEY")}
seen["executable"] = sys.executable
seen["cwd"] = os.getcwd()
with open(f"ready-{os.getpid()}.tmp", "w") as out:
    json.dump(seen, out)
os.rename(f"ready-{os.getpid()}.tmp", f"ready-{os.getpid()}")
while True:
    time.sleep(0.05)
"""


def wait_for(condition, what, limit=60.0):
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting for {what} after {limit} s")
        time.sleep(0.05)


@pytest.fixture
def endpoint():
    served = TaskProtectionEndpoint()
    yield served
    served.close()


@pytest.fixture
def make_supervisor(tmp_path, endpoint):
    (tmp_path / "worker.py").write_text(WORKER)
    made = []

    def make(mode="", stop_timeout=30.0):
        supervisor = WorkerSupervisor(
            ContainerSpec("Worker", ("python3", "worker.py"), {"MODE": mode}, stop_timeout),
            project_dir=tmp_path,
            environment={"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_SECRET_ACCESS_KEY": "testing", "PATH": "/usr/bin:/bin"},
            endpoint=endpoint,
            log_dir=tmp_path / "logs",
            task_arn_prefix="arn:aws:ecs:us-east-1:123456789012:task/cluster",
        )
        made.append(supervisor)
        return supervisor

    yield make
    for supervisor in made:
        for worker in supervisor.workers:
            worker.process.kill()
            worker.process.wait()


def ready(project: Path, worker) -> dict | None:
    path = project / f"ready-{worker.pid}"
    return json.loads(path.read_text()) if path.exists() else None


def protect(uri: str, enabled: bool) -> None:
    body = json.dumps({"ProtectionEnabled": enabled, **({"ExpiresInMinutes": 5} if enabled else {})}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{uri}/task-protection/v1/state", data=body, method="PUT"), timeout=10).read()


def test_python_in_the_command_is_this_interpreter():
    assert local_command(["python", "-m", "worker"]) == [sys.executable, "-m", "worker"]
    assert local_command(["python3", "app.py"])[0] == sys.executable
    assert local_command(["/usr/bin/env", "python"]) == ["/usr/bin/env", "python"]
    with pytest.raises(ValueError, match="the container has no command or entry point: without Docker the image's own CMD is unknown"):
        local_command([])


def test_a_worker_runs_from_the_project_with_the_containers_environment_and_its_own_agent_uri(tmp_path, endpoint, make_supervisor):
    supervisor = make_supervisor(mode="plain")
    assert supervisor.scale_to(2) == (2, 0)
    first, second = supervisor.workers
    wait_for(lambda: ready(tmp_path, first) and ready(tmp_path, second), "both workers")
    seen = ready(tmp_path, first)
    assert seen["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"
    assert seen["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert seen["MODE"] == "plain"
    assert seen["executable"] == sys.executable
    assert seen["cwd"] == str(tmp_path)
    assert seen["ECS_AGENT_URI"] == f"{endpoint.base_url}/api/{first.task_id}"
    assert ready(tmp_path, second)["ECS_AGENT_URI"] == f"{endpoint.base_url}/api/{second.task_id}"
    assert supervisor.scale_to(2) == (0, 0), "already at the desired count"


def test_scale_in_stops_only_unprotected_workers(tmp_path, make_supervisor):
    supervisor = make_supervisor()
    supervisor.scale_to(3)
    wait_for(lambda: all(ready(tmp_path, w) for w in supervisor.workers), "three workers")
    holding = supervisor.workers[1:]
    for worker in holding:
        protect(ready(tmp_path, worker)["ECS_AGENT_URI"], True)
    idle = supervisor.workers[0]

    assert supervisor.scale_to(0, in_flight=7) == (0, 1), "only the unprotected worker is stopped"
    assert [stop.task_id for stop in supervisor.stops] == [idle.task_id]
    assert (supervisor.stops[0].others_protected, supervisor.stops[0].in_flight) == (2, 7)
    wait_for(lambda: (tmp_path / f"terminated-{idle.pid}").exists(), "SIGTERM to reach the idle worker")
    wait_for(lambda: (supervisor.reap(), idle not in supervisor.workers)[1], "the idle worker to be reaped")
    assert idle.exit_code == 0 and not idle.killed
    assert [w.task_id for w in supervisor.running()] == [w.task_id for w in holding]
    assert all(w.process.poll() is None for w in holding), "protected workers keep running"

    protect(ready(tmp_path, holding[0])["ECS_AGENT_URI"], False)
    assert supervisor.scale_to(0) == (0, 1), "a worker that released its protection is stopped next"
    assert supervisor.stops[-1].task_id == holding[0].task_id
    assert supervisor.stops[-1].others_protected == 1


def test_a_worker_that_ignores_sigterm_is_killed_after_the_stop_timeout(tmp_path, make_supervisor):
    supervisor = make_supervisor(mode="ignore-term", stop_timeout=0.5)
    supervisor.scale_to(1)
    (worker,) = supervisor.workers
    wait_for(lambda: ready(tmp_path, worker), "the worker")
    supervisor.scale_to(0)
    assert worker.stop_sent_at is not None and worker.process.poll() is None, "SIGTERM ignored: still running"
    wait_for(lambda: (supervisor.reap(), not supervisor.workers)[1], "the kill after the stop timeout")
    assert worker.killed
    assert worker.exit_code == -9
    assert not (tmp_path / f"terminated-{worker.pid}").exists()


def test_stop_all_terminates_every_worker(tmp_path, make_supervisor):
    supervisor = make_supervisor()
    supervisor.scale_to(2)
    wait_for(lambda: all(ready(tmp_path, w) for w in supervisor.workers), "two workers")
    pids = [w.pid for w in supervisor.workers]
    supervisor.stop_all()
    assert supervisor.workers == []
    assert sorted(w.pid for w in supervisor.exited) == sorted(pids)
    assert all(w.exit_code == 0 for w in supervisor.exited)
