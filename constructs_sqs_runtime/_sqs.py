"""What the producer, the consumer and redrive share: SQS quotas, the client, messages as received.

The client of every helper (its own, or one passed in) gets two event handlers of botocore's
(:func:`prepare_client`): one retries SQS's throttling in the spellings botocore's retry modes miss
(the query protocol's ``AWS.SimpleQueueService.RequestThrottled``) with botocore's own exponential backoff,
within the client's attempts; the other records, per request, whether an attempt may have reached SQS without
its answer reaching us (a reset connection, a read timeout, a 5xx), which :func:`request_fate` reports.

Imports boto3 and botocore only inside the functions that need them, so the data classes here load without them.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar

from .errors import THROTTLE_CODES, translated

__all__ = [
    "MAX_ATTRIBUTES",
    "MAX_BATCH_ENTRIES",
    "MAX_MESSAGE_BYTES",
    "ReceivedMessage",
    "SqsClient",
    "chunked",
    "error_code",
    "RequestFate",
    "is_fifo_queue",
    "prepare_client",
    "queue_name_of",
    "region_of",
    "request_fate",
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
    The client, prepared by :func:`prepare_client`.

    Raises
    ------
    ImportError
        When boto3 is not installed.
    QueueError
        When no region is set or the region is malformed (``kind`` ``"region"``), or the profile does not exist.
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

    with translated(queue_url or "the queue", "creating the SQS client"):
        session = session or boto3.Session()
        region = session.region_name or os.environ.get("AWS_REGION") or (region_of(queue_url) if queue_url else None)
        retry_mode = retry_mode or os.environ.get("AWS_RETRY_MODE") or DEFAULT_RETRY_MODE
        max_attempts = max_attempts or int(os.environ.get("AWS_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)
        config = Config(
            retries={"mode": retry_mode, "total_max_attempts": max_attempts},
            max_pool_connections=max_pool_connections,
        )
        client = session.client("sqs", region_name=region, config=config, endpoint_url=endpoint_url)
    return prepare_client(client)


# --- what every helper installs on its client --------------------------------------------------------

_THROTTLE_RETRY_ID = "constructs-sqs-throttle-spellings"
_FATE_RECORDER_ID = "constructs-sqs-request-fate"
_fates = threading.local()


@dataclass
class RequestFate:
    """What the attempts of one request told: ``attempts`` made, and ``uncertain``, how many of them may have
    reached SQS without its answer reaching us (connection reset or closed, read timeout, HTTP 5xx)."""

    attempts: int = 0
    uncertain: int = 0


@contextmanager
def request_fate() -> Iterator[RequestFate]:
    """Record the attempts of the requests made on this thread inside the block (one request, usually).

    botocore calls its ``needs-retry`` handlers on the thread that makes the request, after every attempt;
    the recorder that :func:`prepare_client` installs writes into the innermost ``request_fate`` of that thread.
    """
    fate = RequestFate()
    stack: list[RequestFate] = getattr(_fates, "stack", None) or []
    _fates.stack = stack
    stack.append(fate)
    try:
        yield fate
    finally:
        stack.pop()


def prepare_client(client: SqsClient) -> SqsClient:
    """Install the helpers' two ``needs-retry`` handlers on ``client`` (idempotent) and return it.

    - SQS throttling in a spelling botocore does not treat as throttling (:data:`~constructs_sqs_runtime.errors.THROTTLE_CODES`,
      e.g. ``AWS.SimpleQueueService.RequestThrottled``) is retried with botocore's exponential backoff
      (``standard`` mode's ``ExponentialBackoff``), within the client's ``total_max_attempts``;
      the spellings botocore knows stay botocore's.
    - Each attempt's fate is recorded for :func:`request_fate`.

    A client passed to a helper gets them too; neither changes what a request does or returns.
    """
    events = client.meta.events
    events.register_first("needs-retry.sqs", _ThrottleRetry(_max_attempts_of(client)), unique_id=_THROTTLE_RETRY_ID)
    events.register_first("needs-retry.sqs", _record_fate, unique_id=_FATE_RECORDER_ID)
    return client


def _max_attempts_of(client: SqsClient) -> int:
    retries = getattr(client.meta.config, "retries", None) or {}
    if retries.get("total_max_attempts"):
        return int(retries["total_max_attempts"])
    if retries.get("max_attempts") is not None:
        return int(retries["max_attempts"]) + 1
    return 5 if retries.get("mode") == "legacy" else 3


class _ThrottleRetry:
    """A ``needs-retry`` handler: SQS's throttle codes that botocore's checkers miss get botocore's backoff."""

    def __init__(self, max_attempts: int) -> None:
        from botocore.retries import standard

        self._adapter = standard.RetryEventAdapter()
        self._ours = standard.ThrottledRetryableChecker(throttled_error_codes=sorted(THROTTLE_CODES))
        self._botocores = standard.ThrottledRetryableChecker()
        self._max_attempts = standard.MaxAttemptsChecker(max_attempts)
        try:  # botocore >= 1.38: the throttling base scale (1 s) applies only where a detector says "throttled"
            self._backoff = standard.ExponentialBackoff(service_name="sqs", throttling_detector=_Throttled())
        except TypeError:  # older botocore: one base scale (1 s) for every retry
            self._backoff = standard.ExponentialBackoff()

    def __call__(self, **kwargs: Any) -> float | None:
        if kwargs.get("response") is None:
            return None
        context = self._adapter.create_retry_context(**kwargs)
        if not self._ours.is_retryable(context) or self._botocores.is_retryable(context):
            return None
        if not self._max_attempts.is_retryable(context):
            return None
        return float(self._backoff.delay_amount(context))


class _Throttled:
    """What ``ExponentialBackoff`` asks to choose its base scale: every response this handler retries is throttling."""

    def is_throttling_error_from_context(self, context: Any) -> bool:
        return True


def _record_fate(attempts: int = 0, response: Any = None, caught_exception: BaseException | None = None, **_: Any) -> None:
    stack = getattr(_fates, "stack", None)
    if not stack:
        return
    fate: RequestFate = stack[-1]
    fate.attempts += 1
    if caught_exception is not None:
        if not _never_sent(caught_exception):
            fate.uncertain += 1
    elif response is not None:
        status = getattr(response[0], "status_code", 200)
        if status >= 500:
            fate.uncertain += 1


def _never_sent(error: BaseException) -> bool:
    """True for the connection errors that happen before a request leaves (refused, DNS, connect timeout)."""
    from botocore import exceptions as boto

    return isinstance(error, (boto.EndpointConnectionError, boto.ConnectTimeoutError, boto.ProxyConnectionError))


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
