"""ECS task scale-in protection through the ECS agent's endpoint, on the standard library alone.

An ECS task's containers get ``ECS_AGENT_URI``; ``PUT ${ECS_AGENT_URI}/task-protection/v1/state`` with
``{"ProtectionEnabled": true, "ExpiresInMinutes": N}`` keeps service auto scaling and deployments from
stopping the task for N minutes (1-2,880; ECS's default is 120), and ``{"ProtectionEnabled": false}`` lets
them again. The agent answers ``{"protection": {"ProtectionEnabled": ..., "ExpirationDate": ..., "TaskArn": ...}}``
when ECS took the change, ``{"failure": {"Arn", "Reason", "Detail"}}`` when ECS refused it (a standalone task:
``TASK_NOT_VALID``) and ``{"error": {"Code", "Message"}}`` with a 4xx or 5xx status when the request or the
agent's own call to ECS failed (``AccessDeniedException`` when the task role lacks
``ecs:UpdateTaskProtection``). The agent gives ECS 4 seconds, so each request here waits 5.

Example
-------
::

    from constructs_sqs_runtime import TaskProtection

    protection = TaskProtection.from_environment(expires_in_minutes=30)   # None when not on ECS
    if protection is not None:
        protection.protect()        # raises TaskProtectionError when it cannot be confirmed
        try:
            transcode()
        finally:
            protection.unprotect()
"""

from __future__ import annotations

import json
import os
import random
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ProtectionState", "TaskProtection", "TaskProtectionError"]

PATH = "/task-protection/v1/state"
MAX_EXPIRES_IN_MINUTES = 2_880
"""ECS's maximum protection period (48 hours)."""


class TaskProtectionError(RuntimeError):
    """Protection could not be set or confirmed: the message says what the agent answered, or why it did not.

    Attributes
    ----------
    status:
        The HTTP status, or None when no answer came (refused connection, timeout).
    code:
        The agent's ``error.Code`` or ``failure.Reason``, or the kind of transport failure (``timeout``,
        ``connection``); empty when unknown.
    retryable:
        Whether asking again may help: no answer, a 5xx or 429, a throttle; not a refusal such as
        ``TASK_NOT_VALID`` or ``AccessDeniedException``.
    """

    def __init__(self, message: str, *, status: int | None = None, code: str = "", retryable: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retryable = retryable


@dataclass(frozen=True)
class ProtectionState:
    """What the agent confirmed.

    Attributes
    ----------
    enabled:
        Whether the task is protected.
    expiration_date:
        When the protection lapses, as the agent wrote it (empty when it did not say).
    task_arn:
        The task's ARN, when the agent said.
    """

    enabled: bool
    expiration_date: str = ""
    task_arn: str = ""


Opener = Callable[..., Any]


class TaskProtection:
    """A client of the ECS agent's task scale-in protection endpoint.

    Parameters
    ----------
    agent_uri:
        The value of ``ECS_AGENT_URI`` (``http://169.254.170.2/api/<task id>`` on ECS).
    expires_in_minutes:
        ``ExpiresInMinutes`` of each :meth:`protect`, 1-2,880. Default: 30.
    timeout:
        Seconds to wait for each answer. Default: 5.0 (the agent gives its own call to ECS 4 s).
    attempts:
        Requests per call when the answer is missing, a 5xx or a 429, 1-10. Default: 3.
    backoff:
        Seconds: before retry n the client waits a random time up to ``backoff * 2 ** (n - 1)``. Default: 0.5.

    Raises
    ------
    ValueError
        When ``agent_uri`` is not an http(s) URL or an option is out of range (the message names it).
    """

    def __init__(
        self,
        agent_uri: str,
        *,
        expires_in_minutes: int = 30,
        timeout: float = 5.0,
        attempts: int = 3,
        backoff: float = 0.5,
        opener: Opener | None = None,
    ) -> None:
        problems = []
        if not isinstance(agent_uri, str) or not agent_uri.startswith(("http://", "https://")):
            problems.append(f"agent_uri must be the http(s) URL of ECS_AGENT_URI, got {agent_uri!r}")
        if isinstance(expires_in_minutes, bool) or not isinstance(expires_in_minutes, int) or not 1 <= expires_in_minutes <= MAX_EXPIRES_IN_MINUTES:
            problems.append(f"expires_in_minutes must be a whole number between 1 and {MAX_EXPIRES_IN_MINUTES}, got {expires_in_minutes!r}")
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
            problems.append(f"timeout must be a number of seconds > 0, got {timeout!r}")
        if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 10:
            problems.append(f"attempts must be a whole number between 1 and 10, got {attempts!r}")
        if not isinstance(backoff, (int, float)) or isinstance(backoff, bool) or backoff < 0:
            problems.append(f"backoff must be a number of seconds >= 0, got {backoff!r}")
        if problems:
            raise ValueError("; ".join(problems))
        self.url = agent_uri.rstrip("/") + PATH
        self.expires_in_minutes = expires_in_minutes
        self.timeout = float(timeout)
        self.attempts = attempts
        self.backoff = float(backoff)
        self._open: Opener = opener or urllib.request.urlopen

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, **options: Any) -> TaskProtection | None:
        """A client for ``ECS_AGENT_URI``, or None when it is not set (not on ECS). ``options``: as the constructor."""
        uri = (os.environ if environ is None else environ).get("ECS_AGENT_URI", "").strip()
        return cls(uri, **options) if uri else None

    def protect(self) -> ProtectionState:
        """``PUT {"ProtectionEnabled": true, "ExpiresInMinutes": expires_in_minutes}``: set or renew protection.

        Returns
        -------
        ProtectionState
            What the agent confirmed.

        Raises
        ------
        TaskProtectionError
            When the agent did not confirm protection after ``attempts`` requests, or refused it.
        """
        return self._put({"ProtectionEnabled": True, "ExpiresInMinutes": self.expires_in_minutes})

    def unprotect(self) -> ProtectionState:
        """``PUT {"ProtectionEnabled": false}``: let scale-in and deployments stop the task again.

        Raises
        ------
        TaskProtectionError
            As :meth:`protect`.
        """
        return self._put({"ProtectionEnabled": False})

    def state(self) -> ProtectionState:
        """``GET``: the task's protection as ECS has it.

        Raises
        ------
        TaskProtectionError
            As :meth:`protect`.
        """
        return self._request("GET", None, None)

    def _put(self, body: dict[str, Any]) -> ProtectionState:
        return self._request("PUT", body, bool(body["ProtectionEnabled"]))

    def _request(self, method: str, body: dict[str, Any] | None, wanted: bool | None) -> ProtectionState:
        data = json.dumps(body).encode() if body is not None else None
        last: TaskProtectionError | None = None
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                time.sleep(random.uniform(0, self.backoff * 2 ** (attempt - 2)))
            try:
                return self._once(method, data, wanted)
            except TaskProtectionError as error:
                last = error
                if not error.retryable:
                    raise
        assert last is not None
        raise TaskProtectionError(
            f"{last} (after {self.attempts} request{'s' if self.attempts > 1 else ''})", status=last.status, code=last.code, retryable=True
        ) from last

    def _once(self, method: str, data: bytes | None, wanted: bool | None) -> ProtectionState:
        request = urllib.request.Request(self.url, data=data, method=method, headers={"Content-Type": "application/json"} if data else {})
        what = f"{method} {self.url}"
        try:
            with self._open(request, timeout=self.timeout) as response:
                status, raw = int(response.status), response.read()
        except urllib.error.HTTPError as error:
            status, raw = int(error.code), error.read() or b""
        except (socket.timeout, TimeoutError) as error:
            raise TaskProtectionError(f"{what}: no answer within {self.timeout:g} s", code="timeout") from error
        except urllib.error.URLError as error:
            reason = error.reason
            kind = "timeout" if isinstance(reason, (socket.timeout, TimeoutError)) else "connection"
            raise TaskProtectionError(f"{what}: {reason}", code=kind) from error
        except OSError as error:  # a reset or a closed connection while reading
            raise TaskProtectionError(f"{what}: {error}", code="connection") from error
        return _parse(what, status, raw, wanted)


