"""Worker processes for one ECS service, started and stopped as the ECS scheduler starts and stops tasks.

Each task is a local process run from the project directory with the container's command (``python`` and
``python3`` resolved to this interpreter, so the project's venv runs it), the container's environment, the
emulator's endpoint, region and fake keys, and ``ECS_AGENT_URI`` pointing at the task's own scale-in protection
endpoint (:mod:`.task_protection`). :meth:`WorkerSupervisor.scale_to` does what ECS does when a service's desired
count changes: start tasks up to it; above it, stop only tasks without scale-in protection (a protected task keeps
running and is stopped later, once it releases its protection or the protection lapses): SIGTERM, then SIGKILL
once the container's ``stopTimeout`` has passed (30 s when the task definition sets none, as on Fargate).
Every process is stopped by its own ``Popen`` handle (constructs-sqs rule E4), never by name.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .task_protection import TaskProtectionEndpoint

DEFAULT_STOP_TIMEOUT_SECONDS = 30
"""ECS's stop timeout on Fargate when the container definition sets none."""
PYTHON_NAMES = ("python", "python3", f"python3.{sys.version_info.minor}")


@dataclass(frozen=True)
class ContainerSpec:
    """What the supervisor needs of a task definition's container."""

    name: str
    command: tuple[str, ...]
    environment: Mapping[str, str] = field(default_factory=dict)
    stop_timeout_seconds: float = DEFAULT_STOP_TIMEOUT_SECONDS


def local_command(command: Sequence[str]) -> list[str]:
    """The container's command as a local process: ``python``/``python3`` become this interpreter.

    Raises
    ------
    ValueError
        For an empty command (the image's own ``CMD`` is not known without Docker).
    """
    if not command:
        raise ValueError("the container has no command or entry point: without Docker the image's own CMD is unknown; set command=[...]")
    first = command[0]
    return [sys.executable if first in PYTHON_NAMES else first, *command[1:]]


@dataclass
class WorkerProcess:
    """One running (or stopping) task."""

    task_id: str
    task_arn: str
    process: subprocess.Popen[bytes]
    started_at: float
    log_path: Path
    stop_sent_at: float | None = None
    killed: bool = False
    exit_code: int | None = None

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass(frozen=True)
class StopEvent:
    """A task the supervisor stopped, and what held messages around it at that moment."""

    at: float
    task_id: str
    others_protected: int
    """Other running tasks holding scale-in protection (they hold messages) when this one was stopped."""
    in_flight: int | None = None
    """The queue's messages in flight (received, not deleted) at that moment, when the caller knows it."""


class WorkerSupervisor:
    """Starts and stops worker processes for one service.

    Parameters
    ----------
    container:
        The task definition's container.
    project_dir:
        The working directory of every worker (the project with the handler modules).
    environment:
        The variables every worker gets besides the container's (the emulator's endpoint, region, fake keys).
    endpoint:
        The task-protection endpoint that serves the workers' ``ECS_AGENT_URI``.
    log_dir:
        Where each worker's stdout and stderr go (``<task id>.log``).
    task_arn_prefix:
        ``arn:aws:ecs:<region>:<account>:task/<cluster>``: each task's ARN is this plus its id.
    clock:
        Monotonic time in seconds.
    """

    def __init__(
        self,
        container: ContainerSpec,
        *,
        project_dir: Path,
        environment: Mapping[str, str],
        endpoint: TaskProtectionEndpoint,
        log_dir: Path,
        task_arn_prefix: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.container = container
        self.command = local_command(container.command)
        self.project_dir = project_dir
        self.environment = dict(environment)
        self.endpoint = endpoint
        self.log_dir = log_dir
        self.task_arn_prefix = task_arn_prefix
        self.clock = clock
        self.workers: list[WorkerProcess] = []
        self.stops: list[StopEvent] = []
        self.exited: list[WorkerProcess] = []
        self.started = 0

    def running(self) -> list[WorkerProcess]:
        """Tasks that run and are not being stopped (ECS's running count)."""
        return [w for w in self.workers if w.stop_sent_at is None]

    def stopping(self) -> list[WorkerProcess]:
        return [w for w in self.workers if w.stop_sent_at is not None]

    def protected(self) -> list[WorkerProcess]:
        return [w for w in self.running() if self.endpoint.protected(w.task_id)]

    def start_one(self) -> WorkerProcess:
        """Start one task: its process, its protection endpoint, its log file."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        task_arn_tail = os.urandom(16).hex()
        task_id, agent_uri = self.endpoint.register(f"{self.task_arn_prefix}/{task_arn_tail}")
        env = {**self.environment, **self.container.environment, "ECS_AGENT_URI": agent_uri, "PYTHONUNBUFFERED": "1"}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', os.defpath)}"
        log_path = self.log_dir / f"{task_id}.log"
        log: IO[bytes] = log_path.open("wb")
        try:
            process = subprocess.Popen(self.command, cwd=self.project_dir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        worker = WorkerProcess(task_id, f"{self.task_arn_prefix}/{task_arn_tail}", process, self.clock(), log_path)
        self.workers.append(worker)
        self.started += 1
        return worker

    def scale_to(self, desired: int, *, in_flight: int | None = None) -> tuple[int, int]:
        """Start tasks up to ``desired`` running; above it, stop unprotected tasks, the most recently started first
        (ECS spreads stops across zones; locally there is one). Returns (started, stopped) in this call;
        ``in_flight`` (the queue's messages in flight now) is recorded with each stop."""
        self.reap()
        running = self.running()
        started = stopped = 0
        while len(running) + started < desired:
            self.start_one()
            started += 1
        excess = len(running) - desired
        for worker in sorted(running, key=lambda w: w.started_at, reverse=True):
            if excess <= 0:
                break
            if self.endpoint.claim_for_stop(worker.task_id):
                others = sum(1 for w in running if w is not worker and self.endpoint.protected(w.task_id))
                self._terminate(worker)
                self.stops.append(StopEvent(self.clock(), worker.task_id, others, in_flight))
                stopped += 1
                excess -= 1
        return started, stopped

    def _terminate(self, worker: WorkerProcess) -> None:
        worker.stop_sent_at = self.clock()
        if worker.process.poll() is None:
            worker.process.send_signal(signal.SIGTERM)

    def reap(self) -> list[WorkerProcess]:
        """Collect tasks that exited; SIGKILL those still alive after the stop timeout. Returns the newly exited."""
        now = self.clock()
        done = []
        for worker in list(self.workers):
            code = worker.process.poll()
            if code is None and worker.stop_sent_at is not None and now - worker.stop_sent_at >= self.container.stop_timeout_seconds:
                worker.process.kill()
                worker.killed = True
                code = worker.process.wait()
            if code is not None:
                worker.exit_code = code
                self.workers.remove(worker)
                self.exited.append(worker)
                self.endpoint.forget(worker.task_id)
                done.append(worker)
        return done

    def stop_all(self, *, wait: bool = True) -> None:
        """SIGTERM every task; with ``wait``, wait for each up to the stop timeout, then SIGKILL it."""
        for worker in self.workers:
            if worker.stop_sent_at is None:
                self._terminate(worker)
        deadline = self.clock() + self.container.stop_timeout_seconds
        while wait and self.workers:
            self.reap()
            if self.workers and self.clock() >= deadline:
                for worker in self.workers:
                    if worker.process.poll() is None:
                        worker.process.kill()
                        worker.killed = True
                    worker.process.wait()
                self.reap()
                break
            time.sleep(0.1)
