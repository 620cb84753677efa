"""What the producer, the consumer and redrive share: SQS quotas, the client, messages as received.

Imports boto3 and botocore only inside :func:`sqs_client`, so the data classes here load without them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar

__all__ = [
    "MAX_ATTRIBUTES",
    "MAX_BATCH_ENTRIES",
    "MAX_MESSAGE_BYTES",
    "ReceivedMessage",
    "SqsClient",
    "chunked",
    "error_code",
    "is_fifo_queue",
    "queue_name_of",
    "region_of",
    "sqs_client",
]

SqsClient = Any
"""A boto3 SQS client (``boto3.client("sqs")``); typed loosely so that no stubs package is needed."""

MAX_MESSAGE_BYTES = 1_048_576
"""SQS quota: one message, and the sum of one batch's messages, counting bodies and attributes (1 MiB)."""

MAX_BATCH_ENTRIES = 10
"""SQS quota: entries of one SendMessageBatch, DeleteMessageBatch or ChangeMessageVisibilityBatch."""

MAX_ATTRIBUTES = 10
"""SQS quota: message attributes per message."""

DEFAULT_RETRY_MODE = "standard"
DEFAULT_MAX_ATTEMPTS = 10

T = TypeVar("T")

_REGION_IN_URL = re.compile(r"^https?://(?:sqs\.([a-z0-9-]+)\.|([a-z0-9-]+)\.queue\.)amazonaws\.com", re.IGNORECASE)


def is_fifo_queue(queue_url_or_arn: str) -> bool:
    """True when the queue's name ends in ``.fifo`` (SQS requires it of FIFO queues, and only of them)."""
    return queue_name_of(queue_url_or_arn).endswith(".fifo")


def queue_name_of(queue_url_or_arn: str) -> str:
    """The queue name at the end of a queue URL (``.../123456789012/orders.fifo``) or ARN (``...:orders.fifo``)."""
    tail = queue_url_or_arn.rstrip("/")
    if tail.startswith("arn:"):
        return tail.rsplit(":", 1)[-1]
    return tail.rsplit("/", 1)[-1]


def region_of(queue_url: str) -> str | None:
    """The region in an AWS queue URL (``https://sqs.eu-west-1.amazonaws.com/...``), or None (an emulator's)."""
    match = _REGION_IN_URL.match(queue_url)
    if match is None:
        return None
    return match.group(1) or match.group(2)


def sqs_client(
    queue_url: str | None = None,
    *,
    retry_mode: str | None = None,
    max_attempts: int | None = None,
    session: Any | None = None,
    max_pool_connections: int = 10,
    endpoint_url: str | None = None,
) -> SqsClient:
    """A boto3 SQS client whose throttling and transient errors are retried by botocore.

    Parameters
    ----------
    queue_url:
        When neither the session nor ``AWS_REGION`` gives a region and this is an AWS queue URL, its region
        is used.
    retry_mode:
        botocore's retry mode: ``"standard"`` (exponential backoff with jitter, retry quota) or
        ``"adaptive"`` (standard plus client-side rate limiting after throttling). Default: -
        ``AWS_RETRY_MODE`` if set, else "standard".
    max_attempts:
        Attempts per request, the first one included. Default: - ``AWS_MAX_ATTEMPTS`` if set, else 10.
    session:
        A ``boto3.Session`` (profile, credentials). Default: - a new default session, which reads the
        usual environment (``AWS_PROFILE``, ``AWS_REGION``, ``AWS_ENDPOINT_URL`` ...).
    max_pool_connections:
        HTTP connections the client keeps: at least the number of threads that share it. Default: 10.
    endpoint_url:
        Another endpoint (an emulator). Default: - ``AWS_ENDPOINT_URL`` if set, else AWS's.

    Returns
    -------
    The client.

    Raises
    ------
    ImportError
        When boto3 is not installed.
    """
    try:
        import boto3
        from botocore.config import Config
    except ModuleNotFoundError as error:
        raise ImportError(
            f"the SQS helpers of constructs_sqs_runtime need {error.name}, which is not installed: "
            "pip install 'constructs-sqs[runtime]'",
            name=error.name,
        ) from error

    session = session or boto3.Session()
    region = session.region_name or os.environ.get("AWS_REGION") or (region_of(queue_url) if queue_url else None)
    retry_mode = retry_mode or os.environ.get("AWS_RETRY_MODE") or DEFAULT_RETRY_MODE
    max_attempts = max_attempts or int(os.environ.get("AWS_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)
    config = Config(
        retries={"mode": retry_mode, "total_max_attempts": max_attempts},
        max_pool_connections=max_pool_connections,
    )
    return session.client("sqs", region_name=region, config=config, endpoint_url=endpoint_url)


def error_code(error: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (``AWS.SimpleQueueService.NonExistentQueue``,
    ``AccessDenied`` ...), else the exception's class name."""
    response = getattr(error, "response", None)
    if isinstance(response, Mapping):
        details = response.get("Error") or {}
        code = details.get("Code") or details.get("QueryErrorCode")
        if code:
            return str(code)
    return type(error).__name__


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as ``ReceiveMessage`` returned it.

    ``attributes`` are the system attributes (``ApproximateReceiveCount``, ``SentTimestamp``,
    ``MessageGroupId``, ``SequenceNumber`` ...), ``message_attributes`` the sender's, in SQS's form
    (``{"tenant": {"DataType": "String", "StringValue": "a"}}``).
    """

    message_id: str
    receipt_handle: str
    body: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    message_attributes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    md5_of_body: str = ""

    @classmethod
    def from_response(cls, message: Mapping[str, Any]) -> ReceivedMessage:
        """Build one from an element of ``ReceiveMessage``'s ``Messages``."""
        return cls(
            message_id=message["MessageId"],
            receipt_handle=message["ReceiptHandle"],
            body=message.get("Body", ""),
            attributes=dict(message.get("Attributes") or {}),
            message_attributes=dict(message.get("MessageAttributes") or {}),
            md5_of_body=message.get("MD5OfBody", ""),
        )

    @property
    def group_id(self) -> str | None:
        """``MessageGroupId`` (FIFO queues), or None."""
        return self.attributes.get("MessageGroupId")

    @property
    def receive_count(self) -> int:
        """``ApproximateReceiveCount``: how many times SQS has delivered this message, this delivery included."""
        return int(self.attributes.get("ApproximateReceiveCount", "0"))

    @property
    def sent_at(self) -> datetime | None:
        """When the message was sent (``SentTimestamp``), in UTC."""
        return _timestamp(self.attributes.get("SentTimestamp"))

    @property
    def first_received_at(self) -> datetime | None:
        """When the message was first received (``ApproximateFirstReceiveTimestamp``), in UTC."""
        return _timestamp(self.attributes.get("ApproximateFirstReceiveTimestamp"))

    @property
    def sequence_number(self) -> str | None:
        """``SequenceNumber`` (FIFO queues), or None."""
        return self.attributes.get("SequenceNumber")


def _timestamp(milliseconds: str | None) -> datetime | None:
    if not milliseconds:
        return None
    return datetime.fromtimestamp(int(milliseconds) / 1000, tz=timezone.utc)