def _parse(what: str, status: int, raw: bytes, wanted: bool | None) -> ProtectionState:
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise TaskProtectionError(f"{what}: HTTP {status} with a body that is not a JSON object: {raw[:200]!r}", status=status, retryable=status >= 500)
    error, failure = answer.get("error"), answer.get("failure")
    if isinstance(error, dict) or status >= 300:
        code = str((error or {}).get("Code", "")) if isinstance(error, dict) else ""
        message = str((error or {}).get("Message", "")) if isinstance(error, dict) else raw[:200].decode(errors="replace")
        retryable = status >= 500 or status == 429 or "Throttl" in code or status < 300
        raise TaskProtectionError(f"{what}: HTTP {status} {code}: {message}".rstrip(": "), status=status, code=code, retryable=retryable)
    if isinstance(failure, dict):
        reason, detail = str(failure.get("Reason", "")), str(failure.get("Detail") or "")
        raise TaskProtectionError(f"{what}: ECS refused: {reason} {detail}".rstrip(), status=status, code=reason, retryable=False)
    protection = answer.get("protection")
    if isinstance(protection, dict):
        enabled = bool(protection.get("ProtectionEnabled"))
        if wanted is not None and enabled != wanted:
            raise TaskProtectionError(f"{what}: the agent answered ProtectionEnabled {enabled}, asked for {wanted}", status=status, code="mismatch")
        return ProtectionState(enabled, str(protection.get("ExpirationDate") or ""), str(protection.get("TaskArn") or ""))
    if wanted is None:
        raise TaskProtectionError(f"{what}: HTTP {status} without a protection state", status=status, code="malformed")
    # A 2xx without a body: the change was accepted, as an agent that does not echo it says.
    return ProtectionState(wanted)
