"""The helpers' contract (RELIABILITY R10, R11): wrong types refused before any request; one QueueError, naming
the queue and the fix, for a missing queue, credentials or region and an unreachable endpoint, from every
helper; throttling retried in every spelling with botocore's backoff; a request's unknown fate reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError
from botocore.stub import Stubber
from runtime_helpers import REGION, aws, drain, make_queue, sqs  # noqa: F401

from constructs_sqs_runtime import (
    Consumer,
    InvalidMessageError,
    OutgoingMessage,
    Producer,
    QueueError,
    RedriveError,
    SendMessagesError,
    consume,
    peek_messages,
    redrive,
    send_messages,
)
from constructs_sqs_runtime._sqs import sqs_client

URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs"


def offline_client() -> Any:
    """A client whose every request fails the test: a Stubber with no responses queued."""
    client = boto3.client("sqs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    Stubber(client).activate()
    return client


# --- types: refused before any request -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ("hello", r"got one str 'hello', which would send each of its characters as a message; put the message in a list"),
        (b"hello", r"got one bytes b'hello'"),
        (bytearray(b"hi"), r"got one bytearray"),
        ({"body": "x"}, r"got a dict, whose keys would be sent; for a message with attributes use OutgoingMessage"),
        (OutgoingMessage("x"), r"got one OutgoingMessage; put the message in a list"),
        (42, r"messages must be an iterable of messages \(str or OutgoingMessage\), got int"),
    ],
)
def test_a_single_message_text_bytes_or_dict_is_refused_before_any_request(messages: Any, expected: str) -> None:
    with pytest.raises(TypeError, match=expected):
        send_messages(URL, messages, client=offline_client())
    with pytest.raises(TypeError, match=expected):
        Producer(URL, client=offline_client()).send(messages)


def test_an_element_that_is_no_message_is_named_before_any_request() -> None:
    with pytest.raises(InvalidMessageError, match=r"message 1 \(\"b'raw'\"\): a message is a str or an OutgoingMessage, got bytes") as raised:
        send_messages(URL, ["fine", b"raw", {"a": 1}], client=offline_client())
    assert [index for index, _ in raised.value.problems] == [1, 2]


def test_generators_and_tuples_are_messages_too(aws: None, sqs: Any) -> None:
    url = make_queue(sqs, "iterables")
    assert send_messages(url, (f"t{i}" for i in range(3)), client=sqs).ok
    assert send_messages(url, ("a", "b"), client=sqs).ok
    assert sorted(m["Body"] for m in drain(sqs, url)) == ["a", "b", "t0", "t1", "t2"]


def test_other_arguments_of_the_wrong_type_are_refused() -> None:
    with pytest.raises(TypeError, match=r"handler must be callable .* got str 'print'"):
        consume(URL, "print", client=offline_client())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"queue_url must be a queue URL \(str\), got list"):
        send_messages([URL], ["x"], client=offline_client())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"dead_letter_queue_url must be a queue URL \(str\), got NoneType"):
        redrive(None, client=offline_client())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"queue_url must be a queue URL \(str\), got int"):
        peek_messages(7, client=offline_client())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"pollers must be between 1 and 100, got 0; handler_attempts must be between 1 and 100, got 0"):
        Consumer(URL, print, client=offline_client(), pollers=0, handler_attempts=0)


# --- errors: one class, naming the queue and the fix ------------------------------------------------------

Helper = Callable[[str, Any], object]

HELPERS: dict[str, Helper] = {
    "send_messages": lambda url, client: send_messages(url, ["x"], client=client),
    "Producer": lambda url, client: Producer(url, client=client).send(["x"]),
    "consume": lambda url, client: consume(url, print, client=client, wait_time_seconds=0, max_messages=1, handle_signals=False),
    "redrive": lambda url, client: redrive(url, client=client, wait_time_seconds=0),
    "redrive(max_messages)": lambda url, client: redrive(url, client=client, wait_time_seconds=0, max_messages=1),
    "peek_messages": lambda url, client: peek_messages(url, client=client),
}


@pytest.mark.parametrize("helper", list(HELPERS))
def test_a_missing_queue(aws: None, sqs: Any, helper: str) -> None:
    url = sqs.get_queue_url(QueueName=make_queue(sqs, "gone").rsplit("/", 1)[-1])["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(QueueError, match=r"the queue does not exist\. Fix: check the queue URL \(account, name, the \.fifo suffix\)") as raised:
        HELPERS[helper](url, sqs)
    assert (raised.value.kind, raised.value.queue_url) == ("not-found", url)
    assert url in str(raised.value) and raised.value.code == "AWS.SimpleQueueService.NonExistentQueue"


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no look for an instance role (no traffic off loopback)
    monkeypatch.setenv("AWS_REGION", REGION)


@pytest.mark.parametrize("helper", list(HELPERS))
def test_missing_credentials(no_credentials: None, helper: str) -> None:
    client = sqs_client(endpoint_url="http://127.0.0.1:9")  # never reached: signing fails first
    with pytest.raises(QueueError, match=r"no usable AWS credentials .*Fix: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") as raised:
        HELPERS[helper](URL, client)
    assert (raised.value.kind, raised.value.code, raised.value.queue_url) == ("credentials", "NoCredentialsError", URL)


@pytest.mark.parametrize("helper", list(HELPERS))
def test_an_unreachable_endpoint(monkeypatch: pytest.MonkeyPatch, helper: str) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    client = sqs_client(endpoint_url="http://127.0.0.1:9", max_attempts=1, session=boto3.Session(region_name=REGION))
    with pytest.raises(QueueError, match=r"cannot reach http://127\.0\.0\.1:9.* Fix: check the network and the endpoint \(AWS_ENDPOINT_URL") as raised:
        HELPERS[helper](URL, client)
    assert (raised.value.kind, raised.value.queue_url) == ("unreachable", URL)


@pytest.mark.parametrize("helper", list(HELPERS))
def test_a_region_sqs_is_not_in(monkeypatch: pytest.MonkeyPatch, helper: str) -> None:
    """A misspelt region makes an endpoint that does not resolve; no request leaves the machine here: the
    connection error is what botocore raises for it."""
    client = boto3.client("sqs", region_name="eu-wst-1", aws_access_key_id="x", aws_secret_access_key="x")

    def unresolvable(request: Any, **_: Any) -> None:
        raise EndpointConnectionError(endpoint_url=request.url)

    client.meta.events.register_first("before-send.sqs", unresolvable)
    with pytest.raises(QueueError, match=r"'eu-wst-1' is not a region SQS is in\. Fix: set AWS_REGION to a region such as eu-west-1") as raised:
        HELPERS[helper](URL.replace("eu-west-1", "eu-wst-1"), client)
    assert raised.value.kind == "region"


@pytest.mark.parametrize("helper", ["send_messages", "consume", "redrive", "peek_messages"])
def test_no_region_at_all(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, helper: str) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    emulator_url = "http://localhost:9/123456789012/jobs"  # an emulator's URL names no region
    call = {
        "send_messages": lambda: send_messages(emulator_url, ["x"]),
        "consume": lambda: consume(emulator_url, print),
        "redrive": lambda: redrive(emulator_url),
        "peek_messages": lambda: peek_messages(emulator_url),
    }[helper]
    with pytest.raises(QueueError, match=r"no AWS region is set\. Fix: set AWS_REGION \(or AWS_DEFAULT_REGION\)") as raised:
        call()
    assert (raised.value.kind, raised.value.queue_url) == ("region", emulator_url)


def test_send_and_redrive_errors_are_queue_errors_with_what_was_done() -> None:
    assert issubclass(SendMessagesError, QueueError) and issubclass(RedriveError, QueueError)


# --- throttling in every spelling ------------------------------------------------------------------------


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any) -> bytes:
        body, self._body = self._body, b""
        return body


THROTTLES = {
    # SQS over the JSON protocol, as a query-compatible client reads it: botocore's retry modes miss this one.
    "AWS.SimpleQueueService.RequestThrottled": (b'{"__type": "com.amazonaws.sqs#RequestThrottled", "message": "Rate exceeded"}', "AWS.SimpleQueueService.RequestThrottled;Sender"),
    "RequestThrottled": (b'{"__type": "com.amazonaws.sqs#RequestThrottled", "message": "Rate exceeded"}', None),
    "ThrottlingException": (b'{"__type": "com.amazon.coral.availability#ThrottlingException", "message": "Rate exceeded"}', None),
    "KMS.ThrottlingException": (b'{"__type": "com.amazonaws.sqs#KmsThrottled", "message": "KMS throttled"}', "KMS.ThrottlingException;Sender"),
}


def throttle(client: Any, operation: str, spelling: str, times: int) -> list[int]:
    """The first ``times`` requests of ``operation`` are answered with the throttle ``spelling``; returns a list
    that grows by one per throttled attempt."""
    body, header = THROTTLES[spelling]
    attempts: list[int] = []

    def answer(request: Any, **_: Any) -> AWSResponse | None:
        if len(attempts) < times:
            attempts.append(1)
            headers = {"x-amzn-query-error": header} if header else {}
            return AWSResponse(request.url, 400, headers, _Raw(body))
        return None

    client.meta.events.register_first(f"before-send.sqs.{operation}", answer)
    return attempts


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays botocore sleeps between attempts (not slept here)."""
    slept: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", slept.append)
    return slept


