"""Move messages from a dead-letter queue back to their source queue (or another), each exactly once.

``redrive(dead_letter_queue_url)`` uses SQS's own ``StartMessageMoveTask`` where the service has it, and
follows the task with ``ListMessageMoveTasks`` (rule R7). Where it does not (an emulator), or when
only some messages are to be moved, it receives, sends and deletes (R6): the body, the message attributes,
the ``MessageGroupId`` and the X-Ray trace header are kept, FIFO messages get a fresh deduplication id (the
old one is still inside its 5-minute window and the send would be dropped), a message is deleted from the
DLQ only after the send succeeded, and a FIFO group is moved in order: the DLQ hands out a group's next
messages only once the earlier ones are deleted, and a message that cannot be moved stops its group.

Example
-------
::

    from constructs_sqs_runtime import redrive

    result = redrive("https://sqs.eu-west-1.amazonaws.com/123456789012/orders-dlq.fifo")
    print(f"moved {result.moved} by {result.method}")
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ._sqs import MAX_BATCH_ENTRIES, ReceivedMessage, SqsClient, chunked, error_code, is_fifo_queue, sqs_client
from .producer import OutgoingMessage, Producer, SendMessagesError

__all__ = ["RedriveError", "RedriveFailure", "RedriveProgress", "RedriveResult", "peek_messages", "redrive"]

_logger = logging.getLogger("constructs_sqs_runtime")

Method = Literal["auto", "move-task", "receive-send-delete"]

MOVE_TASK = "move-task"
RECEIVE_SEND_DELETE = "receive-send-delete"

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


class RedriveError(RuntimeError):
    """The redrive could not start or its move task failed; ``result`` says what was moved before."""

    def __init__(self, message: str, result: RedriveResult | None = None) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class RedriveProgress:
    """Messages moved so far, and the approximate number to move (None when unknown)."""

    moved: int
    total: int | None


@dataclass(frozen=True)
class RedriveFailure:
    """A message left in the DLQ: its id, group, and why."""

    message_id: str
    group_id: str | None
    code: str
    message: str


@dataclass
class RedriveResult:
    """What ``redrive`` did: the method, how many messages moved, what stayed in the DLQ and why."""

    method: str
    dead_letter_queue_url: str
    destination: str | None
    moved: int = 0
    failures: list[RedriveFailure] = field(default_factory=list)
    task_handle: str | None = None
    status: str = ""
    requests: int = 0

    @property
    def ok(self) -> bool:
        """True when every message the redrive took on was moved."""
        return not self.failures and self.status != "FAILED"


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
        Seconds between two ``ListMessageMoveTasks``. Default: 2.
    visibility_timeout:
        Seconds a received DLQ message stays hidden while it is moved (receive / send / delete). Default: 60.
    wait_time_seconds:
        Long polling of the DLQ (receive / send / delete); an empty receive ends the redrive. Default: 2.

    Returns
    -------
    RedriveResult
        ``method``, ``moved``, ``failures`` (messages left in the DLQ, with the error code), ``status`` and
        ``task_handle`` of a move task.

    Raises
    ------
    ValueError
        For a bad option, or a destination whose type (FIFO or standard) differs from the DLQ's.
    RedriveError
        When the destination cannot be found, the move task fails, or ``method="move-task"`` is not available.
    botocore.exceptions.ClientError
        When a request fails after botocore's retries (unknown queue, access denied ...).
    """
    _check_options(method, max_messages, max_per_second, visibility_timeout, wait_time_seconds)
    if destination_url is not None and is_fifo_queue(destination_url) != is_fifo_queue(dead_letter_queue_url):
        raise ValueError(
            f"destination_url {destination_url!r} and the DLQ {dead_letter_queue_url!r} must both be FIFO or both "
            "standard: SQS moves messages only between queues of one type"
        )
    client = client if client is not None else sqs_client(dead_letter_queue_url)
    if method == MOVE_TASK or (method == "auto" and max_messages is None):
        try:
            return _move_task(client, dead_letter_queue_url, destination_url, max_per_second, on_progress, poll_interval)
        except _Unsupported as unsupported:
            if method == MOVE_TASK:
                raise RedriveError(f"StartMessageMoveTask is not available at this endpoint: {unsupported}") from None
    destination = destination_url or _source_queue(client, dead_letter_queue_url)
    mover = _Mover(client, dead_letter_queue_url, destination, visibility_timeout, wait_time_seconds, on_progress)
    return mover.run(max_messages)


