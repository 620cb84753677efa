"""constructs-sqs diagram: the sample app's workflow with the right edges, any app's producers and consumers,
and the copy on the documentation's sample app page kept up to date."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, new_app

from constructs_sqs.cli import main
from constructs_sqs.cli.diagram import BEGIN_MARKER, END_MARKER, build_diagram, load_stacks, render_assembly, replace_in_markdown
from sample_app import build


@pytest.fixture(scope="module")
def assembly_dir() -> str:
    # As the CDK CLI synthesizes (make synth): with each resource's construct path in its metadata.
    app = new_app(**{"aws:cdk:enable-path-metadata": True})
    build(app)
    return str(app.synth().directory)


def edges(text: str) -> set[tuple[str, str, str]]:
    """(from, label, to) of every arrow, with node ids reduced to the construct's logical id."""
    found = set()
    for source, arrow, label, target in re.findall(r"^  (\S+) (-->|-\.->)\|\"([^\"]*)\"\| (\S+)$", text, re.MULTILINE):
        found.add((_short(source), label, _short(target)))
    return found


def _short(node_id: str) -> str:
    return re.sub(r"^ConstructsSqs(Orders|Media|Events|Monitoring|Transcoding)_", "", node_id)


def test_the_sample_app_has_every_queue_dlq_consumer_producer_and_alarm_topic(assembly_dir: str) -> None:
    text = render_assembly(assembly_dir)
    queues = {
        lid: body
        for _, template in load_stacks(assembly_dir)
        for lid, body in template["Resources"].items()
        if body["Type"] == "AWS::SQS::Queue"
    }
    assert len(queues) == 8  # four queues and their DLQs (no alarm email in cdk.json: no email DLQ)
    for logical_id in queues:
        assert re.search(rf"_{logical_id}\[\(\"", text), logical_id
    assert edges(text) >= {
        ("Orders2A43276C", "after 5 receives", "OrdersDeadLetterQueueA73944CE"),
        ("Orders2A43276C", "event source, batch 10", "FulfilmentFunctionC1231DFE"),
        ("Transcode428483CB", "after 5 receives", "TranscodeDeadLetterQueueB3A99C08"),
        ("Transcode428483CB", "event source, batch 5", "TranscoderFunction077BB313"),
        ("Uploads4F6EB0FD", "subscription", "Transcode428483CB"),
        ("Uploads4F6EB0FD", "undeliverable", "TranscodeDeadLetterQueueB3A99C08"),
        ("RetranscodeRequested94B4688B", "rule target", "Transcode428483CB"),
        ("Videos88AE8DA0", "notification s3:ObjectCreated:* incoming/*", "Transcode428483CB"),
        ("IngestQueue376DA31C", "event source, batch 500", "IngestFunctionB02ED0EB"),
        ("IngestQueue376DA31C", "after 5 receives", "IngestQueueDeadLetterQueue94255FA5"),
        # across stacks: the Monitoring stack's alarms watch the other stacks' queues and notify its topic
        ("OrdersDeadLetterQueueA73944CE", "watched by", "alarms_ConstructsSqsOrders_OrdersDeadLetterQueueA73944CE"),
        ("alarms_ConstructsSqsOrders_OrdersDeadLetterQueueA73944CE", "notifies", "OrdersAlarmsTopicCC9290BC"),
        ("FulfilmentFunctionC1231DFE", "watched by", "alarms_ConstructsSqsOrders_FulfilmentFunctionC1231DFE"),
        # the worker service: the uploads feed its queue across stacks, its task role consumes, the backlog scales it
        ("Uploads4F6EB0FD", "subscription", "Jobs41CEEC0B"),
        ("Jobs41CEEC0B", "consumed by worker tasks", "WorkersService06F7B0BF"),
        ("Jobs41CEEC0B", "scales on backlog per task (2)", "WorkersService06F7B0BF"),
        ("WorkersService06F7B0BF", "watched by", "alarms_ConstructsSqsTranscoding_WorkersService06F7B0BF"),
        ("alarms_ConstructsSqsTranscoding_WorkersService06F7B0BF", "notifies", "WorkersAlarmsTopic4955CC75"),
    }
    assert '(["Workers/Service<br/>ECS Fargate service"]):::consumer' in text
    assert '["3 alarms<br/>NoRunningTask, ScaleFromZero, TasksNotStarting"]' in text
    assert "Orders<br/>ConstructsSqsOrders-23D25966.fifo<br/>FIFO · SSE-SQS" in text
    assert 'ConstructsSqsMedia_Videos88AE8DA0>"Videos<br/>S3 bucket"]:::producer' in text
    assert "Transcode/DeadLetterQueue<br/>ConstructsSqsMedia-Transcode-0F292786-dlq<br/>standard · SSE-KMS" in text
    assert '["5 alarms<br/>Age, AgeSlo, Depth, InFlight, TimeToDrain"]' in text
    assert '["2 alarms<br/>DeadLetter, DeadLetterAge"]' in text
    assert not any(label == "granted consume" for _, label, _ in edges(text))  # the event source says it
    for stack in ("ConstructsSqsOrders", "ConstructsSqsMedia", "ConstructsSqsEvents", "ConstructsSqsMonitoring", "ConstructsSqsTranscoding"):
        assert f'subgraph stack_{stack}["{stack}"]' in text


