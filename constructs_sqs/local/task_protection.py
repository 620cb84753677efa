"""The ECS agent's task scale-in protection endpoint, served locally for each worker process.

On ECS the container agent injects ``ECS_AGENT_URI`` into every container; a task sets its own scale-in
protection with ``PUT ${ECS_AGENT_URI}/task-protection/v1/state`` and reads it with ``GET`` (Amazon ECS developer
guide, "Amazon ECS task scale-in protection endpoint"). The local runner serves one such endpoint per worker on
a single port (``ECS_AGENT_URI`` = ``http://127.0.0.1:<port>/api/<task id>``) and answers as the agent does:

- ``PUT`` with ``{"ProtectionEnabled": true, "ExpiresInMinutes": N}`` (N from 1 to 2,880, default 120) or
  ``{"ProtectionEnabled": false}``: 200 and ``{"protection": {"ProtectionEnabled": ..., "ExpirationDate": ...,
  "TaskArn": ...}}``;
- ``GET``: the same body with the current state (protection lapses at its expiration date);
- a body that is not JSON or lacks ``ProtectionEnabled``, or ``ExpiresInMinutes`` out of range: 400 and
  ``{"error": {"Code": "InvalidParameterException", "Message": ...}}``;
- a task that the scheduler is already stopping: 200 and ``{"failure": {"Arn": ..., "Reason": "TASK_NOT_VALID",
  "Detail": ...}}`` for a request to protect it (ECS refuses protection for a task that is not running), so a
  worker learns it must not take new messages.

Choosing a task to stop and refusing its protection afterwards happen under one lock
(:meth:`TaskProtectionEndpoint.claim_for_stop`): a worker is stopped only if it was unprotected at that moment.
Only the standard library is imported here.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = "/task-protection/v1/state"
DEFAULT_EXPIRES_IN_MINUTES = 120
"""What ECS applies when ``ExpiresInMinutes`` is absent."""
MAX_EXPIRES_IN_MINUTES = 2880


@dataclass
class TaskState:
    """One task's protection as the endpoint holds it."""

    task_arn: str
    protected_until: float | None = None
    """Wall-clock time (``time.time()``) when protection lapses; None when off."""
    stopping: bool = False
    requests: int = 0

    def protected(self, now: float) -> bool:
        return self.protected_until is not None and now < self.protected_until

    def body(self, now: float) -> dict[str, Any]:
        protection: dict[str, Any] = {"ProtectionEnabled": self.protected(now), "TaskArn": self.task_arn}
        if self.protected(now) and self.protected_until is not None:
            protection["ExpirationDate"] = datetime.fromtimestamp(self.protected_until, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"protection": protection}


class TaskProtectionEndpoint:
    """One local HTTP server playing the agent endpoint for every registered task.

    Parameters
    ----------
    clock:
        Wall-clock time in seconds (tests pass their own).
    """

    def __init__(self, *, host: str = "127.0.0.1", clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.tasks: dict[str, TaskState] = {}
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                endpoint._answer(self, None)

            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                endpoint._answer(self, self.rfile.read(length) if length else b"")

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="task-protection", daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def register(self, task_arn: str) -> tuple[str, str]:
        """A new task: its id and the ``ECS_AGENT_URI`` to give its container."""
        task_id = uuid.uuid4().hex
        with self.lock:
            self.tasks[task_id] = TaskState(task_arn)
        return task_id, f"{self.base_url}/api/{task_id}"

    def forget(self, task_id: str) -> None:
        with self.lock:
            self.tasks.pop(task_id, None)

    def protected(self, task_id: str) -> bool:
        with self.lock:
            state = self.tasks.get(task_id)
            return state is not None and state.protected(self.clock())

    def claim_for_stop(self, task_id: str) -> bool:
        """Mark the task as stopping if it is unprotected now; True when claimed (its protection is refused from now on)."""
        with self.lock:
            state = self.tasks.get(task_id)
            if state is None or state.stopping or state.protected(self.clock()):
                return False
            state.stopping = True
            return True

    def _answer(self, request: BaseHTTPRequestHandler, body: bytes | None) -> None:
        status, payload = self.handle(request.path, body)
        data = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def handle(self, path: str, body: bytes | None) -> tuple[int, dict[str, Any]]:
        """The status and JSON body for a GET (``body`` None) or PUT on ``path``."""
        prefix, _, rest = path.partition("/api/")
        task_id, _, suffix = rest.partition("/")
        if prefix or f"/{suffix}" != PATH:
            return HTTPStatus.NOT_FOUND, {"error": {"Code": "NotFound", "Message": f"no endpoint {path}"}}
        with self.lock:
            state = self.tasks.get(task_id)
            if state is None:
                return HTTPStatus.NOT_FOUND, {"error": {"Code": "ResourceNotFoundException", "Message": "unknown task"}}
            now = self.clock()
            if body is None:
                return HTTPStatus.OK, state.body(now)
            state.requests += 1
            try:
                request = json.loads(body or b"null")
            except ValueError:
                request = None
            enabled = request.get("ProtectionEnabled") if isinstance(request, dict) else None
            if not isinstance(enabled, bool):
                return HTTPStatus.BAD_REQUEST, _invalid(state, "Invalid request: does not contain 'ProtectionEnabled' Boolean field")
            minutes = request.get("ExpiresInMinutes", DEFAULT_EXPIRES_IN_MINUTES) if enabled else None
            if enabled and (isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_EXPIRES_IN_MINUTES):
                return HTTPStatus.BAD_REQUEST, _invalid(state, f"ExpiresInMinutes must be a whole number from 1 to {MAX_EXPIRES_IN_MINUTES}, got {minutes!r}")
            if enabled and state.stopping:
                return HTTPStatus.OK, {
                    "failure": {"Arn": state.task_arn, "Reason": "TASK_NOT_VALID", "Detail": "The task is being stopped by a scale-in"}
                }
            state.protected_until = now + 60 * minutes if enabled and minutes is not None else None
            return HTTPStatus.OK, state.body(now)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _invalid(state: TaskState, message: str) -> dict[str, Any]:
    return {"error": {"Arn": state.task_arn, "Code": "InvalidParameterException", "Message": message}}
