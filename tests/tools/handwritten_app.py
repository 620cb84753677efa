"""A CDK app written with aws-cdk-lib alone, with the usual mistakes around SQS: one per rule of the
ConstructsSqs pack (tests/tools/test_nag_pack.py checks that each fires where it should, and only there).

Run it as an app (``python tests/tools/handwritten_app.py``) or call :func:`build`.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs

CODE = "def handler(event, context):\n    return None\n"

EXPECTED = {
    "ConstructsSqs-SQSDeadLetterRetention": {"Handmade/Orders/Resource"},
    "ConstructsSqs-SQSLambdaMaxReceiveCount": {"Handmade/Orders/Resource"},
    "ConstructsSqs-SQSLambdaVisibilityTimeout": {"Handmade/Orders/Resource"},
    "ConstructsSqs-LambdaPartialBatchResponse": {"Handmade/Fulfilment/SqsEventSource:HandmadeOrders67778B66/Resource"},
    "ConstructsSqs-LambdaMaxConcurrency": {"Handmade/Fulfilment/SqsEventSource:HandmadeOrders67778B66/Resource"},
    "ConstructsSqs-SQSTlsOnly": {"Handmade/Audit/Resource", "Handmade/Orders/Resource", "Handmade/OrdersDlq/Resource"},
    "ConstructsSqs-SQSEncryptionExplicit": {"Handmade/Audit/Resource"},
    "ConstructsSqs-SQSDeadLetterQueue": {"Handmade/Audit/Resource", "Handmade/Uploads/Resource", "Handmade/Prices/Resource", "Handmade/Reports/Resource"},
    "ConstructsSqs-SQSDeadLetterQueueType": {"Handmade/Payments/Resource"},
    "ConstructsSqs-SQSRedriveAllowPolicy": {"Handmade/OrdersDlq/Resource", "Handmade/PaymentsDlq/Resource"},
    "ConstructsSqs-SQSFifoProducer[S3Notifications]": {"Handmade/Prices/Resource"},
    "ConstructsSqs-SQSFifoProducer[StandardTopic]": {"Handmade/Prices/Resource"},
    "ConstructsSqs-SQSFifoProducer[RuleWithoutMessageGroupId]": {"Handmade/Prices/Resource"},
    "ConstructsSqs-SQSServiceProducerManagedKey": {"Handmade/Reports/Resource"},
    "ConstructsSqs-ServicePrincipalScoped[s3.amazonaws.com]": {"Handmade/UploadsKey/Resource"},
    "ConstructsSqs-ServicePrincipalScoped[events.amazonaws.com]": {"Handmade/UploadsKey/Resource", "Handmade/Uploads/Policy/Resource"},
    "ConstructsSqs-AlarmTopicKey": {"Handmade/OnCall/Resource"},
    "ConstructsSqs-SQSAgeAlarm": {"Handmade/Orders/Resource"},
}
"""The pack's findings on this app: rule (with its finding) -> construct paths."""


def build(app: cdk.App) -> cdk.Stack:
    """The hand-written stack ``Handmade`` in ``app``."""
    stack = cdk.Stack(app, "Handmade")

    # Orders: a DLQ keeping messages 4 days like its source, 1 receive under Lambda, visibility equal to the
    # function timeout, no partial batch responses, more concurrency than reserved, no TLS-only policy.
    orders_dlq = sqs.Queue(stack, "OrdersDlq", encryption=sqs.QueueEncryption.SQS_MANAGED)
    orders = sqs.Queue(
        stack,
        "Orders",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        visibility_timeout=Duration.seconds(30),
        dead_letter_queue=sqs.DeadLetterQueue(queue=orders_dlq, max_receive_count=1),
    )
    fulfilment = lambda_.Function(
        stack,
        "Fulfilment",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline(CODE),
        timeout=Duration.seconds(30),
        reserved_concurrent_executions=5,
    )
    fulfilment.add_event_source(sources.SqsEventSource(orders, batch_size=10, max_concurrency=10))

    # Audit: no DLQ, no encryption setting, no TLS-only policy.
    sqs.Queue(stack, "Audit")

    # Payments: a FIFO queue with a standard DLQ (aws-cdk-lib only warns).
    payments_dlq = sqs.Queue(stack, "PaymentsDlq", enforce_ssl=True, encryption=sqs.QueueEncryption.SQS_MANAGED,
                             retention_period=Duration.days(14))
    sqs.Queue(stack, "Payments", fifo=True, enforce_ssl=True, encryption=sqs.QueueEncryption.SQS_MANAGED,
              dead_letter_queue=sqs.DeadLetterQueue(queue=payments_dlq, max_receive_count=5))

    # Prices: a FIFO queue fed by S3 notifications, a standard topic and a rule without a message group id.
    prices = sqs.Queue(stack, "Prices", fifo=True, enforce_ssl=True, encryption=sqs.QueueEncryption.SQS_MANAGED)
    exports = s3.Bucket(stack, "Exports", enforce_ssl=True)
    exports.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SqsDestination(prices))
    sns.Topic(stack, "PriceChanges", enforce_ssl=True).add_subscription(subscriptions.SqsSubscription(prices))
    changed = events.Rule(stack, "PriceChanged", event_pattern=events.EventPattern(source=["shop.prices"]))
    changed.add_target(targets.SqsQueue(prices))

    # Reports: the AWS-managed key alias/aws/sqs, and EventBridge sends to it.
    reports = sqs.Queue(stack, "Reports", enforce_ssl=True, encryption=sqs.QueueEncryption.KMS_MANAGED)
    events.Rule(stack, "Nightly", schedule=events.Schedule.rate(Duration.days(1))).add_target(targets.SqsQueue(reports))

    # Uploads: a customer key, fed by S3 (aws-cdk-lib adds an unscoped s3.amazonaws.com key statement) and
    # by EventBridge (key and queue statements scoped by aws:SourceAccount only).
    uploads_key = kms.Key(stack, "UploadsKey", enable_key_rotation=True)
    uploads = sqs.Queue(stack, "Uploads", enforce_ssl=True, encryption_master_key=uploads_key)
    s3.Bucket(stack, "Media", enforce_ssl=True).add_event_notification(
        s3.EventType.OBJECT_CREATED, s3n.SqsDestination(uploads)
    )
    events.Rule(stack, "Uploaded", event_pattern=events.EventPattern(source=["shop.media"])).add_target(
        targets.SqsQueue(uploads)
    )

    # Alarms: an encrypted topic whose key does not let CloudWatch in, and a depth alarm without an age alarm.
    on_call = sns.Topic(stack, "OnCall", master_key=kms.Key(stack, "OnCallKey", enable_key_rotation=True),
                        enforce_ssl=True)
    depth = cloudwatch.Alarm(
        stack,
        "OrdersDepth",
        metric=orders.metric_approximate_number_of_messages_visible(),
        threshold=1_000,
        evaluation_periods=1,
    )
    depth.add_alarm_action(actions.SnsAction(on_call))
    return stack


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
