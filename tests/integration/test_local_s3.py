"""S3 in a user's app, deployed with the real CDK CLI into the emulator (RELIABILITY E6): the bucket's
TLS-only policy exists without locking the emulator's plain-HTTP clients out, and the notifications the
CDK configures through its custom resource (``Custom::S3BucketNotifications``) deliver S3's events to an
``EncryptedQueue`` and, through an SNS topic, to another.

The app is ``local_s3_app.py``, deployed next to the sample app. Every test here fails on plain moto
5.2.5 (``pytest tests/integration/test_local_s3.py --emulator=plain``): it skips the bucket policy and
never runs the notifications custom resource.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

from constructs_sqs.local.deploy import Deployment, deploy_app
from constructs_sqs.local.inventory import check_resources, gaps_in

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def uploads(emulator, tmp_path_factory) -> Deployment:
    work = tmp_path_factory.mktemp("uploads")
    with (work / "cdk.log").open("w") as log:
        deployment = deploy_app(
            emulator,
            project_dir=ROOT,
            app=f"{sys.executable} tests/integration/local_s3_app.py",
            output_dir=work / "cdk.out",
            reset=False,
            log=log,
        )
    assert [stack.status for stack in deployment.stacks] == ["CREATE_COMPLETE"]
    return deployment


def bucket_of(uploads: Deployment, logical_prefix: str = "Uploads") -> str:
    """The physical name of the app's bucket whose logical id starts with ``logical_prefix``."""
    (bucket,) = [r for r in uploads.stacks[0].resources_of("AWS::S3::Bucket") if r.logical_id.startswith(logical_prefix)]
    return str(bucket.physical_id)


def test_every_resource_of_the_app_exists_in_its_service(emulator, uploads):
    problems = {key[1]: problem for key, problem in check_resources(emulator, uploads).items() if problem}
    assert problems == {}
    assert gaps_in(uploads) == {}, "the emulator performs both of the CDK's S3 custom resources itself"


def events(sqs: Any, url: str, wanted: int, seconds: float = 30) -> list[dict[str, Any]]:
    """S3 event records from ``url`` (deleted as read) until ``wanted`` arrived; S3's test event is skipped."""
    records: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while len(records) < wanted and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            body = json.loads(message["Body"])
            records += body.get("Records", [])  # s3:TestEvent, sent when the configuration is put, has none
    return records


def test_the_bucket_policy_is_the_templates_and_plain_http_clients_are_not_locked_out(emulator, uploads):
    s3 = emulator.client("s3")
    bucket = bucket_of(uploads)
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    tls_only = [s for s in policy["Statement"] if s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}]
    assert [(s["Effect"], s["Action"]) for s in tls_only] == [("Deny", "s3:*")], "the TLS-only statement, as written"
    key = f"plain-http/{uuid.uuid4().hex}.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"over plain HTTP")  # the emulator counts it as a TLS request
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"over plain HTTP"


def test_an_object_put_into_the_bucket_reaches_the_encrypted_queue_as_s3s_event(emulator, uploads):
    s3, sqs = emulator.client("s3"), emulator.client("sqs")
    bucket = bucket_of(uploads)
    incoming = uploads.queue("ConstructsSqsLocalUploads/Incoming").url
    marker = uuid.uuid4().hex
    s3.put_object(Bucket=bucket, Key=f"elsewhere/{marker}.txt", Body=b"not for the queue")  # outside the prefix
    s3.put_object(Bucket=bucket, Key=f"incoming/{marker}.txt", Body=b"hello")
    records = [r for r in events(sqs, incoming, wanted=1) if marker in r["s3"]["object"]["key"]]
    assert [(r["eventSource"], r["eventName"], r["s3"]["bucket"]["name"], unquote_plus(r["s3"]["object"]["key"]), r["s3"]["object"]["size"])
            for r in records] == [("aws:s3", "ObjectCreated:Put", bucket, f"incoming/{marker}.txt", 5)]


def test_an_object_matching_the_topics_filter_reaches_the_topics_queue(emulator, uploads):
    s3, sqs = emulator.client("s3"), emulator.client("sqs")
    bucket = bucket_of(uploads)
    thumbnails = uploads.queue("ConstructsSqsLocalUploads/Thumbnails").url
    marker = uuid.uuid4().hex
    s3.put_object(Bucket=bucket, Key=f"images/{marker}.jpg", Body=b"wrong suffix")
    s3.put_object(Bucket=bucket, Key=f"images/{marker}.png", Body=b"png")
    records = [r for r in events(sqs, thumbnails, wanted=1) if marker in r["s3"]["object"]["key"]]
    assert [unquote_plus(r["s3"]["object"]["key"]) for r in records] == [f"images/{marker}.png"]
    configuration = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert [len(configuration.get(kind, [])) for kind in ("QueueConfigurations", "TopicConfigurations")] == [1, 1]


def test_an_imported_buckets_notification_is_added_to_the_buckets_own_and_delivered(emulator, uploads):
    """``Bucket.from_bucket_name(...).add_event_notification``: the custom resource is unmanaged."""
    s3, sqs = emulator.client("s3"), emulator.client("sqs")
    archive = bucket_of(uploads, "Archive")
    (notification,) = s3.get_bucket_notification_configuration(Bucket=archive)["QueueConfigurations"]
    stack_id = emulator.client("cloudformation").describe_stacks(StackName="ConstructsSqsLocalUploads")["Stacks"][0]["StackId"]
    assert notification["Id"].startswith(f"{stack_id}-"), "an unmanaged notification carries the stack's id"
    marker = uuid.uuid4().hex
    s3.put_object(Bucket=archive, Key=f"archived/{marker}.txt", Body=b"old")
    incoming = uploads.queue("ConstructsSqsLocalUploads/Incoming").url
    records = [r for r in events(sqs, incoming, wanted=1) if marker in r["s3"]["object"]["key"]]
    assert [(r["s3"]["bucket"]["name"], unquote_plus(r["s3"]["object"]["key"])) for r in records] == [(archive, f"archived/{marker}.txt")]


def test_a_buckets_inline_notification_configuration_is_applied(emulator, uploads):
    """An L1 ``CfnBucket`` with ``NotificationConfiguration`` (CloudFormation's shape; moto ignored it)."""
    s3, sqs = emulator.client("s3"), emulator.client("sqs")
    legacy = bucket_of(uploads, "Legacy")
    marker = uuid.uuid4().hex
    s3.put_object(Bucket=legacy, Key=f"{marker}.csv", Body=b"a,b")
    incoming = uploads.queue("ConstructsSqsLocalUploads/Incoming").url
    records = [r for r in events(sqs, incoming, wanted=1) if marker in r["s3"]["object"]["key"]]
    assert [(r["s3"]["bucket"]["name"], r["eventName"]) for r in records] == [(legacy, "ObjectCreated:Put")]
