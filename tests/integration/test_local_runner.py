"""The local event source runner: Lambda's event, Lambda's reading of partial batch responses, the
mappings found in the deployed sample app, and its real handlers run in process."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from constructs_sqs.local.mappings import EventSourceMapping, discover_mappings
from constructs_sqs.local.runner import (
    BatchResponseError,
    LocalEventSourceRunner,
    LocalLambdaContext,
    failed_message_ids,
    function_environment,
    invoke_deadline,
    lambda_record,
    load_handler,
)

# -- Lambda's reading of a partial batch response ------------------------------------------------

IDS = ["a", "b", "c"]


@pytest.mark.parametrize(
    ("response", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "c"}]}, {"a", "c"}),
    ],
)
def test_partial_batch_responses_that_lambda_accepts(response, failed):
    assert failed_message_ids(response, IDS) == failed


@pytest.mark.parametrize(
    ("response", "message"),
    [
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, r"itemIdentifier '' is not a message id of this batch"),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, r"itemIdentifier None is not a message id"),
        ({"batchItemFailures": [{"itemId": "a"}]}, r"itemIdentifier None is not a message id"),
        ({"batchItemFailures": [{"itemIdentifier": "zz"}]}, r"itemIdentifier 'zz' is not a message id"),
        ({"batchItemFailures": "a"}, r"batchItemFailures must be a list, got 'a'"),
        ({"batchItemFailures": [{"itemIdentifier": "a"}], "x": object()}, r"the response is not JSON"),
    ],
)
def test_partial_batch_responses_that_fail_the_whole_batch(response, message):
    with pytest.raises(BatchResponseError, match=message):
        failed_message_ids(response, IDS)


def test_the_context_counts_down_from_the_function_timeout():
    context = LocalLambdaContext("f", "arn:f", 128, "r", "/aws/lambda/f", "s", deadline=time.monotonic() + 2)
    assert 1500 < context.get_remaining_time_in_millis() <= 2000
    assert LocalLambdaContext("f", "arn:f", 128, "r", "g", "s", deadline=0).get_remaining_time_in_millis() == 0


def test_a_record_keeps_only_what_lambda_passes_on():
    message = {
        "MessageId": "m-1", "ReceiptHandle": "rh-1", "Body": "hello", "MD5OfBody": "md5",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1", "SqsManagedSseEnabled": "true"},
        "MessageAttributes": {"list": {"DataType": "String", "StringListValues": ["a"], "BinaryListValues": [b"\x01"]}},
    }
    record = lambda_record(message, queue_arn="arn:aws:sqs:eu-west-1:1:q", region="eu-west-1")
    assert record["attributes"] == {"ApproximateReceiveCount": "2", "SentTimestamp": "1"}
    assert record["messageAttributes"] == {
        "list": {"stringListValues": ["a"], "binaryListValues": ["AQ=="], "dataType": "String"}}
    assert "md5OfMessageAttributes" not in record
    assert (record["messageId"], record["receiptHandle"], record["awsRegion"]) == ("m-1", "rh-1", "eu-west-1")


# -- a queue of the test's own, played through a mapping built by hand ---------------------------


def _queue(emulator, *, fifo=False, visibility=3, max_receive_count=2):
    sqs = emulator.client("sqs")
    suffix = uuid.uuid4().hex[:10] + (".fifo" if fifo else "")
    fifo_attributes = {"FifoQueue": "true"} if fifo else {}
    dlq = sqs.create_queue(QueueName=f"runner-dlq-{suffix}", Attributes=fifo_attributes)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count})
    url = sqs.create_queue(
        QueueName=f"runner-{suffix}",
        Attributes={"VisibilityTimeout": str(visibility), "RedrivePolicy": policy, **fifo_attributes},
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn, dlq


def _mapping(emulator, handler, *, batch_size=10, window=0, report=True, timeout=1, fifo=False, visibility=3, **queue):
    url, arn, dlq = _queue(emulator, fifo=fifo, visibility=visibility, **queue)
    return EventSourceMapping(
        stack="Test", logical_id="Mapping", uuid="u", function_name="test-fn",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:test-fn", handler="test.handler",
        code_dir=None, layer_dirs=(), environment={"POWERTOOLS_SERVICE_NAME": "test"}, timeout_seconds=timeout,
        memory_mb=256, queue_arn=arn, queue_url=url, visibility_timeout_seconds=visibility, dead_letter_queue_url=dlq, max_receive_count=queue.get("max_receive_count", 2),
        batch_size=batch_size, max_batching_window_seconds=window, max_concurrency=2,
        report_batch_item_failures=report, enabled=True, handler_function=handler,
    )


def _counts(emulator, url):
    attributes = emulator.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def _send(emulator, url, bodies, **kwargs):
    sqs = emulator.client("sqs")
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": b, **kwargs} for i, b in enumerate(bodies[start : start + 10])]
        assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")


def test_the_event_is_the_one_lambda_builds(emulator):
    events = []
    mapping = _mapping(
        emulator, lambda event, context: events.append((event, context, context.get_remaining_time_in_millis())) or {}, fifo=True
    )
    emulator.client("sqs").send_message(
        QueueUrl=mapping.queue_url, MessageBody='{"orderId": "1"}', MessageGroupId="customer-1",
        MessageDeduplicationId="d-1",
        MessageAttributes={"tenant": {"DataType": "String", "StringValue": "t-1"},
                           "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}},
    )
    stats = LocalEventSourceRunner(emulator, [mapping], poll_seconds=1).run(duration=20, until=lambda s: s[mapping.queue_name].succeeded == 1)
    assert stats[mapping.queue_name].succeeded == 1
    (event, context, remaining), = events
    (record,) = event["Records"]
    assert set(record) == {"messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody",
                           "md5OfMessageAttributes", "eventSource", "eventSourceARN", "awsRegion"}
    assert record["body"] == '{"orderId": "1"}'
    assert record["md5OfBody"] == hashlib.md5(b'{"orderId": "1"}').hexdigest()
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == ("aws:sqs", mapping.queue_arn, "us-east-1")
    attributes = record["attributes"]
    assert attributes["ApproximateReceiveCount"] == "1"
    assert (attributes["MessageGroupId"], attributes["MessageDeduplicationId"]) == ("customer-1", "d-1")
    assert attributes["SequenceNumber"].isdigit() and attributes["SentTimestamp"].isdigit()
    assert record["messageAttributes"]["tenant"] == {
        "stringValue": "t-1", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    assert record["messageAttributes"]["blob"]["binaryValue"] == base64.b64encode(b"\x00\x01").decode()
    assert (context.function_name, context.memory_limit_in_mb) == ("test-fn", 256)
    assert 0 < remaining <= 1000


def test_the_handler_runs_with_the_function_environment(emulator):
    seen = {}

    def handler(event, context):
        import os

        seen.update({k: os.environ.get(k) for k in ("POWERTOOLS_SERVICE_NAME", "AWS_LAMBDA_FUNCTION_NAME", "AWS_ENDPOINT_URL")})
        return {}

    mapping = _mapping(emulator, handler)
    assert function_environment(mapping, emulator)["_HANDLER"] == "test.handler"
    _send(emulator, mapping.queue_url, ["x"])
    LocalEventSourceRunner(emulator, [mapping], poll_seconds=1).run(duration=20, until=lambda s: s[mapping.queue_name].invocations)
    assert seen == {"POWERTOOLS_SERVICE_NAME": "test", "AWS_LAMBDA_FUNCTION_NAME": "test-fn", "AWS_ENDPOINT_URL": emulator.endpoint_url}
    import os

    assert os.environ.get("AWS_LAMBDA_FUNCTION_NAME") is None, "the function's environment is undone after the call"


def _play_until_settled(emulator, mapping, sent, seconds=30):
    """Run until every sent message is deleted or in the DLQ."""

    def settled(stats):
        return stats[mapping.queue_name].succeeded + stats[mapping.queue_name].in_dead_letter_queue >= sent

    return LocalEventSourceRunner(emulator, [mapping], poll_seconds=1).run(duration=seconds, until=settled, interval=0.2)[mapping.queue_name]


def test_partial_failures_come_back_and_reach_the_dlq_after_max_receive_count(emulator):
    attempts = {}
    lock = threading.Lock()

    def handler(event, context):
        failures = []
        for record in event["Records"]:
            with lock:
                attempts[record["body"]] = attempts.get(record["body"], 0) + 1
            if record["body"].startswith("bad"):
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    mapping = _mapping(emulator, handler, max_receive_count=2)
    _send(emulator, mapping.queue_url, ["good-1", "bad-1", "good-2", "bad-2"])
    stats = _play_until_settled(emulator, mapping, 4)
    assert (stats.succeeded, stats.in_dead_letter_queue) == (2, 2)
    assert attempts == {"good-1": 1, "good-2": 1, "bad-1": 2, "bad-2": 2}
    assert _counts(emulator, mapping.queue_url) == (0, 0)


@pytest.mark.parametrize(
    ("behaviour", "report"),
    [("raise", True), ("unknown id", True), ("too slow", True), ("report ignored", False)],
)
def test_whole_batch_outcomes(emulator, behaviour, report):
    calls = []

    def handler(event, context):
        calls.append(len(event["Records"]))
        if behaviour == "raise":
            raise RuntimeError("boom")
        if behaviour == "too slow":
            time.sleep(1.2)
            return {}
        return {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]}

    mapping = _mapping(emulator, handler, report=report, timeout=1, max_receive_count=1)
    _send(emulator, mapping.queue_url, ["1", "2", "3"])
    stats = _play_until_settled(emulator, mapping, 3)
    if behaviour == "report ignored":  # without ReportBatchItemFailures a returned list means nothing
        assert (stats.succeeded, stats.failed, stats.in_dead_letter_queue) == (3, 0, 0)
    else:
        assert (stats.succeeded, stats.failed, stats.in_dead_letter_queue) == (0, 3, 3)
        assert stats.failed_invocations == stats.invocations >= 1


def test_the_batching_window_gathers_more_than_one_receive(emulator):
    sizes = []
    # Visibility 10 s > window + timeout (RELIABILITY L1); below it, gathered messages reappear mid-window.
    mapping = _mapping(emulator, lambda event, context: sizes.append(len(event["Records"])) or {}, batch_size=25, window=2, visibility=10)
    _send(emulator, mapping.queue_url, [f"m{i}" for i in range(25)])
    stats = _play_until_settled(emulator, mapping, 25)
    assert stats.succeeded == 25
    assert max(sizes) > 10, f"batches of {sizes}: a window should gather more than one receive of 10"
    assert max(sizes) <= 25


def test_a_batch_that_waited_too_long_is_returned_unprocessed(emulator):
    """No message is processed by two pollers: a batch that could outlive its visibility timeout is not invoked."""
    calls = []
    gate = threading.Event()
    mapping = _mapping(emulator, lambda event, context: calls.append(event) or {}, visibility=4, timeout=1)
    assert invoke_deadline(mapping) == pytest.approx(2.6)
    runner = LocalEventSourceRunner(emulator, [mapping], poll_seconds=1, max_pollers=1)
    original = runner.call

    def late(mapping_, handler, event, ids, received_at):
        gate.wait(5)
        return original(mapping_, handler, event, ids, received_at - 3)  # as if it had waited 3 s for its turn

    runner.call = late  # type: ignore[method-assign]
    _send(emulator, mapping.queue_url, ["late"])
    gate.set()
    stats = runner.run(duration=20, until=lambda s: s[mapping.queue_name].expired >= 1)[mapping.queue_name]
    assert (stats.expired, stats.invocations, calls) == (1, 0, [])
    assert "1 returned unprocessed" in stats.line()
    assert _counts(emulator, mapping.queue_url) == (0, 1), "untouched: it comes back after the visibility timeout"


def test_a_visibility_timeout_lambda_would_refuse_is_refused(emulator):
    mapping = _mapping(emulator, lambda event, context: {}, visibility=3, timeout=2, window=1)
    with pytest.raises(ValueError, match=r"visibility timeout must exceed its function's timeout plus batching window"
                       r".*runner-.*: visibility timeout 3 s, function timeout 2 s \+ batching window 1 s"):
        LocalEventSourceRunner(emulator, [mapping])


def test_bad_runner_arguments_are_named():
    with pytest.raises(ValueError, match=r"poll_seconds must be a whole number of seconds from 0 to 20, got 21"):
        LocalEventSourceRunner(None, [], poll_seconds=21)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"max_pollers must be a whole number of at least 1, got 0"):
        LocalEventSourceRunner(None, [], max_pollers=0)  # type: ignore[arg-type]


# -- the sample app's mappings, as deployed ------------------------------------------------------


def test_the_sample_app_mappings_are_found_with_their_settings(emulator, deployed_sample_app):
    mappings = {m.stack: m for m in discover_mappings(emulator, deployed_sample_app)}
    assert sorted(mappings) == ["ConstructsSqsEvents", "ConstructsSqsMedia", "ConstructsSqsOrders"]
    settings = {
        stack: (m.handler, m.batch_size, m.max_batching_window_seconds, m.max_concurrency, m.timeout_seconds,
                m.report_batch_item_failures, m.max_receive_count, m.fifo)
        for stack, m in mappings.items()
    }
    assert settings == {
        "ConstructsSqsOrders": ("orders_fulfilment.handler", 10, 0, 20, 30, True, 5, True),
        "ConstructsSqsMedia": ("media_transcode.handler", 5, 5, 10, 120, True, 5, False),
        "ConstructsSqsEvents": ("events_ingest.handler", 500, 10, 50, 60, True, 5, False),
    }
    for stack, mapping in mappings.items():
        assert mapping.code_dir is not None and (mapping.code_dir / f"{mapping.handler.split('.')[0]}.py").is_file()
        assert mapping.code_dir.parent == deployed_sample_app.assembly_dir
        assert any((layer / "constructs_sqs_runtime" / "batch.py").is_file() for layer in mapping.layer_dirs)
        assert mapping.queue_url == deployed_sample_app.queue(mapping.queue_name).url
        assert mapping.dead_letter_queue_url and mapping.dead_letter_queue_url.endswith("-dlq" + (".fifo" if mapping.fifo else ""))
    assert mappings["ConstructsSqsMedia"].environment == {"POWERTOOLS_SERVICE_NAME": "Transcoder"}


def test_the_real_handler_runs_in_process_and_only_the_bad_record_stays(emulator, deployed_sample_app):
    (mapping,) = [m for m in discover_mappings(emulator, deployed_sample_app) if m.stack == "ConstructsSqsOrders"]
    run = uuid.uuid4().hex[:8]
    good = {"orderId": f"o-{run}", "customerId": f"good-{run}", "items": [{"sku": "BOOK-1", "quantity": 2}]}
    bad = {"orderId": f"o-{run}-bad", "customerId": f"bad-{run}", "items": []}
    real = load_handler(mapping, emulator)
    outcomes: dict[str, str] = {}

    def observed(event, context):  # the real handler; records what it reported for this test's orders
        response = real(event, context)
        failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
        for record in event["Records"]:
            outcomes[json.loads(record["body"]).get("orderId", "")] = "failed" if record["messageId"] in failed else "ok"
        return response

    sqs = emulator.client("sqs")
    for order in (good, bad):
        sqs.send_message(QueueUrl=mapping.queue_url, MessageBody=json.dumps(order), MessageGroupId=order["customerId"])
    runner = LocalEventSourceRunner(emulator, [mapping.with_handler(observed)], poll_seconds=1)
    runner.run(duration=30, until=lambda s: {good["orderId"], bad["orderId"]} <= set(outcomes))
    assert (outcomes[good["orderId"]], outcomes[bad["orderId"]]) == ("ok", "failed")
    module = next(m for name, m in sys.modules.items() if name.startswith("_local_lambda_") and name.endswith("orders_fulfilment"))
    assert Path(module.__file__).parent == mapping.code_dir
    assert getattr(module, "handler") is real
