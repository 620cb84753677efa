"""The Lambda-side helper (constructs_sqs_runtime) and the sample app's record handlers, on real SQS event
shapes, with exact ``batchItemFailures``."""

from __future__ import annotations

import ast
import hashlib
import json
import sys

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from helpers import ROOT

from constructs_sqs_runtime import is_fifo_event, sqs_batch_handler
from constructs_sqs_runtime.testing import DEFAULT_FIFO_QUEUE_ARN, DEFAULT_QUEUE_ARN, sqs_event, sqs_record

# The sample handlers are top-level modules in Lambda ("orders_fulfilment.handler"): import them so.
sys.path.insert(0, str(ROOT / "sample_app" / "handlers"))

import events_ingest  # noqa: E402
import media_transcode  # noqa: E402
import orders_fulfilment  # noqa: E402


def failures(*records: dict) -> dict:
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records]}


class Recorder:
    """A record handler that remembers the bodies it saw and raises on the bodies it is told to."""

    def __init__(self, *failing: str) -> None:
        self.failing = set(failing)
        self.seen: list[str] = []

    def __call__(self, record: SQSRecord) -> None:
        self.seen.append(record.body)
        if record.body in self.failing:
            raise ValueError(f"cannot handle {record.body}")


# --- Event factories ------------------------------------------------------------------------------


def test_standard_record_has_the_shape_lambda_delivers():
    record = sqs_record("hello", message_id="m-1")
    assert record["messageId"] == "m-1"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == DEFAULT_QUEUE_ARN
    assert record["awsRegion"] == "eu-west-1"
    assert record["md5OfBody"] == hashlib.md5(b"hello").hexdigest()
    assert record["receiptHandle"].startswith("AQEB")
    assert set(record["attributes"]) == {
        "ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp",
    }
    assert "MessageGroupId" not in record["attributes"]


def test_fifo_record_has_group_deduplication_and_sequence_number():
    record = sqs_record("hello", message_group_id="g-1")
    parsed = SQSRecord(record)
    assert parsed.event_source_arn == DEFAULT_FIFO_QUEUE_ARN
    assert parsed.attributes.message_group_id == "g-1"
    assert parsed.attributes.message_deduplication_id == hashlib.sha256(b"hello").hexdigest()
    assert parsed.attributes.sequence_number is not None and parsed.attributes.sequence_number.isdigit()


def test_is_fifo_event_reads_the_queue_arn_or_the_group():
    assert not is_fifo_event(sqs_event([sqs_record("a")]))
    assert is_fifo_event(sqs_event([sqs_record("a", message_group_id="g")]))
    assert is_fifo_event(sqs_event([sqs_record("a", queue_arn=DEFAULT_FIFO_QUEUE_ARN)]))


# --- Standard queues ------------------------------------------------------------------------------


def test_all_success_returns_no_failures():
    handler = sqs_batch_handler(Recorder())
    assert handler(sqs_event([sqs_record("a"), sqs_record("b")]), None) == {"batchItemFailures": []}


def test_standard_reports_only_the_failed_record_and_processes_the_rest():
    records = [sqs_record("a"), sqs_record("bad"), sqs_record("c")]
    recorder = Recorder("bad")
    assert sqs_batch_handler(recorder)(sqs_event(records), None) == failures(records[1])
    assert recorder.seen == ["a", "bad", "c"]


def test_standard_reports_every_failed_record():
    records = [sqs_record("bad-1"), sqs_record("ok"), sqs_record("bad-2")]
    assert sqs_batch_handler(Recorder("bad-1", "bad-2"))(sqs_event(records), None) == failures(records[0], records[2])


def test_entire_batch_failure_raises_by_default():
    with pytest.raises(BatchProcessingError, match="All records failed processing"):
        sqs_batch_handler(Recorder("x", "y"))(sqs_event([sqs_record("x"), sqs_record("y")]), None)


def test_entire_batch_failure_can_be_returned_instead():
    records = [sqs_record("x"), sqs_record("y")]
    handler = sqs_batch_handler(Recorder("x", "y"), raise_on_entire_batch_failure=False)
    assert handler(sqs_event(records), None) == failures(*records)


# --- FIFO queues ----------------------------------------------------------------------------------


@pytest.fixture
def fifo_batch() -> list[dict]:
    """g1: ok, bad; g2: ok; g1: ok -- in that order."""
    return [
        sqs_record("g1-ok", message_group_id="g1"),
        sqs_record("g1-bad", message_group_id="g1"),
        sqs_record("g2-ok", message_group_id="g2"),
        sqs_record("g1-later", message_group_id="g1"),
    ]


def test_fifo_stops_at_the_first_failure_and_reports_the_rest(fifo_batch):
    recorder = Recorder("g1-bad")
    result = sqs_batch_handler(recorder, fifo=True)(sqs_event(fifo_batch), None)
    assert result == failures(*fifo_batch[1:])
    assert recorder.seen == ["g1-ok", "g1-bad"]


