"""The sample app synthesizes with CloudFormation's default rules as errors, and meets the defaults."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import ROOT, new_app

from sample_app import build

STACKS = {
    "Orders": "ConstructsSqsOrders",
    "Media": "ConstructsSqsMedia",
    "Events": "ConstructsSqsEvents",
    "Monitoring": "ConstructsSqsMonitoring",
    "Transcoding": "ConstructsSqsTranscoding",
}


@pytest.fixture(scope="module")
def assembly():
    app = new_app()
    assert app.node.try_get_context("@aws-cdk/core:validateAgainstDefaultRules") is True
    build(app)
    # With validateAgainstDefaultRules, a failed CloudFormation rule raises here instead of warning.
    return app.synth()


def test_every_sample_stack_is_synthesized(assembly) -> None:
    assert {s.stack_name for s in assembly.stacks} == set(STACKS.values())


def _templates(assembly) -> dict[str, dict]:
    return {s.stack_name: s.template for s in assembly.stacks}


def _resources(assembly, type_: str) -> list[tuple[str, str, dict]]:
    """(stack name, logical id, resource) of every resource of ``type_`` in the app."""
    return [
        (stack, logical_id, resource)
        for stack, template in _templates(assembly).items()
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == type_
    ]


def test_every_event_source_mapping_reports_batch_item_failures(assembly) -> None:
    mappings = _resources(assembly, "AWS::Lambda::EventSourceMapping")
    assert len(mappings) == 3
    for _, _, mapping in mappings:
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_every_queue_feeding_a_lambda_outlasts_six_function_timeouts(assembly) -> None:
    """L1: visibility >= 6 x function timeout + maximum batching window, walked through the templates."""
    templates = _templates(assembly)
    checked = 0
    for stack, _, mapping in _resources(assembly, "AWS::Lambda::EventSourceMapping"):
        resources = templates[stack]["Resources"]
        props = mapping["Properties"]
        queue_id = props["EventSourceArn"]["Fn::GetAtt"][0]
        function_id = props["FunctionName"]["Ref"]
        timeout = resources[function_id]["Properties"]["Timeout"]
        window = props.get("MaximumBatchingWindowInSeconds", 0)
        assert resources[queue_id]["Properties"]["VisibilityTimeout"] >= 6 * timeout + window, (stack, queue_id)
        checked += 1
    assert checked == 3


def test_every_alarm_has_an_enabled_action(assembly) -> None:
    alarms = _resources(assembly, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 15  # depth, age, dlq, in-flight, consumer errors and throttles per queue, + SLO
    for stack, logical_id, alarm in alarms:
        assert alarm["Properties"]["AlarmActions"], (stack, logical_id)
        assert alarm["Properties"].get("ActionsEnabled", True) is True, (stack, logical_id)


def test_dead_letter_alarms_treat_missing_data_as_not_breaching(assembly) -> None:
    dlq_alarms = [a for _, _, a in _resources(assembly, "AWS::CloudWatch::Alarm") if a["Properties"]["AlarmName"].endswith("-dlq")]
    assert len(dlq_alarms) == 4  # Orders, Media, Events (Monitoring) and Transcoding (its own add_alarms)
    assert {a["Properties"]["TreatMissingData"] for a in dlq_alarms} == {"notBreaching"}


def test_monitoring_owns_one_topic_and_one_dashboard(assembly) -> None:
    monitoring = _templates(assembly)[STACKS["Monitoring"]]["Resources"]
    types = [r["Type"] for r in monitoring.values()]
    assert types.count("AWS::SNS::Topic") == 1
    assert types.count("AWS::CloudWatch::Dashboard") == 1


def test_settings_come_from_context() -> None:
    app = new_app(**{"constructs-sqs:stackPrefix": "Staging", "constructs-sqs:depthThreshold": 250})
    stacks = build(app)
    assert stacks["Orders"].stack_name == "StagingOrders"
    assert stacks["Monitoring"].alarms["Orders"].depth_alarm is not None
    depth = stacks["Monitoring"].resolve(stacks["Monitoring"].alarms["Orders"].depth_alarm.node.default_child.threshold)
    assert depth == 250


def test_orders_is_a_high_throughput_fifo_pair(assembly) -> None:
    template = assembly.get_stack_by_name(STACKS["Orders"]).template
    queues = [r for r in template["Resources"].values() if r["Type"] == "AWS::SQS::Queue"]
    assert len(queues) == 2
    assert all(q["Properties"]["FifoQueue"] is True for q in queues)
    assert all(q["Properties"]["DeduplicationScope"] == "messageGroup" for q in queues)


def test_media_key_lets_its_three_producers_encrypt_each_for_itself(assembly) -> None:
    """K2 and K5: the videos bucket, the uploads topic and the re-transcode rule may use the queue's key, each
    scoped by its own ARN and the account; no statement for a service is left without aws:SourceArn."""
    template = assembly.get_stack_by_name(STACKS["Media"]).template
    resources = template["Resources"]
    queue_key = next(r for k, r in resources.items() if r["Type"] == "AWS::KMS::Key" and k.startswith("TranscodeKey"))
    for_services = [s for s in queue_key["Properties"]["KeyPolicy"]["Statement"] if "Service" in s.get("Principal", {})]
    for statement in for_services:
        conditions = statement["Condition"]
        assert conditions["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}, statement
        assert "aws:SourceArn" in {**conditions.get("ArnLike", {}), **conditions.get("ArnEquals", {})}, statement
    scoped = {s["Principal"]["Service"] for s in for_services if {"kms:GenerateDataKey*", "kms:Decrypt"} <= set(s["Action"])}
    assert scoped == {"s3.amazonaws.com", "sns.amazonaws.com", "events.amazonaws.com"}
    videos = next(k for k, r in resources.items() if r["Type"] == "AWS::S3::Bucket" and k.startswith("Videos8"))
    s3_arns = {str(s["Condition"]["ArnLike"]["aws:SourceArn"]) for s in for_services if s["Principal"]["Service"] == "s3.amazonaws.com"}
    assert s3_arns == {str({"Fn::GetAtt": [videos, "Arn"]})}


def test_the_videos_bucket_announces_new_videos_to_the_media_queue(assembly) -> None:
    resources = assembly.get_stack_by_name(STACKS["Media"]).template["Resources"]
    (notifications,) = [r for r in resources.values() if r["Type"] == "Custom::S3BucketNotifications"]
    (configuration,) = notifications["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert configuration["QueueArn"] == {"Fn::GetAtt": ["Transcode428483CB", "Arn"]}
    assert configuration["Events"] == ["s3:ObjectCreated:*"]
    assert configuration["Filter"] == {"Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}}
    bucket = resources[notifications["Properties"]["BucketName"]["Ref"]]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"


@pytest.mark.slow
def test_cdk_cli_synth_writes_every_template_without_node_warning(tmp_path) -> None:
    """What `make synth` runs: the pinned CLI from node_modules, on the venv's node 24."""
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "CDK_DISABLE_CLI_TELEMETRY": "true"}
    cli = ROOT / "node_modules" / ".bin" / "cdk"
    assert cli.exists(), "npm ci has not installed the pinned CDK CLI (run make install)"
    result = subprocess.run(
        [str(cli), "synth", "--quiet", "--no-notices", "-o", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "end-of-life" not in result.stderr + result.stdout
    written = {p.name.removesuffix(".template.json") for p in tmp_path.glob("*.template.json")}
    assert written == set(STACKS.values())
    version = json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["version"], f"CLI {version} wrote no manifest"
