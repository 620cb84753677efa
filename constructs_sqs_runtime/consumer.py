"""Receive, process and delete SQS messages in a worker, losing none (rules R1-R3).

``consume(queue_url, handler)`` long-polls the queue (20 s, up to 10 messages a receive) from ``pollers``
threads at once, calls ``handler(message)`` for each message on a pool of ``concurrency`` threads, and
deletes the messages whose handler returned in ``DeleteMessageBatch`` requests sent from their own threads,
so that neither a receive nor a delete waits for the other: where SQS is milliseconds away, the requests
overlap instead of adding up. A poller receives again as soon as fewer messages wait for a handler than
there are handler threads, so a worker holds at most ``concurrency + pollers * batch_size`` messages it has
not started.

A handler that raises leaves its message to come back after the visibility timeout (or gives it back at once
with ``ChangeMessageVisibility`` 0, ``release_failures=True``); so does a crash of the process, since nothing
is deleted before its handler succeeded. ``handler_attempts`` retries a failing handler in place first. Messages
still held (being processed, or waiting for their delete) get a visibility heartbeat
(``ChangeMessageVisibilityBatch``) when half their timeout is gone, and never once it has passed. On a FIFO queue
the messages of a group are processed in order, one at a time, whatever poller received them; a failure holds
back the rest of its group (given back at once, behind the failed message, which SQS hands out first); other
groups go on. SIGINT or SIGTERM stops the worker gracefully: handlers that started finish, messages not started
are given back.

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

import collections
import functools
import logging
import queue
import random
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from typing import Any, Protocol

from ._sqs import MAX_BATCH_ENTRIES, ReceivedMessage, SqsClient, chunked, is_fifo_queue, prepare_client, sqs_client
from .errors import is_aws_error, queue_error, translated

__all__ = ["ConsumeResult", "Consumer", "ReceiveGate", "ReceivedMessage", "consume"]

_logger = logging.getLogger("constructs_sqs_runtime")

Handler = Callable[[ReceivedMessage], Any]

_OK, _FAILED, _HELD, _RELEASE = "ok", "failed", "held", "release"
_DONE = object()

BATCH_ENTRY_ATTEMPTS = 3
"""Requests per delete / visibility batch: entries SQS failed through no fault of ours (``SenderFault`` false) are
sent again, so that an internal error does not cost a second handling."""

MAX_POLLERS = 10
"""The default number of pollers grows with ``concurrency`` up to this; ten receives of ten messages in flight
keep a hundred handler threads fed at a round trip of a handler's duration."""


