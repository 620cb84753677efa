"""The alarm topic: created (encrypted with a customer-managed key, TLS-only) or passed in, and made usable.

CloudWatch can publish to an encrypted topic only if the key policy lets ``cloudwatch.amazonaws.com`` use the
key, which CDK does not add (aws/aws-cdk#11121), and a topic policy (the TLS-only one) replaces SNS's default
one: both statements are added here, scoped by ``aws:SourceAccount`` and by ``aws:SourceArn`` to the alarms
``<prefix>-*`` (rules A3, K2). For an imported topic or key, whose policies are not ours, a warning says
what its owner must add. An email subscription gets a dead-letter queue of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Annotations, ArnFormat, Stack
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from .. import _defaults
from .._validation import acknowledge

__all__ = ["AlarmTopic", "build_topic"]

CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"
TOPIC_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


@dataclass(frozen=True)
class AlarmTopic:
    """What :func:`build_topic` made or took.

    Parameters
    ----------
    topic:
        The topic every alarm notifies.
    key:
        Its key when created here, else None.
    policy:
        The policy of a passed topic, which the alarms must follow (None for a created topic).
    action:
        The alarm action that notifies the topic.
    email_dead_letter_queue:
        The DLQ of the email subscription, or None without one.
    """

    topic: sns.ITopic
    key: kms.Key | None
    policy: IConstruct | None
    action: cloudwatch_actions.SnsAction
    email_dead_letter_queue: sqs.Queue | None


def build_topic(scope: Construct, *, topic: sns.ITopic | None, alarm_email: str | None, prefix: str) -> AlarmTopic:
    """The topic of the alarms named ``<prefix>-*`` under ``scope`` (ids ``TopicKey``, ``Topic``,
    ``EmailDeadLetterQueue``).

    Parameters
    ----------
    scope:
        The ``QueueAlarms``.
    topic:
        A topic to use. Default: - one is created.
    alarm_email:
        An address to subscribe. Default: - none.
    prefix:
        The alarm name prefix the policies name.

    Returns
    -------
    AlarmTopic
        The topic, its key, the action.
    """
    key: kms.Key | None = None
    if topic is None:
        key = kms.Key(
            scope,
            "TopicKey",
            description=f"constructs-sqs: encrypts the alarm topic of {scope.node.path}",
            enable_key_rotation=_defaults.KEY_ROTATION,
            pending_window=_defaults.KEY_PENDING_WINDOW,
            removal_policy=_defaults.ALARM_TOPIC_KEY_REMOVAL_POLICY,
        )
        used: sns.ITopic = sns.Topic(scope, "Topic", master_key=key, enforce_ssl=True)
    else:
        used = topic
    _allow_cloudwatch_to_publish(scope, used, prefix)
    policy = used.node.try_find_child("Policy") if topic is not None else None
    action = cloudwatch_actions.SnsAction(used)
    email_dead_letter_queue = None
    if alarm_email is not None:
        email_dead_letter_queue = _email_dead_letter_queue(scope)
        used.add_subscription(subscriptions.EmailSubscription(alarm_email, dead_letter_queue=email_dead_letter_queue))
    return AlarmTopic(
        topic=used, key=key, policy=policy, action=action, email_dead_letter_queue=email_dead_letter_queue
    )


def _email_dead_letter_queue(scope: Construct) -> sqs.Queue:
    """Notifications SNS cannot deliver to the email address (cdk-nag Serverless-SNSRedrivePolicy).

    SSE-SQS, TLS-only, kept 14 days and on stack deletion, like every DLQ of the library.
    """
    queue = sqs.Queue(
        scope,
        "EmailDeadLetterQueue",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=_defaults.ENFORCE_SSL,
        retention_period=_defaults.DEAD_LETTER_RETENTION_PERIOD,
        removal_policy=_defaults.DEAD_LETTER_REMOVAL_POLICY,
    )
    acknowledge(queue, _defaults.SUBSCRIPTION_DEAD_LETTER_QUEUE_ACKNOWLEDGMENTS)
    return queue


def _allow_cloudwatch_to_publish(scope: Construct, topic: sns.ITopic, prefix: str) -> None:
    """Topic and key policy statements letting the alarms ``<prefix>-*`` publish (A3, K2)."""
    stack = Stack.of(scope)
    alarm_arns = stack.format_arn(
        service="cloudwatch",
        resource="alarm",
        resource_name=f"{prefix}-*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    conditions = {
        "ArnLike": {"aws:SourceArn": alarm_arns},
        "StringEquals": {"aws:SourceAccount": stack.account},
    }
    principal = iam.ServicePrincipal(CLOUDWATCH_PRINCIPAL)
    added = topic.add_to_resource_policy(
        iam.PolicyStatement(
            actions=["sns:Publish"],
            principals=[principal],
            resources=[topic.topic_arn],
            conditions=conditions,
        )
    )
    if not added.statement_added:
        Annotations.of(scope).add_warning_v2(
            "constructs-sqs:alarms-imported-topic",
            f"The alarm topic {topic.node.path} is imported, so its policy cannot be changed here: "
            f"if it has a topic policy, it must allow {CLOUDWATCH_PRINCIPAL} sns:Publish for the alarms "
            f"'{prefix}-*', or their notifications are refused.",
        )
    key = topic.master_key
    if key is None:
        return
    added = key.add_to_resource_policy(
        iam.PolicyStatement(
            actions=list(TOPIC_KEY_ACTIONS),
            principals=[principal],
            resources=["*"],
            conditions=conditions,
        )
    )
    if not added.statement_added:
        Annotations.of(scope).add_warning_v2(
            "constructs-sqs:alarms-imported-topic-key",
            f"The key of the alarm topic ({key.node.path}) is imported, so its policy cannot be changed "
            f"here: it must allow {CLOUDWATCH_PRINCIPAL} {' and '.join(TOPIC_KEY_ACTIONS)}, or every "
            "alarm notification is dropped (aws/aws-cdk#11121).",
        )
