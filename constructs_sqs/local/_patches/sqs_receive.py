"""One receive at a time picks a queue's messages, as in SQS: no message goes to two consumers at once.

moto's server runs requests in threads and its ``ReceiveMessage`` checks a message's visibility and then
marks it received without a lock, so two concurrent receives could both take the same message (and, on a
FIFO queue, two messages of one group). The scan and the marking now hold a lock per queue; a long poll
releases it while it waits, so waiting receives do not queue behind each other.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from moto.sqs.models import Message, Queue, SQSBackend

_receive_locks: weakref.WeakKeyDictionary[Queue, threading.RLock] = weakref.WeakKeyDictionary()
_receive_locks_guard = threading.Lock()
_receiving = threading.local()


def receive_lock(queue: Queue) -> threading.RLock:
    """The lock a receive of ``queue`` holds while it picks messages (deletes take it too)."""
    with _receive_locks_guard:
        return _receive_locks.setdefault(queue, threading.RLock())


def apply() -> None:
    """``SQSBackend.receive_message`` under the queue's receive lock; ``Queue.wait_for_messages`` releases it."""
    original_receive = SQSBackend.receive_message
    original_wait = Queue.wait_for_messages

    def receive_message(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> list[Message]:
        lock = receive_lock(self.get_queue(queue_name))
        with lock:
            _receiving.lock = lock
            try:
                return original_receive(self, queue_name, *args, **kwargs)
            finally:
                _receiving.lock = None

    def wait_for_messages(self: Queue, timeout: int) -> None:
        lock = getattr(_receiving, "lock", None)
        if lock is None:
            original_wait(self, timeout)
            return
        lock.release()
        try:
            original_wait(self, timeout)
        finally:
            lock.acquire()

    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
    Queue.wait_for_messages = wait_for_messages  # type: ignore[method-assign]
