"""Producers wired to a pattern by any API are checked at synth (RELIABILITY K6), and every statement for an
AWS service on a key or queue a pattern created carries aws:SourceArn and aws:SourceAccount of the producers
that feed it (K5)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template
from helpers import CDK_CONTEXT, new_app

from constructs_sqs import EncryptedQueue, FifoQueueWithDlq, LambdaTriggeredQueue
from constructs_sqs._producers import producers_of

ACCOUNT = {"Ref": "AWS::AccountId"}
CODE = lambda_.Code.from_inline("def handler(event, context):\n    return {'batchItemFailures': []}\n")


def synth_errors(app: cdk.App) -> str:
    """The message of the validation error synth raises."""
    with pytest.raises(RuntimeError, match="Validation failed with the following errors") as raised:
        app.synth()
    return str(raised.value)


def service_statements(template: dict[str, Any] | Template, service: str) -> list[dict[str, Any]]:
    """Every Allow statement for ``service`` in the key policies and queue policies of a template."""
    body = template.to_json() if isinstance(template, Template) else template
    found = []
    for resource in body["Resources"].values():
        properties = resource.get("Properties") or {}
        document = properties.get("KeyPolicy") or properties.get("PolicyDocument")
        if resource["Type"] not in ("AWS::KMS::Key", "AWS::SQS::QueuePolicy") or not document:
            continue
        for statement in document["Statement"]:
            principal = statement.get("Principal") or {}
            services = principal.get("Service") if isinstance(principal, dict) else None
            if statement["Effect"] == "Allow" and service in ([services] if isinstance(services, str) else services or []):
                found.append({"in": resource["Type"], **statement})
    return found


# --- K6: producers that cannot feed the queue ------------------------------------------------------------


def test_s3_notifications_into_a_fifo_queue_wired_after_construction_fail_synth(app: cdk.App, stack: cdk.Stack) -> None:
    orders = FifoQueueWithDlq(stack, "Orders", queue_name="orders.fifo")
    bucket = s3.Bucket(stack, "Uploads")
    bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SqsDestination(orders.queue))
    message = synth_errors(app)
    assert (
        "[TestStack/Orders] S3 bucket TestStack/Uploads sends event notifications to the FIFO queue TestStack/Orders "
        "(orders.fifo): S3 notifications accept only standard queues as destinations, and the notification "
        "configuration is refused at deploy; send the notifications to a standard queue (EncryptedQueue), or turn "
        "on EventBridge notifications for the bucket (s3.Bucket(event_bridge_enabled=True)) and send them on with a "
        "rule whose targets.SqsQueue sets message_group_id"
    ) in message


def test_a_standard_topic_subscribing_a_fifo_queue_fails_synth(app: cdk.App, stack: cdk.Stack) -> None:
    orders = FifoQueueWithDlq(stack, "Orders", queue_name="orders.fifo")
    sns.Topic(stack, "Prices").add_subscription(subscriptions.SqsSubscription(orders.queue))
    message = synth_errors(app)
    assert "[TestStack/Orders] SNS topic TestStack/Prices is a standard topic and subscribes the FIFO queue TestStack/Orders (orders.fifo)" in message
    assert "only SNS FIFO topics deliver to FIFO queues, SNS refuses the subscription; make the topic FIFO (sns.Topic(fifo=True))" in message


def test_an_eventbridge_rule_without_a_message_group_id_on_a_fifo_queue_fails_synth(app: cdk.App, stack: cdk.Stack) -> None:
    orders = FifoQueueWithDlq(stack, "Orders", queue_name="orders.fifo")
    rule = events.Rule(stack, "Placed", event_pattern=events.EventPattern(source=["shop"]))
    rule.add_target(targets.SqsQueue(orders.queue))
    message = synth_errors(app)
    assert (
        "[TestStack/Orders] EventBridge rule TestStack/Placed targets the FIFO queue TestStack/Orders (orders.fifo) "
        "without a message group id: EventBridge sends to a FIFO queue only with one (SqsParameters.MessageGroupId); "
        'pass message_group_id to targets.SqsQueue, e.g. targets.SqsQueue(queue, message_group_id="orders")'
    ) in message


def test_every_refused_producer_of_a_queue_is_reported_at_once(app: cdk.App, stack: cdk.Stack) -> None:
    orders = FifoQueueWithDlq(stack, "Orders")
    s3.Bucket(stack, "Uploads").add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SqsDestination(orders.queue))
    sns.Topic(stack, "Prices").add_subscription(subscriptions.SqsSubscription(orders.queue))
    events.Rule(stack, "Placed", event_pattern=events.EventPattern(source=["shop"])).add_target(targets.SqsQueue(orders.queue))
    message = synth_errors(app)
    assert sorted(line.split("] ", 1)[1].split(" ", 3)[:3] for line in message.splitlines() if line.startswith("  [")) == [
        ["EventBridge", "rule", "TestStack/Placed"],
        ["S3", "bucket", "TestStack/Uploads"],
        ["SNS", "topic", "TestStack/Prices"],
    ]


def test_producers_wired_with_l1_resources_are_checked_too(app: cdk.App, stack: cdk.Stack) -> None:
    orders = FifoQueueWithDlq(stack, "Orders")
    topic = sns.CfnTopic(stack, "Raw")
    sns.CfnSubscription(stack, "RawSubscription", protocol="sqs", endpoint=orders.queue.queue_arn, topic_arn=topic.ref)
    s3.CfnBucket(
        stack,
        "RawBucket",
        notification_configuration=s3.CfnBucket.NotificationConfigurationProperty(
            queue_configurations=[
                s3.CfnBucket.QueueConfigurationProperty(event="s3:ObjectCreated:*", queue=orders.queue.queue_arn)
            ]
        ),
    )
    message = synth_errors(app)
    assert "SNS topic TestStack/Raw is a standard topic and subscribes the FIFO queue TestStack/Orders" in message
    assert "S3 bucket TestStack/RawBucket sends event notifications to the FIFO queue TestStack/Orders" in message


def test_a_grant_to_the_s3_principal_on_a_fifo_queue_fails_synth(app: cdk.App, stack: cdk.Stack) -> None:
    orders = FifoQueueWithDlq(stack, "Orders", queue_name="orders.fifo")
    orders.queue.grant_send_messages(iam.ServicePrincipal("s3.amazonaws.com"))
    assert (
        "the FIFO queue TestStack/Orders (orders.fifo) lets s3.amazonaws.com send to it (a grant to the S3 service "
        "principal): S3 notifications accept only standard queues as destinations"
    ) in synth_errors(app)


def test_a_fifo_queue_consumed_by_lambda_is_checked_as_well(app: cdk.App, stack: cdk.Stack) -> None:
    consumer = LambdaTriggeredQueue(
        stack, "Consumer", queue=FifoQueueWithDlq(stack, "Orders"), code=CODE, handler="index.handler"
    )
    s3.Bucket(stack, "Uploads").add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SqsDestination(consumer.queue))
    assert "S3 bucket TestStack/Uploads sends event notifications to the FIFO queue TestStack/Orders" in synth_errors(app)


def test_valid_combinations_stay_valid(app: cdk.App, stack: cdk.Stack) -> None:
    orders = FifoQueueWithDlq(stack, "Orders")
    sns.Topic(stack, "Prices", fifo=True).add_subscription(subscriptions.SqsSubscription(orders.queue))
    events.Rule(stack, "Placed", event_pattern=events.EventPattern(source=["shop"])).add_target(
        targets.SqsQueue(orders.queue, message_group_id="orders")
    )
    media = EncryptedQueue(stack, "Media")
    # SNS FIFO topics deliver to standard queues too (SNS Developer Guide, "Message delivery for FIFO topics").
    sns.Topic(stack, "Renditions", fifo=True).add_subscription(subscriptions.SqsSubscription(media.queue))
    s3.Bucket(stack, "Uploads").add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SqsDestination(media.queue))
    assert app.synth().get_stack_by_name("TestStack").template["Resources"]
    assert sorted(p.service for p in producers_of(orders)) == ["events", "sns"]
    assert sorted(p.service for p in producers_of(media)) == ["s3", "sns"]


def test_a_producer_of_another_queue_is_not_this_queue_s_producer(app: cdk.App) -> None:
    """Two stacks with the same construct ids have the same logical ids: producers are told apart by path."""
    first, second = cdk.Stack(app, "First"), cdk.Stack(app, "Second")
    standard = sqs.Queue(first, "Orders")  # the same logical id as the pattern's queue of Second
    sns.Topic(first, "Prices").add_subscription(subscriptions.SqsSubscription(standard))
    FifoQueueWithDlq(second, "Orders")
    assert app.synth().get_stack_by_name("Second").template["Resources"]


# --- K5: statements for services, scoped by their producers -------------------------------------------------


def _s3_fed_encrypted_queue(app: cdk.App) -> cdk.Stack:
    stack = cdk.Stack(app, "Shop")
    media = EncryptedQueue(stack, "Media")
    bucket = s3.Bucket(stack, "Uploads", enforce_ssl=True)
    bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SqsDestination(media.queue))
    return stack


def test_aws_cdk_lib_alone_leaves_an_unconditioned_s3_key_statement(app: cdk.App) -> None:
    """What the patterns fix: s3n.SqsDestination on a plain queue with a key adds a statement for any bucket."""
    stack = cdk.Stack(app, "Plain")
    queue = sqs.Queue(stack, "Media", encryption_master_key=kms.Key(stack, "Key", enable_key_rotation=True))
    s3.Bucket(stack, "Uploads").add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SqsDestination(queue))
    unconditioned = [s for s in service_statements(Template.from_stack(stack), "s3.amazonaws.com") if "Condition" not in s]
    assert [(s["in"], s["Action"]) for s in unconditioned] == [("AWS::KMS::Key", ["kms:Decrypt", "kms:GenerateDataKey*"])]


def test_every_s3_statement_of_an_s3_fed_encrypted_queue_names_its_bucket_and_account(app: cdk.App) -> None:
    template = Template.from_stack(_s3_fed_encrypted_queue(app))
    bucket_arn = {"Fn::GetAtt": [next(iter(template.find_resources("AWS::S3::Bucket"))), "Arn"]}
    statements = service_statements(template, "s3.amazonaws.com")
    assert sorted(s["in"] for s in statements) == ["AWS::KMS::Key", "AWS::KMS::Key", "AWS::SQS::QueuePolicy"]
    for statement in statements:
        assert statement["Condition"] == {
            "ArnLike": {"aws:SourceArn": bucket_arn},
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
        }, statement


def test_an_imported_bucket_is_named_by_its_formatted_arn(app: cdk.App, stack: cdk.Stack) -> None:
    media = EncryptedQueue(stack, "Media")
    bucket = s3.Bucket.from_bucket_name(stack, "Uploads", "shop-uploads")
    bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SqsDestination(media.queue))
    formatted = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::shop-uploads"]]}
    for statement in service_statements(Template.from_stack(stack), "s3.amazonaws.com"):
        assert statement["Condition"] == {"ArnLike": {"aws:SourceArn": formatted}, "StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_a_bucket_whose_arn_would_need_a_reference_back_is_an_error_with_the_fix(app: cdk.App) -> None:
    """An L1 bucket of another stack notifies the queue (that stack depends on the queue's), and the queue's
    policy grants the S3 principal unscoped: naming the bucket would make the stacks depend on each other."""
    media_stack, uploads_stack = cdk.Stack(app, "Media"), cdk.Stack(app, "Uploads")
    media = EncryptedQueue(media_stack, "Media")
    media.queue.grant_send_messages(iam.ServicePrincipal("s3.amazonaws.com"))
    configuration = s3.CfnBucket.QueueConfigurationProperty(event="s3:ObjectCreated:*", queue=media.queue.queue_arn)
    s3.CfnBucket(uploads_stack, "Uploads", notification_configuration={"queueConfigurations": [configuration]})
    assert (
        "[Media/Media] the queue policy of Media/Media/Resource: the ARN of S3 bucket Uploads/Uploads can only be "
        "known here through a reference to the bucket, which already depends on the queue (its own "
        "NotificationConfiguration names the queue): give the bucket a bucket_name"
    ) in synth_errors(app)


def test_a_bucket_notifying_inline_is_named_by_its_name_not_by_a_reference_back(app: cdk.App, stack: cdk.Stack) -> None:
    """An L1 bucket whose own NotificationConfiguration names the queue depends on the queue: a GetAtt of its ARN
    in the key policy would close a cycle (key -> bucket -> queue -> key), so the ARN is built from its name."""
    media = EncryptedQueue(stack, "Media")
    media.allow_service_producer("s3.amazonaws.com", "arn:aws:s3:::shop-legacy")
    configuration = s3.CfnBucket.QueueConfigurationProperty(event="s3:ObjectCreated:*", queue=media.queue.queue_arn)
    s3.CfnBucket(stack, "Legacy", bucket_name="shop-legacy", notification_configuration={"queueConfigurations": [configuration]})
    statements = service_statements(Template.from_stack(stack), "s3.amazonaws.com")  # synthesizes: no cycle
    assert sorted(s["in"] for s in statements) == ["AWS::KMS::Key", "AWS::SQS::QueuePolicy"]
    for statement in statements:
        assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::shop-legacy"}}, statement


def test_a_bucket_notifying_inline_without_a_name_is_an_error_with_the_fix(app: cdk.App, stack: cdk.Stack) -> None:
    media = EncryptedQueue(stack, "Media")
    media.queue.grant_send_messages(iam.ServicePrincipal("s3.amazonaws.com"))
    configuration = s3.CfnBucket.QueueConfigurationProperty(event="s3:ObjectCreated:*", queue=media.queue.queue_arn)
    s3.CfnBucket(stack, "Legacy", notification_configuration={"queueConfigurations": [configuration]})
    assert "the ARN of S3 bucket TestStack/Legacy can only be known here through a reference to the bucket" in synth_errors(app)


@pytest.mark.parametrize("same_account_flag", [True, False])
def test_eventbridge_statements_name_the_rule_and_account(same_account_flag: bool) -> None:
    app = new_app(**{"@aws-cdk/aws-events:eventsTargetQueueSameAccount": same_account_flag})
    stack = cdk.Stack(app, "Shop")
    media = EncryptedQueue(stack, "Media")
    rule = events.Rule(stack, "Edited", rule_name="shop-edited", event_pattern=events.EventPattern(source=["editor"]))
    rule.add_target(targets.SqsQueue(media.queue))
    rule_arn = {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":events:", {"Ref": "AWS::Region"}, ":", ACCOUNT, ":rule/shop-edited"]]
    }
    statements = service_statements(Template.from_stack(stack), "events.amazonaws.com")
    assert sorted(s["in"] for s in statements) == ["AWS::KMS::Key", "AWS::SQS::QueuePolicy"]
    for statement in statements:
        assert statement["Condition"] == {
            "ArnEquals": {"aws:SourceArn": rule_arn},
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
        }, statement


def test_a_rule_on_a_custom_bus_is_named_with_its_bus() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Shop")
    media = EncryptedQueue(stack, "Media")
    bus = events.EventBus(stack, "Bus", event_bus_name="shop-bus")
    rule = events.Rule(stack, "Edited", rule_name="edited", event_bus=bus, event_pattern=events.EventPattern(source=["x"]))
    rule.add_target(targets.SqsQueue(media.queue))
    (key,) = [s for s in service_statements(Template.from_stack(stack), "events.amazonaws.com") if s["in"] == "AWS::KMS::Key"]
    assert key["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Join"][1][-1] == ":rule/shop-bus/edited"


def test_a_rule_without_a_name_targeting_an_encrypted_queue_is_an_error_with_the_fix(app: cdk.App, stack: cdk.Stack) -> None:
    media = EncryptedQueue(stack, "Media")
    events.Rule(stack, "Edited", event_pattern=events.EventPattern(source=["x"])).add_target(targets.SqsQueue(media.queue))
    message = synth_errors(app)
    assert (
        "[TestStack/Media] the key policy of TestStack/Media/Key: EventBridge rule TestStack/Edited has no rule_name, so "
        "its ARN is known only through a reference to the rule, and the rule already refers to the queue (a cycle: "
        "key policy -> rule -> queue -> key): give the rule a rule_name"
    ) in message


def test_an_sns_key_statement_without_the_restricting_flag_names_the_topic() -> None:
    app = new_app(**{"@aws-cdk/aws-sns-subscriptions:restrictSqsDescryption": False})
    stack = cdk.Stack(app, "Shop")
    media = EncryptedQueue(stack, "Media")
    topic = sns.Topic(stack, "Uploads")
    topic.add_subscription(subscriptions.SqsSubscription(media.queue))
    topic_ref = {"Ref": stack.resolve(topic.node.default_child.logical_id)}
    for statement in service_statements(Template.from_stack(stack), "sns.amazonaws.com"):
        assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": topic_ref}, "StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_allow_service_producer_statements_get_the_account_of_the_producer_they_name(app: cdk.App, stack: cdk.Stack) -> None:
    media = EncryptedQueue(stack, "Media")
    topic = sns.Topic(stack, "Uploads")
    media.allow_service_producer("sns.amazonaws.com", topic.topic_arn)
    topic.add_subscription(subscriptions.SqsSubscription(media.queue))
    # One of another account, not wired in this app: its statement is left as given.
    media.allow_service_producer("sns.amazonaws.com", "arn:aws:sns:eu-west-1:222222222222:partners")
    conditions = [s["Condition"] for s in service_statements(Template.from_stack(stack), "sns.amazonaws.com")]
    assert {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:eu-west-1:222222222222:partners"}} in conditions
    assert all("StringEquals" in c for c in conditions if c != {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:eu-west-1:222222222222:partners"}})


def test_a_service_grant_with_no_producer_in_the_app_is_an_error_with_the_fix(app: cdk.App, stack: cdk.Stack) -> None:
    media = EncryptedQueue(stack, "Media")
    media.queue.grant_send_messages(iam.ServicePrincipal("sns.amazonaws.com"))
    message = synth_errors(app)
    assert (
        "[TestStack/Media] the queue policy of TestStack/Media/Resource lets sns.amazonaws.com use it without "
        "aws:SourceArn, and no producer of that service sending to the queue TestStack/Media"
    ) in message
    assert "grant the service with allow_service_producer(principal, source_arn) instead, naming the resource that sends" in message


def test_a_user_key_is_left_alone_and_its_queue_policy_is_scoped(app: cdk.App, stack: cdk.Stack) -> None:
    key = kms.Key(stack, "Own", enable_key_rotation=True)
    media = EncryptedQueue(stack, "Media", encryption_master_key=key)
    s3.Bucket(stack, "Uploads").add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SqsDestination(media.queue))
    statements = service_statements(Template.from_stack(stack), "s3.amazonaws.com")
    assert [s for s in statements if s["in"] == "AWS::KMS::Key" and "Condition" not in s], "not the library's key"
    (queue_statement,) = [s for s in statements if s["in"] == "AWS::SQS::QueuePolicy"]
    assert "StringEquals" in queue_statement["Condition"]


def test_scoping_is_idempotent_across_synths(stack: cdk.Stack, app: cdk.App) -> None:
    media = EncryptedQueue(stack, "Media")
    s3.Bucket(stack, "Uploads").add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SqsDestination(media.queue))
    first = app.synth().get_stack_by_name("TestStack").template
    second = app.synth(force=True).get_stack_by_name("TestStack").template
    assert first == second


def test_patterns_in_a_stage_are_checked(app: cdk.App) -> None:
    stage = cdk.Stage(app, "Prod")
    stack = cdk.Stack(stage, "Shop")
    orders = FifoQueueWithDlq(stack, "Orders")
    s3.Bucket(stack, "Uploads").add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SqsDestination(orders.queue))
    with pytest.raises(RuntimeError, match=r"S3 bucket Prod/Shop/Uploads sends event notifications to the FIFO queue Prod/Shop/Orders"):
        app.synth()


def test_many_patterns_share_one_index_and_each_is_scoped(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Shop")
    queues = [EncryptedQueue(stack, f"Media{i}") for i in range(3)]
    for index, queue in enumerate(queues):
        s3.Bucket(stack, f"Uploads{index}").add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SqsDestination(queue.queue))
    template = Template.from_stack(stack)
    statements = service_statements(template, "s3.amazonaws.com")
    assert len(statements) == 9 and all(s["Condition"]["StringEquals"] for s in statements)
    assert len({str(s["Condition"]["ArnLike"]) for s in statements}) == 3


def test_context_of_the_tests_is_the_sample_apps() -> None:
    assert CDK_CONTEXT["@aws-cdk/aws-events:eventsTargetQueueSameAccount"] is True
