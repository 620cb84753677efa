"""Send many messages to an SQS queue: few requests, nothing dropped silently, bad input refused up front.

``send_messages(queue_url, messages)`` packs messages into ``SendMessageBatch`` requests of at most 10
entries and 1 MiB (bodies plus attributes, counted as SQS counts them), fills in what a FIFO queue needs
(``MessageGroupId``, and a ``MessageDeduplicationId`` derived from the body when the queue has no
content-based deduplication), retries the entries a partial batch failed with backoff and jitter
(rule R4), and reports per message what was sent and what was not. Throttling and transient errors
of whole requests are retried by botocore's retry modes (``standard`` / ``adaptive``), and SQS's throttling
in the spellings those modes miss by the helpers' own rule on botocore's retry hook (rule R11).

On a FIFO queue each message group keeps its order (rule R10): by default a request carries at most one message
of a group, and a group's next message goes only once SQS has answered for the one before, so neither a
failed entry nor a lost response lets a later message of its group overtake it. ``strict_group_order=False``
trades that for fewer requests when there are few groups. A message whose request's fate is unknown (the
connection reset, the answer lost, a 5xx) is reported *not confirmed* (it may have arrived), not *not sent*.

Every message is checked before the first request (R5): a body or attributes over 1 MiB, characters
SQS rejects, more than 10 attributes, a FIFO message without a group id. One ``InvalidMessageError``
lists every problem, each naming its message. A ``str``, ``bytes`` or dict given where the messages go is
refused with a ``TypeError`` before any request.

Example
-------
::

    from constructs_sqs_runtime import OutgoingMessage, send_messages

    result = send_messages(
        "https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo",
        [OutgoingMessage('{"orderId": "1"}', group_id="customer-7", attributes={"tenant": "a"})],
    )
    assert result.ok, result.failed
"""

from __future__ import annotations

import collections
import hashlib
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Union

from ._sqs import (
    MAX_ATTRIBUTES,
    MAX_BATCH_ENTRIES,
    MAX_MESSAGE_BYTES,
    SqsClient,
    is_fifo_queue,
    prepare_client,
    request_fate,
    sqs_client,
)
from .errors import QueueError, describe as describe_error

__all__ = [
    "AttributeValue",
    "FailedMessage",
    "InvalidMessageError",
    "OutgoingMessage",
    "Producer",
    "SendMessagesError",
    "SendResult",
    "SentMessage",
    "send_messages",
]

AttributeValue = Union[str, int, float, bytes, Mapping[str, Any]]
"""A message attribute: ``str`` (String), ``int``/``float`` (Number), ``bytes`` (Binary), or SQS's own form
``{"DataType": "String.custom", "StringValue": "..."}``."""

SKIPPED_AFTER_GROUP_FAILURE = "SkippedAfterGroupFailure"
"""Error code of a FIFO message not sent because an earlier message of its group was not sent or not confirmed."""

# SQS accepts #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF (SendMessage reference).
_REJECTED_CHARACTER = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_\-.]{1,256}$")
_DATA_TYPE = re.compile(r"^(String|Number|Binary)(\.[A-Za-z0-9_\-.]+)?$")
_GROUP_OR_DEDUP_ID = re.compile(r"^[\x21-\x7e]{1,128}$")


class InvalidMessageError(ValueError):
    """Messages SQS would refuse, found before any request. ``problems`` lists ``(index, text)``."""

    def __init__(self, problems: Sequence[tuple[int, str]]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {text}" for _, text in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the messages, nothing was sent:\n{lines}")


