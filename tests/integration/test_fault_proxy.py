"""The fault proxy does what the fault drills rely on: each fault as the client sees it, and latency."""

from __future__ import annotations

import time
import uuid
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from fault_proxy import NO_FAULTS, FaultProxy, Faults


def proxied_client(emulator: Any, proxy: FaultProxy) -> Any:
    """An SQS client through the proxy that never retries, so each fault reaches the test."""
    return boto3.client(
        "sqs",
        endpoint_url=proxy.url,
        region_name=emulator.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=5, connect_timeout=5),
    )


@pytest.fixture
def queue(emulator: Any) -> str:
    return str(emulator.client("sqs").create_queue(QueueName=f"proxy-{uuid.uuid4().hex[:8]}")["QueueUrl"])


def visible(emulator: Any, url: str) -> int:
    attributes = emulator.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_no_faults_forwards_requests_and_counts_them(emulator: Any, queue: str) -> None:
    with FaultProxy(emulator.endpoint_url) as proxy:
        sqs = proxied_client(emulator, proxy)
        sqs.send_message(QueueUrl=queue, MessageBody="one")
        sqs.send_message(QueueUrl=queue, MessageBody="two")
        assert proxy.counts.requests["SendMessage"] == 2
        assert proxy.counts.fault_total() == 0
    assert visible(emulator, queue) == 2


def test_throttle_is_the_query_protocol_code_and_never_reaches_the_server(emulator: Any, queue: str) -> None:
    with FaultProxy(emulator.endpoint_url, Faults.only("throttle", 1.0)) as proxy:
        with pytest.raises(ClientError, match=r"AWS\.SimpleQueueService\.RequestThrottled"):
            proxied_client(emulator, proxy).send_message(QueueUrl=queue, MessageBody="x")
        assert proxy.counts.faults["throttle"]["SendMessage"] == 1
    assert visible(emulator, queue) == 0


def test_server_error_is_a_500_without_forwarding(emulator: Any, queue: str) -> None:
    with FaultProxy(emulator.endpoint_url, Faults.only("server_error", 1.0)) as proxy:
        with pytest.raises(ClientError) as raised:
            proxied_client(emulator, proxy).send_message(QueueUrl=queue, MessageBody="x")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert visible(emulator, queue) == 0


def test_reset_fails_the_request_before_the_server_sees_it(emulator: Any, queue: str) -> None:
    with FaultProxy(emulator.endpoint_url, Faults.only("reset", 1.0)) as proxy:
        with pytest.raises((ConnectionClosedError, EndpointConnectionError, ReadTimeoutError)):
            proxied_client(emulator, proxy).send_message(QueueUrl=queue, MessageBody="x")
    assert visible(emulator, queue) == 0


def test_dropped_response_hides_a_message_the_server_accepted(emulator: Any, queue: str) -> None:
    with FaultProxy(emulator.endpoint_url, Faults.only("drop_response", 1.0)) as proxy:
        with pytest.raises((ConnectionClosedError, EndpointConnectionError, ReadTimeoutError)):
            proxied_client(emulator, proxy).send_message(QueueUrl=queue, MessageBody="x")
    assert visible(emulator, queue) == 1


def test_faults_apply_only_to_the_actions_named(emulator: Any, queue: str) -> None:
    with FaultProxy(emulator.endpoint_url, Faults.only("throttle", 1.0).with_actions("DeleteMessage")) as proxy:
        sqs = proxied_client(emulator, proxy)
        sqs.send_message(QueueUrl=queue, MessageBody="x")
        handle = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"][0]["ReceiptHandle"]
        with pytest.raises(ClientError, match="RequestThrottled"):
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=handle)
        proxy.faults = NO_FAULTS
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=handle)
        assert dict(proxy.counts.faults["throttle"]) == {"DeleteMessage": 1}


def test_latency_is_added_to_every_request(emulator: Any, queue: str) -> None:
    # A lower bound only: the proxy must wait at least what it was told (no upper bound: the machine is shared).
    with FaultProxy(emulator.endpoint_url, Faults(latency=0.05)) as proxy:
        sqs = proxied_client(emulator, proxy)
        started = time.monotonic()
        for _ in range(4):
            sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])
        assert time.monotonic() - started >= 0.2


def test_rates_are_checked() -> None:
    with pytest.raises(ValueError, match=r"throttle must be a rate between 0 and 1, got 1\.5"):
        Faults(throttle=1.5)
    with pytest.raises(ValueError, match="add up to at most 1"):
        Faults(reset=0.6, throttle=0.6)
