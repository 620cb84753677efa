"""Receives as SQS makes them: FIFO group order, long polls that wait without spinning, atomic changes.

moto 5.2.5's ``ReceiveMessage`` differs from SQS in ways a user of FIFO queues would believe:

- **Group locks computed once.** moto took the set of FIFO groups with a message in flight once, before a
  long poll, and again only when it met an in-flight message whose visibility had ended. A group
  unlocked by a delete during the poll stayed locked, and a message that came back after its visibility
  timeout unlocked its group for the group's later messages: send ``a, b, c`` to one group, receive all
  three, wait past the timeout, and moto returned ``['c']`` where SQS returns ``a, b, c``.
- **Long polls spin.** moto waited on "the queue has a visible message"; on a FIFO queue whose visible
  messages all belong to groups in flight that is true at once, so a 5-second poll rescanned the queue
  in a busy loop for 5 seconds of CPU, and every other request of the server slowed meanwhile.
- **DLQ moves out of order.** A FIFO group's messages reached the dead-letter queue in the order the
  broken locks let them come back (``m9, m8, ...``).
- **No atomicity.** Requests run in threads: two receives could take the same message, and two deletes
  could each write back a message list holding the other's message (a deleted message came back).

Here every change to which message may be handed out happens under the queue's own condition variable
(moto's ``Queue._messages_lock``): a receive picks under it; a send, a delete, a visibility change and
a purge hold it, and those that can give a waiting receive a message (a send, a FIFO delete, a message
made visible) signal it. Each pick computes, in send order, which message each group may hand
out now: a FIFO group with a message in flight hands out nothing; otherwise its messages go out from
the head, in order, up to the first one that is delayed. A message whose visibility ended is eligible
again at its place in its group, so it comes back before the group's later messages. A message that
reached ``maxReceiveCount`` moves to the DLQ when it is next to be handed out, so a group's messages
move in order. A long poll that finds nothing waits on the condition until a signal or the next moment
a message's visibility timeout or delay ends, whichever comes first: no polling loop, FIFO and
standard queues alike.
"""

from __future__ import annotations

import threading
import time
from copy import deepcopy
from dataclasses import dataclass

from moto.core.utils import unix_time_millis
from moto.sqs.constants import MAXIMUM_VISIBILITY_TIMEOUT
from moto.sqs.exceptions import InvalidParameterValue, ReceiptHandleIsInvalid
from moto.sqs.models import Message, Queue, SQSBackend, _filter_message_attributes

from .sqs_speed import message_for_handle


def condition(queue: Queue) -> threading.Condition:
    """The queue's condition variable: moto's own ``_messages_lock`` (a Condition over an RLock), under
    which moto already appends a sent message and signals."""
    return queue._messages_lock


@dataclass(frozen=True)
class Pick:
    """What one pass over a queue found."""

    messages: list[Message]
    """The messages handed out (marked received), in the order they go to the caller."""
    wake_at_ms: float | None
    """When (epoch milliseconds) the next in-flight or delayed message becomes visible, if any."""


def pick(queue: Queue, count: int, visibility_timeout: int | None) -> Pick:
    """Hand out up to ``count`` messages of ``queue`` as SQS would now; the caller holds :func:`condition`.

    Expired messages (older than the retention period) are dropped, as SQS deletes them; messages that
    reached ``maxReceiveCount`` move to the dead-letter queue when they are next in line.
    """
    now_ms = time.time() * 1000
    in_flight = queue.pending_messages
    for message in [m for m in in_flight if now_ms > m.visible_at]:
        in_flight.discard(message)  # its visibility timeout ended: it is in line again, at its place
    fifo = queue.fifo_queue
    held = {m.group_id for m in in_flight} if fifo else set()
    wake_at_ms = min((m.visible_at for m in in_flight), default=None)
    retention_ms = int(queue.message_retention_period) * 1000  # type: ignore[attr-defined]
    redrive = queue.redrive_policy if queue.dead_letter_queue is not None else None
    picked: list[Message] = []
    expired: list[Message] = []
    to_dlq: list[Message] = []
    for message in queue._messages:  # send order
        if len(picked) >= count:
            break
        group = message.group_id if fifo else None
        if group is not None and group in held:
            continue
        waiting_until = None
        if not now_ms > message.visible_at:  # in flight (the in-flight set normally has it already)
            waiting_until = message.visible_at
        elif now_ms < message.delayed_until:
            waiting_until = message.delayed_until
        if waiting_until is not None:
            if group is not None:
                held.add(group)  # the group's later messages wait behind it
            wake_at_ms = waiting_until if wake_at_ms is None else min(wake_at_ms, waiting_until)
            continue
        if message.sent_timestamp is not None and message.sent_timestamp + retention_ms <= now_ms:
            expired.append(message)
            continue
        if redrive and message.approximate_receive_count >= redrive["maxReceiveCount"]:
            to_dlq.append(message)  # the group's next message is in line now, as in SQS
            continue
        picked.append(message)
    if expired or to_dlq:
        gone = {id(message) for message in (*expired, *to_dlq)}
        queue._messages = [m for m in queue._messages if id(m) not in gone]  # a new list: readers may iterate the old
        for message in to_dlq:
            in_flight.discard(message)
            queue.dead_letter_queue.add_message(message)  # type: ignore[union-attr]
    for message in picked:
        in_flight.add(message)
        message.mark_received(visibility_timeout=visibility_timeout)
    return Pick(picked, wake_at_ms)


