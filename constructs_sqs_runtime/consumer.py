"""Receive, process and delete SQS messages in a worker, losing none (rules R1-R3).

``consume(queue_url, handler)`` long-polls the queue (20 s, up to 10 messages a receive), calls
``handler(message)`` for each message on a bounded pool of threads, and deletes the messages whose handler
returned in ``DeleteMessageBatch`` requests. A handler that raises leaves its message to come back after the
visibility timeout (or gives it back at once with ``ChangeMessageVisibility`` 0, ``release_failures=True``);
so does a crash of the process, since nothing is deleted before its handler succeeded. Messages still being
processed get a visibility heartbeat (``ChangeMessageVisibilityBatch``) when half their timeout is gone, and
never once it has passed. On a FIFO queue the messages of a group are processed in order, one at a time, and
a failure holds back the rest of its group in that batch; other groups go on. SIGINT or SIGTERM stops the
worker gracefully: handlers that started finish, messages not started are given back.

Example
-------
::

    from constructs_sqs_runtime import ReceivedMessage, consume

    def fulfil(message: ReceivedMessage) -> None:
        order = json.loads(message.body)
        ...  # raise to have SQS deliver the message again

    result = consume("https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo", fulfil, concurrency=4)
"""

from __future__ import annotations

import functools
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ._sqs import MAX_BATCH_ENTRIES, ReceivedMessage, SqsClient, chunked, is_fifo_queue, sqs_client

__all__ = ["ConsumeResult", "Consumer", "ReceivedMessage", "consume"]

_logger = logging.getLogger("constructs_sqs_runtime")

Handler = Callable[[ReceivedMessage], Any]

_OK, _FAILED, _HELD, _RELEASE = "ok", "failed", "held", "release"
_DONE = object()


@dataclass
class ConsumeResult:
    """What a consumer did, in messages (``heartbeats`` counts visibility extensions).

    ``held_back``: FIFO messages not processed because an earlier message of their group failed in the same
    batch; they are given back at once and come again after the failed one. ``released``: given back with visibility 0 (failures with ``release_failures``, and messages not
    started when a stop was requested). ``expired``: messages whose visibility timeout passed while their
    handler ran (no heartbeat is sent after the timeout): SQS may deliver them again.
    """

    received: int = 0
    succeeded: int = 0
    failed: int = 0
    held_back: int = 0
    released: int = 0
    deleted: int = 0
    delete_failed: int = 0
    heartbeats: int = 0
    expired: int = 0
    requests: int = 0
    stopped_by: str = ""


@dataclass
class _Tracked:
    message: ReceivedMessage
    deadline: float
    expired: bool = False


@dataclass
class _Tracker:
    """Messages received and not yet deleted, released or given up, with their visibility deadlines."""

    entries: dict[str, _Tracked] = field(default_factory=dict)
    lock: threading.Condition = field(default_factory=threading.Condition)

    def add(self, messages: Iterable[ReceivedMessage], deadline: float) -> None:
        with self.lock:
            for message in messages:
                self.entries[message.receipt_handle] = _Tracked(message, deadline)

    def remove(self, messages: Iterable[ReceivedMessage]) -> None:
        with self.lock:
            for message in messages:
                self.entries.pop(message.receipt_handle, None)
            self.lock.notify_all()

    def count(self) -> int:
        with self.lock:
            return len(self.entries)

    def wait_below(self, limit: int, timeout: float) -> None:
        with self.lock:
            self.lock.wait_for(lambda: len(self.entries) < limit, timeout=timeout)


