"""Event factories and a fake Lambda context for unit tests of SQS record handlers: the shapes Lambda
delivers, built locally. Only the standard library is imported.

Example
-------
::

    from constructs_sqs_runtime.testing import lambda_context, sqs_event, sqs_record

    event = sqs_event([sqs_record('{"orderId": "1"}'), sqs_record("not json")])
    assert handler(event, lambda_context()) == {
        "batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]
    }
"""

from __future__ import annotations

import hashlib
import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_FIFO_QUEUE_ARN",
    "DEFAULT_QUEUE_ARN",
    "FakeLambdaContext",
    "lambda_context",
    "sqs_event",
    "sqs_record",
]

DEFAULT_QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:test-queue"
DEFAULT_FIFO_QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:test-queue.fifo"

_SENT_TIMESTAMP = 1_735_689_600_000  # 2025-01-01T00:00:00Z, in milliseconds as SQS sends it
_sequence = itertools.count(1)


def sqs_record(
    body: str,
    *,
    message_id: str | None = None,
    queue_arn: str = DEFAULT_QUEUE_ARN,
    message_group_id: str | None = None,
    deduplication_id: str | None = None,
    receive_count: int = 1,
    message_attributes: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One record of an SQS event, as Lambda delivers it.

    Parameters
    ----------
    body:
        The message body.
    message_id:
        Default: - a new UUID.
    queue_arn:
        The ``eventSourceARN``. Default: ``DEFAULT_QUEUE_ARN``, or ``DEFAULT_FIFO_QUEUE_ARN`` when
        ``message_group_id`` is given.
    message_group_id:
        Makes a FIFO record: adds ``MessageGroupId``, ``MessageDeduplicationId`` and ``SequenceNumber``.
        Default: - a standard record.
    deduplication_id:
        FIFO only. Default: - the SHA-256 of the body (content-based deduplication).
    receive_count:
        ``ApproximateReceiveCount``. Default: 1.
    message_attributes:
        ``messageAttributes``, e.g. ``{"tenant": {"stringValue": "a", "dataType": "String"}}``.
        Default: - none.
    """
    sent = _SENT_TIMESTAMP + next(_sequence)
    attributes: dict[str, str] = {
        "ApproximateReceiveCount": str(receive_count),
        "SentTimestamp": str(sent),
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": str(sent + 2),
    }
    if message_group_id is not None:
        if queue_arn == DEFAULT_QUEUE_ARN:
            queue_arn = DEFAULT_FIFO_QUEUE_ARN
        attributes["MessageGroupId"] = message_group_id
        attributes["MessageDeduplicationId"] = deduplication_id or hashlib.sha256(body.encode()).hexdigest()
        attributes["SequenceNumber"] = str(18_849_496_460_467_696_128 + sent)
    region = queue_arn.split(":")[3]
    record: dict[str, Any] = {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "AQEB" + uuid.uuid4().hex + uuid.uuid4().hex,
        "body": body,
        "attributes": attributes,
        "messageAttributes": message_attributes or {},
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    return record


def sqs_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    """An SQS event for Lambda: ``{"Records": records}``."""
    return {"Records": list(records)}


@dataclass
class FakeLambdaContext:
    """A stand-in for the context object Lambda passes a handler, with the attributes of Powertools'
    ``LambdaContext`` (which Powertools' ``Logger.inject_lambda_context`` and the batch utility read).

    Made by :func:`lambda_context`. ``get_remaining_time_in_millis()`` counts down from the timeout as
    real time passes, never below 0.

    Attributes
    ----------
    function_name, function_version, invoked_function_arn, memory_limit_in_mb, aws_request_id,
    log_group_name, log_stream_name:
        As Lambda sets them.
    tenant_id, identity, client_context:
        None, as for a function invoked by an SQS event source mapping.
    timeout_seconds:
        The function timeout that ``get_remaining_time_in_millis`` counts down from.
    """

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    timeout_seconds: float
    tenant_id: str | None = None
    identity: Any = None
    client_context: Any = None
    _started: float = field(default_factory=time.monotonic, repr=False)

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout, as Lambda's context reports them."""
        left = self.timeout_seconds - (time.monotonic() - self._started)
        return max(0, int(left * 1000))


def lambda_context(
    *,
    function_name: str = "test-function",
    memory_limit_in_mb: int = 256,
    timeout_seconds: float = 30.0,
    aws_request_id: str | None = None,
    region: str = "eu-west-1",
    account_id: str = "123456789012",
) -> FakeLambdaContext:
    """A fake Lambda context for calling a handler in a unit test.

    Pass it where Lambda passes its context: ``handler(sqs_event(records), lambda_context())``. A record
    handler that takes a ``lambda_context`` parameter then receives it (with ``None`` instead, it receives
    None).

    Parameters
    ----------
    function_name:
        Default: ``"test-function"``; it also names the ARN, the log group and the log stream.
    memory_limit_in_mb:
        Default: 256, the memory ``LambdaTriggeredQueue`` gives a function it builds.
    timeout_seconds:
        What ``get_remaining_time_in_millis()`` counts down from. Default: 30.0, the timeout
        ``LambdaTriggeredQueue`` gives a function it builds.
    aws_request_id:
        Default: - a new UUID.
    region, account_id:
        Of ``invoked_function_arn``. Default: ``"eu-west-1"``, ``"123456789012"`` (as the records of
        :func:`sqs_record`).

    Returns
    -------
    FakeLambdaContext
        The context.

    Raises
    ------
    ValueError
        When ``memory_limit_in_mb`` or ``timeout_seconds`` is not positive.
    """
    if memory_limit_in_mb <= 0:
        raise ValueError(f"memory_limit_in_mb must be a positive number of MB, got {memory_limit_in_mb!r}")
    if timeout_seconds <= 0:
        raise ValueError(f"timeout_seconds must be a positive number of seconds, got {timeout_seconds!r}")
    request = aws_request_id or str(uuid.uuid4())
    return FakeLambdaContext(
        function_name=function_name,
        function_version="$LATEST",
        invoked_function_arn=f"arn:aws:lambda:{region}:{account_id}:function:{function_name}",
        memory_limit_in_mb=memory_limit_in_mb,
        aws_request_id=request,
        log_group_name=f"/aws/lambda/{function_name}",
        log_stream_name=f"2025/01/01/[$LATEST]{uuid.uuid4().hex}",
        timeout_seconds=timeout_seconds,
    )
