"""What the tests of the producer, consumer, redrive and CLI share: an in-process SQS (moto's ``mock_aws``),
queues, request counting and injected partial batch failures, all through botocore's own event hooks."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

REGION = "eu-west-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's in-process AWS, with fake credentials and nothing of the caller's environment."""
    from moto import mock_aws

    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    with mock_aws():
        yield


@pytest.fixture
def sqs(aws: None) -> Any:
    return boto3.client("sqs", region_name=REGION)


def make_queue(sqs: Any, name: str, *, dlq: str | None = None, max_receive_count: int = 3, **attributes: str) -> str:
    """Create a queue (FIFO when ``name`` ends in .fifo) and return its URL; ``dlq`` is a URL."""
    attrs = {key: str(value) for key, value in attributes.items()}
    if name.endswith(".fifo"):
        attrs["FifoQueue"] = "true"
    if dlq is not None:
        attrs["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": max_receive_count})
    return str(sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"])


def arn_of(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def depth(sqs: Any, url: str) -> tuple[int, int]:
    """(visible, in flight) messages of the queue."""
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def drain(sqs: Any, url: str, *, wait: int = 0, visibility: int = 30) -> list[dict[str, Any]]:
    """Receive and delete every visible message; return them in the order received."""
    received: list[dict[str, Any]] = []
    while True:
        response = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait,
            VisibilityTimeout=visibility,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages") or []
        if not messages:
            return received
        received += messages
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        )


def count_requests(client: Any) -> Counter[str]:
    """A Counter of the HTTP requests ``client`` sends, by operation (botocore's ``before-send`` event)."""
    counter: Counter[str] = Counter()

    def on_send(event_name: str, **_: Any) -> None:
        counter[event_name.rsplit(".", 1)[-1]] += 1

    client.meta.events.register_first("before-send.sqs", on_send)
    return counter


def inject_send_failures(client: Any, plan: list[Mapping[str, tuple[str, bool]]]) -> list[list[str]]:
    """Make SQS "fail" entries of SendMessageBatch calls: for call n, the entries whose Id is a key of
    ``plan[n]`` are taken out of the request (so they are not sent) and reported in ``Failed`` with the
    (code, sender_fault) given. Returns the Ids of the entries of every call, as sent by the producer."""
    calls: list[list[str]] = []

    def before(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        entries = params["Entries"]
        calls.append([entry["Id"] for entry in entries])
        failing = plan[len(calls) - 1] if len(calls) <= len(plan) else {}
        context["injected"] = [(entry["Id"], *failing[entry["Id"]]) for entry in entries if entry["Id"] in failing]
        params["Entries"] = [entry for entry in entries if entry["Id"] not in failing] or entries[:1]
        context["empty"] = all(entry["Id"] in failing for entry in entries)

    def after(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        for entry_id, code, sender_fault in context.get("injected", []):
            parsed.setdefault("Failed", []).append(
                {"Id": entry_id, "Code": code, "Message": "injected by the test", "SenderFault": sender_fault}
            )

    def nothing_left(params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
        if context.get("injected") and context.get("empty"):  # every entry failed: no request to make
            return AWSResponse("https://sqs.invalid", 200, {}, None), {"Successful": [], "Failed": []}
        return None

    client.meta.events.register("before-parameter-build.sqs.SendMessageBatch", before)
    client.meta.events.register_first("before-call.sqs.SendMessageBatch", nothing_left)
    client.meta.events.register("after-call.sqs.SendMessageBatch", after)
    return calls
