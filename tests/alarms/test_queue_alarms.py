"""QueueAlarms: each alarm's metric and threshold, actions (A1), missing data (A2), the topic's key and
topic policies (A3), the age threshold against retention (A4), the dashboard, and every validation rule."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, Callable

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template
from helpers import new_app

from constructs_sqs import ConfigurationError, EncryptedQueue, FifoQueueWithDlq, LambdaTriggeredQueue
from constructs_sqs.alarms import ALARM_NAME_SUFFIXES, QueueAlarms

QUEUE_ARN = "arn:aws:sqs:eu-west-1:111111111111:imported"
DLQ_ARN = "arn:aws:sqs:eu-west-1:111111111111:imported-dlq"
SQS_ALARM_PROPS = {"Namespace": "AWS/SQS", "Period": 300}


CODE = lambda_.Code.from_inline("def handler(event, context):\n    return {'batchItemFailures': []}\n")


def _function(scope: cdk.Stack, id: str) -> lambda_.Function:
    return lambda_.Function(scope, id, runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler", code=CODE)


# --- One stack watching two queues with one topic and one dashboard, synthesized once -------------


@pytest.fixture(scope="module")
def monitoring() -> SimpleNamespace:
    """The sample app's Monitoring shape: a standard queue with an explicit consumer, a FIFO queue
    behind a LambdaTriggeredQueue look-alike; the second reuses the first's topic and dashboard."""
    app = new_app()
    stack = cdk.Stack(app, "Monitoring")
    jobs = EncryptedQueue(stack, "Jobs")
    jobs_consumer = _function(stack, "JobsConsumer")
    jobs_alarms = QueueAlarms(
        stack,
        "JobsAlarms",
        queue=jobs,
        alarm_email="oncall@example.com",
        age_slo=Duration.minutes(15),
        consumer_function=jobs_consumer,
        min_incoming_messages=100,
    )
    orders = FifoQueueWithDlq(stack, "Orders", retention_period=Duration.days(2))
    # A LambdaTriggeredQueue: QueueAlarms takes the consumer from it, and type, retention and DLQ from the
    # pattern it consumes.
    triggered = LambdaTriggeredQueue(
        stack, "OrdersConsumer", queue=orders, code=CODE, handler="index.handler", runtime=lambda_.Runtime.PYTHON_3_13
    )
    orders_consumer = triggered.function
    orders_alarms = QueueAlarms(
        stack, "OrdersAlarms", queue=triggered, topic=jobs_alarms.topic, dashboard=jobs_alarms.dashboard
    )
    assembly = app.synth()  # raises if a default rule fails (validateAgainstDefaultRules)
    template_json = assembly.get_stack_by_name("Monitoring").template
    return SimpleNamespace(
        app=app,
        stack=stack,
        jobs=jobs,
        orders=orders,
        jobs_consumer=jobs_consumer,
        orders_consumer=orders_consumer,
        jobs_alarms=jobs_alarms,
        orders_alarms=orders_alarms,
        json=template_json,
        template=Template.from_json(template_json),
    )


def _logical_id(stack: cdk.Stack, construct: Any) -> str:
    resource = construct if isinstance(construct, cdk.CfnResource) else construct.node.default_child
    return stack.resolve(resource.logical_id)


def _alarm(template_json: dict, name: str) -> dict:
    found = [
        body["Properties"]
        for body in template_json["Resources"].values()
        if body["Type"] == "AWS::CloudWatch::Alarm" and body["Properties"].get("AlarmName") == name
    ]
    assert len(found) == 1, f"expected one alarm named {name!r}, found {len(found)}"
    return found[0]


def _queue_dimension(stack: cdk.Stack, queue: sqs.IQueue) -> list[dict]:
    return [{"Name": "QueueName", "Value": {"Fn::GetAtt": [_logical_id(stack, queue), "QueueName"]}}]


def test_synthesizes_with_default_rules_as_errors(monitoring: SimpleNamespace) -> None:
    assert monitoring.app.node.try_get_context("@aws-cdk/core:validateAgainstDefaultRules") is True
    alarms = monitoring.template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 10 + 8  # Jobs: all ten; Orders: no SLO and no silent-producer alarm


