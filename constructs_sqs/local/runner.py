"""The local event source runner: each SQS event source mapping played as Lambda plays it, in process.

The emulator runs no Lambda function. The runner long-polls each mapped queue, gathers a batch (up to
the batch size, for up to the batching window), builds the event exactly as Lambda does, calls the
function's real handler in this process with the function's environment, deletes the records that
succeeded and leaves the others to come back after the visibility timeout, so failures reach the DLQ
after ``maxReceiveCount`` receives, as on AWS.

Partial batch responses follow the Lambda documentation ("Reporting batch item failures"): with
``ReportBatchItemFailures``, an empty or missing ``batchItemFailures`` is a complete success; an
``itemIdentifier`` that is empty, missing or not in the batch, a response that is not JSON, a raised
exception or a run longer than the function's timeout fail the whole batch. Without it, only a
complete success deletes anything.

The process environment is shared, so handler calls are serialized (one at a time, each with its own
function's variables); receiving and deleting run in parallel, one poller per unit of concurrency.
A batch whose visibility timeout could run out before the function's timeout does (it waited too
long for its turn) is not invoked: its messages come back, as a throttled invocation's do in Lambda,
so no message is ever processed by two pollers at once.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import IO, Any, Protocol

from .emulator import DUMMY_CREDENTIALS, Emulator
from .mappings import EventSourceMapping, Handler

DEFAULT_POLL_SECONDS = 5
"""Long-poll wait per ReceiveMessage. Lambda waits 20 s; 5 s lets Ctrl-C stop the runner promptly."""
DEFAULT_POLLERS = 5
"""Pollers per mapping when it sets no maximum concurrency: Lambda starts with five."""
SYSTEM_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)
"""The message system attributes Lambda puts in a record's ``attributes``."""


def invoke_deadline(mapping: EventSourceMapping) -> float:
    """How long after its receive a batch may still be handed to the function, in seconds.

    The visibility timeout, less the function's timeout (the longest the call may take), less a margin
    for the deletes (a tenth of the visibility timeout, at most one second).
    """
    margin = min(1.0, mapping.visibility_timeout_seconds / 10)
    return mapping.visibility_timeout_seconds - mapping.timeout_seconds - margin


class BatchResponseError(ValueError):
    """A handler's response that Lambda treats as a failure of the whole batch."""


@dataclass
class QueueStats:
    """What the runner did for one mapping so far."""

    queue: str
    received: int = 0
    succeeded: int = 0
    failed: int = 0
    invocations: int = 0
    failed_invocations: int = 0
    delete_errors: int = 0
    in_dead_letter_queue: int = 0
    expired: int = 0
    """Messages received but not invoked: their batch waited past :func:`invoke_deadline`."""

    def line(self) -> str:
        """The live line of ``make run-local``."""
        expired = f", {self.expired} returned unprocessed" if self.expired else ""
        return (
            f"{self.queue}: received {self.received}, succeeded {self.succeeded}, failed {self.failed}, "
            f"in the DLQ {self.in_dead_letter_queue} ({self.invocations} invocations, "
            f"{self.failed_invocations} failed whole{expired})"
        )