class _Unsupported(Exception):
    pass


def _move_task(
    client: SqsClient,
    dlq_url: str,
    destination_url: str | None,
    max_per_second: int | None,
    on_progress: Callable[[RedriveProgress], None] | None,
    poll_interval: float,
) -> RedriveResult:
    """``StartMessageMoveTask``, then ``ListMessageMoveTasks`` until the task finishes (R7)."""
    source_arn = _arn(client, dlq_url)
    request: dict[str, Any] = {"SourceArn": source_arn}
    if destination_url is not None:
        request["DestinationArn"] = _arn(client, destination_url)
    if max_per_second is not None:
        request["MaxNumberOfMessagesPerSecond"] = max_per_second
    event = "needs-retry.sqs.StartMessageMoveTask"
    # An endpoint without the action answers at once; do not let botocore retry that for seconds.
    client.meta.events.register_first(event, _refuse_to_retry_unsupported, unique_id=_NO_RETRY_ID)
    try:
        handle = client.start_message_move_task(**request)["TaskHandle"]
    except NotImplementedError as error:  # moto in-process
        raise _Unsupported(str(error)) from None
    except _Unsupported:
        raise
    except Exception as error:
        if error_code(error) in _UNSUPPORTED_CODES:
            raise _Unsupported(error_code(error)) from None
        raise
    finally:
        client.meta.events.unregister(event, unique_id=_NO_RETRY_ID)
    result = RedriveResult(MOVE_TASK, dlq_url, destination_url, task_handle=handle, requests=1)
    while True:
        tasks = client.list_message_move_tasks(SourceArn=source_arn, MaxResults=10).get("Results") or []
        result.requests += 1
        # The newest task comes first; only a running task still shows its handle.
        task = next((t for t in tasks if t.get("TaskHandle") == handle), tasks[0] if tasks else {})
        result.moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
        result.status = str(task.get("Status", ""))
        if on_progress is not None:
            total = task.get("ApproximateNumberOfMessagesToMove")
            on_progress(RedriveProgress(result.moved, int(total) if total is not None else None))
        if result.status in _FINISHED:
            break
        time.sleep(poll_interval)
    if result.status == "FAILED":
        raise RedriveError(f"the message move task failed: {task.get('FailureReason', 'no reason given')}", result)
    return result


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
        raise RedriveError(f"no queue names {dlq_url} as its dead-letter queue; pass destination_url")
    raise RedriveError(
        f"{len(sources)} queues use {dlq_url} as their dead-letter queue ({', '.join(sorted(sources))}); "
        "pass destination_url to choose one"
    )


def _arn(client: SqsClient, queue_url: str) -> str:
    attributes = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    return str(attributes["QueueArn"])


