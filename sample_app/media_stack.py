"""Media: uploads announced on an SNS topic, and re-transcode requests sent as EventBridge events,
are queued, encrypted, for a transcoding Lambda function."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from constructs_sqs import EncryptedQueue, LambdaTriggeredQueue

from ._consumers import consumer_key, handlers_code, outside_vpc


class MediaStack(Stack):
    """An encrypted standard queue fed by an encrypted SNS topic and an EventBridge rule, proving K2
    in the template: the queue's key policy lets sns.amazonaws.com and events.amazonaws.com encrypt,
    each for its own topic or rule only. A transcoding function consumes it."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.transcode = EncryptedQueue(self, "Transcode")
        topic_key = kms.Key(
            self, "UploadsTopicKey", enable_key_rotation=True, description="Encrypts the media uploads topic"
        )
        self.uploads = sns.Topic(self, "Uploads", master_key=topic_key, enforce_ssl=True)
        self.transcode.allow_service_producer("sns.amazonaws.com", self.uploads.topic_arn)
        # Uploads SNS cannot deliver (the key or queue refusing them) are kept in the queue's DLQ, whose
        # key policy already lets SNS encrypt for this topic (cdk-nag Serverless-SNSRedrivePolicy).
        self.uploads.add_subscription(
            subscriptions.SqsSubscription(
                self.transcode.queue,
                raw_message_delivery=True,
                dead_letter_queue=self.transcode.dead_letter_queue,
            )
        )

        # The rule targets the queue, and the queue's key policy names the rule: an ARN built from a
        # known name (format_arn) keeps that from becoming a dependency cycle (key -> rule -> queue -> key).
        rule_name = f"{self.stack_name}-retranscode-requested"
        self.retranscode = events.Rule(
            self,
            "RetranscodeRequested",
            rule_name=rule_name,
            description="A media editor asks for an asset to be transcoded again",
            event_pattern=events.EventPattern(source=["media.editor"], detail_type=["Retranscode Requested"]),
        )
        # EventBridge needs the key policy statement as much as SNS does; aws-cdk-lib adds none for it.
        rule_arn = self.format_arn(service="events", resource="rule", resource_name=rule_name)
        self.transcode.allow_service_producer("events.amazonaws.com", rule_arn)
        # Events EventBridge cannot deliver go to the same DLQ (cdk-nag Serverless-EventBusDLQ).
        self.retranscode.add_target(
            targets.SqsQueue(self.transcode.queue, dead_letter_queue=self.transcode.dead_letter_queue)
        )

        # Transcoding one asset takes up to 2 minutes: the queue's visibility becomes 6 x 2 min + 5 s.
        self.transcoder = outside_vpc(
            LambdaTriggeredQueue(
                self,
                "Transcoder",
                function_encryption_key=consumer_key(self),
                queue=self.transcode,
                code=handlers_code(),
                handler="media_transcode.handler",
                timeout=Duration.minutes(2),
                memory_size=1_024,
                batch_size=5,
                max_batching_window=Duration.seconds(5),
                reserved_concurrent_executions=10,
            )
        )
