"""Event factories for unit tests of SQS record handlers: the shapes Lambda delivers, built locally.

Example
-------
::

    from constructs_sqs_runtime.testing import sqs_event, sqs_record

    event = sqs_event([sqs_record('{"orderId": "1"}'), sqs_record("not json")])
    assert handler(event, None) == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
"""

from __future__ import annotations

import hashlib
import itertools
import uuid
from typing import Any

__all__ = ["DEFAULT_QUEUE_ARN", "DEFAULT_FIFO_QUEUE_ARN", "sqs_event", "sqs_record"]

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
