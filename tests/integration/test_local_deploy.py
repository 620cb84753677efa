"""The sample app deployed with the real CDK CLI into the emulator (RELIABILITY E1): every stack
created, every resource present in its service, the queues as the templates say, messages delivered
by SNS and EventBridge into the encrypted Media queue."""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from constructs_sqs.local.deploy import DeployedResource, DeployedStack, Deployment, DeployError, deploy_app
from constructs_sqs.local.inventory import PROBES, check_resources

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_STACKS = ["ConstructsSqsOrders", "ConstructsSqsMedia", "ConstructsSqsEvents", "ConstructsSqsMonitoring", "ConstructsSqsTranscoding"]


def resolve(value: Any, stack: DeployedStack, deployment: Deployment) -> Any:
    """A template value with its intrinsics replaced by what the emulator made (the subset the sample uses)."""
    if isinstance(value, list):
        return [resolve(item, stack, deployment) for item in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        pseudo = {
            "AWS::Region": deployment.region,
            "AWS::AccountId": deployment.account_id,
            "AWS::Partition": "aws",
            "AWS::StackName": stack.name,
        }
        return pseudo.get(value["Ref"]) or stack.resource(value["Ref"]).physical_id
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        resource = stack.resource(logical_id)
        name = (resource.physical_id or "").rsplit("/", 1)[-1]
        return {
            ("AWS::SQS::Queue", "Arn"): f"arn:aws:sqs:{deployment.region}:{deployment.account_id}:{name}",
            ("AWS::SQS::Queue", "QueueName"): name,
            ("AWS::KMS::Key", "Arn"): f"arn:aws:kms:{deployment.region}:{deployment.account_id}:key/{name}",
            ("AWS::Events::Rule", "Arn"): f"arn:aws:events:{deployment.region}:{deployment.account_id}:rule/{name}",
            ("AWS::S3::Bucket", "Arn"): f"arn:aws:s3:::{name}",
        }[(resource.type, attribute)]
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve(part, stack, deployment)) for part in parts)
    if "Fn::GetStackOutput" in value:
        spec = value["Fn::GetStackOutput"]
        return deployment.stack(spec["StackName"]).outputs[spec["OutputName"]]
    return {key: resolve(item, stack, deployment) for key, item in value.items()}


def test_every_sample_stack_is_created(deployed_sample_app):
    assert sorted(deployed_sample_app.stack_names) == sorted(SAMPLE_STACKS)
    assert {s.name: s.status for s in deployed_sample_app.stacks} == dict.fromkeys(SAMPLE_STACKS, "CREATE_COMPLETE")
    for stack in deployed_sample_app.stacks:
        not_created = [r.logical_id for r in stack.resources if r.physical_id is None]
        assert not_created == [], f"{stack.name}: no physical resource for {not_created}"


def test_every_resource_of_the_templates_exists_in_its_service(emulator, deployed_sample_app):
    types = {resource.type for stack in deployed_sample_app.stacks for resource in stack.resources}
    assert types <= set(PROBES), f"no probe for {types - set(PROBES)}: add one, or list the type in the docs' gaps"
    problems = {key: problem for key, problem in check_resources(emulator, deployed_sample_app).items() if problem}
    assert problems == {}


# Template property -> how SQS reports it. Any other property of a queue fails the test below.
QUEUE_PROPERTIES = {
    "FifoQueue": str,
    "ContentBasedDeduplication": str,
    "DeduplicationScope": str,
    "FifoThroughputLimit": str,
    "DelaySeconds": str,
    "MaximumMessageSize": str,
    "MessageRetentionPeriod": str,
    "ReceiveMessageWaitTimeSeconds": str,
    "VisibilityTimeout": str,
    "KmsMasterKeyId": str,
    "KmsDataKeyReusePeriodSeconds": str,
    "SqsManagedSseEnabled": str,
    "RedrivePolicy": json.dumps,
    "RedriveAllowPolicy": json.dumps,
}


def _reported(attributes: dict[str, str], name: str) -> Any:
    value = attributes.get(name)
    return json.loads(value) if name in ("RedrivePolicy", "RedriveAllowPolicy", "Policy") and value else value


@pytest.mark.parametrize("stack_name", ["ConstructsSqsOrders", "ConstructsSqsMedia", "ConstructsSqsEvents"])
def test_deployed_queues_have_the_attributes_of_their_templates(emulator, deployed_sample_app, stack_name):
    stack = deployed_sample_app.stack(stack_name)
    sqs = emulator.client("sqs")
    queues = stack.resources_of("AWS::SQS::Queue")
    assert len(queues) == 2
    for queue in queues:
        properties = resolve(dict(queue.properties), stack, deployed_sample_app)
        assert set(properties) - {"QueueName"} <= set(QUEUE_PROPERTIES), f"{queue.logical_id}: compare the new property"
        url = deployed_sample_app.queue(f"{stack_name}/{queue.logical_id}").url
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        expected = {
            name: json.loads(json.dumps(value)) if name.startswith("Redrive") else str(value).lower() if isinstance(value, bool) else str(value)
            for name, value in properties.items()
            if name != "QueueName"
        }
        if "KmsMasterKeyId" in properties:
            expected["SqsManagedSseEnabled"] = "false"  # SQS reports one encryption: the customer key
        assert {name: _reported(attributes, name) for name in expected} == expected, queue.logical_id
        policies = [
            p for p in stack.resources_of("AWS::SQS::QueuePolicy") if {"Ref": queue.logical_id} in p.properties["Queues"]
        ]
        (policy,) = policies
        assert _reported(attributes, "Policy") == resolve(policy.properties["PolicyDocument"], stack, deployed_sample_app)


