"""SQS operations that do not grow with the queue's depth (moto 5.2.5 is quadratic), and atomic deletes.

moto computed all three message counts (a scan of the queue each) several times per message sent or
received (see :mod:`.sqs_attributes`), read the clock through ``datetime`` for every message it looked at,
and scanned every message's receipt-handle history on every ``DeleteMessage``: 10,000 messages took
minutes. Here visibility compares with ``time.time()`` (the same epoch), and a delete finds its message
through an index of receipt handles. What each call returns is unchanged.

A delete also holds both of the queue's locks: moto's own (sends append under it) and the receive lock
(a receive moves messages to the DLQ under it). moto rebuilt the message list with neither, so two
concurrent deletes could each write back a list holding the other's message: a deleted message came back
(the soak test saw messages processed twice), and a message sent meanwhile could vanish.
"""

from __future__ import annotations

import time
import weakref

from moto.sqs.exceptions import ReceiptHandleIsInvalid
from moto.sqs.models import Message, Queue

from .sqs_receive import receive_lock

_messages_by_handle: weakref.WeakValueDictionary[str, Message] = weakref.WeakValueDictionary()
"""Every receipt handle a message was given, to that message (moto accepts a message's older handles too)."""


def apply() -> None:
    """``Message.mark_received`` indexes the handle; ``visible``/``delayed`` on ``time.time()``; ``Queue.delete_message``."""
    original_mark_received = Message.mark_received

    def mark_received(self: Message, visibility_timeout: int | None = None) -> None:
        original_mark_received(self, visibility_timeout)
        _messages_by_handle[self.receipt_handle] = self  # type: ignore[index]

    def delete_message(self: Queue, receipt_handle: str) -> None:
        with receive_lock(self), self._messages_lock:
            if receipt_handle in self.deleted_messages:
                return  # deleting twice succeeds, as in moto and SQS
            message = _messages_by_handle.get(receipt_handle)
            if message is None or message not in self._messages:  # Message has no __eq__: identity, in C
                raise ReceiptHandleIsInvalid()
            remaining = list(self._messages)  # a new list, as moto does: readers may be iterating the old one
            remaining.remove(message)
            self._messages = remaining
            self.pending_messages.discard(message)
            self.deleted_messages.update(message.all_receipt_handles)  # type: ignore[arg-type]

    Message.mark_received = mark_received  # type: ignore[method-assign]
    Message.visible = property(lambda self: time.time() * 1000 > self.visible_at)  # type: ignore[method-assign,assignment]
    Message.delayed = property(lambda self: time.time() * 1000 < self.delayed_until)  # type: ignore[method-assign,assignment]
    Queue.delete_message = delete_message  # type: ignore[method-assign]