class SendMessagesError(QueueError):
    """A whole request failed after the client's retries (unknown queue, no credentials, endpoint unreachable,
    access denied, throttled to the end ...): a :class:`~constructs_sqs_runtime.QueueError` (``kind``, ``code``,
    ``fix``, the queue) that also carries ``result``, what was sent before and what was not; the botocore
    error is the ``__cause__``."""

    def __init__(self, message: str, *, result: SendResult, **facts: Any) -> None:
        super().__init__(message, **facts)
        self.result = result


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to send.

    Parameters
    ----------
    body:
        The message body, 1 character to 1 MiB (UTF-8), of the characters SQS accepts.
    attributes:
        Up to 10 message attributes, by name. Default: - none.
    group_id:
        ``MessageGroupId``; required on a FIFO queue unless ``send_messages(group_id=...)`` gives one.
    deduplication_id:
        ``MessageDeduplicationId`` (FIFO only). Default: - derived from the body (its SHA-256, as
        content-based deduplication does) when the queue has no content-based deduplication.
    delay_seconds:
        ``DelaySeconds`` 0-900 (standard queues only; FIFO queues take a delay per queue). Default: - the
        ``send_messages`` default, else the queue's.
    trace_header:
        The ``AWSTraceHeader`` system attribute (X-Ray). Default: - none.
    """

    body: str
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    group_id: str | None = None
    deduplication_id: str | None = None
    delay_seconds: int | None = None
    trace_header: str | None = None


@dataclass(frozen=True)
class SentMessage:
    """A message SQS accepted: its position in the input, ``MessageId`` and (FIFO) ``SequenceNumber``."""

    index: int
    message_id: str
    sequence_number: str | None = None


@dataclass(frozen=True)
class FailedMessage:
    """A message not confirmed as sent: its position in the input, the error code and message, whether SQS
    blamed the sender, how many attempts were made, and ``not_confirmed``: True when the fate of its last
    request is unknown (a connection reset or closed, a read timeout, a 5xx: the message may have arrived),
    False when it was not sent (SQS refused the entry or the request, or it was never sent)."""

    index: int
    code: str
    message: str
    sender_fault: bool
    attempts: int
    not_confirmed: bool = False


@dataclass
class SendResult:
    """What ``send_messages`` did: ``sent`` and ``failed`` by input position, the requests made, and
    ``possible_duplicates``: copies beyond the first that SQS may hold because a request was sent again after
    an attempt whose fate was unknown (a standard queue may keep them; a FIFO queue drops them within its
    5-minute deduplication window, since the deduplication id is the same)."""

    sent: list[SentMessage] = field(default_factory=list)
    failed: list[FailedMessage] = field(default_factory=list)
    requests: int = 0
    possible_duplicates: int = 0

    @property
    def ok(self) -> bool:
        """True when every message was sent and confirmed."""
        return not self.failed

    @property
    def not_confirmed(self) -> list[FailedMessage]:
        """The failed messages that may have arrived all the same (their request's fate is unknown)."""
        return [f for f in self.failed if f.not_confirmed]

    @property
    def not_sent(self) -> list[FailedMessage]:
        """The failed messages that did not reach the queue."""
        return [f for f in self.failed if not f.not_confirmed]

    @property
    def message_ids(self) -> list[str]:
        """The ``MessageId`` of each sent message, in input order."""
        return [sent.message_id for sent in sorted(self.sent, key=lambda s: s.index)]


@dataclass(frozen=True)
class _Entry:
    """A checked message, ready to go into a batch: its input position, request entry and size."""

    index: int
    entry: dict[str, Any]
    size: int
    group_id: str | None


class Producer:
    """Sends messages to one queue; keeps the client and what it learned of the queue between calls.

    Parameters
    ----------
    queue_url:
        The queue's URL. A name ending in ``.fifo`` makes it a FIFO queue.
    client:
        A boto3 SQS client. Default: - :func:`~constructs_sqs_runtime._sqs.sqs_client`, botocore's
        ``standard`` retry mode with 10 attempts. A client you pass keeps its own retry configuration, plus the
        helpers' two ``needs-retry`` handlers (:func:`~constructs_sqs_runtime._sqs.prepare_client`).
    content_based_deduplication:
        Whether the FIFO queue deduplicates by content. Default: - asked of the queue
        (``GetQueueAttributes``) the first time a FIFO message has no deduplication id.
    max_attempts:
        Attempts per entry when a batch fails partially with a fault that is not the sender's. Default: 5.
    backoff_base, backoff_cap:
        Seconds: before retry n the producer sleeps a random time up to
        ``min(backoff_cap, backoff_base * 2 ** (n - 1))`` ("full jitter"). Defaults: 0.1 and 5.0.
    max_workers:
        Requests in flight at once (threads), 1-100. On a FIFO queue a batch goes only after SQS answered for
        every earlier batch that holds a message of one of its groups. Default: 8.
    strict_group_order:
        FIFO: at most one message of a group in each request, and a group's next message only after SQS
        answered for the one before (R10). SQS answers for each entry of a batch separately: with this off,
        when an entry fails, later messages of its group in the same request may be accepted before it is
        retried, and the group's order breaks. Off, a request takes up to 10 consecutive messages whatever
        their groups (fewer requests and more throughput when there are fewer than 10 groups, order kept only
        while no entry fails). Default: True.
    """

    def __init__(
        self,
        queue_url: str,
        *,
        client: SqsClient | None = None,
        content_based_deduplication: bool | None = None,
        max_attempts: int = 5,
        backoff_base: float = 0.1,
        backoff_cap: float = 5.0,
        max_workers: int = 8,
        strict_group_order: bool = True,
    ) -> None:
        if not isinstance(queue_url, str) or not queue_url:
            raise TypeError(f"queue_url must be a queue URL (str), got {type(queue_url).__name__} {queue_url!r}")
        problems = [
            f"{name} must be between {low} and {high}, got {value!r}"
            for name, value, low, high in (("max_attempts", max_attempts, 1, 100), ("max_workers", max_workers, 1, 100))
            if not isinstance(value, int) or not low <= value <= high
        ]
        problems += [f"{name} must be >= 0, got {v!r}" for name, v in (("backoff_base", backoff_base), ("backoff_cap", backoff_cap)) if v < 0]
        if problems:
            raise ValueError("; ".join(problems))
        self.queue_url = queue_url
        self.fifo = is_fifo_queue(queue_url)
        self.client = prepare_client(client) if client is not None else sqs_client(queue_url, max_pool_connections=max(10, max_workers))
        self.content_based_deduplication = content_based_deduplication
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_workers = max_workers
        self.strict_group_order = strict_group_order
        self._lock = threading.Lock()

    def send(
        self,
        messages: Iterable[str | OutgoingMessage],
        *,
        group_id: str | None = None,
        attributes: Mapping[str, AttributeValue] | None = None,
        delay_seconds: int | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> SendResult:
        """Send ``messages``; see :func:`send_messages` for the parameters, result and errors."""
        given = _message_list(messages)
        problems = [(i, f"{describe(OutgoingMessage(repr(m)), i)}: a message is a str or an OutgoingMessage, got {type(m).__name__}")
                    for i, m in enumerate(given) if not isinstance(m, (str, OutgoingMessage))]
        outgoing = [m if isinstance(m, OutgoingMessage) else OutgoingMessage(m) for m in given]
        outgoing = [_with_defaults(m, group_id, attributes, delay_seconds) for m in outgoing]
        wrong_type = {i for i, _ in problems}
        problems += [p for i, m in enumerate(outgoing) if i not in wrong_type for p in check_message(m, i, fifo=self.fifo)]
        if problems:
            raise InvalidMessageError(sorted(problems, key=lambda p: p[0]))
        try:
            derive = self.fifo and any(m.deduplication_id is None for m in outgoing) and not self._content_based()
        except Exception as error:  # the queue cannot be read: nothing is sent
            code = describe_error(error, queue_url=self.queue_url)["code"]
            failed = [FailedMessage(i, code, f"not sent: the queue could not be read ({error})", False, 0) for i in range(len(outgoing))]
            raise self._error(error, SendResult(failed=failed, requests=1), "GetQueueAttributes") from error
        entries = [_entry(i, m, self.fifo, derive) for i, m in enumerate(outgoing)]
        batches = plan_batches(entries, one_per_group=self.fifo and self.strict_group_order)
        result = SendResult()
        progress = _Progress(len(entries), on_progress)
        if self.max_workers == 1 or len(batches) == 1:
            self._send_in_order(batches, result, progress)
        elif self.fifo:
            self._send_by_group(batches, result, progress)
        else:
            self._send_in_parallel(batches, result, progress)
        result.sent.sort(key=lambda s: s.index)
        result.failed.sort(key=lambda f: f.index)
        return result

    def _content_based(self) -> bool:
        if self.content_based_deduplication is None:
            attributes = self.client.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["ContentBasedDeduplication"]
            )["Attributes"]
            self.content_based_deduplication = attributes.get("ContentBasedDeduplication") == "true"
        return self.content_based_deduplication

    def _error(self, error: BaseException, result: SendResult, operation: str = "SendMessageBatch") -> SendMessagesError:
        """The :class:`SendMessagesError` of a request that failed for good, naming the queue and the fix."""
        facts = describe_error(error, queue_url=self.queue_url, operation=operation, client=self.client)
        done = f"after {len(result.sent)} message(s) were sent; {len(result.not_confirmed)} not confirmed, {len(result.not_sent)} not sent"
        message = f"{operation} on {self.queue_url} failed {done}: {facts['what']}. Fix: {facts['fix']}"
        return SendMessagesError(
            message, result=result, queue_url=self.queue_url, kind=facts["kind"], code=facts["code"], operation=operation, fix=facts["fix"]
        )

    def _send_in_order(self, batches: list[list[_Entry]], result: SendResult, progress: _Progress) -> None:
        """One batch after the other. FIFO: a message not sent or not confirmed stops the rest of its group."""
        halted: set[str] = set()
        for position, planned in enumerate(batches):
            skipped = [e for e in planned if e.group_id is not None and e.group_id in halted]
            result.failed.extend(_skipped(entry) for entry in skipped)
            batch = [e for e in planned if e.group_id is None or e.group_id not in halted]
            try:
                self._send_batch(batch, result)
            except Exception as error:
                _abandon([e for b in batches[position:] for e in b], error, result)
                raise self._error(error, result) from error
            if self.fifo:
                halted.update(e.group_id for e in _failed_entries(batch, result) if e.group_id is not None)
            progress.add(len(planned))

    def _send_by_group(self, batches: list[list[_Entry]], result: SendResult, progress: _Progress) -> None:
        """FIFO: up to ``max_workers`` batches at once, a batch only after SQS answered for every earlier batch
        that holds a message of one of its groups, so each group's messages reach SQS in order (R3, R10). A
        message not sent or not confirmed stops the rest of its group; the first request error stops everything."""
        schedule = _GroupSchedule(batches)
        halted: set[str] = set()
        failure: list[BaseException] = []

        def send(position: int) -> int:
            planned = batches[position]
            with self._lock:
                stopped = set(halted)
            batch = [e for e in planned if e.group_id not in stopped]
            with self._lock:
                result.failed.extend(_skipped(e) for e in planned if e.group_id in stopped)
            self._send_batch(batch, result)
            with self._lock:
                halted.update(e.group_id for e in _failed_entries(batch, result) if e.group_id is not None)
            progress.add(len(planned))
            return position

        with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="sqs-producer") as pool:
            running = {pool.submit(send, position): position for position in schedule.ready()}
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    position = running.pop(future)
                    error = future.exception()
                    if error is not None:
                        failure.append(error)
                        with self._lock:
                            _abandon(batches[position], error, result)
                    elif not failure:
                        running.update({pool.submit(send, ready): ready for ready in schedule.done(position)})
        if failure:
            _abandon([e for b in batches for e in b], failure[0], result)
            raise self._error(failure[0], result) from failure[0]

    def _send_in_parallel(self, batches: list[list[_Entry]], result: SendResult, progress: _Progress) -> None:
        """Standard queues: up to ``max_workers`` batches at once; the first request error stops the rest."""
        failure: list[BaseException] = []
        started: set[int] = set()

        def send(position: int) -> None:
            with self._lock:
                if failure:
                    return
                started.add(position)
            try:
                self._send_batch(batches[position], result)
            except Exception as error:
                with self._lock:
                    failure.append(error)
                    _abandon(batches[position], error, result)
                return
            progress.add(len(batches[position]))

        with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="sqs-producer") as pool:
            list(pool.map(send, range(len(batches))))
        if failure:
            _abandon([e for p, b in enumerate(batches) if p not in started for e in b], failure[0], result)
            raise self._error(failure[0], result) from failure[0]

    def _send_batch(self, batch: Sequence[_Entry], result: SendResult) -> None:
        """Send one batch; retry the entries that failed through no fault of the sender (R4).

        A request that raises (after the client's retries) records its entries as failed, "not confirmed" when
        one of its attempts may have reached SQS, and raises on.
        """
        pending = {entry.index: entry for entry in batch}
        attempt = 0
        while pending:
            attempt += 1
            with self._lock:
                result.requests += 1
            with request_fate() as fate:
                try:
                    response = self.client.send_message_batch(
                        QueueUrl=self.queue_url, Entries=[entry.entry for entry in pending.values()]
                    )
                except Exception as error:
                    with self._lock:
                        result.possible_duplicates += max(0, fate.uncertain - 1) * len(pending)
                        result.failed.extend(
                            FailedMessage(i, describe_error(error, queue_url=self.queue_url)["code"], str(error), False, attempt, fate.uncertain > 0)
                            for i in pending
                        )
                    raise
            with self._lock:
                # Each attempt that may have reached SQS before the one that was answered may have left a copy.
                result.possible_duplicates += fate.uncertain * len(pending)
                for ok in response.get("Successful") or []:
                    index = int(ok["Id"])
                    pending.pop(index, None)
                    result.sent.append(SentMessage(index, ok["MessageId"], ok.get("SequenceNumber")))
                for bad in response.get("Failed") or []:
                    index = int(bad["Id"])
                    if bad.get("SenderFault") or attempt >= self.max_attempts:
                        pending.pop(index, None)
                        result.failed.append(
                            FailedMessage(index, bad.get("Code", ""), bad.get("Message", ""), bool(bad.get("SenderFault")), attempt)
                        )
            if pending:
                time.sleep(random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))))