@pytest.mark.parametrize("spelling", list(THROTTLES))
def test_throttling_in_every_spelling_is_retried_with_botocores_backoff(aws: None, sleeps: list[float], spelling: str) -> None:
    client = sqs_client(max_attempts=4)
    url = make_queue(client, "throttled")
    attempts = throttle(client, "SendMessageBatch", spelling, times=2)
    result = send_messages(url, ["a", "b"], client=client)
    assert result.ok and len(attempts) == 2 and result.requests == 1
    assert len(sleeps) == 2 and all(0 <= delay <= 20 for delay in sleeps)
    attempts = throttle(client, "ReceiveMessage", spelling, times=2)
    seen: list[str] = []
    consume(url, lambda m: seen.append(m.body), client=client, wait_time_seconds=0, max_messages=2, handle_signals=False)
    assert sorted(seen) == ["a", "b"] and len(attempts) == 2


def test_the_query_protocol_throttle_gets_the_throttling_backoff_and_stops_at_the_clients_attempts(aws: None, sleeps: list[float]) -> None:
    client = sqs_client(max_attempts=3)
    url = make_queue(client, "always-throttled")
    attempts = throttle(client, "SendMessageBatch", "AWS.SimpleQueueService.RequestThrottled", times=100)
    with pytest.raises(SendMessagesError, match=r"still throttled after the client's retries\. Fix: send or receive less at once") as raised:
        send_messages(url, ["a"], client=client)
    assert len(attempts) == 3 and len(sleeps) == 2  # three attempts: two waits between them
    assert raised.value.kind == "throttled" and raised.value.result.not_sent and not raised.value.result.not_confirmed