def test_depth_alarm(monitoring: SimpleNamespace) -> None:
    m = monitoring
    alarm = _alarm(m.json, f"{m.jobs_alarms.alarm_name_prefix}-depth")
    assert alarm | SQS_ALARM_PROPS == alarm
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == _queue_dimension(m.stack, m.jobs.queue)
    assert alarm["Statistic"] == "Maximum"
    assert alarm["Threshold"] == 1_000
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["EvaluationPeriods"] == 3
    assert alarm["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize(("which", "retention_days"), [("jobs", 4), ("orders", 2)])
def test_age_alarm_fires_at_half_the_retention_period(
    monitoring: SimpleNamespace, which: str, retention_days: int
) -> None:
    alarms = getattr(monitoring, f"{which}_alarms")
    alarm = _alarm(monitoring.json, f"{alarms.alarm_name_prefix}-age")
    assert alarm["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert alarm["Dimensions"] == _queue_dimension(monitoring.stack, getattr(monitoring, which).queue)
    assert alarm["Statistic"] == "Maximum"
    assert alarm["Threshold"] == retention_days * 86_400 / 2
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"
    assert f"older than {retention_days // 2} day" in alarm["AlarmDescription"]


def test_age_slo_alarm_only_when_asked(monitoring: SimpleNamespace) -> None:
    alarm = _alarm(monitoring.json, f"{monitoring.jobs_alarms.alarm_name_prefix}-age-slo")
    assert alarm["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert alarm["Threshold"] == 15 * 60
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert "15 minutes processing objective" in alarm["AlarmDescription"]
    assert monitoring.orders_alarms.age_slo_alarm is None
    assert "age-slo" not in monitoring.orders_alarms.alarms


def test_dead_letter_alarm_fires_on_one_message_and_ignores_missing_data(monitoring: SimpleNamespace) -> None:
    m = monitoring
    alarm = _alarm(m.json, f"{m.jobs_alarms.alarm_name_prefix}-dlq")
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == _queue_dimension(m.stack, m.jobs.dead_letter_queue)
    assert alarm["Statistic"] == "Maximum"
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"  # A2: an idle DLQ publishes no metric
    description = json.dumps(alarm["AlarmDescription"])
    assert "Messages are reaching the dead-letter queue" in description
    assert "redrive" in description


@pytest.mark.parametrize("which", ["jobs", "orders"])  # standard and FIFO, both with a created 14-day DLQ
def test_dead_letter_age_alarm_fires_at_half_the_dead_letter_retention(monitoring: SimpleNamespace, which: str) -> None:
    alarms = getattr(monitoring, f"{which}_alarms")
    alarm = _alarm(monitoring.json, f"{alarms.alarm_name_prefix}-dlq-age")
    assert alarm["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert alarm["Dimensions"] == _queue_dimension(monitoring.stack, getattr(monitoring, which).dead_letter_queue)
    assert alarm["Statistic"] == "Maximum"
    assert alarm["Threshold"] == 7 * 86_400
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"  # an empty DLQ publishes no age
    assert "older than 7 days (the DLQ keeps messages 14 days)" in json.dumps(alarm["AlarmDescription"])
    assert alarms.dead_letter_age_alarm is alarms.alarms["dlq-age"]


@pytest.mark.parametrize(("which", "retention_days"), [("jobs", 4), ("orders", 2)])
def test_time_to_drain_alarm_divides_the_backlog_by_the_deletion_rate(
    monitoring: SimpleNamespace, which: str, retention_days: int
) -> None:
    alarms = getattr(monitoring, f"{which}_alarms")
    alarm = _alarm(monitoring.json, f"{alarms.alarm_name_prefix}-time-to-drain")
    assert alarm["Threshold"] == retention_days * 86_400 / 4
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["EvaluationPeriods"] == 3
    assert alarm["TreatMissingData"] == "notBreaching"
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    assert expression["Expression"] == (
        "IF(FILL(deleted, 0) > 0, visible / (FILL(deleted, 0) / PERIOD(visible)), "
        f"IF(visible > 0, {retention_days * 86_400}, 0))"
    )
    used = {m["Id"]: m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert used["visible"]["Metric"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert used["visible"]["Stat"] == "Maximum"
    assert used["deleted"]["Metric"]["MetricName"] == "NumberOfMessagesDeleted"
    assert used["deleted"]["Stat"] == "Sum"
    assert {used[k]["Period"] for k in used} == {300}
    queue = getattr(monitoring, which).queue
    assert used["deleted"]["Metric"]["Dimensions"] == _queue_dimension(monitoring.stack, queue)


def test_silent_producer_alarm_only_when_asked_and_missing_data_breaches(monitoring: SimpleNamespace) -> None:
    alarm = _alarm(monitoring.json, f"{monitoring.jobs_alarms.alarm_name_prefix}-silent-producer")
    assert alarm["MetricName"] == "NumberOfMessagesSent"
    assert alarm["Dimensions"] == _queue_dimension(monitoring.stack, monitoring.jobs.queue)
    assert alarm["Statistic"] == "Sum"
    assert (alarm["Period"], alarm["EvaluationPeriods"]) == (3_600, 1)
    assert alarm["Threshold"] == 100
    assert alarm["ComparisonOperator"] == "LessThanThreshold"
    assert alarm["TreatMissingData"] == "breaching"  # nothing sent at all is exactly the case
    assert "Fewer than 100 messages were sent to queue" in json.dumps(alarm["AlarmDescription"])
    assert monitoring.orders_alarms.silent_producer_alarm is None


def test_silent_producer_period_and_evaluation_periods(stack: cdk.Stack) -> None:
    alarms = QueueAlarms(
        stack, "Alarms", queue=EncryptedQueue(stack, "Jobs"), min_incoming_messages=1,
        incoming_period=Duration.minutes(15), incoming_evaluation_periods=4, create_dashboard=False,
    )
    alarm = _alarm(Template.from_stack(stack).to_json(), f"{alarms.alarm_name_prefix}-silent-producer")
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["Threshold"]) == (900, 4, 1)
    assert "per 15 minutes, 4 periods in a row" in json.dumps(alarm["AlarmDescription"])


def test_dead_letter_retention_is_read_from_a_plain_dead_letter_queue(stack: cdk.Stack) -> None:
    dead_letters = sqs.Queue(stack, "DeadLetters", retention_period=Duration.days(10))
    queue = sqs.Queue(stack, "Plain", dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=5))
    alarms = QueueAlarms(stack, "Alarms", queue=queue, create_dashboard=False)
    assert alarms.dead_letter_age_threshold.to_seconds() == 5 * 86_400
    assert not _warnings(stack, ".*dead-letter queue cannot be read.*")


def test_imported_dead_letter_queue_assumes_the_sqs_default_and_warns(stack: cdk.Stack) -> None:
    queue = sqs.Queue.from_queue_arn(stack, "Queue", QUEUE_ARN)
    dead_letters = sqs.Queue.from_queue_arn(stack, "DeadLetters", DLQ_ARN)
    alarms = QueueAlarms(stack, "Alarms", queue=queue, dead_letter_queue=dead_letters, create_dashboard=False)
    assert alarms.dead_letter_age_threshold.to_seconds() == 2 * 86_400
    assert len(_warnings(stack, r".*retention period of the dead-letter queue cannot be read.*4 days.*2 days.*")) == 1
    other = sqs.Queue.from_queue_arn(stack, "Other", QUEUE_ARN.replace(":imported", ":invoices"))
    described = QueueAlarms(
        stack, "Described", queue=other, dead_letter_queue=dead_letters, create_dashboard=False,
        dead_letter_retention_period=Duration.days(14),
    )
    assert described.dead_letter_age_threshold.to_seconds() == 7 * 86_400
    assert len(_warnings(stack, r".*retention period of the dead-letter queue cannot be read.*")) == 1


def test_imported_pattern_gets_the_new_alarms_too(stack: cdk.Stack) -> None:
    imported = FifoQueueWithDlq.from_queue_arns(
        stack, "Orders", queue_arn=QUEUE_ARN + ".fifo", dead_letter_queue_arn=DLQ_ARN + ".fifo"
    )
    alarms = imported.add_alarms(create_dashboard=False)
    assert set(alarms.alarms) >= {"dlq-age", "time-to-drain"}
    assert alarms.time_to_drain_threshold.to_seconds() == 86_400  # a quarter of the assumed 4 days


@pytest.mark.parametrize(("which", "threshold", "quota"), [("jobs", 96_000, "120,000"), ("orders", 16_000, "20,000")])
def test_in_flight_alarm_at_80_percent_of_the_quota_of_the_queue_type(
    monitoring: SimpleNamespace, which: str, threshold: int, quota: str
) -> None:
    alarms = getattr(monitoring, f"{which}_alarms")
    alarm = _alarm(monitoring.json, f"{alarms.alarm_name_prefix}-in-flight")
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesNotVisible"
    assert alarm["Statistic"] == "Maximum"
    assert alarm["Threshold"] == threshold
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    assert f"quota of {quota}" in alarm["AlarmDescription"]


@pytest.mark.parametrize("which", ["jobs", "orders"])  # explicit consumer_function / LambdaTriggeredQueue
@pytest.mark.parametrize(("suffix", "metric"), [("consumer-errors", "Errors"), ("consumer-throttles", "Throttles")])
def test_consumer_alarms(monitoring: SimpleNamespace, which: str, suffix: str, metric: str) -> None:
    alarms = getattr(monitoring, f"{which}_alarms")
    consumer = getattr(monitoring, f"{which}_consumer")
    alarm = _alarm(monitoring.json, f"{alarms.alarm_name_prefix}-{suffix}")
    assert alarm["Namespace"] == "AWS/Lambda"
    assert alarm["MetricName"] == metric
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": _logical_id(monitoring.stack, consumer)}}]
    assert alarm["Statistic"] == "Sum"
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3, 2)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarms.consumer_function is consumer


def test_every_alarm_notifies_the_topic_with_actions_enabled(monitoring: SimpleNamespace) -> None:
    topic_id = _logical_id(monitoring.stack, monitoring.jobs_alarms.topic)
    alarms = monitoring.template.find_resources("AWS::CloudWatch::Alarm")
    assert alarms
    for logical_id, body in alarms.items():
        properties = body["Properties"]
        assert properties["ActionsEnabled"] is True, logical_id  # A1
        assert properties["AlarmActions"] == [{"Ref": topic_id}], logical_id
        assert properties["OKActions"] == [{"Ref": topic_id}], logical_id
        assert len(properties["AlarmDescription"]) > 0


def _statement_for_alarms(statements: list[dict], alarm_name: str) -> dict | None:
    """The statement letting CloudWatch act for ``alarm_name``: its ArnLike pattern must match it."""
    for statement in statements:
        if statement.get("Principal") != {"Service": "cloudwatch.amazonaws.com"} or statement["Effect"] != "Allow":
            continue
        condition = statement.get("Condition", {})
        parts = condition.get("ArnLike", {}).get("aws:SourceArn", {}).get("Fn::Join", ["", []])[1]
        pattern = parts[-1] if parts and isinstance(parts[-1], str) else ""
        if (
            pattern.startswith(":alarm:")
            and pattern.endswith("*")
            and alarm_name.startswith(pattern[len(":alarm:") : -1])
            and condition.get("StringEquals") == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
        ):
            return statement
    return None


def test_topic_key_and_topic_policy_let_cloudwatch_publish_for_every_alarm(monitoring: SimpleNamespace) -> None:
    """A3/K2, walked through the template: alarm -> topic -> key policy, and alarm -> topic policy."""
    resources = monitoring.json["Resources"]
    topic_policies = [b for b in resources.values() if b["Type"] == "AWS::SNS::TopicPolicy"]
    checked = 0
    for body in resources.values():
        if body["Type"] != "AWS::CloudWatch::Alarm":
            continue
        name = body["Properties"]["AlarmName"]
        topic_id = body["Properties"]["AlarmActions"][0]["Ref"]
        key_id = resources[topic_id]["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
        key_statement = _statement_for_alarms(resources[key_id]["Properties"]["KeyPolicy"]["Statement"], name)
        assert key_statement is not None, f"key policy of {key_id} does not let CloudWatch publish for {name}"
        assert sorted(key_statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
        policy_statements = [
            s
            for p in topic_policies
            if {"Ref": topic_id} in p["Properties"]["Topics"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        topic_statement = _statement_for_alarms(policy_statements, name)
        assert topic_statement is not None, f"topic policy does not let CloudWatch publish for {name}"
        assert topic_statement["Action"] == "sns:Publish"
        checked += 1
    assert checked == 18


def test_created_topic_is_tls_only_and_its_key_rotates(monitoring: SimpleNamespace) -> None:
    m = monitoring
    topic = m.json["Resources"][_logical_id(m.stack, m.jobs_alarms.topic)]
    key = m.json["Resources"][_logical_id(m.stack, m.jobs_alarms.topic_key)]
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [_logical_id(m.stack, m.jobs_alarms.topic_key), "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Delete"
    m.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "sns:Publish",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )
    assert len(m.template.find_resources("AWS::SNS::Topic")) == 1  # the second QueueAlarms reused it


def test_email_subscription(monitoring: SimpleNamespace) -> None:
    subscriptions = monitoring.template.find_resources("AWS::SNS::Subscription")
    assert [s["Properties"]["Protocol"] for s in subscriptions.values()] == ["email"]
    assert [s["Properties"]["Endpoint"] for s in subscriptions.values()] == ["oncall@example.com"]


def test_alarm_names_keys_and_construct_ids_are_stable(monitoring: SimpleNamespace) -> None:
    alarms = monitoring.jobs_alarms
    assert alarms.alarm_name_prefix == "Monitoring-JobsAlarms-" + alarms.alarm_name_prefix.rsplit("-", 1)[1]
    assert list(alarms.alarms) == list(ALARM_NAME_SUFFIXES)
    assert {key: a.node.id for key, a in alarms.alarms.items()} == {
        "depth": "DepthAlarm",
        "age": "AgeAlarm",
        "age-slo": "AgeSloAlarm",
        "dlq": "DeadLetterAlarm",
        "in-flight": "InFlightAlarm",
        "consumer-errors": "ConsumerErrorsAlarm",
        "consumer-throttles": "ConsumerThrottlesAlarm",
        "dlq-age": "DeadLetterAgeAlarm",
        "time-to-drain": "TimeToDrainAlarm",
        "silent-producer": "SilentProducerAlarm",
    }
    resources = monitoring.json["Resources"]
    names = {key: resources[_logical_id(monitoring.stack, a)]["Properties"]["AlarmName"] for key, a in alarms.alarms.items()}
    assert names == {key: alarms.alarm_name_prefix + suffix for key, suffix in ALARM_NAME_SUFFIXES.items()}
    assert alarms.depth_alarm is alarms.alarms["depth"] and alarms.dead_letter_alarm is alarms.alarms["dlq"]


def _dashboard_body(template_json: dict) -> dict:
    dashboards = [b for b in template_json["Resources"].values() if b["Type"] == "AWS::CloudWatch::Dashboard"]
    assert len(dashboards) == 1
    body = dashboards[0]["Properties"]["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    # Tokens (queue names, region) sit inside JSON strings: a placeholder keeps the body parseable.
    return json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts))


def test_one_dashboard_shows_both_queues(monitoring: SimpleNamespace) -> None:
    widgets = _dashboard_body(monitoring.json)["widgets"]
    titles = [w["properties"].get("title") for w in widgets]
    per_queue = [
        "Messages visible",
        "Age of oldest message (seconds)",
        "Messages in flight",
        "Sent / received / deleted",
        "Dead-letter queue: messages visible",
        "Dead-letter queue: age of oldest message (seconds)",
        "Time to drain (seconds)",
        "Consumer errors / throttles",
    ]
    for title in per_queue:
        assert titles.count(title) == 2, title
    assert titles.count("Sent per 1 hour") == 1  # only Jobs has a silent-producer alarm
    metrics = [m for w in widgets for m in w["properties"].get("metrics", [])]
    metric_names = {m[1] for m in metrics if len(m) > 1 and isinstance(m[1], str)}
    expressions = [m[0]["expression"] for m in metrics if isinstance(m[0], dict) and "expression" in m[0]]
    assert len(expressions) == 2 and all("visible / (FILL(deleted, 0) / PERIOD(visible))" in e for e in expressions)
    assert {
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "ApproximateNumberOfMessagesNotVisible",
        "NumberOfMessagesSent",
        "NumberOfMessagesReceived",
        "NumberOfMessagesDeleted",
        "Errors",
        "Throttles",
    } <= metric_names
    statuses = [w for w in widgets if w["type"] == "alarm"]
    assert [len(w["properties"]["alarms"]) for w in statuses] == [10, 8]
    assert monitoring.orders_alarms.dashboard is monitoring.jobs_alarms.dashboard


# --- Other kinds of queue, passed topics, explicit values ---------------------------------------


def _warnings(stack: cdk.Stack, pattern: str) -> list:
    return Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp(pattern))


def test_plain_sqs_queue_reads_retention_and_dead_letter_queue(stack: cdk.Stack) -> None:
    dead_letters = sqs.Queue(stack, "DeadLetters", retention_period=Duration.days(14))
    queue = sqs.Queue(
        stack,
        "Plain",
        retention_period=Duration.days(1),
        dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=5),
    )
    alarms = QueueAlarms(stack, "Alarms", queue=queue, create_dashboard=False)
    template = Template.from_stack(stack).to_json()
    assert _alarm(template, f"{alarms.alarm_name_prefix}-age")["Threshold"] == 43_200
    dlq_alarm = _alarm(template, f"{alarms.alarm_name_prefix}-dlq")
    assert dlq_alarm["Dimensions"] == _queue_dimension(stack, dead_letters)
    assert alarms.dashboard is None
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    assert not _warnings(stack, ".*constructs-sqs:alarms.*")


def test_imported_queue_assumes_4_days_retention_and_warns(stack: cdk.Stack) -> None:
    queue = sqs.Queue.from_queue_arn(stack, "Queue", QUEUE_ARN)
    dead_letters = sqs.Queue.from_queue_arn(stack, "DeadLetters", DLQ_ARN)
    alarms = QueueAlarms(stack, "Alarms", queue=queue, dead_letter_queue=dead_letters, create_dashboard=False)
    assert alarms.age_threshold.to_seconds() == 172_800
    assert alarms.dead_letter_alarm is not None
    assert len(_warnings(stack, r".*retention period of the watched queue cannot be read.*4 days.*")) == 1


def test_imported_queue_with_given_retention_does_not_warn(stack: cdk.Stack) -> None:
    queue = sqs.Queue.from_queue_arn(stack, "Queue", QUEUE_ARN)
    alarms = QueueAlarms(stack, "Alarms", queue=queue, retention_period=Duration.days(1), create_dashboard=False)
    assert alarms.age_threshold.to_seconds() == 43_200
    assert not _warnings(stack, ".*retention period.*")


def test_queue_without_dead_letter_queue_warns_and_has_no_dlq_alarm(stack: cdk.Stack) -> None:
    alarms = QueueAlarms(stack, "Alarms", queue=sqs.Queue(stack, "NoDlq"), create_dashboard=False)
    assert alarms.dead_letter_alarm is None and "dlq" not in alarms.alarms
    assert len(_warnings(stack, ".*has no dead-letter queue.*")) == 1


def test_imported_topic_and_key_warn_that_their_owner_must_allow_cloudwatch(stack: cdk.Stack) -> None:
    topic = sns.Topic.from_topic_attributes(
        stack,
        "Topic",
        topic_arn="arn:aws:sns:eu-west-1:111111111111:alarms",
        key_arn="arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    )
    alarms = QueueAlarms(stack, "Alarms", queue=EncryptedQueue(stack, "Jobs"), topic=topic, create_dashboard=False)
    assert alarms.topic is topic and alarms.topic_key is None
    assert len(_warnings(stack, r".*alarm topic .* is imported.*sns:Publish.*")) == 1
    assert len(_warnings(stack, r".*key of the alarm topic .* is imported.*kms:Decrypt.*")) == 1
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SNS::Topic", 0)
    template.all_resources_properties(
        "AWS::CloudWatch::Alarm", {"AlarmActions": ["arn:aws:sns:eu-west-1:111111111111:alarms"]}
    )


def test_explicit_thresholds_prefix_and_no_ok_actions(stack: cdk.Stack) -> None:
    alarms = QueueAlarms(
        stack,
        "Alarms",
        queue=FifoQueueWithDlq(stack, "Orders"),
        depth_threshold=50,
        age_threshold=Duration.hours(1),
        in_flight_threshold=500,
        alarm_name_prefix="orders",
        notify_ok=False,
        create_dashboard=False,
    )
    template = Template.from_stack(stack).to_json()
    assert _alarm(template, "orders-depth")["Threshold"] == 50
    assert _alarm(template, "orders-age")["Threshold"] == 3_600
    assert _alarm(template, "orders-in-flight")["Threshold"] == 500
    for key in alarms.alarms:
        alarm = _alarm(template, f"orders{ALARM_NAME_SUFFIXES[key]}")
        assert "OKActions" not in alarm and alarm["AlarmActions"]


def test_consumer_thresholds_without_a_consumer_warn(stack: cdk.Stack) -> None:
    QueueAlarms(stack, "Alarms", queue=EncryptedQueue(stack, "Jobs"), consumer_errors_threshold=5, create_dashboard=False)
    assert len(_warnings(stack, ".*consumer_errors_threshold and consumer_throttles_threshold are ignored.*")) == 1


# --- Validation: one case per rule, each message asserted ---------------------------------------

Case = Callable[[cdk.Stack], dict]


def _encrypted(**kwargs: Any) -> Case:
    return lambda stack: {"queue": EncryptedQueue(stack, "Jobs"), **kwargs}


def _imported(**kwargs: Any) -> Case:
    return lambda stack: {"queue": sqs.Queue.from_queue_arn(stack, "Queue", QUEUE_ARN), **kwargs}


def _managed_key_topic(stack: cdk.Stack) -> dict:
    key = kms.Alias.from_alias_name(stack, "SnsKey", "alias/aws/sns")
    return {"queue": EncryptedQueue(stack, "Jobs"), "topic": sns.Topic(stack, "Topic", master_key=key)}


def _other_dead_letter_queue(stack: cdk.Stack) -> dict:
    return {"queue": EncryptedQueue(stack, "Jobs"), "dead_letter_queue": sqs.Queue(stack, "Other")}


def _other_consumer(stack: cdk.Stack) -> dict:
    jobs = EncryptedQueue(stack, "Jobs")
    triggered = LambdaTriggeredQueue(stack, "Own", queue=jobs, function=_function(stack, "OwnFunction"))
    return {"queue": triggered, "consumer_function": _function(stack, "Other")}


def _shared_dashboard_without_dashboard(stack: cdk.Stack) -> dict:
    return {"queue": EncryptedQueue(stack, "Jobs"), "dashboard": cloudwatch.Dashboard(stack, "D"), "create_dashboard": False}


VALIDATION_CASES: dict[str, tuple[Case, str]] = {
    "queue of the wrong kind": (
        lambda stack: {"queue": "orders"},
        r"queue must be a queue pattern of this library \(e\.g\. FifoQueueWithDlq\), a LambdaTriggeredQueue "
        r"or an sqs\.IQueue, got str",
    ),
    "age_threshold equal to retention": (
        _encrypted(age_threshold=Duration.days(4)),
        r"age_threshold must be shorter than the retention period \(4 days\), got 4 days: the oldest message "
        r"would expire before the alarm could fire",
    ),
    "age_threshold beyond the longest retention of an imported queue": (
        _imported(age_threshold=Duration.days(14)),
        r"age_threshold must be shorter than the longest retention SQS allows \(14 days\), got 14 days",
    ),
    "age_threshold of zero": (
        _encrypted(age_threshold=Duration.seconds(0)),
        r"age_threshold must be longer than 0 seconds, got 0 seconds",
    ),
    "age_slo not stricter than age_threshold": (
        _encrypted(age_slo=Duration.days(3)),
        r"age_slo must be shorter than age_threshold \(2 days\), got 3 days: an SLO alarm is the stricter",
    ),
    "age_slo of zero": (
        _encrypted(age_slo=Duration.seconds(0)),
        r"age_slo must be longer than 0 seconds, got 0 seconds",
    ),
    "depth_threshold of zero": (
        _encrypted(depth_threshold=0),
        r"depth_threshold must be a number of messages of at least 1, got 0",
    ),
    "depth_threshold not whole": (
        _encrypted(depth_threshold=1.5),
        r"depth_threshold must be a whole number of messages, got 1\.5",
    ),
    "in_flight_threshold above the FIFO quota": (
        lambda stack: {"queue": FifoQueueWithDlq(stack, "Orders"), "in_flight_threshold": 20_001},
        r"in_flight_threshold must be at most 20,000 messages, the in-flight quota of a FIFO queue, got 20,001",
    ),
    "in_flight_threshold of zero": (
        _encrypted(in_flight_threshold=0),
        r"in_flight_threshold must be a number of messages of at least 1, got 0",
    ),
    "consumer_errors_threshold of zero": (
        _encrypted(consumer_errors_threshold=0),
        r"consumer_errors_threshold must be a number of errors of at least 1, got 0",
    ),
    "consumer_throttles_threshold of zero": (
        _encrypted(consumer_throttles_threshold=0),
        r"consumer_throttles_threshold must be a number of throttles of at least 1, got 0",
    ),
    "retention_period disagreeing with the queue": (
        _encrypted(retention_period=Duration.days(2)),
        r"retention_period is 2 days but the watched queue keeps messages 4 days: leave retention_period unset",
    ),
    "retention_period out of range": (
        _imported(retention_period=Duration.seconds(30)),
        r"retention_period must be between 1 minute and 14 days, got 30 seconds",
    ),
    "alarm_name_prefix too long": (
        _encrypted(alarm_name_prefix="a" * 237),
        r"alarm_name_prefix must be 1 to 236 characters .*got 237 characters",
    ),
    "alarm_name_prefix with a wildcard": (
        _encrypted(alarm_name_prefix="orders-*"),
        r"alarm_name_prefix must not contain '\*' or '\?', got 'orders-\*'",
    ),
    "alarm_name_prefix with a control character": (
        _encrypted(alarm_name_prefix="orders\n"),
        r"alarm_name_prefix must not contain control characters",
    ),
    "topic with the AWS-managed key": (
        _managed_key_topic,
        r"topic is encrypted with the AWS-managed key 'alias/aws/sns'.*leave topic unset to get one",
    ),
    "alarm_email not an address": (
        _encrypted(alarm_email="oncall"),
        r"alarm_email must be an email address like 'oncall@example.com', got 'oncall'",
    ),
    "dashboard with create_dashboard=False": (
        _shared_dashboard_without_dashboard,
        r"create_dashboard is False but dashboard is given",
    ),
    "dead_letter_queue other than the pattern's": (
        _other_dead_letter_queue,
        r"dead_letter_queue \(TestStack/Other\) differs from the dead-letter queue of the watched queue "
        r"\(TestStack/Jobs/DeadLetterQueue\)",
    ),
    "dead_letter_age_threshold at the DLQ's retention": (
        _encrypted(dead_letter_age_threshold=Duration.days(14)),
        r"dead_letter_age_threshold must be shorter than the retention period of the dead-letter queue \(14 days\), "
        r"got 14 days: the oldest dead letter would expire before the alarm could fire",
    ),
    "dead_letter_age_threshold without a dead-letter queue": (
        lambda stack: {"queue": sqs.Queue(stack, "NoDlq"), "dead_letter_age_threshold": Duration.days(1)},
        r"dead_letter_age_threshold applies to the DLQ-age alarm, but the watched queue has no dead-letter queue",
    ),
    "dead_letter_retention_period disagreeing with the DLQ": (
        _encrypted(dead_letter_retention_period=Duration.days(7)),
        r"dead_letter_retention_period is 7 days but the dead-letter queue keeps messages 14 days",
    ),
    "time_to_drain_threshold beyond retention": (
        _encrypted(time_to_drain_threshold=Duration.days(5)),
        r"time_to_drain_threshold must be shorter than the retention period \(4 days\), got 5 days: the backlog "
        r"would expire before the alarm could fire",
    ),
    "time_to_drain_threshold of zero": (
        _encrypted(time_to_drain_threshold=Duration.seconds(0)),
        r"time_to_drain_threshold must be longer than 0 seconds, got 0 seconds",
    ),
    "min_incoming_messages of zero": (
        _encrypted(min_incoming_messages=0),
        r"min_incoming_messages must be a number of messages of at least 1, got 0",
    ),
    "incoming_period without min_incoming_messages": (
        _encrypted(incoming_period=Duration.minutes(30)),
        r"incoming_period applies to the silent-producer alarm, which min_incoming_messages turns on",
    ),
    "incoming_period not whole minutes": (
        _encrypted(min_incoming_messages=1, incoming_period=Duration.seconds(90)),
        r"incoming_period must be a whole number of minutes, got 1 minute 30 seconds",
    ),
    "incoming range over a day": (
        _encrypted(min_incoming_messages=1, incoming_period=Duration.hours(6), incoming_evaluation_periods=5),
        r"incoming_period x incoming_evaluation_periods must be at most 1 day .*, got 6 hours x 5",
    ),
    "consumer_function other than the LambdaTriggeredQueue's": (
        _other_consumer,
        r"consumer_function \(TestStack/Other\) differs from the function of the watched LambdaTriggeredQueue "
        r"\(TestStack/OwnFunction\)",
    ),
}


@pytest.mark.parametrize("case", sorted(VALIDATION_CASES))
def test_validation_message(stack: cdk.Stack, case: str) -> None:
    build, message = VALIDATION_CASES[case]
    kwargs = build(stack)
    with pytest.raises(ConfigurationError, match=message) as raised:
        QueueAlarms(stack, "Alarms", **kwargs)
    assert len(raised.value.problems) == 1, raised.value.problems


def test_all_problems_of_one_call_are_raised_together(stack: cdk.Stack) -> None:
    with pytest.raises(ConfigurationError, match=r"TestStack/Alarms: 3 configuration problems") as raised:
        QueueAlarms(
            stack,
            "Alarms",
            queue=EncryptedQueue(stack, "Jobs"),
            depth_threshold=0,
            age_threshold=Duration.days(5),
            alarm_email="oncall",
        )
    assert isinstance(raised.value, ValueError)
    # In the order of the catalogue (depth before age), then the delivery arguments.
    assert [p.split(" ", 1)[0] for p in raised.value.problems] == ["depth_threshold", "age_threshold", "alarm_email"]


def test_add_alarms_on_patterns_and_consumers(stack) -> None:
    """The convenience methods return a QueueAlarms watching the pattern (and its consumer)."""
    from aws_cdk import aws_lambda as lambda_

    from constructs_sqs import EncryptedQueue, LambdaTriggeredQueue, QueueAlarms

    media = EncryptedQueue(stack, "Media")
    watched = media.add_alarms(depth_threshold=50)
    assert isinstance(watched, QueueAlarms) and watched.node.path == "TestStack/Media/Alarms"
    assert watched.dead_letter_queue is media.dead_letter_queue
    consumer = LambdaTriggeredQueue(
        stack, "Worker", code=lambda_.Code.from_inline("def handler(e, c):\n    return {}"), handler="index.handler"
    )
    consumer_alarms = consumer.add_alarms()
    assert consumer_alarms.consumer_errors_alarm is not None
    assert consumer_alarms.consumer_throttles_alarm is not None


def test_email_subscription_keeps_undeliverable_notifications(stack) -> None:
    from aws_cdk.assertions import Template

    from constructs_sqs import FifoQueueWithDlq, QueueAlarms

    alarms = QueueAlarms(stack, "Alarms", queue=FifoQueueWithDlq(stack, "Orders"), alarm_email="oncall@example.com")
    template = Template.from_stack(stack)
    dlq_id = stack.resolve(alarms.email_dead_letter_queue.node.default_child.logical_id)
    (subscription,) = template.find_resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]}}
    dlq = template.find_resources("AWS::SQS::Queue")[dlq_id]
    assert dlq["Properties"]["SqsManagedSseEnabled"] is True
    assert dlq["Properties"]["MessageRetentionPeriod"] == 14 * 86_400
    assert dlq["DeletionPolicy"] == "Retain"


def test_no_email_no_subscription_dead_letter_queue(stack) -> None:
    from constructs_sqs import FifoQueueWithDlq, QueueAlarms

    alarms = QueueAlarms(stack, "Alarms", queue=FifoQueueWithDlq(stack, "Orders"))
    assert alarms.email_dead_letter_queue is None


def test_add_alarms_spells_out_the_arguments_of_queue_alarms() -> None:
    """add_alarms takes every argument of QueueAlarms but what it fills in itself (queue, and the DLQ and
    consumer that the pattern or consumer already knows), under the same names and defaults."""
    import inspect

    from constructs_sqs._add_alarms import AlarmsMixin

    own = dict(inspect.signature(QueueAlarms.__init__).parameters)
    for name in ("self", "scope", "id", "queue", "dead_letter_queue", "consumer_function"):
        own.pop(name)
    spelled = dict(inspect.signature(AlarmsMixin.add_alarms).parameters)
    spelled.pop("self")
    assert list(spelled) == list(own)
    assert {name: p.default for name, p in spelled.items()} == {name: p.default for name, p in own.items()}


# --- The README's defaults of the alarms tell the truth (its alarm table: test_catalogue.py) ---------------


def _readme_section(heading: str) -> str:
    """The section titled ``heading`` (any level) in README.md, or in a page of docs/ once it has moved there."""
    import re

    from helpers import ROOT

    title = heading.lstrip("# ")
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = page.read_text() if page.exists() else ""
        found = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#+ |\Z)", text, flags=re.MULTILINE | re.DOTALL)
        if found:
            return found.group(1)
    raise AssertionError(f"no page has a section {title!r}")


def test_readme_defaults_of_the_new_alarms_match_the_code() -> None:
    import re

    from constructs_sqs import _defaults
    from constructs_sqs._validation import format_duration

    rows = dict(re.findall(r"^\| `([a-z_]+)`(?: \([^)]*\))? \| ([^|]+) \|", _readme_section("### QueueAlarms defaults"),
                           flags=re.MULTILINE))
    fractions = {0.5: "half", 0.25: "a quarter"}
    assert rows["dead_letter_age_threshold"].strip() == (
        f"{fractions[_defaults.ALARM_DEAD_LETTER_AGE_RETENTION_FRACTION]} the DLQ's retention period"
    )
    assert rows["time_to_drain_threshold"].strip() == (
        f"{fractions[_defaults.ALARM_TIME_TO_DRAIN_RETENTION_FRACTION]} of the retention period"
    )
    assert rows["incoming_period"].strip() == format_duration(_defaults.ALARM_INCOMING_PERIOD.to_seconds())
    assert rows["incoming_evaluation_periods"].strip() == str(_defaults.ALARM_INCOMING_EVALUATION_PERIODS)
    assert rows["dead_letter_retention_period"].strip() == format_duration(
        _defaults.ALARM_ASSUMED_DEAD_LETTER_RETENTION_PERIOD.to_seconds()
    )
