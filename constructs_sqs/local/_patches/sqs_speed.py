"""SQS operations that do not grow with the queue's depth (moto 5.2.5 is quadratic).

moto computed all three message counts (a scan of the queue each) several times per message sent or
received (see :mod:`.sqs_attributes`), read the clock through ``datetime`` for every message it looked at,
and scanned every message's receipt-handle history on every ``DeleteMessage`` and
``ChangeMessageVisibility``: 10,000 messages took minutes. Here visibility compares with ``time.time()``
(the same epoch), and a receipt handle finds its message through an index (:func:`message_for_handle`,
used by the deletes and visibility changes of :mod:`.sqs_receive`). What each call returns is unchanged.
"""

from __future__ import annotations

import time
import weakref

from moto.sqs.models import Message, Queue

_messages_by_handle: weakref.WeakValueDictionary[str, Message] = weakref.WeakValueDictionary()
"""Every receipt handle a message was given, to that message (moto accepts a message's older handles too)."""


def message_for_handle(queue: Queue, receipt_handle: str) -> Message | None:
    """The message of ``queue`` that was given ``receipt_handle`` (now or earlier), if it is still in the queue."""
    message = _messages_by_handle.get(receipt_handle)
    if message is None or message not in queue._messages:  # Message has no __eq__: identity, in C
        return None
    return message


def apply() -> None:
    """``Message.mark_received`` indexes the handle; ``visible`` and ``delayed`` read ``time.time()``."""
    original_mark_received = Message.mark_received

    def mark_received(self: Message, visibility_timeout: int | None = None) -> None:
        original_mark_received(self, visibility_timeout)
        _messages_by_handle[self.receipt_handle] = self  # type: ignore[index]

    Message.mark_received = mark_received  # type: ignore[method-assign]
    Message.visible = property(lambda self: time.time() * 1000 > self.visible_at)  # type: ignore[method-assign,assignment]
    Message.delayed = property(lambda self: time.time() * 1000 < self.delayed_until)  # type: ignore[method-assign,assignment]