def send_messages(
    queue_url: str,
    messages: Iterable[str | OutgoingMessage],
    *,
    client: SqsClient | None = None,
    group_id: str | None = None,
    attributes: Mapping[str, AttributeValue] | None = None,
    delay_seconds: int | None = None,
    content_based_deduplication: bool | None = None,
    max_attempts: int = 5,
    max_workers: int = 8,
    strict_group_order: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> SendResult:
    """Send ``messages`` to the queue in as few ``SendMessageBatch`` requests as the quotas allow.

    Parameters
    ----------
    queue_url:
        The queue's URL; a name ending in ``.fifo`` makes it a FIFO queue.
    messages:
        An iterable (list, tuple, generator) of bodies (``str``) or :class:`OutgoingMessage`. They are all
        checked before the first request. One ``str``, ``bytes`` or dict in its place is refused (put one
        message in a list).
    client:
        A boto3 SQS client. Default: - one with botocore's ``standard`` retry mode (10 attempts), which
        retries throttling and transient errors of whole requests.
    group_id:
        ``MessageGroupId`` of the messages that have none (FIFO). Default: - each message's own.
    attributes:
        Attributes added to every message (a message's own attribute of the same name wins). Default: - none.
    delay_seconds:
        ``DelaySeconds`` (0-900) of the messages that have none; standard queues only. Default: - the queue's.
    content_based_deduplication:
        See :class:`Producer`. Default: - asked of the queue when needed.
    max_attempts:
        Attempts per entry of a partially failed batch (faults not the sender's, with backoff and jitter),
        1-100. Default: 5.
    max_workers:
        Requests in flight at once, 1-100. On a FIFO queue a batch waits for the answer to every earlier batch
        with a message of one of its groups. Default: 8.
    strict_group_order:
        FIFO: one message of a group per request, and a group's next message only once SQS answered for the
        one before, so a failed entry or a lost response never lets a later message of its group overtake it
        (R10). False trades that order for throughput: up to 10 consecutive messages per request whatever
        their groups (see :class:`Producer`). Default: True.
    on_progress:
        Called as ``on_progress(done, total)`` after each batch. Default: - none.

    Returns
    -------
    SendResult
        ``sent`` (input position, ``MessageId``, ``SequenceNumber``) and ``failed`` (input position, error
        code, message, attempts, ``not_confirmed``); ``ok`` is True when every message was sent and confirmed.
        ``not_confirmed`` lists the failed messages whose request's fate is unknown (they may have arrived),
        ``not_sent`` the others; ``possible_duplicates`` counts the copies a standard queue may hold after a
        request was sent again. On a FIFO queue a message not sent or not confirmed stops the later messages
        of its group; they fail with ``SkippedAfterGroupFailure``.

    Raises
    ------
    TypeError
        Before any request, when ``messages`` is a ``str``, ``bytes``, a dict, one ``OutgoingMessage`` or not
        iterable, or ``queue_url`` is not a string.
    InvalidMessageError
        Before any request, listing every message SQS would refuse: not a ``str`` or ``OutgoingMessage``, an
        empty body, body and attributes over 1 MiB, characters outside SQS's set, more than 10 attributes or a
        bad attribute name, type or value, a FIFO message without a group id, a delay on a FIFO message or
        outside 0-900 s, a deduplication id on a standard queue, a group or deduplication id that is not 1-128
        printable ASCII characters.
    SendMessagesError
        A :class:`~constructs_sqs_runtime.QueueError`: when a whole request fails after the client's retries
        (no such queue, no credentials or region, endpoint unreachable, access denied, throttled to the end).
        It names the queue, its ``kind`` and the ``fix``; its ``result`` says what was sent, not confirmed and
        not sent.
    """
    producer = Producer(
        queue_url,
        client=client,
        content_based_deduplication=content_based_deduplication,
        max_attempts=max_attempts,
        max_workers=max_workers,
        strict_group_order=strict_group_order,
    )
    return producer.send(
        messages, group_id=group_id, attributes=attributes, delay_seconds=delay_seconds, on_progress=on_progress
    )


def _message_list(messages: Any) -> list[Any]:
    """``messages`` as a list; a single message, text, bytes or a mapping in its place is a TypeError."""
    hint = "put the message in a list: send_messages(queue_url, [message])"
    if isinstance(messages, (str, bytes, bytearray, memoryview)):
        preview = messages[:30] if isinstance(messages, (str, bytes, bytearray)) else messages
        raise TypeError(
            f"messages must be an iterable of messages (str or OutgoingMessage), got one {type(messages).__name__} "
            f"{preview!r}, which would send each of its characters as a message; {hint}"
        )
    if isinstance(messages, Mapping):
        raise TypeError(
            f"messages must be an iterable of messages (str or OutgoingMessage), got a {type(messages).__name__}, "
            "whose keys would be sent; for a message with attributes use OutgoingMessage(body, attributes=...) in a list"
        )
    if isinstance(messages, OutgoingMessage):
        raise TypeError(f"messages must be an iterable of messages, got one OutgoingMessage; {hint}")
    if not isinstance(messages, Iterable):
        raise TypeError(f"messages must be an iterable of messages (str or OutgoingMessage), got {type(messages).__name__}")
    return list(messages)


def check_message(message: OutgoingMessage, index: int, *, fifo: bool) -> list[tuple[int, str]]:
    """Every reason SQS would refuse ``message`` (the ``index``-th of its call), as ``(index, text)``."""
    name = describe(message, index)
    problems: list[str] = []
    if not isinstance(message.body, str) or not message.body:
        problems.append(f"{name}: the body must be a non-empty string, got {message.body!r}")
    else:
        problems += _character_problems(name, "the body", message.body)
    problems += _attribute_problems(name, message.attributes)
    size = message_size(message)
    if size > MAX_MESSAGE_BYTES:
        problems.append(f"{name}: body and attributes are {size:,} bytes; SQS takes at most {MAX_MESSAGE_BYTES:,} (1 MiB)")
    problems += _fifo_problems(name, message, fifo)
    if message.delay_seconds is not None and not 0 <= message.delay_seconds <= 900:
        problems.append(f"{name}: delay_seconds must be between 0 and 900, got {message.delay_seconds}")
    return [(index, text) for text in problems]


def describe(message: OutgoingMessage, index: int) -> str:
    """``message 3 ("first 30 characters...")``: how errors name a message."""
    body = message.body if isinstance(message.body, str) else repr(message.body)
    preview = body[:30] + ("..." if len(body) > 30 else "")
    return f"message {index} ({preview!r})"


def message_size(message: OutgoingMessage) -> int:
    """Bytes SQS counts against the 1 MiB quota: the UTF-8 body, and each attribute's name, type and value."""
    body = message.body.encode("utf-8", "surrogatepass") if isinstance(message.body, str) else b""
    total = len(body) + len((message.trace_header or "").encode())
    for attribute_name, value in message.attributes.items():
        total += attribute_size(attribute_name, sqs_attribute(value))
    return total


def attribute_size(name: str, value: Mapping[str, Any]) -> int:
    """Bytes of one attribute in SQS's form: name + data type + string or binary value."""
    data = value.get("BinaryValue")
    if data is None:
        data = str(value.get("StringValue", "")).encode("utf-8", "surrogatepass")
    return len(name.encode("utf-8", "surrogatepass")) + len(str(value.get("DataType", "")).encode()) + len(data)


def sqs_attribute(value: AttributeValue) -> dict[str, Any]:
    """A message attribute in SQS's form: ``str`` -> String, ``int``/``float`` -> Number, ``bytes`` -> Binary."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (bytes, bytearray)):
        return {"DataType": "Binary", "BinaryValue": bytes(value)}
    if isinstance(value, bool):
        return {"DataType": "String", "StringValue": str(value).lower()}
    if isinstance(value, (int, float)):
        return {"DataType": "Number", "StringValue": repr(value)}
    return {"DataType": "String", "StringValue": value}


class _GroupSchedule:
    """Which FIFO batches may be sent: a batch waits for the last earlier batch of each of its groups."""

    def __init__(self, batches: Sequence[Sequence[_Entry]]) -> None:
        last: dict[str | None, int] = {}
        self._waiting: dict[int, set[int]] = {}
        self._dependents: dict[int, list[int]] = {}
        for position, batch in enumerate(batches):
            before = {last[e.group_id] for e in batch if e.group_id in last}
            self._waiting[position] = before
            for earlier in before:
                self._dependents.setdefault(earlier, []).append(position)
            last.update((e.group_id, position) for e in batch)

    def ready(self) -> list[int]:
        """The batches that wait for none."""
        return [position for position, before in self._waiting.items() if not before]

    def done(self, position: int) -> list[int]:
        """Mark ``position`` sent; the batches that may go now."""
        released = []
        for later in self._dependents.get(position, []):
            waiting = self._waiting[later]
            waiting.discard(position)
            if not waiting:
                released.append(later)
        return released


def plan_batches(entries: Sequence[_Entry], *, one_per_group: bool = False) -> list[list[_Entry]]:
    """Batches of at most 10 entries and 1 MiB in total (R5).

    Without ``one_per_group``: consecutive entries, in input order. With it (FIFO's strict group order): at
    most one entry of each message group per batch, each group's entries in input order across the batches,
    the groups taken in rotation so that with more than 10 groups consecutive batches can go at once.
    """
    if one_per_group:
        return _interleaved(entries)
    batches: list[list[_Entry]] = []
    size = 0
    for entry in entries:
        full = len(batches[-1]) == MAX_BATCH_ENTRIES if batches else True
        if full or size + entry.size > MAX_MESSAGE_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(entry)
        size += entry.size
    return batches


def _interleaved(entries: Sequence[_Entry]) -> list[list[_Entry]]:
    """Groups in rotation (by first appearance): a batch takes the next message of each of the next 10 groups,
    and the groups with more go to the back, so consecutive batches hold different groups when there are more
    than 10 (they can go at once) and a group's messages keep their order across batches."""
    queues: dict[str | None, collections.deque[_Entry]] = {}
    for entry in entries:
        queues.setdefault(entry.group_id, collections.deque()).append(entry)
    rotation = collections.deque(queues)
    batches: list[list[_Entry]] = []
    while rotation:
        batch: list[_Entry] = []
        size = 0
        taken: list[str | None] = []
        while rotation and len(batch) < MAX_BATCH_ENTRIES:
            entry = queues[rotation[0]][0]
            if batch and size + entry.size > MAX_MESSAGE_BYTES:
                break
            key = rotation.popleft()
            batch.append(queues[key].popleft())
            size += entry.size
            taken.append(key)
        rotation.extend(key for key in taken if queues[key])
        batches.append(sorted(batch, key=lambda e: e.index))
    return batches


def _character_problems(name: str, what: str, text: str) -> list[str]:
    bad = _REJECTED_CHARACTER.search(text)
    if bad is None:
        return []
    return [
        f"{name}: {what} has a character SQS rejects, {bad.group()!r} at position {bad.start()} "
        "(valid: tab, line feed, carriage return, U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF)"
    ]


def _attribute_problems(name: str, attributes: Mapping[str, AttributeValue]) -> list[str]:
    problems: list[str] = []
    if len(attributes) > MAX_ATTRIBUTES:
        problems.append(f"{name}: {len(attributes)} attributes; SQS takes at most {MAX_ATTRIBUTES} per message")
    for attribute_name, raw in attributes.items():
        label = f"{name}: attribute {attribute_name!r}"
        lowered = attribute_name.lower() if isinstance(attribute_name, str) else ""
        if (
            not _ATTRIBUTE_NAME.match(lowered)
            or lowered.startswith(("aws.", "amazon.", "."))
            or lowered.endswith(".")
            or ".." in lowered
        ):
            problems.append(
                f"{label}: a name is 1-256 of A-Z a-z 0-9 _ - . with no leading, trailing or double period "
                "and no AWS. or Amazon. prefix"
            )
        if not isinstance(raw, (str, int, float, bytes, bytearray, Mapping)):
            problems.append(f"{label}: value must be str, int, float, bytes or SQS's form, got {type(raw).__name__}")
            continue
        problems += _attribute_value_problems(label, sqs_attribute(raw))
    return problems


def _attribute_value_problems(label: str, value: Mapping[str, Any]) -> list[str]:
    data_type = str(value.get("DataType", ""))
    if not _DATA_TYPE.match(data_type) or len(data_type) > 256:
        return [f"{label}: DataType must be String, Number or Binary (optionally .custom), got {data_type!r}"]
    if data_type.startswith("Binary"):
        if not isinstance(value.get("BinaryValue"), (bytes, bytearray)) or not value.get("BinaryValue"):
            return [f"{label}: a Binary attribute needs non-empty bytes in BinaryValue"]
        return []
    text = value.get("StringValue")
    if not isinstance(text, str) or not text:
        return [f"{label}: a {data_type} attribute needs a non-empty StringValue"]
    if data_type.startswith("Number"):
        try:
            float(text)
        except ValueError:
            return [f"{label}: a Number attribute needs a number, got {text!r}"]
    return _character_problems(label, "the value", text)


def _fifo_problems(name: str, message: OutgoingMessage, fifo: bool) -> list[str]:
    problems: list[str] = []
    if fifo and message.group_id is None:
        problems.append(f"{name}: a FIFO queue needs a MessageGroupId; pass group_id")
    for field_name, value in (("group_id", message.group_id), ("deduplication_id", message.deduplication_id)):
        if value is not None and not _GROUP_OR_DEDUP_ID.match(value):
            problems.append(f"{name}: {field_name} must be 1-128 printable ASCII characters without spaces, got {value!r}")
    if not fifo and message.deduplication_id is not None:
        problems.append(f"{name}: deduplication_id applies to FIFO queues only; this queue is standard")
    if fifo and message.delay_seconds is not None:
        problems.append(f"{name}: a FIFO queue takes no delay per message (set the queue's delivery delay instead)")
    return problems


def _with_defaults(
    message: OutgoingMessage,
    group_id: str | None,
    attributes: Mapping[str, AttributeValue] | None,
    delay_seconds: int | None,
) -> OutgoingMessage:
    return OutgoingMessage(
        body=message.body,
        attributes={**(attributes or {}), **message.attributes},
        group_id=message.group_id if message.group_id is not None else group_id,
        deduplication_id=message.deduplication_id,
        delay_seconds=message.delay_seconds if message.delay_seconds is not None else delay_seconds,
        trace_header=message.trace_header,
    )


def _entry(index: int, message: OutgoingMessage, fifo: bool, derive_deduplication_id: bool) -> _Entry:
    entry: dict[str, Any] = {"Id": str(index), "MessageBody": message.body}
    if message.attributes:
        entry["MessageAttributes"] = {k: sqs_attribute(v) for k, v in message.attributes.items()}
    if message.group_id is not None:
        entry["MessageGroupId"] = message.group_id
    deduplication_id = message.deduplication_id
    if fifo and deduplication_id is None and derive_deduplication_id:
        deduplication_id = hashlib.sha256(message.body.encode("utf-8")).hexdigest()
    if deduplication_id is not None:
        entry["MessageDeduplicationId"] = deduplication_id
    if message.delay_seconds is not None:
        entry["DelaySeconds"] = message.delay_seconds
    if message.trace_header:
        entry["MessageSystemAttributes"] = {
            "AWSTraceHeader": {"DataType": "String", "StringValue": message.trace_header}
        }
    return _Entry(index, entry, message_size(message), message.group_id)


def _failed_entries(batch: Sequence[_Entry], result: SendResult) -> list[_Entry]:
    failed = {f.index for f in result.failed}
    return [entry for entry in batch if entry.index in failed]


def _skipped(entry: _Entry) -> FailedMessage:
    return FailedMessage(
        entry.index,
        SKIPPED_AFTER_GROUP_FAILURE,
        f"not sent: an earlier message of group {entry.group_id!r} was not sent or not confirmed, and sending this "
        "one could break the group's order",
        False,
        0,
    )


def _abandon(entries: Iterable[_Entry], error: BaseException, result: SendResult) -> None:
    """Record as not sent the entries of the batches never sent after a request failed for good."""
    done = {s.index for s in result.sent} | {f.index for f in result.failed}
    for entry in entries:
        if entry.index not in done:
            result.failed.append(FailedMessage(entry.index, "NotSent", f"not sent: an earlier request failed ({error})", False, 0))
            done.add(entry.index)


class _Progress:
    def __init__(self, total: int, callback: Callable[[int, int], None] | None) -> None:
        self.total = total
        self.done = 0
        self.callback = callback
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        with self._lock:
            self.done += count
            done = self.done
        if self.callback is not None:
            self.callback(done, self.total)