class Consumer:
    """A worker for one queue; :meth:`run` consumes until stopped. See :func:`consume` for the parameters."""

    def __init__(
        self,
        queue_url: str,
        handler: Handler,
        *,
        client: SqsClient | None = None,
        concurrency: int = 1,
        batch_size: int = 10,
        wait_time_seconds: int = 20,
        visibility_timeout: int | None = None,
        release_failures: bool = False,
        heartbeat: bool = True,
        max_messages: int | None = None,
        stop_when_empty: bool = False,
        handle_signals: bool = True,
        delete_linger: float = 0.05,
        logger: logging.Logger | None = _logger,
    ) -> None:
        _check_options(concurrency, batch_size, wait_time_seconds, visibility_timeout, max_messages)
        self.queue_url = queue_url
        self.handler = handler
        self.client = client if client is not None else sqs_client(queue_url, max_pool_connections=concurrency + 2)
        self.fifo = is_fifo_queue(queue_url)
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.wait_time_seconds = wait_time_seconds
        self.visibility_timeout = visibility_timeout
        self.release_failures = release_failures
        self.heartbeat = heartbeat
        self.max_messages = max_messages
        self.stop_when_empty = stop_when_empty
        self.handle_signals = handle_signals
        self.delete_linger = delete_linger
        self.logger = logger
        self.result = ConsumeResult()
        self._tracker = _Tracker()
        self._outcomes: queue.Queue[Any] = queue.Queue()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._visibility = 0

    def stop(self, reason: str = "stop()") -> None:
        """Ask the worker to stop: handlers that started finish, messages not started are given back."""
        with self._lock:
            self.result.stopped_by = self.result.stopped_by or reason
        self._stopping.set()

    def run(self) -> ConsumeResult:
        """Consume until ``max_messages``, an empty receive (``stop_when_empty``), a signal or :meth:`stop`.

        Returns the :class:`ConsumeResult`; a receive that fails after botocore's retries is raised after
        the messages in flight were finished or given back.
        """
        self._visibility = self.visibility_timeout or self._queue_visibility_timeout()
        restore = self._install_signal_handlers()
        housekeeper = threading.Thread(target=self._housekeep, name="sqs-consumer-housekeeper", daemon=True)
        housekeeper.start()
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="sqs-consumer")
        try:
            self._receive_loop(pool)
        finally:
            pool.shutdown(wait=True, cancel_futures=self._stopping.is_set())
            self._outcomes.put(_DONE)
            housekeeper.join()
            restore()
        return self.result

    # --- receiving -------------------------------------------------------------------------------

    def _receive_loop(self, pool: ThreadPoolExecutor) -> None:
        capacity = self.concurrency + self.batch_size
        while not self._stopping.is_set():
            wanted = self.batch_size
            if self.max_messages is not None:
                wanted = min(wanted, self.max_messages - self.result.received)
                if wanted <= 0:
                    self._set_stopped_by("max_messages")
                    return
            self._tracker.wait_below(capacity - wanted + 1, timeout=0.2)
            if self._tracker.count() > capacity - wanted:
                continue
            messages = self._receive(wanted)
            if not messages:
                if self.stop_when_empty and self._tracker.count() == 0:
                    self._set_stopped_by("empty")
                    return
                continue
            if self._stopping.is_set():  # a signal arrived during the long poll: give these back unprocessed
                self._outcomes.put([(m, _RELEASE) for m in messages])
                return
            for unit in self._units(messages):
                future = pool.submit(self._process, unit)
                future.add_done_callback(functools.partial(self._on_unit_done, unit=unit))

    def _receive(self, wanted: int) -> list[ReceivedMessage]:
        request: dict[str, Any] = {
            "QueueUrl": self.queue_url,
            "MaxNumberOfMessages": wanted,
            "WaitTimeSeconds": self.wait_time_seconds,
            "MessageSystemAttributeNames": ["All"],
            "MessageAttributeNames": ["All"],
        }
        if self.visibility_timeout is not None:
            request["VisibilityTimeout"] = self.visibility_timeout
        # The deadline counts from before the request: the heartbeat errs on the early side (R2).
        started = time.monotonic()
        response = self.client.receive_message(**request)
        messages = [ReceivedMessage.from_response(m) for m in response.get("Messages") or []]
        self._tracker.add(messages, started + self._visibility)
        with self._lock:
            self.result.requests += 1
            self.result.received += len(messages)
        return messages

    def _units(self, messages: Sequence[ReceivedMessage]) -> list[list[ReceivedMessage]]:
        """Standard: one unit per message. FIFO: one unit per message group, in the order received (R3)."""
        if not self.fifo:
            return [[message] for message in messages]
        groups: dict[str | None, list[ReceivedMessage]] = {}
        for message in messages:
            groups.setdefault(message.group_id, []).append(message)
        return list(groups.values())

    # --- processing -----------------------------------------------------------------------------

    def _process(self, unit: Sequence[ReceivedMessage]) -> None:
        """Run the handler on each message of the unit in order; after a failure, hold back the rest."""
        outcomes: list[tuple[ReceivedMessage, str]] = []
        for position, message in enumerate(unit):
            if position and self._stopping.is_set():  # stop requested: give back what did not start
                outcomes += [(m, _RELEASE) for m in unit[position:]]
                break
            try:
                self.handler(message)
            except Exception:
                if self.logger is not None:
                    self.logger.warning("handler failed on message %s", message.message_id, exc_info=True)
                outcomes.append((message, _FAILED))
                outcomes += [(m, _HELD) for m in unit[position + 1 :]]
                break
            outcomes.append((message, _OK))
            if self.fifo:  # delete in order before the next message of the group is handled
                self._outcomes.put(outcomes)
                outcomes = []
        if outcomes:
            self._outcomes.put(outcomes)

    def _on_unit_done(self, future: Future[None], unit: Sequence[ReceivedMessage]) -> None:
        if future.cancelled():  # never started: the stop gives the messages back
            self._outcomes.put([(m, _RELEASE) for m in unit])
        elif future.exception() is not None:  # a bug of this module, not of the handler: never lose track
            self._outcomes.put([(m, _FAILED) for m in unit])

    # --- housekeeping: deletes, releases and heartbeats, on one thread -------------------------

    def _housekeep(self) -> None:
        deletes: list[ReceivedMessage] = []
        releases: list[ReceivedMessage] = []
        first_pending = 0.0
        tick = min(0.5, self._visibility / 4)
        finished = False
        while not finished:
            try:
                item = self._outcomes.get(timeout=tick if not (deletes or releases) else self.delete_linger)
            except queue.Empty:
                item = None
            if item is _DONE:
                finished = True
            elif item is not None:
                if not (deletes or releases):
                    first_pending = time.monotonic()
                self._sort_outcomes(item, deletes, releases)
            linger_over = time.monotonic() - first_pending >= self.delete_linger
            if finished or len(deletes) >= MAX_BATCH_ENTRIES or ((deletes or releases) and linger_over):
                self._flush(deletes, releases)
                deletes, releases = [], []
            if self.heartbeat and not finished:
                self._beat()

    def _sort_outcomes(
        self,
        outcomes: Sequence[tuple[ReceivedMessage, str]],
        deletes: list[ReceivedMessage],
        releases: list[ReceivedMessage],
    ) -> None:
        given_up: list[ReceivedMessage] = []
        with self._lock:
            for message, outcome in outcomes:
                if outcome == _OK:
                    self.result.succeeded += 1
                    deletes.append(message)
                    continue
                if outcome == _FAILED:
                    self.result.failed += 1
                elif outcome == _HELD:
                    self.result.held_back += 1
                # Held-back FIFO messages are given back at once: the failed message, still in flight, keeps
                # its group blocked, so SQS hands them out again only after it, in order.
                if outcome in (_RELEASE, _HELD) or self.release_failures:
                    releases.append(message)
                else:
                    given_up.append(message)
        # A failure left for redelivery gets no more heartbeats: it comes back after its timeout (R1).
        self._tracker.remove(given_up)

    def _flush(self, deletes: Sequence[ReceivedMessage], releases: Sequence[ReceivedMessage]) -> None:
        for chunk in chunked(deletes, MAX_BATCH_ENTRIES):
            failed = self._batch("delete_message_batch", chunk, {})
            with self._lock:
                self.result.deleted += len(chunk) - len(failed)
                self.result.delete_failed += len(failed)
            self._tracker.remove(chunk)
        for chunk in chunked(releases, MAX_BATCH_ENTRIES):
            failed = self._batch("change_message_visibility_batch", chunk, {"VisibilityTimeout": 0})
            with self._lock:
                self.result.released += len(chunk) - len(failed)
            self._tracker.remove(chunk)

    def _beat(self) -> None:
        """Extend the visibility of messages past half their timeout; never of one whose timeout passed (R2)."""
        now = time.monotonic()
        guard = min(1.0, self._visibility / 10)
        due: list[ReceivedMessage] = []
        with self._tracker.lock:
            for tracked in self._tracker.entries.values():
                if tracked.expired or tracked.deadline - now > self._visibility / 2:
                    continue
                if now >= tracked.deadline - guard:
                    tracked.expired = True
                    with self._lock:
                        self.result.expired += 1
                    continue
                due.append(tracked.message)
        for chunk in chunked(due, MAX_BATCH_ENTRIES):
            started = time.monotonic()
            failed = self._batch("change_message_visibility_batch", chunk, {"VisibilityTimeout": self._visibility})
            with self._tracker.lock:
                for message in chunk:
                    extended = self._tracker.entries.get(message.receipt_handle)
                    if extended is not None and message.message_id not in failed:
                        extended.deadline = started + self._visibility
            with self._lock:
                self.result.heartbeats += len(chunk) - len(failed)

    def _batch(self, operation: str, messages: Sequence[ReceivedMessage], extra: dict[str, Any]) -> set[str]:
        """One ``*Batch`` request on ``messages``; the message ids of the entries that failed, logged."""
        entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle, **extra} for i, m in enumerate(messages)]
        with self._lock:
            self.result.requests += 1
        try:
            response = getattr(self.client, operation)(QueueUrl=self.queue_url, Entries=entries)
        except Exception:
            if self.logger is not None:
                self.logger.warning("%s failed for %d message(s)", operation, len(messages), exc_info=True)
            return {m.message_id for m in messages}
        failed = {messages[int(f["Id"])].message_id for f in response.get("Failed") or []}
        if failed and self.logger is not None:
            self.logger.warning("%s failed for %s: %s", operation, sorted(failed), response.get("Failed"))
        return failed

    # --- set-up -------------------------------------------------------------------------------------

    def _queue_visibility_timeout(self) -> int:
        attributes = self.client.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["VisibilityTimeout"])
        with self._lock:
            self.result.requests += 1
        return max(1, int(attributes["Attributes"].get("VisibilityTimeout", "30")))

    def _install_signal_handlers(self) -> Callable[[], None]:
        """SIGINT and SIGTERM request a graceful stop; a second one gets the previous handler (a hard stop)."""
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        def on_signal(signum: int, frame: Any) -> None:
            self.stop(f"signal {signal.Signals(signum).name}")
            restore()

        for sig in previous:
            signal.signal(sig, on_signal)
        return restore

    def _set_stopped_by(self, reason: str) -> None:
        with self._lock:
            self.result.stopped_by = self.result.stopped_by or reason


