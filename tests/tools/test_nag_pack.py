"""ConstructsSqsChecks, the library's rules as a cdk-nag pack: each rule fires on a hand-written aws-cdk-lib app
with the usual mistakes, exactly where the mistake is, and never on the library's patterns; the report groups
what it finds by rule with the fix."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from helpers import CDK_CONTEXT

import handwritten_app
from constructs_sqs import EncryptedQueue, FifoQueueWithDlq, LambdaTriggeredQueue, QueueAlarms, compliance
from constructs_sqs.compliance import rules
from constructs_sqs.compliance.cdk_nag import _nag_findings

CODE = lambda_.Code.from_inline("def handler(event, context):\n    return {'batchItemFailures': []}\n")


def _app(outdir: Path) -> cdk.App:
    return cdk.App(outdir=str(outdir), context={**CDK_CONTEXT, "@aws-cdk/core:failSynthOnValidationErrors": False})


def pack_findings(app: cdk.App) -> list[compliance.Finding]:
    """The ConstructsSqs findings of ``app``, synthesized with that pack alone."""
    cdk.Validations.of(app).add_plugins(compliance.ConstructsSqsChecks(app))
    app.synth()
    report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
    return _nag_findings(report)


def by_rule(findings: list[compliance.Finding]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in findings:
        if finding.acknowledged is None:
            found.setdefault(finding.rule, set()).add(finding.where)
    return found


@pytest.fixture(scope="module")
def handwritten(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[compliance.Finding], Path]:
    outdir = tmp_path_factory.mktemp("handwritten")
    app = _app(outdir)
    handwritten_app.build(app)
    return pack_findings(app), outdir


# --- The rule table ----------------------------------------------------------------------------------------


def test_every_rule_has_an_id_a_level_what_why_and_both_fixes() -> None:
    assert len({rule.id for rule in rules.RULES}) == len(rules.RULES) >= 15
    for rule in rules.RULES:
        assert rule.rule_id == f"ConstructsSqs-{rule.id}"
        assert rule.level in ("ERROR", "WARN"), rule.id
        assert rule.reliability and rule.resource_types, rule.id
        for text in (rule.what, rule.why, rule.fix, rule.library_fix):
            assert len(text) > 20 and text.endswith("."), (rule.id, text)


def test_the_docs_list_every_rule_with_its_level_and_fixes() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "nag-pack.md").read_text()
    for rule in rules.RULES:
        row = next((line for line in page.splitlines() if line.startswith(f"| `{rule.rule_id}` |")), None)
        assert row is not None, rule.rule_id
        assert f"| {rule.level} |" in row and rule.what in row and rule.fix in row and rule.library_fix in row, rule.id


# --- Each rule both ways ------------------------------------------------------------------------------------


def test_each_rule_fires_on_the_handwritten_app_exactly_where_the_mistake_is(handwritten) -> None:
    findings, _ = handwritten
    assert by_rule(findings) == handwritten_app.EXPECTED


def test_every_rule_of_the_pack_fires_on_the_handwritten_app(handwritten) -> None:
    findings, _ = handwritten
    assert {f.base_rule for f in findings} == {rule.rule_id for rule in rules.RULES}


def test_the_assembly_gate_finds_the_same(handwritten) -> None:
    """python -m constructs_sqs.compliance reads the templates back (CfnInclude): the same findings."""
    findings, outdir = handwritten
    replayed = compliance.run_cdk_nag_on_assembly(outdir)
    assert by_rule([f for f in replayed.findings if f.rule.startswith("ConstructsSqs-")]) == by_rule(findings)


def library_app(stack: cdk.Stack) -> None:
    """The hand-written app's setups, written with the library's patterns."""
    orders = FifoQueueWithDlq(stack, "Orders", content_based_deduplication=True)
    sns.Topic(stack, "PriceChanges", fifo=True, enforce_ssl=True).add_subscription(subscriptions.SqsSubscription(orders.queue))
    events.Rule(stack, "PriceChanged", event_pattern=events.EventPattern(source=["shop.prices"])).add_target(
        targets.SqsQueue(orders.queue, message_group_id="prices")
    )
    fulfilment = LambdaTriggeredQueue(
        stack, "Fulfilment", queue=orders, code=CODE, handler="index.handler", timeout=Duration.seconds(30),
        reserved_concurrent_executions=5,
    )
    uploads = EncryptedQueue(stack, "Uploads")
    s3.Bucket(stack, "Media", enforce_ssl=True).add_event_notification(
        s3.EventType.OBJECT_CREATED, s3n.SqsDestination(uploads.queue)
    )
    events.Rule(stack, "Uploaded", rule_name="shop-uploaded", event_pattern=events.EventPattern(source=["shop.media"])).add_target(
        targets.SqsQueue(uploads.queue, dead_letter_queue=uploads.dead_letter_queue)
    )
    LambdaTriggeredQueue(stack, "Ingest", code=CODE, handler="index.handler", batch_size=100,
                         max_batching_window=Duration.seconds(5), max_concurrency=5)
    first = QueueAlarms(stack, "OrdersAlarms", queue=fulfilment)
    QueueAlarms(stack, "UploadsAlarms", queue=uploads, topic=first.topic, dashboard=first.dashboard)


def test_the_library_patterns_fire_no_rule(tmp_path: Path) -> None:
    app = _app(tmp_path)
    library_app(cdk.Stack(app, "Library"))
    assert by_rule(pack_findings(app)) == {}


# --- Across stacks, and what a user does with the pack -----------------------------------------------------


def test_consumers_and_alarms_in_other_stacks_are_seen(tmp_path: Path) -> None:
    app = _app(tmp_path)
    queues = cdk.Stack(app, "Queues")
    dead_letters = sqs.Queue(queues, "Dlq", enforce_ssl=True, encryption=sqs.QueueEncryption.SQS_MANAGED,
                             retention_period=Duration.days(14))
    jobs = sqs.Queue(queues, "Jobs", enforce_ssl=True, encryption=sqs.QueueEncryption.SQS_MANAGED,
                     dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=5))
    workers = cdk.Stack(app, "Workers")
    worker = lambda_.Function(workers, "Worker", runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
                              code=CODE, timeout=Duration.minutes(1))
    worker.add_event_source(sources.SqsEventSource(jobs, report_batch_item_failures=True))
    monitoring = cdk.Stack(app, "Monitoring")
    cloudwatch.Alarm(monitoring, "Depth", metric=jobs.metric_approximate_number_of_messages_visible(), threshold=10,
                     evaluation_periods=1)
    found = by_rule(pack_findings(app))
    assert found["ConstructsSqs-SQSLambdaVisibilityTimeout"] == {"Queues/Jobs/Resource"}  # 30 s < 6 x 60 s
    assert found["ConstructsSqs-SQSAgeAlarm"] == {"Queues/Jobs/Resource"}


def test_a_user_app_with_the_pack_fails_synth_naming_the_rules(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path), context=CDK_CONTEXT)
    handwritten_app.build(app)
    cdk.Validations.of(app).add_plugins(compliance.ConstructsSqsChecks(app, verbose=True))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (pack,) = [p for p in report["pluginReports"] if p["pluginName"] == "ConstructsSqs"]
    retention = next(v for v in pack["violations"] if v["ruleName"] == "ConstructsSqs-SQSDeadLetterRetention")
    # verbose: what, why and the fix
    rule = rules.rule_named("SQSDeadLetterRetention")
    assert rule is not None
    assert retention["description"] == f"{rule.what} {rule.why} Fix: {rule.fix} With constructs-sqs: {rule.library_fix}"
    assert retention["severity"] == "error"


def test_a_finding_is_acknowledged_like_any_cdk_nag_rule(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stack = handwritten_app.build(app)
    reason = "The orders are reconciled nightly from the source system, so an order that expires is re-sent."
    cdk.Validations.of(stack.node.find_child("Orders")).acknowledge(
        cdk.Acknowledgment(id="ConstructsSqs::ConstructsSqs-SQSAgeAlarm", reason=reason)
    )
    findings = pack_findings(app)
    assert "ConstructsSqs-SQSAgeAlarm" not in by_rule(findings)
    assert [(f.where, f.acknowledged) for f in findings if f.rule == "ConstructsSqs-SQSAgeAlarm"] == [
        ("Handmade/Orders/Resource", reason)
    ]


def test_without_cdk_nag_the_pack_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "cdk_nag", None)
    monkeypatch.delitem(sys.modules, "constructs_sqs.compliance.nag_pack", raising=False)
    monkeypatch.delitem(vars(compliance), "ConstructsSqsChecks", raising=False)
    with pytest.raises(ImportError, match=r"ConstructsSqsChecks needs cdk-nag, which is not installed: pip install 'constructs-sqs\[compliance\]'"):
        compliance.ConstructsSqsChecks  # noqa: B018


# --- The model reads templates as CloudFormation does ------------------------------------------------------


def _model(**stacks: dict[str, Any]) -> rules.AppModel:
    return rules.AppModel([rules.StackTemplate(name, template) for name, template in stacks.items()])


def test_references_are_followed_through_exports_stack_outputs_and_names() -> None:
    model = _model(
        A={
            "Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "jobs"}}},
            "Outputs": {
                "Exported": {"Value": {"Fn::GetAtt": ["Q", "Arn"]}, "Export": {"Name": "jobs-arn"}},
                "Weak": {"Value": {"Fn::GetAtt": ["Q", "QueueName"]}},
            },
        },
        B={"Resources": {}},
    )
    queue = rules.Resource(model.stacks[0], "Q")
    other = model.stacks[1]
    assert model.refs(other, {"Fn::ImportValue": "jobs-arn"}) == {queue}
    assert model.refs(other, {"Fn::GetStackOutput": {"StackName": "A", "OutputName": "Weak"}}) == {queue}
    assert model.refs(other, {"Fn::ImportValue": "A:Weak"}) == {queue}  # how the assembly gate reads it back
    assert model.refs(other, "arn:aws:sqs:eu-west-1:111111111111:jobs") == {queue}
    joined = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":sqs:", {"Ref": "AWS::Region"}, ":1:jobs"]]}
    assert model.refs(other, joined) == {queue}
    assert model.refs(other, "jobs") == set(), "a bare name is not a reference"


def test_defaults_are_sqs_and_lambda_defaults() -> None:
    model = _model(
        A={
            "Resources": {
                "Q": {"Type": "AWS::SQS::Queue", "Properties": {}},
                "F": {"Type": "AWS::Lambda::Function", "Properties": {}},
            }
        }
    )
    queue, function = rules.Resource(model.stacks[0], "Q"), rules.Resource(model.stacks[0], "F")
    assert (model.retention_of(queue), model.visibility_of(queue), model.timeout_of(function)) == (345_600, 30, 3)


# --- The report: grouped by rule, with the fix, control ids shortened --------------------------------------


def test_the_report_groups_findings_by_rule_with_the_fix(handwritten) -> None:
    findings, _ = handwritten
    report = compliance.ComplianceReport([compliance.GateResult("cdk-nag", 1, findings)])
    groups = {group.rule: group for group in report.groups()}
    assert set(groups) == {rule.rule_id for rule in rules.RULES}
    scoped = groups["ConstructsSqs-ServicePrincipalScoped"].render().splitlines()
    rule = rules.rule_named("ServicePrincipalScoped")
    assert rule is not None
    assert scoped[:3] == [
        "cdk-nag ConstructsSqs-ServicePrincipalScoped: 3 findings",
        f"  {rule.what}",
        f"  fix: {rule.fix} With constructs-sqs: {rule.library_fix}",
    ]
    assert sorted(scoped[3:]) == [
        "  - Handmade/Uploads/Policy/Resource [events.amazonaws.com]",
        "  - Handmade/UploadsKey/Resource [events.amazonaws.com]",
        "  - Handmade/UploadsKey/Resource [s3.amazonaws.com]",
    ]
    text = report.render()
    assert text.startswith(report.table()) and text.endswith(f"FAILED: {len(findings)} unacknowledged finding(s)")


def test_fix_hints_cover_the_other_packs_and_checkov_rules_the_library_knows() -> None:
    assert compliance.fix_hint("HIPAA.Security-LambdaInsideVPC") == compliance.fix_hint("NIST.800.53.R5-LambdaInsideVPC")
    assert "vpc=" in (compliance.fix_hint("PCI.DSS.321-LambdaInsideVPC") or "")
    assert "function_encryption_key=" in (compliance.fix_hint("CKV_AWS_158") or "")
    assert "enforce_ssl=True" in (compliance.fix_hint("AwsSolutions-SQS4") or "")
    assert compliance.fix_hint("AwsSolutions-EC23") is None


def test_long_control_id_lists_are_shortened() -> None:
    message = "The IAM entity contains an inline policy - (Control IDs: AC-2i.2, AC-2(1), AC-2(6), AC-3, AC-3(3)(a))."
    assert compliance.shorten_control_ids(message) == (
        "The IAM entity contains an inline policy - (Control IDs: AC-2i.2, AC-2(1), AC-2(6) and 2 more)."
    )
    short = "The S3 Bucket does not have replication enabled - (Control IDs: 2.2, 10.5.3)."
    assert compliance.shorten_control_ids(short) == short
    finding = compliance.Finding("cdk-nag", "NIST.800.53.R5-IAMNoInlinePolicy", "S/Role", message)
    assert "and 2 more" in finding.render()


def test_the_docs_show_the_report_of_the_handwritten_app(handwritten) -> None:
    findings, _ = handwritten
    page = (Path(__file__).resolve().parents[2] / "docs" / "nag-pack.md").read_text()
    shown = page.split("The compliance report prints them grouped by rule, each with its fix:\n\n```text\n", 1)[1]
    report = compliance.ComplianceReport([compliance.GateResult("cdk-nag", 1, findings)])
    assert shown.split("```", 1)[0].rstrip() == report.render().rstrip()