def test_fifo_is_detected_from_the_event(fifo_batch):
    recorder = Recorder("g1-bad")
    assert sqs_batch_handler(recorder)(sqs_event(fifo_batch), None) == failures(*fifo_batch[1:])
    assert recorder.seen == ["g1-ok", "g1-bad"]


def test_fifo_skip_group_on_error_fails_only_the_rest_of_that_group(fifo_batch):
    recorder = Recorder("g1-bad")
    result = sqs_batch_handler(recorder, skip_group_on_error=True)(sqs_event(fifo_batch), None)
    assert result == failures(fifo_batch[1], fifo_batch[3])
    assert recorder.seen == ["g1-ok", "g1-bad", "g2-ok"]


def test_fifo_false_is_honoured_even_on_a_fifo_event(fifo_batch):
    result = sqs_batch_handler(Recorder("g1-bad"), fifo=False)(sqs_event(fifo_batch), None)
    assert result == failures(fifo_batch[1])


def test_fifo_first_record_failing_fails_the_whole_batch(fifo_batch):
    with pytest.raises(BatchProcessingError):
        sqs_batch_handler(Recorder("g1-ok"))(sqs_event(fifo_batch), None)


def test_skip_group_on_error_needs_fifo():
    with pytest.raises(ValueError, match="skip_group_on_error applies to FIFO queues only, got it with fifo=False"):
        sqs_batch_handler(Recorder(), fifo=False, skip_group_on_error=True)


# --- Calling conventions --------------------------------------------------------------------------


def test_record_parameter_may_have_any_name_and_context_is_passed_when_named():
    seen = []

    def handle(message, lambda_context):
        seen.append((message.message_id, lambda_context))

    record = sqs_record("a", message_id="m-1")
    assert sqs_batch_handler(handle)(sqs_event([record]), "the-context") == {"batchItemFailures": []}
    assert seen == [("m-1", "the-context")]


def test_decorator_form_and_the_record_handler_stays_reachable():
    @sqs_batch_handler(fifo=True)
    def handler(record):
        if record.body == "bad":
            raise ValueError("bad")

    records = [sqs_record("ok", message_group_id="g"), sqs_record("bad", message_group_id="g")]
    assert handler(sqs_event(records), None) == failures(records[1])
    assert handler.__name__ == "handler"
    with pytest.raises(ValueError, match="bad"):
        handler.record_handler(SQSRecord(records[1]))


def test_failed_record_is_logged_with_its_exception(caplog):
    with caplog.at_level("WARNING", logger="constructs_sqs_runtime"):
        sqs_batch_handler(Recorder("bad"))(sqs_event([sqs_record("ok"), sqs_record("bad")]), None)
    assert any(r.exc_info and "cannot handle bad" in str(r.exc_info[1]) for r in caplog.records)


def test_runtime_package_imports_only_stdlib_powertools_and_boto3():
    """ARCHITECTURE.md: the runtime side imports the standard library, Powertools and boto3, never aws_cdk."""
    package = ROOT / "constructs_sqs_runtime"
    roots = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots.add(node.module.split(".")[0])
    assert roots, "no imports found: the scan is broken"
    assert roots - set(sys.stdlib_module_names) == {"aws_lambda_powertools", "boto3", "botocore"}


# --- Sample handlers ------------------------------------------------------------------------------


def order(order_id: str, customer: str, *, quantity: object = 1) -> str:
    return json.dumps({"orderId": order_id, "customerId": customer, "items": [{"sku": "BOOK-1", "quantity": quantity}]})


def test_orders_fulfilment_holds_back_only_the_failed_customers_later_orders():
    records = [
        sqs_record(order("o-1", "c-1"), message_group_id="c-1"),
        sqs_record(order("o-2", "c-1", quantity=0), message_group_id="c-1"),
        sqs_record(order("o-3", "c-2"), message_group_id="c-2"),
        sqs_record(order("o-4", "c-1"), message_group_id="c-1"),
    ]
    assert orders_fulfilment.handler(sqs_event(records), None) == failures(records[1], records[3])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "body is not JSON"),
        ("[]", "body must be a JSON object"),
        (json.dumps({"customerId": "c", "items": [{"sku": "A", "quantity": 1}]}), "orderId must be a non-empty string"),
        (json.dumps({"orderId": "o", "customerId": "c", "items": []}), "items must be a non-empty list"),
        (order("o", "c", quantity="2"), "every item needs a sku and a positive whole quantity"),
    ],
)
def test_orders_fulfilment_rejects_invalid_orders(body, message):
    with pytest.raises(orders_fulfilment.InvalidOrderError, match=message):
        orders_fulfilment.parse_order(body)


def test_orders_fulfilment_returns_the_picking_list():
    record = SQSRecord(sqs_record(order("o-1", "c-1", quantity=3), message_group_id="c-1"))
    assert orders_fulfilment.fulfil(record) == {"BOOK-1": 3}


