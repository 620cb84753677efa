"""Queue attributes as SQS reports them, and without rescanning the queue for every message.

- ``RedriveAllowPolicy`` is kept and returned (moto 5.2.5 stores it but never reports it);
- ``SqsManagedSseEnabled`` is ``false`` on a queue with a KMS key (SQS reports one encryption; moto
  reported both, so a deployed queue's attributes differed from its template);
- a ``SetQueueAttributes`` call that does not name ``Policy`` keeps the queue policy (moto dropped it);
- the ``Approximate*`` message counts, a scan of the queue each, are computed only when asked for: moto
  read ``Queue.attributes`` (all three scans) several times per message sent or received, which made
  sending and receiving quadratic in the queue's depth.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.utils import camelcase_to_underscores
from moto.sqs.exceptions import InvalidAttributeName
from moto.sqs.models import Queue, SQSBackend

from .values import as_json_text


def queue_attributes(self: Queue, with_counts: bool = False) -> dict[str, Any]:
    """A queue's attributes as SQS reports them; the message counts only ``with_counts``."""
    result: dict[str, Any] = {}
    for name in self.BASE_ATTRIBUTES:
        if with_counts or not name.startswith("Approximate"):
            result[name] = getattr(self, camelcase_to_underscores(name))
    if self.fifo_queue:
        result.update({name: getattr(self, camelcase_to_underscores(name)) for name in self.FIFO_ATTRIBUTES})
    kms = getattr(self, "kms_master_key_id", None)
    if kms:
        result.update({name: getattr(self, camelcase_to_underscores(name)) for name in self.KMS_ATTRIBUTES})
        result["SqsManagedSseEnabled"] = False
    if self.policy:
        result["Policy"] = self.policy
    if self.redrive_policy:
        result["RedrivePolicy"] = json.dumps(self.redrive_policy)
    allow = result.pop("RedriveAllowPolicy", None)
    if allow:
        result["RedriveAllowPolicy"] = as_json_text(allow)
    return {name: str(value).lower() if isinstance(value, bool) else value for name, value in result.items()}


def apply() -> None:
    """``Queue.attributes``, ``Queue._set_attributes`` and ``SQSBackend.get_queue_attributes``."""
    Queue.redrive_allow_policy = None  # type: ignore[attr-defined]
    if "RedriveAllowPolicy" not in Queue.BASE_ATTRIBUTES:
        Queue.BASE_ATTRIBUTES = [*Queue.BASE_ATTRIBUTES, "RedriveAllowPolicy"]
    original_set = Queue._set_attributes

    def set_attributes(self: Queue, new: dict[str, Any], now: float | None = None) -> None:
        kept = getattr(self, "policy", None)
        original_set(self, new, now)
        if "Policy" not in new:
            self.policy = kept

    def get_queue_attributes(self: SQSBackend, queue_name: str, attribute_names: list[str]) -> dict[str, Any]:
        queue = self.get_queue(queue_name)
        if not attribute_names:
            return {}
        valid = ["All", *queue.BASE_ATTRIBUTES, *queue.FIFO_ATTRIBUTES, *queue.KMS_ATTRIBUTES]
        invalid = next((name for name in attribute_names if name not in valid), None)
        if invalid is not None:
            raise InvalidAttributeName(invalid)
        with_counts = "All" in attribute_names or any(name.startswith("Approximate") for name in attribute_names)
        attributes = queue_attributes(queue, with_counts=with_counts)
        if "All" in attribute_names:
            return attributes
        return {name: attributes[name] for name in attribute_names if attributes.get(name) is not None}

    Queue.attributes = property(queue_attributes)  # type: ignore[method-assign,assignment]
    Queue._set_attributes = set_attributes  # type: ignore[method-assign,assignment]
    SQSBackend.get_queue_attributes = get_queue_attributes  # type: ignore[method-assign]