@dataclass
class LocalLambdaContext:
    """The Lambda context object a handler receives (the attributes Powertools and handlers read)."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def lambda_record(message: Mapping[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """One record of Lambda's SQS event, from one message of ``ReceiveMessage``.

    ``attributes`` holds the system attributes (``ApproximateReceiveCount``, ``SentTimestamp``,
    ``MessageGroupId``, ``SequenceNumber``...), ``messageAttributes`` the message attributes in Lambda's
    camel case, with binary values in base64.
    """
    attributes = {name: value for name, value in message.get("Attributes", {}).items() if name in SYSTEM_ATTRIBUTES}
    message_attributes = {}
    for name, value in message.get("MessageAttributes", {}).items():
        converted: dict[str, Any] = {
            "stringListValues": list(value.get("StringListValues", [])),
            "binaryListValues": [base64.b64encode(v).decode() for v in value.get("BinaryListValues", [])],
            "dataType": value["DataType"],
        }
        if "StringValue" in value:
            converted["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            converted["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        message_attributes[name] = converted
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def failed_message_ids(response: Any, message_ids: Sequence[str]) -> set[str]:
    """The records a partial batch response reports failed, as Lambda reads it.

    Raises
    ------
    BatchResponseError
        When Lambda would fail the whole batch: a response that is not JSON, or an ``itemIdentifier``
        that is missing, empty or not the id of a record of this batch.
    """
    try:
        response = json.loads(json.dumps(response))
    except (TypeError, ValueError) as error:
        raise BatchResponseError(f"the response is not JSON: {error}") from error
    if not response or not isinstance(response, dict):
        return set()
    failures = response.get("batchItemFailures")
    if not failures:
        return set()
    if not isinstance(failures, list):
        raise BatchResponseError(f"batchItemFailures must be a list, got {failures!r}")
    failed = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in message_ids:
            raise BatchResponseError(f"itemIdentifier {identifier!r} is not a message id of this batch")
        failed.add(identifier)
    return failed


def function_environment(mapping: EventSourceMapping, emulator: Emulator) -> dict[str, str]:
    """The variables Lambda sets for the function, its own ``Environment``, and the emulator's endpoint."""
    region = emulator.region
    log_group = f"/aws/lambda/{mapping.function_name}"
    env = {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ENDPOINT_URL": emulator.endpoint_url,
        **DUMMY_CREDENTIALS,
        "AWS_LAMBDA_FUNCTION_NAME": mapping.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(mapping.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": "local-runner",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python_local",
        "_HANDLER": mapping.handler,
    }
    if mapping.code_dir is not None:
        env["LAMBDA_TASK_ROOT"] = str(mapping.code_dir)
    env.update(mapping.environment)
    return env


@contextlib.contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def load_handler(mapping: EventSourceMapping, emulator: Emulator | None = None) -> Handler:
    """Import the function's handler (``module.function``) from its code directory in the assembly.

    With ``emulator``, the module is imported with the function's environment (:func:`function_environment`),
    as Lambda does: module-level code such as Powertools' ``Logger()`` reads it at import.

    The code directory goes first on ``sys.path`` and the local layer directories last (so what this
    Python has installed, such as Powertools of the published layer, is used when a layer is not local).
    The module is loaded under a name of its own per function, so two functions never share its state.

    Raises
    ------
    ImportError
        When the module or the function is missing, naming the handler and the directory.
    """
    if mapping.handler_function is not None:
        return mapping.handler_function
    if emulator is not None:
        with _environment(function_environment(mapping, emulator)):
            return load_handler(mapping)
    module_path, _, attribute = mapping.handler.rpartition(".")
    if mapping.code_dir is None or not module_path:
        raise ImportError(f"cannot load handler {mapping.handler!r} of {mapping.function_name}: no local code asset")
    for directory in (str(mapping.code_dir),):
        if directory not in sys.path:
            sys.path.insert(0, directory)
    for layer in mapping.layer_dirs:
        if str(layer) not in sys.path:
            sys.path.append(str(layer))
    source = mapping.code_dir.joinpath(*module_path.split(".")).with_suffix(".py")
    if not source.exists():
        raise ImportError(f"handler {mapping.handler!r}: no {source.relative_to(mapping.code_dir)} in {mapping.code_dir}")
    module = _import_as(f"_local_lambda_{mapping.logical_id}_{module_path.replace('.', '_')}", source)
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise ImportError(f"handler {mapping.handler!r}: {source.name} has no function {attribute!r}")
    return handler  # type: ignore[no-any-return]


def _import_as(name: str, source: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class _Poller:
    """One poller of one mapping: gather a batch, invoke, delete what succeeded; until stopped."""

    def __init__(self, runner: LocalEventSourceRunner, mapping: EventSourceMapping, handler: Handler) -> None:
        self.runner = runner
        self.mapping = mapping
        self.handler = handler
        self.sqs = runner.emulator.client("sqs")
        self.stats = runner.stats[mapping.queue_name]

    def run(self) -> None:
        while not self.runner.stopping.is_set():
            batch, received_at = self.gather()
            if batch:
                self.invoke(batch, received_at)

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.mapping.queue_url,
            MaxNumberOfMessages=min(10, count),
            WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def gather(self) -> tuple[list[dict[str, Any]], float]:
        """One long poll; then, with a batching window, more receives until the batch or the window is full.

        Returns the batch and when its first messages arrived (their visibility timeout runs from then).
        """
        batch = self._receive(self.mapping.batch_size, self.runner.poll_seconds)
        received_at = time.monotonic()
        if not batch or not self.mapping.max_batching_window_seconds:
            return batch, received_at
        deadline = time.monotonic() + self.mapping.max_batching_window_seconds
        while len(batch) < self.mapping.batch_size and not self.runner.stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            batch += self._receive(self.mapping.batch_size - len(batch), min(int(remaining), self.runner.poll_seconds))
        return batch, received_at

    def invoke(self, batch: list[dict[str, Any]], received_at: float) -> None:
        ids = [message["MessageId"] for message in batch]
        event = {"Records": [lambda_record(m, queue_arn=self.mapping.queue_arn, region=self.runner.emulator.region) for m in batch]}
        failed = self.runner.call(self.mapping, self.handler, event, ids, received_at)
        if failed is None:  # expired before its turn: untouched, it comes back after the visibility timeout
            with self.runner.lock:
                self.stats.received += len(batch)
                self.stats.expired += len(batch)
            return
        succeeded = [m for m in batch if m["MessageId"] not in failed]
        delete_errors = self.delete(succeeded)
        with self.runner.lock:
            self.stats.received += len(batch)
            self.stats.succeeded += len(succeeded)
            self.stats.failed += len(failed)
            self.stats.invocations += 1
            self.stats.failed_invocations += int(len(failed) == len(batch))
            self.stats.delete_errors += delete_errors

    def delete(self, messages: list[dict[str, Any]]) -> int:
        """Delete in batches of 10, as Lambda does; return how many deletes failed (they come back)."""
        errors = 0
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            response = self.sqs.delete_message_batch(
                QueueUrl=self.mapping.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
            errors += len(response.get("Failed", []))
        return errors


class LocalEventSourceRunner:
    """Plays SQS event source mappings against the emulator until stopped.

    Parameters
    ----------
    emulator:
        The emulator the queues live in.
    mappings:
        From :func:`constructs_sqs.local.mappings.discover_mappings` (``mapping.with_handler(fn)`` to
        call a handler of your own).
    poll_seconds:
        ``WaitTimeSeconds`` of each receive, 0-20 (default 5).
    max_pollers:
        At most this many pollers per mapping (default 5); a mapping's maximum concurrency lowers it.

    Raises
    ------
    ValueError
        For ``poll_seconds`` outside 0-20, ``max_pollers`` below 1, or a queue whose visibility timeout
        does not exceed its function's timeout plus batching window by a second.
    ImportError
        When a mapping's handler cannot be imported.

    Example
    -------
    >>> runner = LocalEventSourceRunner(emulator, [mapping.with_handler(handler)])  # doctest: +SKIP
    >>> stats = runner.run(duration=60, until=lambda s: s[mapping.queue_name].succeeded >= 100)  # doctest: +SKIP
    """

    def __init__(
        self,
        emulator: Emulator,
        mappings: Sequence[EventSourceMapping],
        *,
        poll_seconds: int = DEFAULT_POLL_SECONDS,
        max_pollers: int = DEFAULT_POLLERS,
    ) -> None:
        if isinstance(poll_seconds, bool) or not isinstance(poll_seconds, int) or not 0 <= poll_seconds <= 20:
            raise ValueError(f"poll_seconds must be a whole number of seconds from 0 to 20, got {poll_seconds!r}")
        if isinstance(max_pollers, bool) or not isinstance(max_pollers, int) or max_pollers < 1:
            raise ValueError(f"max_pollers must be a whole number of at least 1, got {max_pollers!r}")
        too_short = [
            f"{m.queue_name}: visibility timeout {m.visibility_timeout_seconds} s, function timeout {m.timeout_seconds} s"
            f" + batching window {m.max_batching_window_seconds} s"
            for m in mappings
            if m.visibility_timeout_seconds < m.timeout_seconds + m.max_batching_window_seconds + 1
        ]
        if too_short:
            raise ValueError(
                "each queue's visibility timeout must exceed its function's timeout plus batching window "
                f"(Lambda refuses such a mapping; constructs-sqs rule L1 asks for 6 x): {'; '.join(too_short)}"
            )
        self.emulator = emulator
        self.mappings = [m for m in mappings if m.enabled]
        self.poll_seconds = poll_seconds
        self.max_pollers = max_pollers
        self.lock = threading.Lock()
        self.invoke_lock = threading.Lock()
        self.stopping = threading.Event()
        self.stats = {m.queue_name: QueueStats(m.queue_name) for m in self.mappings}
        self.handlers = {m.logical_id + m.stack: self._load(m) for m in self.mappings}

    def _load(self, mapping: EventSourceMapping) -> Handler:
        with self.invoke_lock:
            return load_handler(mapping, self.emulator)

    def pollers_for(self, mapping: EventSourceMapping) -> int:
        """How many pollers play ``mapping``: its maximum concurrency, at most ``max_pollers``."""
        return min(mapping.max_concurrency or self.max_pollers, self.max_pollers)

    def call(
        self, mapping: EventSourceMapping, handler: Handler, event: dict[str, Any], ids: list[str], received_at: float
    ) -> set[str] | None:
        """Invoke ``handler`` with the function's environment; return the ids Lambda would count failed,
        or None when the batch is past its :func:`invoke_deadline` and was not invoked."""
        context = LocalLambdaContext(
            function_name=mapping.function_name,
            invoked_function_arn=mapping.function_arn,
            memory_limit_in_mb=mapping.memory_mb,
            aws_request_id=str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{mapping.function_name}",
            log_stream_name="local-runner",
            deadline=time.monotonic() + mapping.timeout_seconds,
        )
        with self.invoke_lock, _environment(function_environment(mapping, self.emulator)):
            started = time.monotonic()
            if started - received_at > invoke_deadline(mapping):
                return None
            try:
                response = handler(event, context)
            except Exception:  # noqa: BLE001 - a raised error fails the batch, as in Lambda
                return set(ids)
            if time.monotonic() - started > mapping.timeout_seconds:
                return set(ids)
        if not mapping.report_batch_item_failures:
            return set()
        try:
            return failed_message_ids(response, ids)
        except BatchResponseError:
            return set(ids)

    def _count_dead_letters(self) -> None:
        sqs = self.emulator.client("sqs")
        for mapping in self.mappings:
            if mapping.dead_letter_queue_url is None:
                continue
            attributes = sqs.get_queue_attributes(
                QueueUrl=mapping.dead_letter_queue_url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            with self.lock:
                self.stats[mapping.queue_name].in_dead_letter_queue = int(attributes["ApproximateNumberOfMessages"]) + int(
                    attributes["ApproximateNumberOfMessagesNotVisible"]
                )

    def snapshot(self) -> dict[str, QueueStats]:
        """A copy of the counters, by queue name."""
        with self.lock:
            return {name: replace(stats) for name, stats in self.stats.items()}

    def run(
        self,
        *,
        duration: float | None = None,
        until: Callable[[dict[str, QueueStats]], bool] | None = None,
        status: Callable[[dict[str, QueueStats]], None] | None = None,
        interval: float = 1.0,
    ) -> dict[str, QueueStats]:
        """Play every mapping until ``duration`` seconds pass, ``until(stats)`` is true, or Ctrl-C.

        Each poller finishes the batch it holds before it stops, so nothing received is left undecided
        (what it did not delete comes back after the visibility timeout). ``status(stats)`` is called
        every ``interval`` seconds with the counters (``make run-local`` prints them).

        Returns
        -------
        dict[str, QueueStats]
            The final counters by queue name.
        """
        self.stopping.clear()
        threads = [
            threading.Thread(target=_Poller(self, m, self.handlers[m.logical_id + m.stack]).run, name=f"poller-{m.queue_name}-{i}", daemon=True)
            for m in self.mappings
            for i in range(self.pollers_for(m))
        ]
        for thread in threads:
            thread.start()
        deadline = None if duration is None else time.monotonic() + duration
        try:
            while deadline is None or time.monotonic() < deadline:
                self._count_dead_letters()
                current = self.snapshot()
                if status is not None:
                    status(current)
                if until is not None and until(current):
                    break
                time.sleep(interval)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop(threads)
        self._count_dead_letters()
        return self.snapshot()

    def stop(self, threads: Sequence[threading.Thread] = ()) -> None:
        """Ask every poller to stop after its current batch, and wait for them."""
        self.stopping.set()
        for thread in threads:
            thread.join(timeout=self.poll_seconds + max((m.timeout_seconds for m in self.mappings), default=0) + 30)


class _HasLine(Protocol):
    def line(self) -> str: ...


class StatusPrinter:
    """Prints one line per queue or worker service: redrawn in place on a terminal, printed on change otherwise."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.previous: list[str] = []

    def __call__(self, stats: Mapping[str, _HasLine]) -> None:
        lines = [stats[name].line() for name in sorted(stats)]
        if lines == self.previous:
            return
        if self.tty and self.previous:
            self.stream.write(f"\x1b[{len(self.previous)}F\x1b[J")
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
        self.previous = lines
