"""A test-only CDK app, written the way a user writes one: an S3 bucket notifying the library's
``EncryptedQueue`` and an SNS topic (RELIABILITY E6).

- ``Uploads``: a bucket with ``enforce_ssl=True`` (its TLS-only ``AWS::S3::BucketPolicy``) and
  ``auto_delete_objects=True`` (``Custom::S3AutoDeleteObjects``); objects created under ``incoming/`` go
  to the ``Incoming`` queue, ``.png`` objects under ``images/`` to the ``Images`` topic. Both through the
  CDK's notifications custom resource (``Custom::S3BucketNotifications``).
- ``Incoming``: an ``EncryptedQueue`` that lets the bucket publish (``allow_service_producer``).
- ``Images``: a topic delivering raw messages to the ``Thumbnails`` queue (an ``EncryptedQueue`` too).
- ``Archive``: a bucket the app also imports by name (``Bucket.from_bucket_name``), whose notification
  (``archived/`` objects to ``Incoming``) is therefore an unmanaged one (``Managed: false``).
- ``Legacy``: an L1 ``CfnBucket`` with its own ``NotificationConfiguration`` (CloudFormation's shape) to
  ``Incoming``.

Deployed by the integration tests with the real CDK CLI (``cdk deploy --app "python
tests/integration/local_s3_app.py"``), next to the sample app; it changes neither the constructs nor
the sample app.
"""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from constructs_sqs import EncryptedQueue  # noqa: E402

STACK_NAME = "ConstructsSqsLocalUploads"

app = cdk.App()
stack = cdk.Stack(app, STACK_NAME)
bucket = s3.Bucket(
    stack,
    "Uploads",
    enforce_ssl=True,
    encryption=s3.BucketEncryption.S3_MANAGED,
    block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
    removal_policy=cdk.RemovalPolicy.DESTROY,
    auto_delete_objects=True,
)
incoming = EncryptedQueue(stack, "Incoming")
incoming.allow_service_producer("s3.amazonaws.com", bucket.bucket_arn)
bucket.add_event_notification(
    s3.EventType.OBJECT_CREATED, s3n.SqsDestination(incoming.queue), s3.NotificationKeyFilter(prefix="incoming/")
)

thumbnails = EncryptedQueue(stack, "Thumbnails")
images = sns.Topic(stack, "Images", enforce_ssl=True)
thumbnails.allow_service_producer("sns.amazonaws.com", images.topic_arn)
images.add_subscription(subscriptions.SqsSubscription(thumbnails.queue, raw_message_delivery=True))
bucket.add_event_notification(
    s3.EventType.OBJECT_CREATED,
    s3n.SnsDestination(images),
    s3.NotificationKeyFilter(prefix="images/", suffix=".png"),
)

archive = s3.Bucket(stack, "Archive", enforce_ssl=True, removal_policy=cdk.RemovalPolicy.DESTROY)
incoming.allow_service_producer("s3.amazonaws.com", archive.bucket_arn)
s3.Bucket.from_bucket_name(stack, "ArchiveImported", archive.bucket_name).add_event_notification(
    s3.EventType.OBJECT_CREATED, s3n.SqsDestination(incoming.queue), s3.NotificationKeyFilter(prefix="archived/")
)

legacy_name = f"{STACK_NAME.lower()}-legacy"
incoming.allow_service_producer("s3.amazonaws.com", f"arn:aws:s3:::{legacy_name}")
legacy = s3.CfnBucket(
    stack,
    "Legacy",
    bucket_name=legacy_name,
    notification_configuration=s3.CfnBucket.NotificationConfigurationProperty(
        queue_configurations=[
            s3.CfnBucket.QueueConfigurationProperty(event="s3:ObjectCreated:*", queue=incoming.queue.queue_arn)
        ]
    ),
)
legacy.node.add_dependency(incoming.queue)

cdk.CfnOutput(stack, "BucketName", value=bucket.bucket_name)
cdk.CfnOutput(stack, "IncomingQueueUrl", value=incoming.queue.queue_url)
cdk.CfnOutput(stack, "ThumbnailsQueueUrl", value=thumbnails.queue.queue_url)
app.synth()
