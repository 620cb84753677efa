"""The queue worker of an ECS task: ``python -m constructs_sqs_runtime.worker``.

It runs :class:`~constructs_sqs_runtime.Consumer` on one queue with the user's handler (``module:function``),
keeps ECS task scale-in protection on while it holds messages, drains on SIGTERM, and writes one JSON line
per event on stdout. Every option comes from a flag or from the environment that ``QueueWorkerService`` sets:

============================================  ==================  ===========================================
variable (flag)                               default             what
============================================  ==================  ===========================================
``CONSTRUCTS_SQS_QUEUE_URL`` (``--queue-url``)  required            the queue to consume
``CONSTRUCTS_SQS_HANDLER`` (``--handler``)      required            ``module:function``, called with each message
``CONSTRUCTS_SQS_CONCURRENCY``                  1                   handler threads, 1-1,000
``CONSTRUCTS_SQS_VISIBILITY_TIMEOUT``           the queue's         seconds, 1-43,200
``CONSTRUCTS_SQS_DRAIN_SECONDS``                20                  after SIGTERM, 0-110
``CONSTRUCTS_SQS_TASK_PROTECTION``              true                ECS task scale-in protection while holding
``CONSTRUCTS_SQS_PROTECTION_MINUTES``           30                  ``ExpiresInMinutes``, 1-2,880
============================================  ==================  ===========================================

The protocol (docs/runtime/worker.md has it in full): the worker receives only while the agent has confirmed
protection. Idle and unprotected, it asks the queue for its visible count (``GetQueueAttributes``) every
:data:`IDLE_PROBE_SECONDS`; when messages wait, it sets protection, then receives. It renews protection at
half of ``ExpiresInMinutes`` while protected, and releases it once it has held nothing for
:data:`IDLE_GRACE_SECONDS` and no receive is out. When protection cannot be set or renewed, it receives
nothing new until it can. Exit codes: 0 stopped and drained; 1 a queue error, or handlers still running when
the drain time ran out; 2 a bad option or a handler that cannot be imported (before any receive);
128 + the signal's number on a second signal.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import math
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import IO, Any

from .task_protection import MAX_EXPIRES_IN_MINUTES, TaskProtection, TaskProtectionError

__all__ = ["ConfigError", "ProtectionGate", "Worker", "WorkerConfig", "load_handler", "main", "parse_config"]

ENVIRONMENT = {
    "queue_url": "CONSTRUCTS_SQS_QUEUE_URL",
    "handler": "CONSTRUCTS_SQS_HANDLER",
    "concurrency": "CONSTRUCTS_SQS_CONCURRENCY",
    "visibility_timeout": "CONSTRUCTS_SQS_VISIBILITY_TIMEOUT",
    "drain_seconds": "CONSTRUCTS_SQS_DRAIN_SECONDS",
    "task_protection": "CONSTRUCTS_SQS_TASK_PROTECTION",
    "protection_minutes": "CONSTRUCTS_SQS_PROTECTION_MINUTES",
}
"""Each option's environment variable; the flag is ``--`` and the option with dashes."""

DEFAULT_CONCURRENCY = 1
DEFAULT_DRAIN_SECONDS = 20.0
"""ECS's default stop timeout is 30 s: 20 s of drain plus 10 s to give back, release and exit fit in it."""
MAX_DRAIN_SECONDS = 110.0
"""The container's stop timeout (drain + 10 s) must stay within 120 s, Fargate's maximum."""
DEFAULT_PROTECTION_MINUTES = 30
"""Renewed every 15 minutes while held; if the agent stops answering, protection lapses at most 30 minutes later."""
IDLE_GRACE_SECONDS = 5.0
"""Protection stays on this long after the last message is done, so that a steady stream does not flap it."""
IDLE_PROBE_SECONDS = 2.0
"""Idle and unprotected, the worker asks the queue's visible count this often (0.5 requests a second)."""
RETRY_MAX_SECONDS = 10.0
"""A protection request that failed is tried again after 1, 2, 4 ... seconds, at most this long."""
WAIT_TIME_SECONDS = 10
"""The receives' long polling: a stop waits for the receives out, so the 10 s beyond the drain in the container's
stop timeout cover them; an idle protected worker makes one receive per poller every 10 s."""
EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}
_HINTS = {
    "TASK_NOT_VALID": "ECS protects only tasks of a service: for a task started on its own, set CONSTRUCTS_SQS_TASK_PROTECTION=false",
    "AccessDeniedException": "the task role needs ecs:UpdateTaskProtection on this task",
}


