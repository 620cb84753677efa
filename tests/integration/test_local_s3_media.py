"""The sample app's S3 path, deployed: the Media stack's videos bucket announces each new video under
``incoming/`` to the encrypted Media queue, and the message is S3's own event (RELIABILITY E6). Plain moto
skips the buckets' ``AWS::S3::BucketPolicy`` and never applies the notification configuration that
aws-cdk-lib's ``Custom::S3BucketNotifications`` writes; the emulator does both (constructs_sqs/local/_patches/s3.py).
"""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import unquote_plus

from constructs_sqs.local.inventory import PROBES, check_resources

MEDIA = "ConstructsSqsMedia"
S3_TYPES = {"AWS::S3::Bucket", "AWS::S3::BucketPolicy", "Custom::S3BucketNotifications", "AWS::IAM::Policy"}


def test_the_media_buckets_their_policies_and_the_notification_exist(emulator, deployed_sample_app):
    """Every resource of the S3 path is created, and probed in its service."""
    media = deployed_sample_app.stack(MEDIA)
    types = {r.type for r in media.resources}
    assert types >= S3_TYPES
    assert types <= set(PROBES), f"no probe for {types - set(PROBES)}"
    problems = {
        key: problem
        for key, problem in check_resources(emulator, deployed_sample_app).items()
        if key[0] == MEDIA and problem is not None
    }
    assert problems == {}


def test_a_video_put_in_the_bucket_reaches_the_media_queue_as_s3_s_event(emulator, deployed_sample_app):
    media = deployed_sample_app.stack(MEDIA)
    (notifications,) = media.resources_of("Custom::S3BucketNotifications")
    bucket = media.resource(notifications.properties["BucketName"]["Ref"]).physical_id
    queue = deployed_sample_app.queue(f"{MEDIA}/Transcode")
    key = f"incoming/{uuid.uuid4().hex}.mp4"
    emulator.client("s3").put_object(Bucket=bucket, Key=key, Body=b"\x00\x00\x00\x18ftypmp42")

    sqs = emulator.client("sqs")
    found: list[dict] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not found:
        for message in sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", []):
            body = json.loads(message["Body"])
            records = body.get("Records") if isinstance(body, dict) else None
            # S3 URL-encodes the key in its events (moto encodes "/" too): compare it decoded, as a consumer must.
            if records and unquote_plus(records[0].get("s3", {}).get("object", {}).get("key", "")) == key:
                sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
                found.append(body)
    assert found, f"no S3 event for s3://{bucket}/{key} reached {queue.name}"
    (record,) = found[0]["Records"]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"].startswith("ObjectCreated:")
    assert record["s3"]["bucket"]["name"] == bucket
