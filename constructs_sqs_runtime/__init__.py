"""constructs-sqs runtime: the code that runs beside the queues, never aws_cdk.

Two halves, each with its own dependencies, both installed by ``pip install 'constructs-sqs[runtime]'``:

- In Lambda (shipped as a layer by ``LambdaTriggeredQueue``), on Powertools for AWS Lambda (Python):
  :func:`sqs_batch_handler` turns one function per record into a handler that reports partial batch
  failures::

      from constructs_sqs_runtime import sqs_batch_handler

      def record_handler(record):
          ...  # raise to have SQS deliver this record again

      handler = sqs_batch_handler(record_handler)

  Test it with the event factories of :mod:`constructs_sqs_runtime.testing`.

- In workers and scripts, on boto3: :func:`send_messages` (batched, checked, retried producer that keeps FIFO
  group order), :func:`consume` (several long-polling pollers, heartbeats, FIFO order and graceful stop) and
  :func:`redrive` (DLQ back to its source, exactly once, with a result that counts what remains);
  :class:`TaskProtection` (ECS task scale-in protection through the agent's endpoint, standard library only),
  which ``python -m constructs_sqs_runtime.worker`` holds while it holds messages. Whatever
  they cannot do on a queue raises one :class:`QueueError` that names the queue and the fix::

      from constructs_sqs_runtime import QueueError, consume, send_messages

The names are imported lazily (PEP 562): the producer does not need Powertools, and the batch helper does
not need boto3. A missing dependency raises an ImportError that names the extra to install (for the boto3
helpers, when they make their client).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._sqs import ReceivedMessage
    from .errors import QueueError
    from .batch import SqsBatchHandler, is_fifo_event, sqs_batch_handler
    from .consumer import ConsumeResult, Consumer, consume
    from .producer import (
        FailedMessage,
        InvalidMessageError,
        OutgoingMessage,
        Producer,
        SendMessagesError,
        SendResult,
        SentMessage,
        send_messages,
    )
    from .redrive import RedriveError, RedriveFailure, RedriveProgress, RedriveResult, peek_messages, redrive
    from .task_protection import TaskProtection, TaskProtectionError

_EXPORTS = {
    "ConsumeResult": ".consumer",
    "Consumer": ".consumer",
    "FailedMessage": ".producer",
    "InvalidMessageError": ".producer",
    "OutgoingMessage": ".producer",
    "Producer": ".producer",
    "QueueError": ".errors",
    "ReceivedMessage": "._sqs",
    "RedriveError": ".redrive",
    "RedriveFailure": ".redrive",
    "RedriveProgress": ".redrive",
    "RedriveResult": ".redrive",
    "SendMessagesError": ".producer",
    "SendResult": ".producer",
    "SentMessage": ".producer",
    "SqsBatchHandler": ".batch",
    "TaskProtection": ".task_protection",
    "TaskProtectionError": ".task_protection",
    "consume": ".consumer",
    "is_fifo_event": ".batch",
    "peek_messages": ".redrive",
    "redrive": ".redrive",
    "send_messages": ".producer",
    "sqs_batch_handler": ".batch",
}

# The third-party packages behind the names above; all come with the ``runtime`` extra.
_EXTRA_PACKAGES = {"aws_lambda_powertools", "boto3", "botocore"}

__all__ = [
    "ConsumeResult",
    "Consumer",
    "FailedMessage",
    "InvalidMessageError",
    "OutgoingMessage",
    "Producer",
    "QueueError",
    "ReceivedMessage",
    "RedriveError",
    "RedriveFailure",
    "RedriveProgress",
    "RedriveResult",
    "SendMessagesError",
    "SendResult",
    "SentMessage",
    "SqsBatchHandler",
    "TaskProtection",
    "TaskProtectionError",
    "consume",
    "is_fifo_event",
    "peek_messages",
    "redrive",
    "send_messages",
    "sqs_batch_handler",
]


# The submodule ``redrive`` and the function ``redrive`` share a name, and importing a submodule sets the
# package's attribute to the module. Loading it here, once, lets the function win for good; it imports only
# the standard library (boto3 is imported when a client is made).
from .redrive import redrive  # noqa: E402


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(_EXPORTS[name], __name__)
    except ModuleNotFoundError as error:
        missing = (error.name or "").split(".")[0]
        if missing not in _EXTRA_PACKAGES:
            raise
        raise ImportError(
            f"constructs_sqs_runtime.{name} needs {missing}, which is not installed: "
            "pip install 'constructs-sqs[runtime]'",
            name=missing,
        ) from error
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
