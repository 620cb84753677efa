"""TaskProtection: the ECS agent's task-protection endpoint, as the AWS docs and the agent's source shape it,
played by a fake agent (``FakeAgent``, shared with ``test_worker.py``) that can answer 5xx, hang or refuse."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from constructs_sqs_runtime import TaskProtection, TaskProtectionError
from constructs_sqs_runtime.task_protection import PATH


class FakeAgent:
    """The ECS agent's ``/task-protection/v1/state`` on 127.0.0.1.

    ``mode``: ``ok`` (200 and the protection state), ``5xx`` (500 and an ``error``), ``hang`` (answers after
    ``hang_seconds``), ``failure`` (200 and a ``failure``, as ECS's refusal of a standalone task), ``denied``
    (400 ``AccessDeniedException``), ``contrary`` (200 and the opposite of what was asked). ``requests`` records each request: method, path, content type, body, the
    answer given, and ``on_request()``'s value at that moment (the tests put the queue's depth there).
    """

    def __init__(self, port: int = 0, on_request: Callable[[], Any] | None = None, fail_rate: float = 0.0, seed: int = 0) -> None:
        self.mode = "ok"
        self.fail_rate = fail_rate  # in mode ok: this share of the requests answered 5xx
        self.random = random.Random(seed)
        self.hang_seconds = 2.0
        self.on_request = on_request
        self.requests: list[dict[str, Any]] = []
        self.protected = False
        self.stopping = False
        self.changed = threading.Condition()
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.answer(None)

            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.answer(json.loads(self.rfile.read(length) or b"null"))

            def answer(self, body: Any) -> None:
                mode = agent.mode
                if mode == "ok" and agent.fail_rate and agent.random.random() < agent.fail_rate:
                    mode = "5xx"
                seen = agent.on_request() if agent.on_request is not None else None
                if mode == "hang":
                    time.sleep(agent.hang_seconds)
                with agent.changed:  # the state and the record change together: what stop_if_unprotected() reads
                    if not self.path.endswith(PATH):
                        status, reply = 404, {"error": {"Code": "NotFound", "Message": self.path}}
                    elif mode in ("ok", "hang") and agent.stopping and body is not None and body["ProtectionEnabled"]:
                        # ECS chose this task for a scale-in before protection was asked for.
                        status, reply = 200, {"failure": {"Arn": "arn:aws:ecs:us-east-1:123456789012:task/local/0123", "Reason": "TASK_STOPPING", "Detail": None}}
                    elif mode in ("ok", "hang"):
                        if body is not None:
                            agent.protected = bool(body["ProtectionEnabled"])
                        status, reply = 200, {"protection": {"ProtectionEnabled": agent.protected, "ExpirationDate": "2026-12-08T03:00:00Z",
                                                             "TaskArn": "arn:aws:ecs:us-east-1:123456789012:task/local/0123"}}
                    elif mode == "contrary":
                        status, reply = 200, {"protection": {"ProtectionEnabled": not (body or {}).get("ProtectionEnabled", False)}}
                    elif mode == "5xx":
                        status, reply = 500, {"error": {"Code": "ServerException", "Message": "the agent could not reach ECS"}}
                    elif mode == "failure":
                        status, reply = 200, {"failure": {"Arn": "arn:aws:ecs:us-east-1:123456789012:task/local/0123", "Reason": "TASK_NOT_VALID", "Detail": None}}
                    else:
                        status, reply = 400, {"error": {"Code": "AccessDeniedException", "Message": "not authorized to perform ecs:UpdateTaskProtection"}}
                    agent.requests.append({"method": self.command, "path": self.path, "content_type": self.headers.get("Content-Type"),
                                           "body": body, "mode": mode, "status": status, "seen": seen, "at": time.monotonic()})
                    agent.changed.notify_all()
                data = json.dumps(reply).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up waiting (a timeout test)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.uri = f"http://127.0.0.1:{self.port}/api/0123"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop_if_unprotected(self) -> bool:
        """ECS's scale-in choice, made at one moment: True (and every later protect refused) when unprotected."""
        with self.changed:
            if not self.protected:
                self.stopping = True
            return self.stopping

    def bodies(self) -> list[Any]:
        with self.changed:
            return [r["body"] for r in self.requests if r["method"] == "PUT"]

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 60.0) -> list[dict[str, Any]]:
        """Wait until ``predicate(requests)``; fail the test if it does not happen within ``timeout`` (a safety net)."""
        with self.changed:
            if not self.changed.wait_for(lambda: predicate(self.requests), timeout):
                raise AssertionError(f"the agent did not see what was awaited; it saw {self.requests}")
            return list(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def agent() -> Iterator[FakeAgent]:
    fake = FakeAgent()
    yield fake
    fake.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_protect_and_unprotect_send_the_documented_bodies(agent: FakeAgent) -> None:
    client = TaskProtection(agent.uri, expires_in_minutes=45)
    state = client.protect()
    assert state.enabled and state.task_arn.endswith("/0123") and state.expiration_date == "2026-12-08T03:00:00Z"
    assert not client.unprotect().enabled
    assert client.state().enabled is False
    assert [(r["method"], r["path"], r["content_type"], r["body"]) for r in agent.requests] == [
        ("PUT", "/api/0123/task-protection/v1/state", "application/json", {"ProtectionEnabled": True, "ExpiresInMinutes": 45}),
        ("PUT", "/api/0123/task-protection/v1/state", "application/json", {"ProtectionEnabled": False}),
        ("GET", "/api/0123/task-protection/v1/state", None, None),
    ]


def test_a_5xx_is_retried_then_reported_with_the_agents_code(agent: FakeAgent) -> None:
    agent.mode = "5xx"
    client = TaskProtection(agent.uri, attempts=3, backoff=0.01)
    with pytest.raises(TaskProtectionError, match=r"HTTP 500 ServerException: the agent could not reach ECS \(after 3 requests\)") as caught:
        client.protect()
    assert caught.value.status == 500 and caught.value.retryable and len(agent.requests) == 3


def test_a_5xx_then_an_answer_is_a_success(agent: FakeAgent) -> None:
    agent.mode = "5xx"
    client = TaskProtection(agent.uri, attempts=3, backoff=0.01)

    def heal(_: Any = None) -> None:
        agent.wait_for(lambda requests: len(requests) >= 1)
        agent.mode = "ok"

    healer = threading.Thread(target=heal)
    healer.start()
    # The first request fails; the agent heals before the client's second or third one.
    state = client.protect()
    healer.join()
    assert state.enabled and [r["status"] for r in agent.requests][-1] == 200 and agent.requests[0]["status"] == 500


@pytest.mark.parametrize(
    ("mode", "match", "code"),
    [
        ("failure", r"ECS refused: TASK_NOT_VALID", "TASK_NOT_VALID"),
        ("denied", r"HTTP 400 AccessDeniedException: not authorized to perform ecs:UpdateTaskProtection", "AccessDeniedException"),
    ],
)
def test_a_refusal_is_not_retried(agent: FakeAgent, mode: str, match: str, code: str) -> None:
    agent.mode = mode
    with pytest.raises(TaskProtectionError, match=match) as caught:
        TaskProtection(agent.uri, attempts=3, backoff=0.01).protect()
    assert caught.value.code == code and not caught.value.retryable and len(agent.requests) == 1


def test_an_agent_that_does_not_answer_in_time_is_a_timeout(agent: FakeAgent) -> None:
    agent.mode, agent.hang_seconds = "hang", 1.0
    with pytest.raises(TaskProtectionError, match=r"no answer within 0\.2 s \(after 2 requests\)") as caught:
        TaskProtection(agent.uri, timeout=0.2, attempts=2, backoff=0.01).protect()
    assert caught.value.code == "timeout" and caught.value.status is None


def test_a_refused_connection_is_reported() -> None:
    uri = f"http://127.0.0.1:{free_port()}/api/0123"
    with pytest.raises(TaskProtectionError, match=r"PUT http://127\.0\.0\.1:\d+/api/0123/task-protection/v1/state: .*(refused|Connection)") as caught:
        TaskProtection(uri, attempts=2, backoff=0.01).protect()
    assert caught.value.code == "connection"


def test_an_answer_that_contradicts_the_request_is_not_a_success(agent: FakeAgent) -> None:
    agent.mode = "contrary"
    with pytest.raises(TaskProtectionError, match=r"answered ProtectionEnabled False, asked for True") as caught:
        TaskProtection(agent.uri).protect()
    assert caught.value.code == "mismatch"


def test_from_environment_is_none_off_ecs_and_options_are_checked() -> None:
    assert TaskProtection.from_environment({}) is None
    assert TaskProtection.from_environment({"ECS_AGENT_URI": "http://169.254.170.2/api/abc"}).url == "http://169.254.170.2/api/abc/task-protection/v1/state"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match=r"expires_in_minutes must be a whole number between 1 and 2880, got 0; attempts must be a whole number between 1 and 10, got 11"):
        TaskProtection("http://169.254.170.2/api/abc", expires_in_minutes=0, attempts=11)
    with pytest.raises(ValueError, match=r"agent_uri must be the http\(s\) URL of ECS_AGENT_URI, got '169.254.170.2'"):
        TaskProtection("169.254.170.2")