def test_a_client_you_pass_gets_the_throttle_rule_too(aws: None, sleeps: list[float]) -> None:
    client = boto3.client("sqs", region_name=REGION)  # the legacy defaults: 5 attempts
    url = make_queue(client, "yours")
    attempts = throttle(client, "SendMessageBatch", "AWS.SimpleQueueService.RequestThrottled", times=2)
    assert send_messages(url, ["a"], client=client).ok and len(attempts) == 2


# --- a request's fate: not confirmed, not sent, possible duplicates (R10) ----------------------------------


def fail_requests(client: Any, operation: str, error: type[Exception], times: int) -> list[int]:
    raised: list[int] = []

    def fail(request: Any, **_: Any) -> None:
        if len(raised) < times:
            raised.append(1)
            raise error(endpoint_url=request.url, request=request) if error is ConnectionClosedError else error(endpoint_url=request.url)

    client.meta.events.register_first(f"before-send.sqs.{operation}", fail)
    return raised


def test_a_request_whose_answer_never_came_is_not_confirmed(aws: None, sleeps: list[float]) -> None:
    client = sqs_client(max_attempts=2)
    url = make_queue(client, "lost")
    fail_requests(client, "SendMessageBatch", ConnectionClosedError, times=2)
    with pytest.raises(SendMessagesError) as raised:
        send_messages(url, ["a", "b", "c"], client=client, max_workers=1)
    result = raised.value.result
    assert [(f.index, f.not_confirmed) for f in result.failed] == [(0, True), (1, True), (2, True)]
    assert (result.not_confirmed, result.not_sent) == (result.failed, [])
    assert "0 message(s) were sent; 3 not confirmed, 0 not sent" in str(raised.value)


def test_a_request_that_never_left_is_not_sent(aws: None, sleeps: list[float]) -> None:
    client = sqs_client(max_attempts=2)
    url = make_queue(client, "refused")
    fail_requests(client, "SendMessageBatch", EndpointConnectionError, times=2)
    with pytest.raises(SendMessagesError) as raised:
        send_messages(url, ["a", "b"], client=client)
    assert [f.not_confirmed for f in raised.value.result.failed] == [False, False]


def test_a_request_sent_again_after_a_lost_answer_counts_its_possible_duplicates(aws: None, sleeps: list[float]) -> None:
    client = sqs_client(max_attempts=3)
    url = make_queue(client, "again")
    fail_requests(client, "SendMessageBatch", ConnectionClosedError, times=1)
    result = send_messages(url, [f"m{i}" for i in range(4)], client=client)
    assert result.ok and result.possible_duplicates == 4
    assert sorted(m["Body"] for m in drain(client, url)) == ["m0", "m1", "m2", "m3"]  # here the first never arrived