class ConfigError(ValueError):
    """A bad option or handler: the message names the variable (or flag), the value and what is valid."""


@dataclass(frozen=True)
class WorkerConfig:
    """The worker's options, checked (see the module's table).

    Attributes
    ----------
    queue_url, handler, concurrency, visibility_timeout, drain_seconds, task_protection, protection_minutes:
        As the environment variables of the same names say.
    """

    queue_url: str
    handler: str
    concurrency: int = DEFAULT_CONCURRENCY
    visibility_timeout: int | None = None
    drain_seconds: float = DEFAULT_DRAIN_SECONDS
    task_protection: bool = True
    protection_minutes: int = DEFAULT_PROTECTION_MINUTES


def parse_config(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> WorkerConfig:
    """The options from ``argv`` (flags win) and ``environ``; every problem of the call in one :class:`ConfigError`.

    Raises
    ------
    ConfigError
        Naming each variable or flag, its value and what would be valid.
    """
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(
        prog="python -m constructs_sqs_runtime.worker",
        description="Consume an SQS queue with a handler, under ECS task scale-in protection; every flag can also "
        "be set by its environment variable.",
    )
    for option, variable in ENVIRONMENT.items():
        parser.add_argument("--" + option.replace("_", "-"), dest=option, default=None, help=f"(env {variable})")
    arguments = vars(parser.parse_args(list(argv) if argv is not None else None))

    raw: dict[str, tuple[str, str]] = {}  # option -> (where it came from, value)
    for option, variable in ENVIRONMENT.items():
        if arguments[option] is not None:
            raw[option] = ("--" + option.replace("_", "-"), arguments[option])
        elif environ.get(variable, "").strip():
            raw[option] = (variable, environ[variable].strip())

    problems: list[str] = []
    values: dict[str, Any] = {}

    def name(option: str) -> str:
        return raw[option][0] if option in raw else f"{ENVIRONMENT[option]} (or --{option.replace('_', '-')})"

    for option, example in (("queue_url", "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs"), ("handler", "handlers.jobs:handle")):
        if option not in raw:
            problems.append(f"{name(option)} is required, such as {example}")
    if "queue_url" in raw:
        url = raw["queue_url"][1]
        if not url.startswith(("https://", "http://")) or "/" not in url.split("://", 1)[1].rstrip("/"):
            problems.append(f"{name('queue_url')} must be a queue URL such as https://sqs.eu-west-1.amazonaws.com/123456789012/jobs, got {url!r}")
        values["queue_url"] = url
    if "handler" in raw:
        spec = raw["handler"][1]
        module, _, function = spec.partition(":")
        if not module or not function or not all(part.isidentifier() for part in module.split(".") + function.split(".")):
            problems.append(f"{name('handler')} must be module:function, such as handlers.jobs:handle, got {spec!r}")
        values["handler"] = spec

    def whole(option: str, low: int, high: int) -> None:
        if option not in raw:
            return
        value = raw[option][1]
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            problems.append(f"{name(option)} must be a whole number between {low:,} and {high:,}, got {value!r}")
        else:
            values[option] = number

    whole("concurrency", 1, 1_000)
    whole("visibility_timeout", 1, 43_200)
    whole("protection_minutes", 1, MAX_EXPIRES_IN_MINUTES)
    if "drain_seconds" in raw:
        value = raw["drain_seconds"][1]
        try:
            seconds = float(value)
        except ValueError:
            seconds = math.nan
        if not 0 <= seconds <= MAX_DRAIN_SECONDS:
            problems.append(
                f"{name('drain_seconds')} must be a number of seconds between 0 and {MAX_DRAIN_SECONDS:g} (the container's stop "
                f"timeout, drain + 10 s, must stay within Fargate's 120 s), got {value!r}"
            )
        else:
            values["drain_seconds"] = seconds
    if "task_protection" in raw:
        value = raw["task_protection"][1]
        if value.lower() in _TRUE | _FALSE:
            values["task_protection"] = value.lower() in _TRUE
        else:
            problems.append(f"{name('task_protection')} must be true or false, got {value!r}")
    if problems:
        raise ConfigError("; ".join(problems))
    return WorkerConfig(**values)


def load_handler(spec: str, *, source: str = ENVIRONMENT["handler"]) -> Callable[[Any], Any]:
    """Import ``module:function`` (``function`` may be dotted: ``module:Class.method``) from the working
    directory and ``PYTHONPATH``.

    Raises
    ------
    ConfigError
        When the module cannot be imported (the message carries the error), has no such attribute, or it is
        not callable.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"{source} must be module:function, such as handlers.jobs:handle, got {spec!r}")
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as error:
        where = f"the working directory {os.getcwd()} and PYTHONPATH"
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        raise ConfigError(f"{source}={spec!r}: cannot import module {module_name!r} from {where}: {detail}") from error
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ConfigError(f"{source}={spec!r}: {target.__name__ if hasattr(target, '__name__') else module_name!r} has no attribute {part!r}")
        target = getattr(target, part)
    if not callable(target):
        raise ConfigError(f"{source}={spec!r}: {attribute} is a {type(target).__name__}, not a function (it is called with each ReceivedMessage)")
    return target  # type: ignore[no-any-return]


class JsonLog:
    """One JSON object per line, on ``stream`` (stdout): ``{"ts": ..., "event": ..., ...}``."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self._lock = threading.RLock()  # a signal handler may log while the main thread is logging

    def emit(self, event: str, **fields: Any) -> None:
        line = json.dumps({"ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "event": event, **fields}, default=str)
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (OSError, ValueError):  # stdout closed: nothing to tell anyone
                pass


class _JsonLogHandler(logging.Handler):
    """The consumer's warnings (a handler that raised, a delete that failed) as JSON lines too."""

    def __init__(self, log: JsonLog) -> None:
        super().__init__(logging.INFO)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        fields: dict[str, Any] = {"level": record.levelname.lower(), "message": record.getMessage()}
        if record.exc_info and record.exc_info[1] is not None:
            fields["error"] = "".join(traceback.format_exception(*record.exc_info)).strip()
        self.log.emit("log", **fields)


class ProtectionGate:
    """The :class:`~constructs_sqs_runtime.consumer.ReceiveGate` of a worker under ECS task scale-in protection.

    A receive goes ahead only while protection is confirmed and neither failing to renew nor being released.
    Idle and unprotected, the gate asks ``work_waiting()`` every ``idle_probe_seconds`` and sets protection
    only when it says messages wait. A keeper thread renews protection every ``renew_after_seconds``, releases
    it once nothing has been held for ``idle_grace_seconds`` and no receive is out, and notes a lapse.

    Parameters
    ----------
    protection:
        The agent's client.
    log:
        Where the events go.
    work_waiting:
        Whether messages wait in the queue (an error counts as yes, so that the receive reports it).
    idle_grace_seconds, idle_probe_seconds, retry_max_seconds:
        See :data:`IDLE_GRACE_SECONDS`, :data:`IDLE_PROBE_SECONDS`, :data:`RETRY_MAX_SECONDS`.
    renew_after_seconds:
        Default: - half of the protection's ``expires_in_minutes``.
    """

    def __init__(
        self,
        protection: TaskProtection,
        log: JsonLog,
        work_waiting: Callable[[], bool],
        *,
        idle_grace_seconds: float = IDLE_GRACE_SECONDS,
        idle_probe_seconds: float = IDLE_PROBE_SECONDS,
        retry_max_seconds: float = RETRY_MAX_SECONDS,
        renew_after_seconds: float | None = None,
    ) -> None:
        self.protection = protection
        self.log = log
        self.work_waiting = work_waiting
        self.idle_grace = idle_grace_seconds
        self.idle_probe = idle_probe_seconds
        self.retry_max = retry_max_seconds
        self.lifetime = protection.expires_in_minutes * 60.0
        self.renew_after = renew_after_seconds if renew_after_seconds is not None else self.lifetime / 2
        self.counts = {"protect": 0, "renew": 0, "release": 0, "failed": 0, "lapsed": 0}
        self.protected = False
        self._cond = threading.Condition()
        self._requests = threading.Lock()  # one request at a time, so that a release never overtakes a protect
        self._confirmed_at = 0.0  # monotonic time before the request ECS confirmed
        self._renew_at = 0.0
        self._renew_failing = False
        self._releasing = False
        self._release_at = 0.0
        self._acquiring = False
        self._not_before = 0.0  # unprotected: no probe or protect before this
        self._failures = 0
        self._held = 0
        self._receiving = 0
        self._last_busy = time.monotonic()
        self._closed = False
        self._keeper = threading.Thread(target=self._keep, name="sqs-worker-protection", daemon=True)

    # --- the consumer's hooks -------------------------------------------------------------------

    def on_held_change(self, count: int) -> None:
        """The consumer's ``on_held_change``."""
        with self._cond:
            self._held = count
            self._last_busy = time.monotonic()
            self._cond.notify_all()

    def before_receive(self) -> bool:
        """The consumer's ``receive_gate.before_receive``."""
        with self._cond:
            if self._closed:
                return False
            if self.protected:
                if self._renew_failing or self._releasing:
                    self._cond.wait(0.5)
                    return False
                self._receiving += 1
                return True
            now = time.monotonic()
            if self._acquiring or now < self._not_before:
                self._cond.wait(min(0.5, max(0.01, self._not_before - now)))
                return False
            self._acquiring = True
            held = self._held
        try:
            if not held and not self.work_waiting():
                with self._cond:
                    self._not_before = time.monotonic() + self.idle_probe
                return False
            self._request("protect", held)
        except TaskProtectionError:
            return False
        finally:
            with self._cond:
                self._acquiring = False
                self._cond.notify_all()
        with self._cond:
            if self._closed or not self.protected:
                return False
            self._receiving += 1
            return True

    def after_receive(self, received: int) -> None:
        """The consumer's ``receive_gate.after_receive``."""
        with self._cond:
            self._receiving -= 1
            if received:
                self._last_busy = time.monotonic()
            self._cond.notify_all()

    # --- requests -------------------------------------------------------------------------------

    def _request(self, action: str, held: int) -> None:
        """``protect``, ``renew`` or ``release``; updates the state and logs. Raises TaskProtectionError."""
        with self._requests:
            started = time.monotonic()
            try:
                if action == "release":
                    self.protection.unprotect()
                else:
                    state = self.protection.protect()
            except TaskProtectionError as error:
                with self._cond:
                    self.counts["failed"] += 1
                    self._failures += 1
                    retry = min(self.retry_max, 2.0 ** (self._failures - 1))
                    if action == "protect":
                        self._not_before = time.monotonic() + retry
                    elif action == "renew":
                        self._renew_failing = True
                        self._renew_at = time.monotonic() + retry
                    else:
                        self._release_at = time.monotonic() + retry
                    left = max(0.0, self._confirmed_at + self.lifetime - time.monotonic()) if self.protected else 0.0
                hint = _HINTS.get(error.code)
                self.log.emit(
                    "protection_failed", action=action, error=str(error), code=error.code, held=held, retry_in_seconds=round(retry, 2),
                    receiving="paused", protected_for_seconds=round(left, 1), **({"hint": hint} if hint else {}),
                )
                raise
            with self._cond:
                self.counts[action] += 1
                self._failures = 0
                if action == "release":
                    self.protected = False
                    self._releasing = False
                else:
                    self.protected = True
                    self._confirmed_at = started
                    self._renew_at = started + self.renew_after
                    self._renew_failing = False
                self._cond.notify_all()
        if action == "release":
            self.log.emit("protection_off", held=held, reason="idle" if not self._closed else "stopping")
        else:
            self.log.emit(
                "protection_on" if action == "protect" else "protection_renewed", held=held,
                expires_in_minutes=self.protection.expires_in_minutes, expiration_date=state.expiration_date,
            )

    def _keep(self) -> None:
        while True:
            with self._cond:
                self._cond.wait(0.2)
                if self._closed:
                    return
                if not self.protected:
                    continue
                now = time.monotonic()
                held, action = self._held, ""
                if now >= self._confirmed_at + self.lifetime:
                    # Renewals failed until the end: ECS has cleared protection by now.
                    self.protected, self._releasing, self._renew_failing = False, False, False
                    self.counts["lapsed"] += 1
                    action = "lapsed"
                elif self._releasing and held:
                    self._releasing = False  # a receive that was out brought messages: keep protection
                elif not self._releasing and not held and now - self._last_busy >= self.idle_grace:
                    self._releasing = True  # no new receive; release once the ones out are back
                if action != "lapsed":
                    if self._releasing and not self._receiving and now >= self._release_at:
                        action = "release"
                    elif not self._releasing and now >= self._renew_at:
                        action = "renew"
            if action == "lapsed":
                self.log.emit("protection_lapsed", held=held, receiving="paused")
            elif action:
                try:
                    self._request(action, held)
                except TaskProtectionError:
                    pass

    # --- life -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the keeper thread."""
        self._keeper.start()

    def close(self) -> None:
        """No more receives; stop the keeper, then release protection if it is on (best effort, logged)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._keeper.is_alive():
            self._keeper.join()
        if self.protected:
            try:
                self._request("release", self._held)
            except TaskProtectionError:
                pass  # logged; ECS clears it when the task stops, or when it lapses


class Worker:
    """A queue worker: :class:`~constructs_sqs_runtime.Consumer` under task protection, with a drain on stop.

    Parameters
    ----------
    config:
        The checked options.
    handler:
        Called with each :class:`~constructs_sqs_runtime.ReceivedMessage`.
    protection:
        The agent's client, or None for none (not on ECS, or ``task_protection`` false).
    client:
        A boto3 SQS client. Default: - the consumer's own.
    log:
        Where the JSON lines go. Default: - stdout.
    wait_time_seconds:
        The consumer's long polling, 0-20. Default: 10 (:data:`WAIT_TIME_SECONDS`).
    gate_options:
        Passed to :class:`ProtectionGate` (``idle_grace_seconds``, ``idle_probe_seconds``,
        ``retry_max_seconds``, ``renew_after_seconds``).
    """

    def __init__(
        self,
        config: WorkerConfig,
        handler: Callable[[Any], Any],
        *,
        protection: TaskProtection | None = None,
        client: Any | None = None,
        log: JsonLog | None = None,
        wait_time_seconds: int = WAIT_TIME_SECONDS,
        **gate_options: float,
    ) -> None:
        from .consumer import Consumer  # boto3 is needed from here on, not to check options

        self.config = config
        self.log = log or JsonLog()
        logger = logging.Logger("constructs_sqs_runtime.worker")
        logger.addHandler(_JsonLogHandler(self.log))
        self.gate = ProtectionGate(protection, self.log, self._work_waiting, **gate_options) if protection is not None else None
        self.consumer = Consumer(
            config.queue_url,
            handler,
            client=client,
            concurrency=config.concurrency,
            visibility_timeout=config.visibility_timeout,
            wait_time_seconds=wait_time_seconds,
            prefetch=False,  # a long job's next message stays visible to idle tasks (and in the backlog metric)
            handle_signals=False,
            logger=logger,
            on_held_change=self.gate.on_held_change if self.gate is not None else None,
            receive_gate=self.gate,
        )
        self._stop = threading.Event()
        self._stop_reason = ""
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._consume, name="sqs-worker-consumer", daemon=True)

    def _work_waiting(self) -> bool:
        try:
            attributes = self.consumer.client.get_queue_attributes(QueueUrl=self.config.queue_url, AttributeNames=["ApproximateNumberOfMessages"])
            return int(attributes["Attributes"].get("ApproximateNumberOfMessages", "0")) > 0
        except Exception:
            return True  # the receive will fail too, and report it as a QueueError

    def _consume(self) -> None:
        try:
            self.consumer.run()
        except BaseException as error:
            self._error = error

    def stop(self, reason: str = "stop()") -> None:
        """Stop receiving; handlers that started finish (within ``drain_seconds``), the rest is given back."""
        if not self._stop.is_set():
            self._stop_reason = reason
            self._stop.set()  # before the log line: a second signal seen after "stopping" must find it set
            held = self.consumer._tracker.count()
            self.log.emit("stopping", reason=reason, held=held, drain_seconds=self.config.drain_seconds)
        self.consumer.stop(reason)

    def held(self) -> int:
        """Messages held now (received and not yet deleted or given back)."""
        return self.consumer._tracker.count()

    def run(self) -> int:
        """Consume until stopped or a queue error; returns the exit code (0, or 1: an error or a drain cut short)."""
        config = self.config
        self.log.emit(
            "started", queue_url=config.queue_url, handler=config.handler, concurrency=config.concurrency,
            pollers=self.consumer.pollers, fifo=self.consumer.fifo, visibility_timeout=config.visibility_timeout,
            drain_seconds=config.drain_seconds, task_protection=self.gate is not None,
            protection_minutes=config.protection_minutes if self.gate is not None else None, pid=os.getpid(),
        )
        if self.gate is not None:
            self.gate.start()
        self.thread.start()
        while self.thread.is_alive() and not self._stop.is_set():
            self.thread.join(0.2)
        drain_started = time.monotonic()
        # Handlers that started get drain_seconds; receives still out (their messages are given back) get their
        # long poll beyond it.
        handlers_deadline = drain_started + config.drain_seconds
        polls_deadline = handlers_deadline + self.consumer.wait_time_seconds + 2
        while self.thread.is_alive():
            now = time.monotonic()
            if now >= polls_deadline or (now >= handlers_deadline and self.consumer._busy > 0):
                break
            self.thread.join(0.1)
        result = asdict(self.consumer.result)
        if self.thread.is_alive():
            # Handlers still run: their messages are neither deleted nor given back, so they come back after
            # their visibility timeout. Protection is left to lapse or to go with the task.
            self.log.emit("drain_timeout", seconds=config.drain_seconds, held=self.held(), **_counts(result))
            self.log.emit("stopped", exit_code=EXIT_ERROR, held=self.held(), **_counts(result))
            return EXIT_ERROR
        if self._stop.is_set():
            self.log.emit("drained", seconds=round(time.monotonic() - drain_started, 3), held=self.held(), **_counts(result))
        if self.gate is not None:
            self.gate.close()
        code = EXIT_OK
        if self._error is not None:
            self.log.emit("error", error=str(self._error), kind=getattr(self._error, "kind", type(self._error).__name__))
            code = EXIT_ERROR
        protection = dict(self.gate.counts) if self.gate is not None else None
        self.log.emit("stopped", exit_code=code, held=self.held(), protection_requests=protection, **_counts(result))
        return code


def _counts(result: dict[str, Any]) -> dict[str, Any]:
    keys = ("received", "succeeded", "failed", "held_back", "released", "deleted", "delete_failed", "expired", "stopped_by")
    return {key: result[key] for key in keys}


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """The entry point: read the options, import the handler, run the worker under SIGTERM/SIGINT handling.

    Returns
    -------
    int
        The exit code (see the module's docstring).
    """
    environ = os.environ if environ is None else environ
    log = JsonLog()
    try:
        config = parse_config(argv, environ)
        source = "--handler" if argv and any(a == "--handler" or a.startswith("--handler=") for a in argv) else ENVIRONMENT["handler"]
        handler = load_handler(config.handler, source=source)
    except ConfigError as error:
        log.emit("error", error=str(error), exit_code=EXIT_USAGE)
        print(f"constructs_sqs_runtime.worker: {error}", file=sys.stderr)
        return EXIT_USAGE
    protection = None
    if config.task_protection:
        protection = TaskProtection.from_environment(environ, expires_in_minutes=config.protection_minutes)
        if protection is None:
            log.emit("protection_unavailable", reason="ECS_AGENT_URI is not set (not on ECS): the worker runs without task scale-in protection")
    try:
        worker = Worker(config, handler, protection=protection, log=log)
    except Exception as error:  # the client could not be made (region, credentials): before any receive
        log.emit("error", error=str(error), exit_code=EXIT_ERROR)
        print(f"constructs_sqs_runtime.worker: {error}", file=sys.stderr)
        return EXIT_ERROR

    def on_signal(signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if worker._stop.is_set():
            # The second signal: stop at once. Nothing not handled was deleted; what is held comes back after
            # its visibility timeout.
            log.emit("stopped", exit_code=128 + signum, reason=f"second signal {name}", held=worker.held(), **_counts(asdict(worker.consumer.result)))
            os._exit(128 + signum)
        worker.stop(f"signal {name}")

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    code = worker.run()
    if worker.thread.is_alive():  # the drain ran out: handler threads cannot be joined
        sys.stdout.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