def consume(
    queue_url: str,
    handler: Handler,
    *,
    client: SqsClient | None = None,
    concurrency: int = 1,
    batch_size: int = 10,
    wait_time_seconds: int = 20,
    visibility_timeout: int | None = None,
    release_failures: bool = False,
    heartbeat: bool = True,
    max_messages: int | None = None,
    stop_when_empty: bool = False,
    handle_signals: bool = True,
    logger: logging.Logger | None = _logger,
) -> ConsumeResult:
    """Process the messages of a queue with ``handler`` until stopped; delete each only after it succeeded.

    Parameters
    ----------
    queue_url:
        The queue's URL; a name ending in ``.fifo`` makes it a FIFO queue.
    handler:
        Called with each :class:`ReceivedMessage` (``body``, ``message_id``, ``attributes``,
        ``message_attributes``, ``group_id``, ``receive_count`` ...). Return to have the message deleted;
        raise to leave it for redelivery. Called from ``concurrency`` threads at once.
    client:
        A boto3 SQS client. Default: - one with botocore's ``standard`` retry mode (10 attempts).
    concurrency:
        Handler threads, 1-1,000. A FIFO queue runs at most one thread per message group. Default: 1.
    batch_size:
        Messages per ``ReceiveMessage``, 1-10. Default: 10.
    wait_time_seconds:
        Long polling, 0-20 s. A stop waits for the receive in progress, so at most this long. Default: 20.
    visibility_timeout:
        Seconds, 1-43,200, for the messages this worker receives. Default: - the queue's.
    release_failures:
        Give a failed message back at once with ``ChangeMessageVisibility`` 0 instead of letting its
        visibility timeout run out (the FIFO messages a failure held back are always given back; the
        failed message, while in flight, keeps its group blocked). Each delivery counts
        toward the queue's ``maxReceiveCount``. Default: False.
    heartbeat:
        Extend the visibility of messages still being processed when half of their timeout is gone.
        Default: True.
    max_messages:
        Stop after receiving this many. Default: - no limit.
    stop_when_empty:
        Stop when a receive returns nothing and no message is in flight. Default: False.
    handle_signals:
        On the main thread, SIGINT and SIGTERM stop gracefully (the previous handlers come back after the
        first signal, so a second one stops at once; nothing is lost either way). Default: True.
    logger:
        Where handler failures are logged at WARNING, with the traceback. Default: - the standard logger
        ``constructs_sqs_runtime``; None for no logging.

    Returns
    -------
    ConsumeResult
        Counts of received, succeeded, failed, held-back, released, deleted messages, heartbeats, requests,
        and ``stopped_by`` (``"max_messages"``, ``"empty"``, ``"signal SIGTERM"``, ``"stop()"``).

    Raises
    ------
    ValueError
        When an option is out of range (the message names it and the valid range).
    botocore.exceptions.ClientError
        When reading the queue's visibility timeout or receiving fails after botocore's retries; messages in
        flight are finished or given back first.
    """
    return Consumer(
        queue_url,
        handler,
        client=client,
        concurrency=concurrency,
        batch_size=batch_size,
        wait_time_seconds=wait_time_seconds,
        visibility_timeout=visibility_timeout,
        release_failures=release_failures,
        heartbeat=heartbeat,
        max_messages=max_messages,
        stop_when_empty=stop_when_empty,
        handle_signals=handle_signals,
        logger=logger,
    ).run()


def _check_options(
    concurrency: int, batch_size: int, wait_time_seconds: int, visibility_timeout: int | None, max_messages: int | None
) -> None:
    checks = [
        ("concurrency", concurrency, 1, 1_000),
        ("batch_size", batch_size, 1, MAX_BATCH_ENTRIES),
        ("wait_time_seconds", wait_time_seconds, 0, 20),
        ("visibility_timeout", visibility_timeout, 1, 43_200),
        ("max_messages", max_messages, 1, None),
    ]
    problems = [
        f"{name} must be {'at least ' + str(low) if high is None else f'between {low} and {high}'}, got {value!r}"
        for name, value, low, high in checks
        if value is not None and (not isinstance(value, int) or value < low or (high is not None and value > high))
    ]
    if problems:
        raise ValueError("; ".join(problems))
