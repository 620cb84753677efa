"""FIFO on the deployed Orders queue, with the sample app's real fulfilment handler (RELIABILITY R3):
order kept within each message group, and a failing order holds back its customer only."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator

import pytest

from constructs_sqs.local.mappings import EventSourceMapping, discover_mappings
from constructs_sqs.local.runner import LocalEventSourceRunner, load_handler


@pytest.fixture(scope="module")
def orders(emulator, deployed_sample_app) -> Iterator[EventSourceMapping]:
    """The Orders mapping; afterwards the queue is purged, so the held-back orders (in flight for the
    queue's 3-minute visibility timeout) do not come back during other tests."""
    (mapping,) = [m for m in discover_mappings(emulator, deployed_sample_app) if m.stack == "ConstructsSqsOrders"]
    yield mapping
    emulator.client("sqs").purge_queue(QueueUrl=mapping.queue_url)


class Spy:
    """Calls the function's real handler and records, per customer, the orders it fulfilled (not failed)."""

    def __init__(self, mapping: EventSourceMapping, emulator) -> None:
        self.handler = load_handler(mapping, emulator)
        self.lock = threading.Lock()
        self.fulfilled: dict[str, list[int]] = {}
        self.reported: list[tuple[str, int]] = []

    def __call__(self, event, context):
        response = self.handler(event, context)
        failed = {failure["itemIdentifier"] for failure in (response or {}).get("batchItemFailures", [])}
        with self.lock:
            for record in event["Records"]:
                order = json.loads(record["body"])
                if record["messageId"] in failed:
                    self.reported.append((order["customerId"], order["sequence"]))
                else:
                    self.fulfilled.setdefault(order["customerId"], []).append(order["sequence"])
        return response

    def count(self, customers: list[str]) -> int:
        """Orders fulfilled for ``customers`` (other tests may have orders of their own in the queue)."""
        with self.lock:
            return sum(len(self.fulfilled.get(customer, [])) for customer in customers)


def _order(customer: str, sequence: int, *, valid: bool = True) -> dict:
    items = [{"sku": f"SKU-{sequence}", "quantity": 1}] if valid else []
    return {"orderId": f"{customer}-{sequence}", "customerId": customer, "sequence": sequence, "items": items}


def _send(emulator, mapping, orders: list[dict]) -> None:
    sqs = emulator.client("sqs")
    for start in range(0, len(orders), 10):
        entries = [
            {"Id": str(i), "MessageBody": json.dumps(order), "MessageGroupId": order["customerId"]}
            for i, order in enumerate(orders[start : start + 10])
        ]
        assert not sqs.send_message_batch(QueueUrl=mapping.queue_url, Entries=entries).get("Failed")


def test_order_is_kept_within_each_group_with_concurrent_pollers(emulator, orders):
    run = uuid.uuid4().hex[:6]
    customers = [f"c{n}-{run}" for n in range(4)]
    # Interleaved: c0-1, c1-1, c2-1, c3-1, c0-2, ...
    _send(emulator, orders, [_order(customer, sequence) for sequence in range(30) for customer in customers])
    spy = Spy(orders, emulator)
    runner = LocalEventSourceRunner(emulator, [orders.with_handler(spy)], poll_seconds=1, max_pollers=5)
    assert runner.pollers_for(orders) == 5
    runner.run(duration=60, until=lambda s: spy.count(customers) >= 120, interval=0.2)
    assert {customer: spy.fulfilled.get(customer) for customer in customers} == dict.fromkeys(customers, list(range(30)))


def test_a_failing_order_holds_back_its_group_while_other_groups_go_on(emulator, orders):
    run = uuid.uuid4().hex[:6]
    held, other, third = f"held-{run}", f"other-{run}", f"third-{run}"
    first = [_order(held, 0), _order(held, 1, valid=False), _order(held, 2), _order(held, 3)]
    first += [_order(customer, n) for n in range(4) for customer in (other, third)]
    _send(emulator, orders, first)
    spy = Spy(orders, emulator)
    runner = LocalEventSourceRunner(emulator, [orders.with_handler(spy)], poll_seconds=1)

    customers = [held, other, third]

    def later_orders_arrive(stats):
        if spy.count(customers) == 9 and not getattr(later_orders_arrive, "sent", False):
            later_orders_arrive.sent = True  # type: ignore[attr-defined]
            _send(emulator, orders, [_order(held, 4), _order(other, 4), _order(third, 4)])
        return spy.count(customers) >= 11

    runner.run(duration=60, until=later_orders_arrive, interval=0.2)
    assert spy.fulfilled[held] == [0], "the bad order and every later order of its customer wait"
    assert spy.fulfilled[other] == [0, 1, 2, 3, 4]
    assert spy.fulfilled[third] == [0, 1, 2, 3, 4]
    # held-1 failed, held-2 and held-3 were handed back unprocessed; held-4 is never delivered while they wait
    assert [(customer, sequence) for customer, sequence in spy.reported if customer == held] == [(held, 1), (held, 2), (held, 3)]
    attributes = emulator.client("sqs").get_queue_attributes(QueueUrl=orders.queue_url, AttributeNames=["All"])["Attributes"]
    assert int(attributes["ApproximateNumberOfMessagesNotVisible"]) >= 3