def receive_message(
    self: SQSBackend,
    queue_name: str,
    count: int,
    wait_seconds_timeout: int,
    visibility_timeout: int,
    message_attribute_names: list[str] | None = None,
) -> list[Message]:
    """``ReceiveMessage``: pick now; when nothing is there and a wait was asked for, wait on the queue's
    condition (until a send, a FIFO delete or a visibility change that makes a message visible signals it,
    or the next visibility timeout or delay ends) and pick again, until the wait is over."""
    queue = self.get_queue(queue_name)
    deadline = time.monotonic() + int(wait_seconds_timeout or 0)
    with condition(queue):
        while True:
            found = pick(queue, int(count), visibility_timeout)
            remaining = deadline - time.monotonic()
            if found.messages or remaining <= 0:
                break
            timeout = remaining
            if found.wake_at_ms is not None:  # +1 ms: visible means strictly after visible_at
                timeout = min(timeout, max(found.wake_at_ms / 1000 - time.time(), 0.0) + 0.001)
            condition(queue).wait(timeout)
        copies = []
        for message in found.messages:
            copy = deepcopy(message)  # as moto does: filtering attributes must not touch the stored message
            _filter_message_attributes(copy, message_attribute_names or [])
            copies.append(copy)
    return copies


def apply() -> None:
    """``SQSBackend.receive_message``, ``change_message_visibility`` and ``purge_queue``; ``Queue.add_message``
    and ``Queue.delete_message``: each under the queue's condition; a send, a FIFO delete and a visibility
    change that makes a message visible signal it (what could give a waiting receive something)."""
    original_add = Queue.add_message
    original_purge = SQSBackend.purge_queue

    def add_message(self: Queue, message: Message) -> None:
        with condition(self):  # the FIFO deduplication check and the append, at once; moto signals
            original_add(self, message)

    def delete_message(self: Queue, receipt_handle: str) -> None:
        with condition(self):
            if receipt_handle in self.deleted_messages:
                return  # deleting twice succeeds, as in moto and SQS
            message = message_for_handle(self, receipt_handle)
            if message is None:
                raise ReceiptHandleIsInvalid()
            self._messages = [m for m in self._messages if m is not message]  # a new list, as moto does
            self.pending_messages.discard(message)
            self.deleted_messages.update(message.all_receipt_handles)  # type: ignore[arg-type]
            if self.fifo_queue:  # its group may hand out its next message now (a standard queue gains nothing)
                condition(self).notify_all()

    def change_message_visibility(self: SQSBackend, queue_name: str, receipt_handle: str, visibility_timeout: int) -> None:
        queue = self.get_queue(queue_name)
        with condition(queue):
            message = message_for_handle(queue, receipt_handle)
            if message is None:
                raise ReceiptHandleIsInvalid()
            ends_at = unix_time_millis() + int(visibility_timeout) * 1000
            if ends_at - message.sent_timestamp > MAXIMUM_VISIBILITY_TIMEOUT * 1000:  # type: ignore[operator]
                raise InvalidParameterValue(
                    f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. Reason: Total "
                    f"VisibilityTimeout for the message is beyond the limit [{MAXIMUM_VISIBILITY_TIMEOUT} seconds]"
                )
            message.change_visibility(visibility_timeout)
            if message.visible:  # back in line now: a waiting receive may take it
                queue.pending_messages.discard(message)
                condition(queue).notify_all()
            else:  # in flight (again: SQS accepts a handle whose visibility had ended); its group is held
                queue.pending_messages.add(message)

    def purge_queue(self: SQSBackend, queue_name: str) -> None:
        with condition(self.get_queue(queue_name)):
            original_purge(self, queue_name)

    Queue.add_message = add_message  # type: ignore[method-assign]
    Queue.delete_message = delete_message  # type: ignore[method-assign]
    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
    SQSBackend.change_message_visibility = change_message_visibility  # type: ignore[method-assign]
    SQSBackend.purge_queue = purge_queue  # type: ignore[method-assign]