@dataclass
class ConsumeResult:
    """What a consumer did, in messages (``heartbeats`` counts visibility extensions, ``requests`` HTTP requests).

    ``held_back``: FIFO messages not processed because an earlier message of their group failed; they are given
    back at once and come again after the failed one. ``released``: given back with visibility 0 (held-back
    messages, failures with ``release_failures``, and messages not started when a stop was requested).
    ``expired``: messages whose visibility timeout passed while they were held (no heartbeat is sent after the
    timeout): SQS may deliver them again. ``retried``: handler calls repeated in place (``handler_attempts``).
    ``delete_failed``: handled messages whose delete failed; they come back and are handled again.
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
    retried: int = 0
    requests: int = 0
    stopped_by: str = ""


class ReceiveGate(Protocol):
    """What a :class:`Consumer` asks before and tells after each ``ReceiveMessage`` (``receive_gate``).

    The worker entry point (``python -m constructs_sqs_runtime.worker``) uses it to receive only while ECS task
    scale-in protection is confirmed.
    """

    def before_receive(self) -> bool:
        """Called by a poller before a receive: True to go ahead, False for not now (the poller asks again).

        It may block for a moment (a poller waits in it), and should return False rather than wait long, so
        that a stop is noticed."""
        ...

    def after_receive(self, received: int) -> None:
        """Called after each receive that ``before_receive`` let through (``received`` messages, 0 when it
        came back empty or failed); the messages already count in ``on_held_change``."""
        ...


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
    listener: Callable[[int], None] | None = None

    def add(self, messages: Iterable[ReceivedMessage], deadline: float) -> None:
        with self.lock:
            before = len(self.entries)
            for message in messages:
                self.entries[message.receipt_handle] = _Tracked(message, deadline)
            self._changed(before)

    def remove(self, messages: Iterable[ReceivedMessage]) -> None:
        with self.lock:
            before = len(self.entries)
            for message in messages:
                self.entries.pop(message.receipt_handle, None)
            self._changed(before)
            self.lock.notify_all()

    def _changed(self, before: int) -> None:
        # Called under the lock, so that the listener sees the counts in the order they happened.
        if self.listener is not None and len(self.entries) != before:
            self.listener(len(self.entries))

    def count(self) -> int:
        with self.lock:
            return len(self.entries)


class Consumer:
    """A worker for one queue; :meth:`run` consumes until stopped. See :func:`consume` for the parameters.

    ``delete_linger`` (seconds, default 0.05) is how long a delete waits for more handled messages to fill its
    batch of 10 before it goes.

    Two hooks let a process that runs the consumer (the ECS worker entry point) follow what it holds:
    ``on_held_change(count)`` is called with the number of messages held (received and not yet deleted, given
    back or left for redelivery) each time it changes, in order, from the thread that changed it (it must not
    block); ``receive_gate`` (a :class:`ReceiveGate`) is asked before each receive and told after it.
    """

    def __init__(
        self,
        queue_url: str,
        handler: Handler,
        *,
        client: SqsClient | None = None,
        concurrency: int = 1,
        pollers: int | None = None,
        batch_size: int = 10,
        wait_time_seconds: int = 20,
        visibility_timeout: int | None = None,
        release_failures: bool = False,
        handler_attempts: int = 1,
        retry_backoff: float = 0.5,
        heartbeat: bool = True,
        max_messages: int | None = None,
        stop_when_empty: bool = False,
        prefetch: bool = True,
        handle_signals: bool = True,
        delete_linger: float = 0.05,
        logger: logging.Logger | None = _logger,
        on_held_change: Callable[[int], None] | None = None,
        receive_gate: ReceiveGate | None = None,
    ) -> None:
        if not isinstance(queue_url, str) or not queue_url:
            raise TypeError(f"queue_url must be a queue URL (str), got {type(queue_url).__name__} {queue_url!r}")
        if not callable(handler):
            raise TypeError(f"handler must be callable (it is called with each ReceivedMessage), got {type(handler).__name__} {handler!r}")
        pollers = min(concurrency, MAX_POLLERS) if pollers is None and isinstance(concurrency, int) else pollers
        _check_options(concurrency, pollers, batch_size, wait_time_seconds, visibility_timeout, max_messages, handler_attempts, retry_backoff)
        assert pollers is not None
        self.queue_url = queue_url
        self.handler = handler
        connections = concurrency + 2 * pollers + 4
        self.client = prepare_client(client) if client is not None else sqs_client(queue_url, max_pool_connections=min(connections, 200))
        self.fifo = is_fifo_queue(queue_url)
        self.concurrency = concurrency
        self.pollers = pollers
        self.batch_size = batch_size
        self.wait_time_seconds = wait_time_seconds
        self.visibility_timeout = visibility_timeout
        self.release_failures = release_failures
        self.handler_attempts = handler_attempts
        self.retry_backoff = retry_backoff
        self.heartbeat = heartbeat
        self.max_messages = max_messages
        self.stop_when_empty = stop_when_empty
        self.prefetch = prefetch
        self.handle_signals = handle_signals
        self.delete_linger = delete_linger
        self.logger = logger
        self.receive_gate = receive_gate
        self.result = ConsumeResult()
        self._tracker = _Tracker(listener=on_held_change)
        self._outcomes: queue.Queue[Any] = queue.Queue()
        self._stopping = threading.Event()  # stop(), a signal, an error: give back what did not start
        self._draining = threading.Event()  # max_messages, an empty queue: receive no more, finish the rest
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._visibility = 0
        self._waiting = 0  # received, not started by a handler
        self._reserved = 0  # max_messages: asked for by receives in progress
        self._receiving = 0  # receives in progress
        self._probe_wanted = False  # stop_when_empty: a receive came back empty; probe when all is quiet
        self._probing = False
        self._active_groups: set[str | None] = set()
        self._chained: dict[str | None, collections.deque[list[ReceivedMessage]]] = {}
        self._busy = 0  # units submitted to the pool and not done
        self._error: BaseException | None = None
        self._pool: ThreadPoolExecutor | None = None

    def stop(self, reason: str = "stop()") -> None:
        """Ask the worker to stop: handlers that started finish, messages not started are given back."""
        with self._lock:
            self.result.stopped_by = self.result.stopped_by or reason
            self._room.notify_all()
        self._stopping.set()

    def run(self) -> ConsumeResult:
        """Consume until ``max_messages``, an empty queue (``stop_when_empty``), a signal or :meth:`stop`.

        Returns the :class:`ConsumeResult`. A receive that fails after the client's retries stops the worker
        (messages in flight are finished or given back) and is raised as a :class:`QueueError`.
        """
        with translated(self.queue_url, "GetQueueAttributes", self.client):
            self._visibility = self.visibility_timeout or self._queue_visibility_timeout()
        restore = self._install_signal_handlers()
        housekeeper = threading.Thread(target=self._housekeep, name="sqs-consumer-housekeeper", daemon=True)
        housekeeper.start()
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="sqs-consumer")
        pollers = [threading.Thread(target=self._poll, name=f"sqs-consumer-poller-{n}", daemon=True) for n in range(self.pollers)]
        try:
            for poller in pollers:
                poller.start()
            for poller in pollers:
                while poller.is_alive():  # joined in slices, so that a signal reaches the main thread at once
                    poller.join(0.5)
            self._wait_for_units()
        finally:
            if self._error is not None:
                self._stopping.set()
            self._pool.shutdown(wait=True, cancel_futures=self._stopping.is_set())
            self._release_chained()
            self._outcomes.put(_DONE)
            housekeeper.join()
            restore()
        if self._error is not None:
            if is_aws_error(self._error):
                raise queue_error(self._error, queue_url=self.queue_url, operation="ReceiveMessage", client=self.client) from self._error
            raise self._error
        return self.result

    def _wait_for_units(self) -> None:
        """Draining (max_messages, an empty queue): let every unit received run, a FIFO group's chained ones too."""
        with self._room:
            while self._busy and not self._stopping.is_set():
                self._room.wait(0.2)

    # --- receiving -------------------------------------------------------------------------------

    def _poll(self) -> None:
        gate = self.receive_gate
        while not (self._stopping.is_set() or self._draining.is_set()):
            wanted, probe = self._reserve()
            if not wanted:
                return
            # Asked right before the request, after any wait for room, so that the answer is still true when it goes.
            if gate is not None and not gate.before_receive():
                self._unreserve_refused(wanted, probe)
                self._stopping.wait(0.05)  # the gate waits on its own; this only keeps one that does not from spinning
                continue
            try:
                messages = self._receive(wanted)
            except Exception as error:
                self._unreserve(wanted, probe, None)
                if gate is not None:
                    gate.after_receive(0)
                self._fail(error)
                return
            if gate is not None:
                gate.after_receive(len(messages))
            self._unreserve(wanted, probe, bool(messages))  # what arrived is counted in result.received now
            if not messages:
                if not self.stop_when_empty and self.wait_time_seconds == 0:  # short polls of an empty queue: do not spin
                    self._stopping.wait(0.1)
                continue
            if self._stopping.is_set():  # a stop came during the long poll: give these back unprocessed
                self._outcomes.put([(m, _RELEASE) for m in messages])
                return
            self._dispatch(messages)

    def _reserve(self) -> tuple[int, bool]:
        """Wait for room, then the number of messages to ask for (0: stop polling), and whether the receive is
        the probe of ``stop_when_empty``.

        An empty receive shows an empty queue only when nothing else could explain it: no message held by this
        worker (on a FIFO queue they lock their groups) and no other receive in progress (it may be taking the
        messages). After an empty receive, ``stop_when_empty`` waits for that moment and sends one probe; an
        empty probe stops the worker.
        """
        with self._room:
            while True:
                if self._stopping.is_set() or self._draining.is_set():
                    return 0, False
                wanted = self.batch_size
                if self.max_messages is not None:
                    wanted = min(wanted, self.max_messages - self.result.received - self._reserved)
                    if wanted <= 0:
                        if self.result.received >= self.max_messages:
                            self._drain_locked("max_messages")
                            return 0, False
                        self._room.wait(0.2)  # other pollers hold the rest of the allowance
                        continue
                if self._probe_wanted:
                    quiet = not self._probing and not self._receiving and not self._tracker.entries and not self._busy
                    if quiet:
                        self._probing = True
                        self._receiving += 1
                        self._reserved += wanted
                        return wanted, True
                elif self._has_room():
                    if not self.prefetch:  # no more than the handler threads that are free
                        wanted = min(wanted, self.concurrency - len(self._tracker.entries) - self._reserved)
                    self._receiving += 1
                    self._reserved += wanted
                    return wanted, False
                self._room.wait(0.2)

    def _has_room(self) -> bool:
        """Whether a poller may receive now (under ``_room``)."""
        held = len(self._tracker.entries)
        if not self.prefetch:
            return held + self._reserved < self.concurrency
        return self._waiting < self.concurrency and held < self._max_held()

    def _max_held(self) -> int:
        # What was received and not yet started, plus what is being handled or waits for its delete.
        return self.concurrency + 2 * self.pollers * self.batch_size

    def _unreserve(self, count: int, probe: bool, got_messages: bool | None) -> None:
        """A receive is over (``got_messages`` None: it failed)."""
        with self._room:
            self._reserved -= count
            self._receiving -= 1
            if probe:
                self._probing = False
                if got_messages is False:
                    self._drain_locked("empty")
                else:
                    self._probe_wanted = False
            elif got_messages is False and self.stop_when_empty:
                self._probe_wanted = True
            self._room.notify_all()

    def _unreserve_refused(self, count: int, probe: bool) -> None:
        """The receive gate said not now: undo the reservation; a probe of ``stop_when_empty`` is asked again."""
        with self._room:
            self._reserved -= count
            self._receiving -= 1
            if probe:
                self._probing = False
            self._room.notify_all()

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
        with self._lock:
            self.result.requests += 1
        response = self.client.receive_message(**request)
        messages = [ReceivedMessage.from_response(m) for m in response.get("Messages") or []]
        self._tracker.add(messages, started + self._visibility)
        with self._lock:
            self.result.received += len(messages)
        return messages

    def _drain(self, reason: str) -> None:
        with self._room:
            self._drain_locked(reason)

    def _drain_locked(self, reason: str) -> None:
        self.result.stopped_by = self.result.stopped_by or reason
        self._draining.set()
        self._room.notify_all()

    def _fail(self, error: BaseException) -> None:
        with self._room:
            if self._error is None:
                self._error = error
            self.result.stopped_by = self.result.stopped_by or f"error: {type(error).__name__}"
            self._room.notify_all()
        self._stopping.set()

    # --- dispatching: one unit per message, or per FIFO group; a group's units one after the other -------

    def _dispatch(self, messages: Sequence[ReceivedMessage]) -> None:
        units = self._units(messages)
        with self._room:
            self._waiting += len(messages)
            runnable = []
            for unit in units:
                group = unit[0].group_id if self.fifo else None
                if self.fifo and group in self._active_groups:
                    # Another unit of the group is held: this one goes after it, never beside it (R3).
                    self._chained.setdefault(group, collections.deque()).append(unit)
                    continue
                if self.fifo:
                    self._active_groups.add(group)
                runnable.append(unit)
        for unit in runnable:
            self._submit(unit)

    def _submit(self, unit: list[ReceivedMessage]) -> None:
        assert self._pool is not None
        with self._room:
            self._busy += 1
        try:
            future = self._pool.submit(self._process, unit)
        except RuntimeError:  # the pool is shutting down: a stop; give the unit back
            self._unit_released(unit)
            self._unit_over()
            return
        future.add_done_callback(functools.partial(self._on_unit_done, unit=unit))

    def _unit_over(self) -> None:
        with self._room:
            self._busy -= 1
            self._room.notify_all()

    def _units(self, messages: Sequence[ReceivedMessage]) -> list[list[ReceivedMessage]]:
        """Standard: one unit per message. FIFO: one unit per message group, in the order received (R3)."""
        if not self.fifo:
            return [[message] for message in messages]
        groups: dict[str | None, list[ReceivedMessage]] = {}
        for message in messages:
            groups.setdefault(message.group_id, []).append(message)
        return list(groups.values())

    def _next_in_group(self, unit: Sequence[ReceivedMessage], held_back: bool) -> None:
        """A FIFO unit is over: start the group's next unit, or hold it back after a failure."""
        if not self.fifo:
            return
        group = unit[0].group_id
        with self._room:
            chained = self._chained.get(group)
            following = chained.popleft() if chained else None
            if chained is not None and not chained:
                del self._chained[group]
            if following is None:
                self._active_groups.discard(group)
        if following is None:
            return
        if held_back or self._stopping.is_set():
            self._unit_released(following, _HELD if held_back else _RELEASE)
            self._next_in_group(following, held_back)
        else:
            self._submit(following)

    def _unit_released(self, unit: Sequence[ReceivedMessage], outcome: str = _RELEASE) -> None:
        with self._room:
            self._waiting -= len(unit)
            self._room.notify_all()
        self._outcomes.put([(m, outcome) for m in unit])

    def _release_chained(self) -> None:
        with self._room:
            chained = [unit for units in self._chained.values() for unit in units]
            self._chained.clear()
            self._active_groups.clear()
        for unit in chained:
            self._unit_released(unit)

    # --- processing -----------------------------------------------------------------------------

    def _process(self, unit: Sequence[ReceivedMessage]) -> None:
        """Run the handler on each message of the unit in order; after a failure, hold back the rest."""
        with self._room:
            self._waiting -= len(unit)
            self._room.notify_all()
        outcomes: list[tuple[ReceivedMessage, str]] = []
        held_back = False
        for position, message in enumerate(unit):
            if self._stopping.is_set():  # stop requested: give back what did not start
                outcomes += [(m, _RELEASE) for m in unit[position:]]
                break
            if not self._handle(message):
                outcomes.append((message, _FAILED))
                outcomes += [(m, _HELD) for m in unit[position + 1 :]]
                held_back = True
                break
            outcomes.append((message, _OK))
            if self.fifo:  # its delete is on its way before the next message of the group is handled
                self._outcomes.put(outcomes)
                outcomes = []
        if outcomes:
            self._outcomes.put(outcomes)
        self._next_in_group(unit, held_back)

    def _handle(self, message: ReceivedMessage) -> bool:
        """The handler on one message, up to ``handler_attempts`` times; True when it returned."""
        for attempt in range(1, self.handler_attempts + 1):
            try:
                self.handler(message)
                return True
            except Exception:
                last = attempt == self.handler_attempts or self._stopping.is_set()
                if self.logger is not None:
                    self.logger.warning(
                        "handler failed on message %s (attempt %d of %d)", message.message_id, attempt, self.handler_attempts, exc_info=True
                    )
                if last:
                    return False
                with self._lock:
                    self.result.retried += 1
                self._stopping.wait(random.uniform(0, min(5.0, self.retry_backoff * 2 ** (attempt - 1))))
        return False

    def _on_unit_done(self, future: Future[None], unit: Sequence[ReceivedMessage]) -> None:
        if future.cancelled():  # never started: the stop gives the messages back
            self._unit_released(unit)
            self._next_in_group(unit, False)
        elif future.exception() is not None:  # a bug of this module, not of the handler: never lose track
            self._outcomes.put([(m, _FAILED) for m in unit])
        self._unit_over()

    # --- housekeeping: deletes and releases sent from a pool of their own, heartbeats on this thread ---

    def _housekeep(self) -> None:
        acks = ThreadPoolExecutor(max_workers=max(2, self.pollers), thread_name_prefix="sqs-consumer-ack")
        outstanding: set[Future[None]] = set()
        deletes: list[ReceivedMessage] = []
        releases: list[ReceivedMessage] = []
        first_pending = 0.0
        tick = min(0.5, self._visibility / 4)
        last_beat = 0.0
        finished = False
        try:
            while not finished or outstanding:
                if finished:  # everything is flushed: wait for the last deletes, beating meanwhile
                    wait_futures(outstanding, timeout=tick)
                    item = None
                else:
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
                while len(deletes) >= MAX_BATCH_ENTRIES:
                    outstanding.add(acks.submit(self._flush, deletes[:MAX_BATCH_ENTRIES], []))
                    deletes = deletes[MAX_BATCH_ENTRIES:]
                if (deletes or releases) and (finished or linger_over or len(releases) >= MAX_BATCH_ENTRIES):
                    outstanding.add(acks.submit(self._flush, deletes, releases))
                    deletes, releases = [], []
                outstanding = {f for f in outstanding if not f.done()}
                now = time.monotonic()
                if self.heartbeat and now - last_beat >= tick / 2:
                    last_beat = now
                    self._beat()
        finally:
            acks.shutdown(wait=True)

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
        with self._room:  # pollers wait for fewer messages held
            self._room.notify_all()

    def _beat(self) -> None:
        """Extend the visibility of messages past half their timeout; never of one whose timeout passed (R2)."""
        now = time.monotonic()
        guard = min(1.0, self._visibility / 10)
        due: list[ReceivedMessage] = []
        expired = 0
        with self._tracker.lock:
            for tracked in self._tracker.entries.values():
                if tracked.expired or tracked.deadline - now > self._visibility / 2:
                    continue
                if now >= tracked.deadline - guard:
                    tracked.expired = True
                    expired += 1
                    continue
                due.append(tracked.message)
        if expired:
            with self._lock:
                self.result.expired += expired
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
        """A ``*Batch`` request on ``messages``; the entries SQS failed through no fault of ours are sent again
        (R4), up to ``BATCH_ENTRY_ATTEMPTS`` requests. Returns the message ids of the entries that failed, logged."""
        pending = list(messages)
        failed: set[str] = set()
        for attempt in range(1, BATCH_ENTRY_ATTEMPTS + 1):
            entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle, **extra} for i, m in enumerate(pending)]
            with self._lock:
                self.result.requests += 1
            try:
                response = getattr(self.client, operation)(QueueUrl=self.queue_url, Entries=entries)
            except Exception as error:
                if self.logger is not None:
                    described = str(queue_error(error, queue_url=self.queue_url, client=self.client)) if is_aws_error(error) else repr(error)
                    self.logger.warning("%s failed for %d message(s): %s", operation, len(pending), described)
                return failed | {m.message_id for m in pending}
            failures = response.get("Failed") or []
            again = [f for f in failures if not f.get("SenderFault") and attempt < BATCH_ENTRY_ATTEMPTS]
            final = [f for f in failures if f not in again]
            if final:
                failed |= {pending[int(f["Id"])].message_id for f in final}
                if self.logger is not None:
                    self.logger.warning("%s failed for %s: %s", operation, [pending[int(f["Id"])].message_id for f in final], final)
            if not again:
                return failed
            pending = [pending[int(f["Id"])] for f in again]
            time.sleep(random.uniform(0, 0.05 * 2**attempt))
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