def s3_notification(*keys: str, bucket: str = "media-uploads") -> str:
    return json.dumps({
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "eu-west-1",
                "eventTime": "2025-01-01T00:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": key, "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e"},
                },
            }
            for key in keys
        ]
    })


def test_media_transcode_fails_only_the_unsupported_upload():
    records = [
        sqs_record(s3_notification("uploads/cat.mov")),
        sqs_record(s3_notification("uploads/setup.exe")),
        sqs_record(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "media-uploads"})),
    ]
    assert media_transcode.handler(sqs_event(records), None) == failures(records[1])


def test_media_transcode_decodes_keys_and_picks_a_preset():
    jobs = media_transcode.transcode_jobs(json.loads(s3_notification("uploads/my+holiday.MP4", "audio/talk.flac")))
    assert jobs == [
        {"bucket": "media-uploads", "key": "uploads/my holiday.MP4", "preset": "hls-1080p",
         "output_prefix": "transcoded/my holiday"},
        {"bucket": "media-uploads", "key": "audio/talk.flac", "preset": "aac-256k", "output_prefix": "transcoded/talk"},
    ]


def eventbridge_event(source: str = "shop.orders", **overrides: object) -> str:
    event = {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "OrderPlaced",
        "source": source,
        "account": "123456789012",
        "time": "2025-01-01T00:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {"orderId": "o-1"},
    }
    event.update(overrides)
    return json.dumps(event)


def test_events_ingest_fails_unknown_sources_and_non_events():
    records = [
        sqs_record(eventbridge_event()),
        sqs_record(eventbridge_event(source="someone.else")),
        sqs_record("{}"),
        sqs_record(eventbridge_event(source="shop.payments")),
    ]
    assert events_ingest.handler(sqs_event(records), None) == failures(records[1], records[2])


def test_events_ingest_normalises_an_event():
    assert events_ingest.normalise(eventbridge_event()) == {
        "event_id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "source": "shop.orders",
        "type": "OrderPlaced",
        "time": "2025-01-01T00:00:00Z",
        "detail": {"orderId": "o-1"},
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("nope", "body is not JSON"),
        ('"text"', "body must be a JSON object"),
        (json.dumps({"id": "1", "source": "shop.orders"}), "missing detail-type, time, detail"),
        (eventbridge_event(source="x"), "unknown source 'x'"),
    ],
)
def test_events_ingest_rejects(body, message):
    with pytest.raises(events_ingest.InvalidEventError, match=message):
        events_ingest.normalise(body)


# --- In a user's unit test: None, or the fake context of constructs_sqs_runtime.testing ------------


def test_a_record_handler_taking_lambda_context_gets_none_when_the_test_passes_none():
    """Powertools passes lambda_context only with a context; a test calling handler(event, None) must work."""
    seen = []

    def fulfil(record, lambda_context):
        seen.append(lambda_context)
        if record.body == "bad":
            raise ValueError("bad order")

    records = [sqs_record("good"), sqs_record("bad")]
    assert sqs_batch_handler(fulfil)(sqs_event(records), None) == failures(records[1])
    assert seen == [None, None]


def test_the_fake_lambda_context_reaches_the_record_handler_and_powertools_logger():
    from aws_lambda_powertools import Logger

    from constructs_sqs_runtime.testing import lambda_context

    logger = Logger(service="orders")
    seen = []

    def fulfil(record, lambda_context):
        seen.append((lambda_context.function_name, lambda_context.aws_request_id))

    handler = logger.inject_lambda_context(sqs_batch_handler(fulfil, logger=logger))
    context = lambda_context(function_name="orders-fulfilment", aws_request_id="req-1")
    assert handler(sqs_event([sqs_record("a")]), context) == {"batchItemFailures": []}
    assert seen == [("orders-fulfilment", "req-1")]


def test_the_fake_lambda_context_has_lambdas_attributes_and_counts_down():
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from constructs_sqs_runtime.testing import lambda_context

    context = lambda_context(function_name="f", timeout_seconds=2, region="us-east-1", account_id="111111111111")
    public = {name for name in dir(LambdaContext) if not name.startswith("_")}
    assert public <= set(dir(context)), public - set(dir(context))
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:111111111111:function:f"
    assert context.log_group_name == "/aws/lambda/f" and context.memory_limit_in_mb == 256
    assert 0 < context.get_remaining_time_in_millis() <= 2000
    assert lambda_context().aws_request_id != lambda_context().aws_request_id
    with pytest.raises(ValueError, match=r"timeout_seconds must be a positive number of seconds, got 0"):
        lambda_context(timeout_seconds=0)
    with pytest.raises(ValueError, match=r"memory_limit_in_mb must be a positive number of MB, got -1"):
        lambda_context(memory_limit_in_mb=-1)