def test_the_uploads_subscription_and_the_alarms_are_as_the_templates_say(emulator, deployed_sample_app):
    media = deployed_sample_app.stack("ConstructsSqsMedia")
    (subscription,) = media.resources_of("AWS::SNS::Subscription")
    attributes = emulator.client("sns").get_subscription_attributes(SubscriptionArn=subscription.physical_id)["Attributes"]
    assert attributes["RawMessageDelivery"] == "true"
    assert json.loads(attributes["RedrivePolicy"]) == resolve(subscription.properties["RedrivePolicy"], media, deployed_sample_app)

    monitoring = deployed_sample_app.stack("ConstructsSqsMonitoring")
    alarms = emulator.client("cloudwatch").describe_alarms(AlarmNamePrefix="ConstructsSqsMonitoring-")["MetricAlarms"]
    by_name = {alarm["AlarmName"]: alarm for alarm in alarms}
    templates = monitoring.resources_of("AWS::CloudWatch::Alarm")
    assert len(templates) == len(by_name) == 25  # 3 queues x (depth, age, DLQ, DLQ age, in flight, time to
    # drain, consumer errors, consumer throttles), and the Orders age SLO
    for template in templates:
        expected = resolve(dict(template.properties), monitoring, deployed_sample_app)
        alarm = by_name[expected["AlarmName"]]
        # Weak cross-stack references (Fn::GetStackOutput) resolve to the other stacks' queues and functions.
        if "Metrics" in expected:  # metric math (time to drain): each metric's dimensions, and the expression
            reported = {query["Id"]: query for query in alarm["Metrics"]}
            for query in expected["Metrics"]:
                if "MetricStat" in query:
                    dimensions = reported[query["Id"]]["MetricStat"]["Metric"]["Dimensions"]
                    assert dimensions == query["MetricStat"]["Metric"]["Dimensions"]
                else:
                    assert reported[query["Id"]]["Expression"] == query["Expression"]
        else:
            assert alarm["Dimensions"] == expected["Dimensions"]
        assert (alarm["Threshold"], alarm["EvaluationPeriods"], alarm["TreatMissingData"]) == (
            float(expected["Threshold"]), expected["EvaluationPeriods"], expected["TreatMissingData"])
        assert alarm["AlarmActions"] == expected["AlarmActions"] and alarm["ActionsEnabled"] is True


def _receive_until(sqs, url: str, wanted, seconds: float = 15) -> list[dict]:
    found: list[dict] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not wanted(found):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        found += messages
    return found


def test_sns_and_eventbridge_deliver_into_the_encrypted_media_queue(emulator, deployed_sample_app):
    media = deployed_sample_app.stack("ConstructsSqsMedia")
    queue = deployed_sample_app.queue("ConstructsSqsMedia/Transcode")
    sqs = emulator.client("sqs")
    assert sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["KmsMasterKeyId"])["Attributes"]["KmsMasterKeyId"]
    marker = uuid.uuid4().hex
    upload = json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}, "object": {"key": f"{marker}.mp4"}}}]})
    (topic,) = media.resources_of("AWS::SNS::Topic")
    emulator.client("sns").publish(TopicArn=topic.physical_id, Message=upload)
    entry = {"Source": "media.editor", "DetailType": "Retranscode Requested", "Detail": json.dumps({"assetId": marker})}
    assert emulator.client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0

    def ours(found: list[dict]) -> list[str]:  # other tests may use the queue too
        return [m["Body"] for m in found if marker in m["Body"]]

    bodies = ours(_receive_until(sqs, queue.url, lambda found: len(ours(found)) >= 2))
    assert upload in bodies, "raw message delivery: the SNS message itself is the body"
    events = [json.loads(body) for body in bodies if body != upload]
    assert [(e["source"], e["detail-type"], e["detail"]) for e in events] == [("media.editor", "Retranscode Requested", {"assetId": marker})]


def test_the_inventory_reports_what_a_service_lacks(emulator):
    name = f"inventory-{uuid.uuid4().hex[:8]}"
    emulator.client("sqs").create_queue(QueueName=name)
    physical = f"https://sqs.{emulator.region}.amazonaws.com/{emulator.account_id}/{name}"
    resources = (
        DeployedResource("Fake", "Queue", "AWS::SQS::Queue", physical, None),
        DeployedResource("Fake", "Policy", "AWS::SQS::QueuePolicy", "policy-1", None, {"Queues": [{"Ref": "Queue"}]}),
        DeployedResource("Fake", "Alarm", "AWS::CloudWatch::Alarm", "no-such-alarm", None),
        DeployedResource("Fake", "Skipped", "AWS::SNS::TopicPolicy", None, None),
    )
    stack = DeployedStack("Fake", "CREATE_COMPLETE", {}, resources, {})
    deployment = Deployment((stack,), Path("."), emulator.endpoint_url, emulator.region, emulator.account_id)
    assert check_resources(emulator, deployment) == {
        ("Fake", "Queue"): None,
        ("Fake", "Policy"): f"queue {name} has no policy",
        ("Fake", "Alarm"): "not in CloudWatch",
        ("Fake", "Skipped"): "not created",
    }


def test_a_failing_cli_raises_with_the_end_of_its_output(emulator, tmp_path):
    with (tmp_path / "cdk.log").open("w") as log, pytest.raises(DeployError, match=r"deploy .* exited with [1-9](.|\n)*no app here"):
        deploy_app(
            emulator, project_dir=ROOT, app=f"{sys.executable} -c \"raise SystemExit('no app here')\"",
            output_dir=tmp_path / "cdk.out", reset=False, log=log,
        )