def consume(
    queue_url: str,
    handler: Handler,
    *,
    client: SqsClient | None = None,
    concurrency: int = 1,
    pollers: int | None = None,
    batch_size: int = 10,
    wait_time_seconds: int = 20,
    visibility_timeout: int | None = None,
    release_failures: bool = False,
    handler_attempts: int = 1,
    retry_backoff: float = 0.5,
    heartbeat: bool = True,
    max_messages: int | None = None,
    stop_when_empty: bool = False,
    prefetch: bool = True,
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
    pollers:
        Receives in flight at once, 1-100: where SQS is far (milliseconds per request), more pollers keep the
        handlers fed. Each long-polls on its own, so an idle worker makes ``pollers`` receives per
        ``wait_time_seconds``. Default: - ``concurrency``, at most 10.
    batch_size:
        Messages per ``ReceiveMessage``, 1-10. On a FIFO queue every message of a group in a receive counts
        a receive when its group's first message fails (see ``docs/runtime-guarantees.md``): 1 keeps healthy
        messages out of the DLQ, at the cost of a request per message. Default: 10.
    wait_time_seconds:
        Long polling, 0-20 s. A stop waits for the receives in progress, so at most this long. Default: 20.
    visibility_timeout:
        Seconds, 1-43,200, for the messages this worker receives. Default: - the queue's.
    release_failures:
        Give a failed message back at once with ``ChangeMessageVisibility`` 0 instead of letting its
        visibility timeout run out (the FIFO messages a failure held back are always given back; the
        failed message, while in flight, keeps its group blocked). Each delivery counts
        toward the queue's ``maxReceiveCount``. Default: False.
    handler_attempts:
        Calls of the handler per delivery, 1-100: a handler that raises is called again at once (after
        ``retry_backoff``) on the same delivery, with heartbeats, before the message is left for redelivery.
        Retries in place cost no receive, so on a FIFO queue a head message that fails a few times does not
        drag its group's later messages toward the DLQ. Default: 1.
    retry_backoff:
        Seconds: before in-place retry n the worker waits a random time up to
        ``min(5, retry_backoff * 2 ** (n - 1))``. Default: 0.5.
    heartbeat:
        Extend the visibility of messages still held when half of their timeout is gone. Default: True.
    max_messages:
        Stop after receiving this many. Default: - no limit.
    stop_when_empty:
        Stop when a receive returns nothing, no message is held and no receive since returned any.
        Default: False.
    prefetch:
        Receive while handlers are busy, so that the next messages wait in the worker (at most
        ``concurrency`` not started, plus a receive's worth): the throughput of short jobs. False receives only
        for handler threads that are free, so a worker never holds a message it has not started: for long jobs,
        where a message held behind another waits a whole job while other workers could take it, and where
        the queue's visible count must be the backlog (the ECS worker). Default: True.
    handle_signals:
        On the main thread, SIGINT and SIGTERM stop gracefully (the previous handlers come back after the
        first signal, so a second one stops at once; nothing is lost either way). Default: True.
    logger:
        Where handler failures are logged at WARNING, with the traceback. Default: - the standard logger
        ``constructs_sqs_runtime``; None for no logging.

    Returns
    -------
    ConsumeResult
        Counts of received, succeeded, failed, held-back, released, deleted messages, heartbeats, in-place
        retries, requests, and ``stopped_by`` (``"max_messages"``, ``"empty"``, ``"signal SIGTERM"``,
        ``"stop()"``).

    Raises
    ------
    TypeError
        When ``handler`` is not callable or ``queue_url`` not a string.
    ValueError
        When an option is out of range (the message names it and the valid range).
    QueueError
        When reading the queue's visibility timeout or receiving fails after the client's retries (no such
        queue, no credentials or region, endpoint unreachable, access denied, throttled to the end): it names
        the queue, its ``kind`` and the ``fix``. Messages in flight are finished or given back first.
    """
    return Consumer(
        queue_url,
        handler,
        client=client,
        concurrency=concurrency,
        pollers=pollers,
        batch_size=batch_size,
        wait_time_seconds=wait_time_seconds,
        visibility_timeout=visibility_timeout,
        release_failures=release_failures,
        handler_attempts=handler_attempts,
        retry_backoff=retry_backoff,
        heartbeat=heartbeat,
        max_messages=max_messages,
        stop_when_empty=stop_when_empty,
        prefetch=prefetch,
        handle_signals=handle_signals,
        logger=logger,
    ).run()


def _check_options(
    concurrency: int,
    pollers: int | None,
    batch_size: int,
    wait_time_seconds: int,
    visibility_timeout: int | None,
    max_messages: int | None,
    handler_attempts: int,
    retry_backoff: float,
) -> None:
    checks = [
        ("concurrency", concurrency, 1, 1_000),
        ("pollers", pollers, 1, 100),
        ("batch_size", batch_size, 1, MAX_BATCH_ENTRIES),
        ("wait_time_seconds", wait_time_seconds, 0, 20),
        ("visibility_timeout", visibility_timeout, 1, 43_200),
        ("max_messages", max_messages, 1, None),
        ("handler_attempts", handler_attempts, 1, 100),
    ]
    problems = [
        f"{name} must be {'at least ' + str(low) if high is None else f'between {low} and {high}'}, got {value!r}"
        for name, value, low, high in checks
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high))
    ]
    if not isinstance(retry_backoff, (int, float)) or retry_backoff < 0:
        problems.append(f"retry_backoff must be a number of seconds >= 0, got {retry_backoff!r}")
    if problems:
        raise ValueError("; ".join(problems))