def test_the_readme_shows_the_sample_apps_current_diagram(assembly_dir: str) -> None:
    """The sample app's page of the documentation (docs/sample-app.md) shows its current diagram."""
    page = (ROOT / "docs" / "sample-app.md").read_text(encoding="utf-8")
    expected = replace_in_markdown(page, render_assembly(assembly_dir))
    assert page == expected, "the diagram of docs/sample-app.md is out of date: run `make diagram`"


def stack(resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"Resources": resources, "Outputs": outputs or {}}


def queue(name: str, **properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": name, **properties}, "Metadata": {"aws:cdk:path": f"S/{name}/Resource"}}


def test_producers_and_consumers_of_any_app() -> None:
    producer = stack(
        {
            "Jobs": queue("jobs", KmsMasterKeyId="alias/aws/sqs"),
            "Plain": queue("plain", SqsManagedSseEnabled=False),
            "Uploads": {"Type": "AWS::S3::Bucket", "Properties": {"NotificationConfiguration": {"QueueConfigurations": [{"Event": "s3:ObjectCreated:*", "Queue": {"Fn::GetAtt": ["Jobs", "Arn"]}}]}}},
            "Api": {"Type": "AWS::IAM::Role", "Properties": {}},
            "ApiPolicy": {
                "Type": "AWS::IAM::Policy",
                "Properties": {"Roles": [{"Ref": "Api"}], "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"], "Resource": {"Fn::GetAtt": ["Jobs", "Arn"]}}]}},
            },
        },
        outputs={"JobsArn": {"Value": {"Fn::GetAtt": ["Jobs", "Arn"]}, "Export": {"Name": "jobs-arn"}}},
    )
    worker = stack(
        {
            "Worker": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": {"Fn::ImportValue": "jobs-arn"}}]}}]}},
            "Denied": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": {"Statement": [{"Effect": "Deny", "Action": "sqs:*", "Resource": "arn:aws:sqs:eu-west-1:111111111111:plain"}]}}]}},
        }
    )
    text = build_diagram([("Producer", producer), ("Workers", worker)]).mermaid()
    assert edges(text) == {
        ("Producer_Uploads", "notification s3:ObjectCreated:*", "Producer_Jobs"),
        ("Producer_Api", "granted send", "Producer_Jobs"),
        ("Producer_Jobs", "granted consume", "Workers_Worker"),
    }
    assert "jobs<br/>jobs<br/>standard · SSE-KMS, AWS managed key" in text and "plain<br/>standard · unencrypted" in text