class _Mover:
    """Receive / send / delete, each message exactly once (R6)."""

    def __init__(
        self,
        client: SqsClient,
        dlq_url: str,
        destination: str,
        visibility_timeout: int,
        wait_time_seconds: int,
        on_progress: Callable[[RedriveProgress], None] | None,
    ) -> None:
        self.client = client
        self.dlq_url = dlq_url
        self.fifo = is_fifo_queue(dlq_url)
        self.visibility_timeout = visibility_timeout
        self.wait_time_seconds = wait_time_seconds
        self.on_progress = on_progress
        self.producer = Producer(
            destination, client=client, content_based_deduplication=True, max_workers=1, strict_group_order=True
        )
        self.result = RedriveResult(RECEIVE_SEND_DELETE, dlq_url, destination, status="COMPLETED")
        self.moved_ids: set[str] = set()
        self.kept: dict[str, ReceivedMessage] = {}  # left in the DLQ, hidden until the end of the run
        self.halted_groups: set[str] = set()

    def run(self, max_messages: int | None) -> RedriveResult:
        total = self._approximate_count()
        total = min(total, max_messages) if max_messages is not None and total is not None else total or max_messages
        try:
            while max_messages is None or self.result.moved < max_messages:
                wanted = MAX_BATCH_ENTRIES if max_messages is None else min(MAX_BATCH_ENTRIES, max_messages - self.result.moved)
                started = time.monotonic()
                messages = self._receive(wanted)
                if not messages:
                    break
                self._move(messages, started + self.visibility_timeout)
                if self.on_progress is not None:
                    self.on_progress(RedriveProgress(self.result.moved, total))
        finally:
            # What could not be moved is given back, so the DLQ keeps it as it was.
            self._change_visibility(list(self.kept.values()), 0)
        return self.result

    def _receive(self, wanted: int) -> list[ReceivedMessage]:
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

    def _move(self, messages: Sequence[ReceivedMessage], deadline: float) -> None:
        # A message moved earlier whose delete failed comes back with the same id: delete it, never resend.
        again = [m for m in messages if m.message_id in self.moved_ids]
        fresh = [m for m in messages if m.message_id not in self.moved_ids]
        skip = [m for m in fresh if m.message_id in self.kept or (m.group_id is not None and m.group_id in self.halted_groups)]
        to_send = [m for m in fresh if m not in skip]
        self._keep(skip, "SkippedAfterGroupFailure", "an earlier message of its group could not be moved")
        if time.monotonic() >= deadline - min(10.0, self.visibility_timeout / 3):
            # Too close to the visibility timeout: another receiver could get them while we send.
            self._change_visibility(to_send, 0)
            to_send = []
        sent, failed = self._send(to_send)
        self._delete(again + sent)
        self.moved_ids.update(m.message_id for m in sent)
        self.result.moved += len(sent)
        for message, code, text in failed:
            self._keep([message], code, text)
            if message.group_id is not None and self.fifo:
                self.halted_groups.add(message.group_id)

    def _send(
        self, messages: Sequence[ReceivedMessage]
    ) -> tuple[list[ReceivedMessage], list[tuple[ReceivedMessage, str, str]]]:
        if not messages:
            return [], []
        outgoing = [_outgoing(m, self.fifo) for m in messages]
        try:
            sent = self.producer.send(outgoing)
        except SendMessagesError as error:
            sent = error.result
        self.result.requests += sent.requests
        moved = [messages[s.index] for s in sent.sent]
        failed = [(messages[f.index], f.code, f.message) for f in sent.failed]
        return moved, failed

    def _delete(self, messages: Sequence[ReceivedMessage]) -> None:
        for chunk in chunked(messages, MAX_BATCH_ENTRIES):
            entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(chunk)]
            response = self.client.delete_message_batch(QueueUrl=self.dlq_url, Entries=entries)
            self.result.requests += 1
            for failure in response.get("Failed") or []:
                # Sent but still in the DLQ: if it comes back, _move deletes it without sending it again.
                _logger.warning("could not delete moved message %s from the DLQ: %s", chunk[int(failure["Id"])].message_id, failure)

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

    def _approximate_count(self) -> int | None:
        attributes = self.client.get_queue_attributes(
            QueueUrl=self.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        self.result.requests += 1
        value = attributes.get("ApproximateNumberOfMessages")
        return int(value) if value is not None else None


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
    """
    if max_messages < 1:
        raise ValueError(f"max_messages must be at least 1, got {max_messages!r}")
    client = client if client is not None else sqs_client(queue_url)
    seen: list[ReceivedMessage] = []
    try:
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
        for chunk in chunked(seen, MAX_BATCH_ENTRIES):
            entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0} for i, m in enumerate(chunk)]
            client.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)
    return seen


def _outgoing(message: ReceivedMessage, fifo: bool) -> OutgoingMessage:
    """The message to send again: body, attributes, group and trace header kept; a fresh deduplication id."""
    attributes = {
        name: {key: value[key] for key in ("DataType", "StringValue", "BinaryValue") if value.get(key) is not None}
        for name, value in message.message_attributes.items()
    }
    return OutgoingMessage(
        body=message.body,
        attributes=attributes,
        group_id=message.group_id,
        deduplication_id=f"redrive-{uuid.uuid4().hex}" if fifo else None,
        trace_header=message.attributes.get("AWSTraceHeader"),
    )


def _check_options(
    method: str, max_messages: int | None, max_per_second: int | None, visibility_timeout: int, wait_time_seconds: int
) -> None:
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
    if problems:
        raise ValueError("; ".join(problems))
