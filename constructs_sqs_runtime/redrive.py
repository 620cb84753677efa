"""Move messages from a dead-letter queue back to their source queue (or another), each exactly once.

``redrive(dead_letter_queue_url)`` uses SQS's own ``StartMessageMoveTask`` where the service has it, and
follows the task with ``ListMessageMoveTasks`` (rule R7). Where it does not (an emulator), or when
only some messages are to be moved, it receives, sends and deletes (R6): the body, the message attributes,
the ``MessageGroupId`` and the X-Ray trace header are kept; a FIFO message gets a deduplication id derived
from its message id in the DLQ (``redrive-<MessageId>``): it differs from its original (still inside its
5-minute window, where a send with it would be dropped) and is the same on every run, so a run that follows
a crash does not send a message twice within SQS's deduplication window. A message is deleted from the DLQ
only after its send succeeded, and a FIFO group is moved in order: the DLQ hands out a group's next messages
only once the earlier ones are deleted, and a message that cannot be moved stops its group.

The result tells the truth (R9): a run ends when the DLQ holds nothing it can still take. An empty receive is
not proof of that; the run reads the DLQ's counters and, while messages are in flight (received by someone
else, or by a run that crashed, until their visibility timeout ends), delayed, or held behind their FIFO
group's message in flight, it keeps polling for up to ``in_flight_timeout`` seconds after its last progress.
What remains then is counted by reason in ``RedriveResult.remaining``, and ``ok`` is False.

Example
-------
::

    from constructs_sqs_runtime import redrive

    result = redrive("https://sqs.eu-west-1.amazonaws.com/123456789012/orders-dlq.fifo")
    print(f"moved {result.moved} by {result.method}; {result.remaining_total} remain: {result.remaining}")
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from ._sqs import MAX_BATCH_ENTRIES, ReceivedMessage, SqsClient, chunked, error_code, is_fifo_queue, prepare_client, sqs_client
from .errors import QueueError, translated
from .producer import OutgoingMessage, Producer, SendMessagesError

__all__ = [
    "DEFAULT_IN_FLIGHT_TIMEOUT",
    "REMAINING_REASONS",
    "RedriveError",
    "RedriveFailure",
    "RedriveProgress",
    "RedriveResult",
    "deduplication_id_of",
    "peek_messages",
    "redrive",
]

_logger = logging.getLogger("constructs_sqs_runtime")

Method = Literal["auto", "move-task", "receive-send-delete"]

MOVE_TASK = "move-task"
RECEIVE_SEND_DELETE = "receive-send-delete"

DEFAULT_IN_FLIGHT_TIMEOUT = 90.0
"""Seconds a redrive keeps polling, after its last progress, for messages in flight, delayed or behind a locked
FIFO group: longer than its own default visibility timeout (60 s), so a run started right after a crashed one
waits for the messages the crashed one had received."""

REMAINING_REASONS = {
    "not_moved": "taken by this run and not moved (see failures); given back to the DLQ",
    "behind_not_moved": "FIFO: behind a message of their group that could not be moved",
    "in_flight": "hidden by another receiver or an interrupted run, and not back within in_flight_timeout",
    "group_locked": "FIFO: behind a message of their group that is in flight",
    "delayed": "still delayed (DelaySeconds)",
    "visible": "visible but not handed out (they arrived at the end, or SQS's approximate counters lag)",
    "not_asked": "beyond max_messages",
}
"""The keys of ``RedriveResult.remaining``, and what each means."""

# What an endpoint without StartMessageMoveTask answers: SQS's own codes, and an emulator's HTTP 500/501.
_UNSUPPORTED_CODES = {
    "UnsupportedOperation",
    "AWS.SimpleQueueService.UnsupportedOperation",
    "InvalidAction",
    "NotImplemented",
    "NotImplementedError",
    "500",
    "501",
}
_FINISHED = {"COMPLETED", "CANCELLED", "FAILED"}
_NOT_CONFIRMED = "NotConfirmed"
_DELETE_ATTEMPTS = 3


class RedriveError(QueueError):
    """The redrive could not go on: the DLQ or the destination cannot be used (``kind``, ``fix``: see
    :class:`~constructs_sqs_runtime.QueueError`), the destination cannot be found, or the move task failed.
    ``result`` says what was moved before (None when nothing started)."""

    def __init__(
        self,
        message: str,
        result: RedriveResult | None = None,
        *,
        queue_url: str = "",
        kind: str = "failed",
        code: str = "",
        operation: str = "",
        fix: str = "",
    ) -> None:
        super().__init__(message, queue_url=queue_url, kind=kind, code=code, operation=operation, fix=fix)
        self.result = result


@dataclass(frozen=True)
class RedriveProgress:
    """Messages moved so far, and the approximate number to move (None when unknown)."""

    moved: int
    total: int | None


@dataclass(frozen=True)
class RedriveFailure:
    """A message left in the DLQ: its id, group, and why (``NotConfirmed``: its send's fate is unknown; a
    rerun within 5 minutes sends it with the same deduplication id, which SQS drops if it had arrived)."""

    message_id: str
    group_id: str | None
    code: str
    message: str


@dataclass
class RedriveResult:
    """What ``redrive`` did: the method, how many messages moved, what stayed in the DLQ and why.

    ``remaining`` counts, by reason (:data:`REMAINING_REASONS`), the messages the DLQ still held when the run
    ended (from its approximate counters, and this run's own failures); ``possible_duplicates`` counts the
    copies a standard destination may hold because a send was repeated after an attempt whose fate was unknown
    (a FIFO destination drops them: the deduplication id is the same).
    """

    method: str
    dead_letter_queue_url: str
    destination: str | None
    moved: int = 0
    failures: list[RedriveFailure] = field(default_factory=list)
    task_handle: str | None = None
    status: str = ""
    requests: int = 0
    remaining: dict[str, int] = field(default_factory=dict)
    possible_duplicates: int = 0

    @property
    def remaining_total(self) -> int:
        """Messages left in the DLQ, ``not_asked`` (beyond ``max_messages``) included."""
        return sum(self.remaining.values())

    @property
    def left_undone(self) -> int:
        """Messages left in the DLQ that the run was asked to move (every reason but ``not_asked``)."""
        return sum(count for reason, count in self.remaining.items() if reason != "not_asked")

    @property
    def ok(self) -> bool:
        """True only when the run did everything it was asked: every message it took was moved, the move task
        (if any) completed, and nothing it was asked to move is left in the DLQ."""
        return not self.failures and self.status not in ("FAILED", "CANCELLED") and self.left_undone == 0

    def describe_remaining(self) -> str:
        """``260 remain: 250 in flight, 10 not moved`` (or ``nothing remains``)."""
        if not self.remaining_total:
            return "nothing remains"
        parts = ", ".join(f"{count} {reason.replace('_', ' ')}" for reason, count in self.remaining.items() if count)
        return f"{self.remaining_total} remain: {parts}"


def deduplication_id_of(message: ReceivedMessage) -> str:
    """The deduplication id redrive gives a FIFO message: derived from its message id in the DLQ, so it differs
    from its original and is the same on every run (R6)."""
    return f"redrive-{message.message_id}"


def redrive(
    dead_letter_queue_url: str,
    *,
    destination_url: str | None = None,
    max_messages: int | None = None,
    client: SqsClient | None = None,
    method: Method = "auto",
    max_per_second: int | None = None,
    on_progress: Callable[[RedriveProgress], None] | None = None,
    poll_interval: float = 2.0,
    visibility_timeout: int = 60,
    wait_time_seconds: int = 2,
    in_flight_timeout: float = DEFAULT_IN_FLIGHT_TIMEOUT,
) -> RedriveResult:
    """Move the messages of a dead-letter queue back to its source queue, or to ``destination_url``.

    Parameters
    ----------
    dead_letter_queue_url:
        The DLQ's URL.
    destination_url:
        Where to move the messages. Default: - the queue whose redrive policy names the DLQ (with the move
        task, each message's own source queue); an error when several or none do.
    max_messages:
        Move at most this many (receive / send / delete, since a move task cannot be limited). Default: - all.
    client:
        A boto3 SQS client. Default: - one with botocore's ``standard`` retry mode (10 attempts).
    method:
        ``"move-task"`` (``StartMessageMoveTask``), ``"receive-send-delete"``, or ``"auto"``: the move task
        unless ``max_messages`` is given or the endpoint does not have it. Default: "auto".
    max_per_second:
        The move task's ``MaxNumberOfMessagesPerSecond`` (1-500). Default: - as fast as SQS goes.
    on_progress:
        Called with a :class:`RedriveProgress` after each poll of the task or each moved batch.
    poll_interval:
        Seconds between two ``ListMessageMoveTasks``, and between two looks at the DLQ's counters while
        waiting for messages in flight. Default: 2.
    visibility_timeout:
        Seconds a received DLQ message stays hidden while it is moved (receive / send / delete); a run that
        crashes leaves its messages hidden this long. Default: 60.
    wait_time_seconds:
        Long polling of the DLQ (receive / send / delete), 0-20. Default: 2.
    in_flight_timeout:
        Seconds, 0-43,200: after its last progress, how long the run keeps waiting for messages the DLQ still
        holds but cannot hand out yet (in flight with another receiver or a crashed run, delayed, or behind
        their FIFO group's message in flight); then it ends and counts them in ``remaining``. With the move
        task: how long it waits for such messages before a follow-up task. Default: 90.

    Returns
    -------
    RedriveResult
        ``method``, ``moved``, ``failures`` (messages it took and left in the DLQ, with the error code),
        ``remaining`` (what the DLQ still holds, by reason), ``possible_duplicates``, ``status`` and
        ``task_handle`` of a move task; ``ok`` is True only when nothing it was asked to move remains.

    Raises
    ------
    TypeError, ValueError
        For a bad option, or a destination whose type (FIFO or standard) differs from the DLQ's.
    RedriveError
        A :class:`~constructs_sqs_runtime.QueueError`: when the DLQ or the destination cannot be used (no such
        queue, no credentials or region, unreachable, access denied, throttled to the end: ``kind`` and
        ``fix`` say which), the destination cannot be found, the move task fails, or ``method="move-task"``
        is not available. Its ``result`` says what was moved before.
    """
    _check_options(dead_letter_queue_url, method, max_messages, max_per_second, visibility_timeout, wait_time_seconds, in_flight_timeout)
    if destination_url is not None and is_fifo_queue(destination_url) != is_fifo_queue(dead_letter_queue_url):
        raise ValueError(
            f"destination_url {destination_url!r} and the DLQ {dead_letter_queue_url!r} must both be FIFO or both "
            "standard: SQS moves messages only between queues of one type"
        )
    with translated(dead_letter_queue_url, "creating the SQS client", cls=RedriveError):
        client = prepare_client(client) if client is not None else sqs_client(dead_letter_queue_url)
    if method == MOVE_TASK or (method == "auto" and max_messages is None):
        try:
            return _MoveTask(client, dead_letter_queue_url, destination_url, max_per_second, on_progress, poll_interval, in_flight_timeout).run()
        except _Unsupported as unsupported:
            if method == MOVE_TASK:
                raise RedriveError(
                    f"StartMessageMoveTask is not available at this endpoint: {unsupported}",
                    queue_url=dead_letter_queue_url,
                    code=str(unsupported),
                    operation="StartMessageMoveTask",
                    fix="use method='receive-send-delete' (or 'auto')",
                ) from None
    with translated(dead_letter_queue_url, "ListDeadLetterSourceQueues", client, cls=RedriveError):
        destination = destination_url or _source_queue(client, dead_letter_queue_url)
    mover = _Mover(client, dead_letter_queue_url, destination, visibility_timeout, wait_time_seconds, on_progress, poll_interval, in_flight_timeout)
    return mover.run(max_messages)


class _Unsupported(Exception):
    pass


@contextmanager
def _translated(queue_url: str, operation: str, client: SqsClient, result: RedriveResult) -> Iterator[None]:
    with translated(queue_url, operation, client, cls=RedriveError, result=result):
        yield


@dataclass
class _Counts:
    """The DLQ's approximate counters."""

    visible: int
    in_flight: int
    delayed: int


def _counts(client: SqsClient, queue_url: str) -> _Counts:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
    attributes = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
    return _Counts(*(int(attributes.get(name, 0)) for name in names))


class _MoveTask:
    """``StartMessageMoveTask``, then ``ListMessageMoveTasks`` until the task finishes (R7); then the DLQ's
    counters: what the task did not move is counted, and while some of it is in flight a follow-up task moves
    it when it comes back (until ``in_flight_timeout`` after the last progress)."""

    def __init__(
        self,
        client: SqsClient,
        dlq_url: str,
        destination_url: str | None,
        max_per_second: int | None,
        on_progress: Callable[[RedriveProgress], None] | None,
        poll_interval: float,
        in_flight_timeout: float,
    ) -> None:
        self.client = client
        self.dlq_url = dlq_url
        self.destination_url = destination_url
        self.max_per_second = max_per_second
        self.on_progress = on_progress
        self.poll_interval = poll_interval
        self.in_flight_timeout = in_flight_timeout
        self.result = RedriveResult(MOVE_TASK, dlq_url, destination_url)

    def run(self) -> RedriveResult:
        with _translated(self.dlq_url, "GetQueueAttributes", self.client, self.result):
            source_arn = _arn(self.client, self.dlq_url)
        request: dict[str, Any] = {"SourceArn": source_arn}
        if self.destination_url is not None:
            with _translated(self.destination_url, "GetQueueAttributes", self.client, self.result):
                request["DestinationArn"] = _arn(self.client, self.destination_url)
        if self.max_per_second is not None:
            request["MaxNumberOfMessagesPerSecond"] = self.max_per_second
        self.result.requests += 1
        moved_before = 0
        handle = self._start(request)
        last_progress = time.monotonic()
        while True:
            task = self._follow(source_arn, handle, moved_before)
            if self.result.status == "FAILED":
                raise RedriveError(
                    f"the message move task failed: {task.get('FailureReason', 'no reason given')}; {self.result.describe_remaining()}",
                    self.result,
                    queue_url=self.dlq_url,
                    code="MoveTaskFailed",
                    operation="StartMessageMoveTask",
                    fix="see the reason; messages the task did not move are still in the DLQ",
                )
            if self.result.moved > moved_before:
                last_progress = time.monotonic()
            moved_before = self.result.moved
            while True:  # what the task left: wait for what is in flight or delayed to come back
                counts = self._remaining()
                if self.result.status == "CANCELLED" or not (counts.visible or counts.in_flight or counts.delayed):
                    return self.result
                if time.monotonic() - last_progress >= self.in_flight_timeout:
                    return self.result
                if counts.visible:
                    break
                time.sleep(self.poll_interval)
            handle = self._start(request)  # visible again (or arrived meanwhile): a follow-up task

    def _start(self, request: dict[str, Any]) -> str:
        event = "needs-retry.sqs.StartMessageMoveTask"
        # An endpoint without the action answers at once; do not let botocore retry that for seconds.
        self.client.meta.events.register_first(event, _refuse_to_retry_unsupported, unique_id=_NO_RETRY_ID)
        try:
            handle = str(self.client.start_message_move_task(**request)["TaskHandle"])
        except NotImplementedError as error:  # moto in-process
            raise _Unsupported(str(error)) from None
        except _Unsupported:
            raise
        except Exception as error:
            if error_code(error) in _UNSUPPORTED_CODES:
                raise _Unsupported(error_code(error)) from None
            with _translated(self.dlq_url, "StartMessageMoveTask", self.client, self.result):
                raise
        finally:
            self.client.meta.events.unregister(event, unique_id=_NO_RETRY_ID)
        self.result.task_handle = handle
        return handle

    def _follow(self, source_arn: str, handle: str, moved_before: int) -> Mapping[str, Any]:
        while True:
            with _translated(self.dlq_url, "ListMessageMoveTasks", self.client, self.result):
                tasks = self.client.list_message_move_tasks(SourceArn=source_arn, MaxResults=10).get("Results") or []
            self.result.requests += 1
            # The newest task comes first; only a running task still shows its handle.
            task: Mapping[str, Any] = next((t for t in tasks if t.get("TaskHandle") == handle), tasks[0] if tasks else {})
            self.result.moved = moved_before + int(task.get("ApproximateNumberOfMessagesMoved", 0))
            self.result.status = str(task.get("Status", ""))
            if self.on_progress is not None:
                total = task.get("ApproximateNumberOfMessagesToMove")
                self.on_progress(RedriveProgress(self.result.moved, moved_before + int(total) if total is not None else None))
            if self.result.status in _FINISHED:
                return task
            time.sleep(self.poll_interval)

    def _remaining(self) -> _Counts:
        with _translated(self.dlq_url, "GetQueueAttributes", self.client, self.result):
            counts = _counts(self.client, self.dlq_url)
        self.result.requests += 1
        self.result.remaining = {
            reason: count
            for reason, count in (("visible", counts.visible), ("in_flight", counts.in_flight), ("delayed", counts.delayed))
            if count
        }
        return counts


_NO_RETRY_ID = "constructs-sqs-move-task-probe"


def _refuse_to_retry_unsupported(response: Any = None, **_: Any) -> None:
    """A ``needs-retry`` hook: an answer that says the action does not exist ends the call at once."""
    if response is None:
        return
    http, parsed = response
    code = str((parsed or {}).get("Error", {}).get("Code", ""))
    if getattr(http, "status_code", 200) >= 400 and code in _UNSUPPORTED_CODES:
        raise _Unsupported(code)


def _source_queue(client: SqsClient, dlq_url: str) -> str:
    """The one queue whose redrive policy names ``dlq_url``."""
    sources = client.list_dead_letter_source_queues(QueueUrl=dlq_url).get("queueUrls") or []
    if len(sources) == 1:
        return str(sources[0])
    if not sources:
        raise RedriveError(
            f"no queue names {dlq_url} as its dead-letter queue; pass destination_url",
            queue_url=dlq_url,
            code="NoSourceQueue",
            fix="pass destination_url (--to QUEUE)",
        )
    raise RedriveError(
        f"{len(sources)} queues use {dlq_url} as their dead-letter queue ({', '.join(sorted(sources))}); "
        "pass destination_url to choose one",
        queue_url=dlq_url,
        code="SeveralSourceQueues",
        fix="pass destination_url (--to QUEUE)",
    )


def _arn(client: SqsClient, queue_url: str) -> str:
    attributes = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    return str(attributes["QueueArn"])


class _Mover:
    """Receive / send / delete, each message exactly once (R6), until the DLQ holds nothing it can take (R9)."""

    def __init__(
        self,
        client: SqsClient,
        dlq_url: str,
        destination: str,
        visibility_timeout: int,
        wait_time_seconds: int,
        on_progress: Callable[[RedriveProgress], None] | None,
        poll_interval: float,
        in_flight_timeout: float,
    ) -> None:
        self.client = client
        self.dlq_url = dlq_url
        self.fifo = is_fifo_queue(dlq_url)
        self.visibility_timeout = visibility_timeout
        self.wait_time_seconds = wait_time_seconds
        self.on_progress = on_progress
        self.poll_interval = poll_interval
        self.in_flight_timeout = in_flight_timeout
        self.producer = Producer(
            destination, client=client, content_based_deduplication=True, max_workers=1, strict_group_order=True
        )
        self.result = RedriveResult(RECEIVE_SEND_DELETE, dlq_url, destination, status="COMPLETED")
        self.moved_ids: set[str] = set()
        self.kept: dict[str, ReceivedMessage] = {}  # left in the DLQ, hidden until the end of the run
        self.halted_groups: set[str] = set()

    def run(self, max_messages: int | None) -> RedriveResult:
        with _translated(self.dlq_url, "GetQueueAttributes", self.client, self.result):
            counts = _counts(self.client, self.dlq_url)
        self.result.requests += 1
        available = counts.visible + counts.in_flight + counts.delayed
        total = min(available, max_messages) if max_messages is not None else available
        last_progress = time.monotonic()
        try:
            while max_messages is None or self.result.moved < max_messages:
                wanted = MAX_BATCH_ENTRIES if max_messages is None else min(MAX_BATCH_ENTRIES, max_messages - self.result.moved)
                started = time.monotonic()
                messages = self._receive(wanted)
                if messages and self._move(messages, started + self.visibility_timeout):
                    last_progress = time.monotonic()
                    if self.on_progress is not None:
                        self.on_progress(RedriveProgress(self.result.moved, total))
                    continue
                # Nothing came, or only messages this run already keeps: is anything left that it could take?
                waited = time.monotonic() - last_progress
                if not self._could_take(self._others()) or waited >= self.in_flight_timeout:
                    break
                if not messages and self.wait_time_seconds < self.poll_interval:  # do not spin on short polls
                    time.sleep(min(self.poll_interval - self.wait_time_seconds, self.in_flight_timeout - waited))
            self._count_remaining(self._others(), max_messages)
        except RedriveError:
            try:  # the error carries the result: say what is left, as far as the DLQ can still be read
                self._count_remaining(self._others(), max_messages)
            except Exception:  # the DLQ cannot be read either; the error says why
                pass
            raise
        finally:
            # What could not be moved is given back, so the DLQ keeps it as it was.
            with _translated(self.dlq_url, "ChangeMessageVisibilityBatch", self.client, self.result):
                self._change_visibility(list(self.kept.values()), 0)
        return self.result

    def _others(self) -> _Counts:
        """The DLQ's counters, without the messages this run keeps hidden."""
        with _translated(self.dlq_url, "GetQueueAttributes", self.client, self.result):
            counts = _counts(self.client, self.dlq_url)
        self.result.requests += 1
        counts.in_flight = max(0, counts.in_flight - len(self.kept))
        return counts

    def _could_take(self, counts: _Counts) -> bool:
        """Whether the DLQ may still hand out a message to this run: one in flight elsewhere (it comes back),
        one delayed, or one visible that is not behind a message this run could not move."""
        if counts.in_flight or counts.delayed:
            return True
        if counts.visible and self.fifo and self.kept:
            return False  # nothing else in flight: what is visible waits behind this run's failures
        return counts.visible > 0

    def _count_remaining(self, counts: _Counts, max_messages: int | None) -> None:
        remaining = {"not_moved": len(self.kept), "in_flight": counts.in_flight, "delayed": counts.delayed}
        if max_messages is not None and self.result.moved >= max_messages:
            remaining["not_asked"] = counts.visible
        elif self.fifo and counts.visible and counts.in_flight:
            remaining["group_locked"] = counts.visible
        elif self.fifo and counts.visible and self.kept:
            remaining["behind_not_moved"] = counts.visible
        else:
            remaining["visible"] = counts.visible
        self.result.remaining = {reason: count for reason, count in remaining.items() if count}

    def _receive(self, wanted: int) -> list[ReceivedMessage]:
        with _translated(self.dlq_url, "ReceiveMessage", self.client, self.result):
            response = self.client.receive_message(
                QueueUrl=self.dlq_url,
                MaxNumberOfMessages=wanted,
                WaitTimeSeconds=self.wait_time_seconds,
                VisibilityTimeout=self.visibility_timeout,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
        self.result.requests += 1
        return [ReceivedMessage.from_response(m) for m in response.get("Messages") or []]

    def _move(self, messages: Sequence[ReceivedMessage], deadline: float) -> bool:
        """Move what can be moved of one receive; True when something was moved or deleted (progress)."""
        # A message moved earlier whose delete failed comes back with the same id: delete it, never resend.
        again = [m for m in messages if m.message_id in self.moved_ids]
        fresh = [m for m in messages if m.message_id not in self.moved_ids]
        skip = [m for m in fresh if m.message_id in self.kept or (m.group_id is not None and m.group_id in self.halted_groups)]
        to_send = [m for m in fresh if m not in skip]
        self._keep(skip, "SkippedAfterGroupFailure", "an earlier message of its group could not be moved")
        if time.monotonic() >= deadline - min(10.0, self.visibility_timeout / 3):
            # Too close to the visibility timeout: another receiver could get them while we send.
            with _translated(self.dlq_url, "ChangeMessageVisibilityBatch", self.client, self.result):
                self._change_visibility(to_send, 0)
            to_send = []
        sent, failed = self._send(to_send)
        deleted = self._delete(again + sent)
        self.moved_ids.update(m.message_id for m in sent)
        self.result.moved += len(sent)
        for message, code, text in failed:
            self._keep([message], code, text)
            if message.group_id is not None and self.fifo:
                self.halted_groups.add(message.group_id)
        return bool(sent) or deleted > 0

    def _send(
        self, messages: Sequence[ReceivedMessage]
    ) -> tuple[list[ReceivedMessage], list[tuple[ReceivedMessage, str, str]]]:
        if not messages:
            return [], []
        outgoing = [_outgoing(m, self.fifo) for m in messages]
        try:
            sent = self.producer.send(outgoing)
        except SendMessagesError as error:
            if error.kind != "failed":
                # The destination cannot be used (missing, access denied, unreachable ...): stop here, say why;
                # what was sent is moved, what was not stays in the DLQ.
                self._settle(messages, error.result)
                raise RedriveError(
                    str(error), self.result, queue_url=error.queue_url, kind=error.kind, code=error.code,
                    operation=error.operation, fix=error.fix,
                ) from error
            sent = error.result
        self.result.requests += sent.requests
        if not self.fifo:
            self.result.possible_duplicates += sent.possible_duplicates
        moved = [messages[s.index] for s in sent.sent]
        failed = [
            (messages[f.index], _NOT_CONFIRMED if f.not_confirmed else f.code, f.message) for f in sent.failed
        ]
        return moved, failed

    def _settle(self, messages: Sequence[ReceivedMessage], sent: Any) -> None:
        """Before stopping on an error: delete what was sent, keep (and later give back) what was not."""
        moved = [messages[s.index] for s in sent.sent]
        self._delete(moved)
        self.moved_ids.update(m.message_id for m in moved)
        self.result.moved += len(moved)
        for failure in sent.failed:
            self._keep([messages[failure.index]], _NOT_CONFIRMED if failure.not_confirmed else failure.code, failure.message)

    def _delete(self, messages: Sequence[ReceivedMessage]) -> int:
        """Delete moved messages from the DLQ; entries SQS failed through no fault of ours are sent again (R4).
        What stays (sent, not deleted) comes back after its visibility timeout and is deleted then, never resent."""
        deleted = 0
        for chunk in chunked(messages, MAX_BATCH_ENTRIES):
            pending = list(chunk)
            for attempt in range(1, _DELETE_ATTEMPTS + 1):
                entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(pending)]
                try:
                    with _translated(self.dlq_url, "DeleteMessageBatch", self.client, self.result):
                        response = self.client.delete_message_batch(QueueUrl=self.dlq_url, Entries=entries)
                except RedriveError as error:
                    if error.kind in ("not-found", "credentials", "region", "access-denied"):
                        raise
                    _logger.warning("could not delete %d moved message(s) from the DLQ: %s", len(pending), error)
                    break
                finally:
                    self.result.requests += 1
                failures = response.get("Failed") or []
                deleted += len(pending) - len(failures)
                again = [pending[int(f["Id"])] for f in failures if not f.get("SenderFault") and attempt < _DELETE_ATTEMPTS]
                for failure in failures:
                    if pending[int(failure["Id"])] not in again:
                        _logger.warning("could not delete moved message %s from the DLQ: %s", pending[int(failure["Id"])].message_id, failure)
                if not again:
                    break
                pending = again
        return deleted

    def _keep(self, messages: Sequence[ReceivedMessage], code: str, text: str) -> None:
        for message in messages:
            if message.message_id not in self.kept:
                self.result.failures.append(RedriveFailure(message.message_id, message.group_id, code, text))
            self.kept[message.message_id] = message

    def _change_visibility(self, messages: Sequence[ReceivedMessage], seconds: int) -> None:
        for chunk in chunked(messages, MAX_BATCH_ENTRIES):
            entries = [
                {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": seconds} for i, m in enumerate(chunk)
            ]
            self.client.change_message_visibility_batch(QueueUrl=self.dlq_url, Entries=entries)
            self.result.requests += 1


def peek_messages(
    queue_url: str, *, max_messages: int = 10, client: SqsClient | None = None, visibility_timeout: int = 30
) -> list[ReceivedMessage]:
    """Look at up to ``max_messages`` messages of a queue (a DLQ) and leave them there, in their order.

    The messages are received (hidden for ``visibility_timeout`` seconds while more are read), then given
    back at once with ``ChangeMessageVisibility`` 0. Each look counts as a receive
    (``ApproximateReceiveCount``), which matters only on a queue that has a redrive policy. On a FIFO queue
    SQS hands out a group's later messages only after the earlier ones leave, so a look shows the first
    messages of each group.

    Parameters
    ----------
    queue_url:
        The queue's URL.
    max_messages:
        At most this many. Default: 10.
    client:
        A boto3 SQS client. Default: - one with botocore's ``standard`` retry mode.
    visibility_timeout:
        Seconds the messages stay hidden while the look goes on. Default: 30.

    Returns
    -------
    list[ReceivedMessage]
        In the order received.

    Raises
    ------
    TypeError, ValueError
        For a bad option.
    QueueError
        When the queue cannot be read (no such queue, no credentials or region, unreachable, access denied,
        throttled to the end): it names the queue, its ``kind`` and the ``fix``.
    """
    if not isinstance(queue_url, str) or not queue_url:
        raise TypeError(f"queue_url must be a queue URL (str), got {type(queue_url).__name__} {queue_url!r}")
    if not isinstance(max_messages, int) or isinstance(max_messages, bool) or max_messages < 1:
        raise ValueError(f"max_messages must be at least 1, got {max_messages!r}")
    client = prepare_client(client) if client is not None else sqs_client(queue_url)
    seen: list[ReceivedMessage] = []
    try:
        with translated(queue_url, "ReceiveMessage", client):
            while len(seen) < max_messages:
                response = client.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=min(MAX_BATCH_ENTRIES, max_messages - len(seen)),
                    WaitTimeSeconds=1 if not seen else 0,
                    VisibilityTimeout=visibility_timeout,
                    MessageSystemAttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
                messages = [ReceivedMessage.from_response(m) for m in response.get("Messages") or []]
                if not messages:
                    break
                seen += messages
    finally:
        with translated(queue_url, "ChangeMessageVisibilityBatch", client):
            for chunk in chunked(seen, MAX_BATCH_ENTRIES):
                entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0} for i, m in enumerate(chunk)]
                client.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)
    return seen


def _outgoing(message: ReceivedMessage, fifo: bool) -> OutgoingMessage:
    """The message to send again: body, attributes, group and trace header kept; a derived deduplication id."""
    attributes = {
        name: {key: value[key] for key in ("DataType", "StringValue", "BinaryValue") if value.get(key) is not None}
        for name, value in message.message_attributes.items()
    }
    return OutgoingMessage(
        body=message.body,
        attributes=attributes,
        group_id=message.group_id,
        deduplication_id=deduplication_id_of(message) if fifo else None,
        trace_header=message.attributes.get("AWSTraceHeader"),
    )


def _check_options(
    dead_letter_queue_url: Any,
    method: str,
    max_messages: int | None,
    max_per_second: int | None,
    visibility_timeout: int,
    wait_time_seconds: int,
    in_flight_timeout: float,
) -> None:
    if not isinstance(dead_letter_queue_url, str) or not dead_letter_queue_url:
        raise TypeError(f"dead_letter_queue_url must be a queue URL (str), got {type(dead_letter_queue_url).__name__} {dead_letter_queue_url!r}")
    problems = []
    if method not in ("auto", MOVE_TASK, RECEIVE_SEND_DELETE):
        problems.append(f"method must be 'auto', 'move-task' or 'receive-send-delete', got {method!r}")
    if method == MOVE_TASK and max_messages is not None:
        problems.append("max_messages needs method 'receive-send-delete' or 'auto': a move task cannot be limited")
    if max_messages is not None and max_messages < 1:
        problems.append(f"max_messages must be at least 1, got {max_messages!r}")
    if max_per_second is not None and not 1 <= max_per_second <= 500:
        problems.append(f"max_per_second must be between 1 and 500, got {max_per_second!r}")
    if not 1 <= visibility_timeout <= 43_200:
        problems.append(f"visibility_timeout must be between 1 and 43200 seconds, got {visibility_timeout!r}")
    if not 0 <= wait_time_seconds <= 20:
        problems.append(f"wait_time_seconds must be between 0 and 20, got {wait_time_seconds!r}")
    if not isinstance(in_flight_timeout, (int, float)) or not 0 <= in_flight_timeout <= 43_200:
        problems.append(f"in_flight_timeout must be between 0 and 43200 seconds, got {in_flight_timeout!r}")
    if problems:
        raise ValueError("; ".join(problems))
