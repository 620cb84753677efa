"""Ingests EventBridge events delivered to the events queue by a rule, one record at a time.

A record fails when its body is not an EventBridge event from a known source; it is retried and, after
max_receive_count tries, kept in the DLQ for inspection. Valid events are normalised for storage.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from constructs_sqs_runtime import sqs_batch_handler

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

logger = Logger()

KNOWN_SOURCES = frozenset({"shop.orders", "shop.payments", "shop.shipping"})
REQUIRED_FIELDS = ("id", "source", "detail-type", "time", "detail")


class InvalidEventError(ValueError):
    """The body is not an EventBridge event this service ingests."""


def normalise(body: str) -> dict[str, Any]:
    """The event in ``body`` as the row we store; raises :class:`InvalidEventError`."""
    try:
        raw = json.loads(body)
    except json.JSONDecodeError as error:
        raise InvalidEventError(f"body is not JSON: {error}") from error
    if not isinstance(raw, dict):
        raise InvalidEventError("body must be a JSON object")
    missing = [field for field in REQUIRED_FIELDS if field not in raw]
    if missing:
        raise InvalidEventError(f"not an EventBridge event, missing {', '.join(missing)}")
    event = EventBridgeEvent(raw)
    if event.source not in KNOWN_SOURCES:
        raise InvalidEventError(f"unknown source {event.source!r}")
    return {
        "event_id": event.get_id,
        "source": event.source,
        "type": event.detail_type,
        "time": event.time,
        "detail": event.detail,
    }


def ingest(record: SQSRecord) -> dict[str, Any]:
    row = normalise(record.body)
    logger.info("event ingested", extra={"event_id": row["event_id"], "type": row["type"]})
    return row


handler = sqs_batch_handler(ingest, logger=logger)
