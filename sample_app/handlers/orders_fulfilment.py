"""Fulfils orders from the FIFO orders queue, one record at a time, in order per customer.

The message group is the customer: ``skip_group_on_error`` keeps one customer's bad order from holding
up the other customers' orders in the batch, while that customer's later orders wait (reported failed)
so they are fulfilled after it, in order.

Message body::

    {"orderId": "o-1001", "customerId": "c-42", "items": [{"sku": "BOOK-1", "quantity": 2}]}
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from constructs_sqs_runtime import sqs_batch_handler

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

logger = Logger()


class InvalidOrderError(ValueError):
    """The message is not an order that can be fulfilled; after max_receive_count tries it goes to the DLQ."""


def parse_order(body: str) -> dict[str, Any]:
    """The order in ``body``, checked; raises :class:`InvalidOrderError`."""
    try:
        order = json.loads(body)
    except json.JSONDecodeError as error:
        raise InvalidOrderError(f"body is not JSON: {error}") from error
    if not isinstance(order, dict):
        raise InvalidOrderError("body must be a JSON object")
    for field in ("orderId", "customerId"):
        if not isinstance(order.get(field), str) or not order[field]:
            raise InvalidOrderError(f"{field} must be a non-empty string")
    items = order.get("items")
    if not isinstance(items, list) or not items:
        raise InvalidOrderError("items must be a non-empty list")
    for item in items:
        if not _is_item(item):
            raise InvalidOrderError(f"every item needs a sku and a positive whole quantity, got {item!r}")
    return order


def _is_item(item: object) -> bool:
    if not isinstance(item, dict) or not isinstance(item.get("sku"), str):
        return False
    quantity = item.get("quantity")
    return isinstance(quantity, int) and not isinstance(quantity, bool) and quantity >= 1


def fulfil(record: SQSRecord) -> dict[str, Any]:
    """Fulfil the order of one record: here, log the picking list."""
    order = parse_order(record.body)
    picking = {item["sku"]: item["quantity"] for item in order["items"]}
    logger.info(
        "order fulfilled",
        extra={
            "order_id": order["orderId"],
            "customer_id": order["customerId"],
            "message_group_id": record.attributes.message_group_id,
            "picking": picking,
        },
    )
    return picking


handler = sqs_batch_handler(fulfil, fifo=True, skip_group_on_error=True, logger=logger)