def test_s3_notifications_of_aws_cdk_lib_s_custom_resource_are_drawn() -> None:
    """The CDK writes the S3 API's QueueArn/Events (and the key filter) in Custom::S3BucketNotifications;
    an imported bucket has no bucket resource, and the custom resource stands for it."""
    notifications = {
        "QueueConfigurations": [
            {
                "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                "QueueArn": {"Fn::GetAtt": ["Jobs", "Arn"]},
                "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".mp4"}, {"Name": "prefix", "Value": "in/"}]}},
            }
        ]
    }
    template = stack(
        {
            "Jobs": queue("jobs"),
            "Uploads": {"Type": "AWS::S3::Bucket", "Properties": {}, "Metadata": {"aws:cdk:path": "S/Uploads/Resource"}},
            "UploadsNotifications": {
                "Type": "Custom::S3BucketNotifications",
                "Properties": {"BucketName": {"Ref": "Uploads"}, "NotificationConfiguration": notifications},
            },
            "ImportedNotifications": {
                "Type": "Custom::S3BucketNotifications",
                "Properties": {"BucketName": "partner-drops", "NotificationConfiguration": notifications},
                "Metadata": {"aws:cdk:path": "S/Partner/Notifications/Resource"},
            },
        }
    )
    text = build_diagram([("S", template)]).mermaid()
    label = "notification s3:ObjectCreated:*, s3:ObjectRemoved:* in/*.mp4"
    assert edges(text) == {("S_Uploads", label, "S_Jobs"), ("S_ImportedNotifications", label, "S_Jobs")}
    assert 'S_Uploads>"Uploads<br/>S3 bucket"]:::producer' in text
    assert 'S_ImportedNotifications>"Partner/Notifications<br/>S3 bucket notifications"]:::producer' in text


def test_an_assembly_without_path_metadata_is_labelled_from_its_manifest(tmp_path: Path) -> None:
    """`python app.py` writes no aws:cdk:path into the templates; the manifest still maps logical ids to paths."""
    app = new_app(**{"aws:cdk:enable-path-metadata": False})
    build(app)
    directory = app.synth().directory
    templates = dict(load_stacks(directory))
    media = json.loads((Path(directory) / "ConstructsSqsMedia.template.json").read_text())
    assert "aws:cdk:path" not in (media["Resources"]["Transcode428483CB"].get("Metadata") or {})
    assert templates["ConstructsSqsMedia"]["Resources"]["Transcode428483CB"]["Metadata"]["aws:cdk:path"] == (
        "ConstructsSqsMedia/Transcode/Resource/Resource"
    )
    text = render_assembly(directory)
    assert "Transcode<br/>ConstructsSqsMedia-Transcode-0F292786<br/>standard · SSE-KMS" in text
    assert '>"Videos<br/>S3 bucket"]' in text and "Transcode428483CB<br/>" not in text


def test_nested_assemblies_are_read_and_a_missing_one_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "stage").mkdir()
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": {"Stage": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "stage"}}}}))
    (tmp_path / "stage" / "manifest.json").write_text(json.dumps({"artifacts": {"App": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "App.template.json"}, "displayName": "Stage/App"}}}))
    (tmp_path / "stage" / "App.template.json").write_text(json.dumps(stack({"Q": queue("q.fifo", FifoQueue=True)})))
    assert [name for name, _ in load_stacks(tmp_path)] == ["Stage/App"]
    assert 'subgraph stack_Stage_App["Stage/App"]' in render_assembly(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"is not a cloud assembly \(no manifest.json\): run `cdk synth` first"):
        load_stacks(tmp_path / "nowhere")


def test_the_command_writes_stdout_a_file_or_the_readme(tmp_path: Path, assembly_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", assembly_dir]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("flowchart LR\n") and printed == render_assembly(assembly_dir)
    readme = tmp_path / "README.md"
    readme.write_text(f"# App\n\n{BEGIN_MARKER}\nold\n{END_MARKER}\n\nmore\n")
    assert main(["diagram", assembly_dir, "--readme", str(readme), "-o", str(tmp_path / "d.mmd")]) == 0
    assert readme.read_text() == f"# App\n\n{BEGIN_MARKER}\n```mermaid\n{printed}```\n{END_MARKER}\n\nmore\n"
    assert (tmp_path / "d.mmd").read_text() == printed
    with pytest.raises(ValueError, match=r"the Markdown file has no diagram markers"):
        replace_in_markdown("# nothing here\n", printed)
    assert main(["diagram", str(tmp_path / "missing")]) == 2
    assert "is not a cloud assembly (no manifest.json)" in capsys.readouterr().err
