"""The cdk_snapshot pytest plugin: normalization, and the plugin run as a user would run it (pytester)."""

from __future__ import annotations

import copy
import json
import textwrap

import pytest
from aws_cdk import aws_lambda  # noqa: F401
from helpers import ROOT

# Imported here, at collection, so that pytester's in-process runs find them in sys.modules: a module first
# imported inside a run is dropped after it, and a second import makes jsii classes that typeguard rejects
# ("must be aws_cdk.aws_iam.PolicyStatement; got aws_cdk.aws_iam.PolicyStatement").
from constructs_sqs import EncryptedQueue, FifoQueueWithDlq, LambdaTriggeredQueue, QueueAlarms  # noqa: F401
from constructs_sqs.testing import ASSET_HASH, diff_templates, normalize_template

pytest_plugins = ["pytester"]

HASH = "a" * 64


def test_normalize_drops_build_dependent_values() -> None:
    template = {
        "Parameters": {"BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>"}},
        "Rules": {"CheckBootstrapVersion": {"Assertions": []}},
        "Conditions": {"CDKMetadataAvailable": {"Fn::Or": []}},
        "Resources": {
            "CDKMetadata": {"Type": "AWS::CDK::Metadata", "Properties": {"Analytics": "v2:deflate64:xyz"}},
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Code": {"S3Bucket": "b", "S3Key": f"{HASH}.zip"}, "MemorySize": 256},
                "Metadata": {"aws:cdk:path": "S/Fn/Resource", "aws:asset:path": f"asset.{HASH}", "aws:asset:property": "Code"},
            },
            f"FnCurrentVersion1A2B3C4D{'0' * 32}": {"Type": "AWS::Lambda::Version"},
        },
    }
    assert normalize_template(template) == {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Code": {"S3Bucket": "b", "S3Key": f"{ASSET_HASH}.zip"}, "MemorySize": 256},
                "Metadata": {"aws:cdk:path": "S/Fn/Resource"},
            },
            "FnCurrentVersion1A2B3C4D": {"Type": "AWS::Lambda::Version"},
        }
    }
    # The input is left alone.
    assert "CDKMetadata" in template["Resources"]


def test_normalize_keeps_user_parameters_and_short_hex() -> None:
    template = {"Parameters": {"Stage": {"Type": "String"}}, "Resources": {"QueueABCDEF12": {"Type": "AWS::SQS::Queue"}}}
    assert normalize_template(template) == template


STACK_MODULE = """
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

def make_stack(memory_size):
    app = cdk.App()
    stack = cdk.Stack(app, "Snap")
    lambda_.Function(
        stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
        code=lambda_.Code.from_asset(str(Path(__file__).parent / "handler")), memory_size=memory_size,
    )
    return stack
"""

TEST_MODULE = """
from stack_module import make_stack

def test_stack(cdk_snapshot):
    assert make_stack({memory}) == cdk_snapshot
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(stack_module=STACK_MODULE)
    pytester.mkdir("handler")
    (pytester.path / "handler" / "index.py").write_text("def handler(event, context):\n    return 1\n")
    pytester.makepyfile(test_snap=TEST_MODULE.format(memory=256))
    created = pytester.runpytest_inprocess("--snapshot-update", "-p", "no:cacheprovider")
    created.assert_outcomes(passed=1)
    (snapshot,) = (pytester.path / "__snapshots__").rglob("*.json")
    assert ASSET_HASH in snapshot.read_text() and "BootstrapVersion" not in snapshot.read_text()
    return pytester


def test_changed_lambda_code_keeps_the_snapshot(project: pytest.Pytester) -> None:
    (project.path / "handler" / "index.py").write_text("def handler(event, context):\n    return 2\n")
    project.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_changed_property_fails_with_a_diff(project: pytest.Pytester) -> None:
    project.makepyfile(test_snap=TEST_MODULE.format(memory=512))
    result = project.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       AssertionError: the template differs from snapshot 'test_stack'",
            "E       Resources: 1 changed",
            "E       Resources",
            "E       [~] AWS::Lambda::Function Fn9270CBC0 (Snap/Fn/Resource)",
            "E        └─ [~] Properties.MemorySize: 256 -> 512",
            "E       If the change is intended, run pytest --snapshot-update to accept it.",
        ],
        consecutive=True,
    )


def test_plugin_is_registered_by_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        textwrap.dedent(
            """
            def test_fixture_is_there(request):
                assert "cdk_snapshot" in request.fixturenames or request.getfixturevalue("cdk_snapshot")
            """
        )
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_code_change_changes_the_raw_template_but_not_the_normalized_one(tmp_path) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_

    from constructs_sqs.testing import template_dict

    def synth(body: str) -> dict:
        (tmp_path / "index.py").write_text(body)
        stack = cdk.Stack(cdk.App(), "Snap")
        lambda_.Function(
            stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler", code=lambda_.Code.from_asset(str(tmp_path))
        )
        return template_dict(stack)

    first, second = synth("def handler(e, c):\n    return 1\n"), synth("def handler(e, c):\n    return 2\n")
    key = lambda t: t["Resources"]["Fn9270CBC0"]["Properties"]["Code"]["S3Key"]  # noqa: E731
    assert key(first) != key(second)
    assert normalize_template(first) == normalize_template(second)


def test_template_dict_refuses_other_objects() -> None:
    from constructs_sqs.testing import template_dict

    with pytest.raises(TypeError, match=r"cdk_snapshot compares a Stack, .* got str"):
        template_dict("not a stack")


# --- The diff, as cdk diff shows it --------------------------------------------------------------


def _queue(path: str, **properties: object) -> dict:
    return {"Type": "AWS::SQS::Queue", "Properties": properties, "Metadata": {"aws:cdk:path": path}}


def test_diff_names_each_added_removed_and_changed_resource_by_type_id_and_path() -> None:
    old = {
        "Resources": {
            "Kept": _queue("S/Kept/Resource", MessageRetentionPeriod=345600, DelaySeconds=0),
            "Gone": _queue("S/Gone/Resource"),
            "Same": _queue("S/Same/Resource"),
        }
    }
    new = {
        "Resources": {
            "Kept": _queue("S/Kept/Resource", MessageRetentionPeriod=172800, VisibilityTimeout=180),
            "Added": {"Type": "AWS::SNS::Topic", "Metadata": {"aws:cdk:path": "S/Added/Resource"}},
            "Same": _queue("S/Same/Resource"),
        }
    }
    assert diff_templates(old, new) == [
        "Resources: 1 changed, 1 added, 1 removed",
        "Resources",
        "[+] AWS::SNS::Topic Added (S/Added/Resource)",
        "[-] AWS::SQS::Queue Gone (S/Gone/Resource)",
        "[~] AWS::SQS::Queue Kept (S/Kept/Resource)",
        " ├─ [-] Properties.DelaySeconds: 0",
        " ├─ [~] Properties.MessageRetentionPeriod: 345600 -> 172800",
        " └─ [+] Properties.VisibilityTimeout: 180",
    ]


def test_diff_shows_outputs_parameters_conditions_and_template_values() -> None:
    old = {
        "Description": "one",
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
        "Resources": {"Q": _queue("S/Q/Resource")},
        "Outputs": {"QueueUrl": {"Value": {"Ref": "Q"}}, "Old": {"Value": "x"}},
    }
    new = {
        "Description": "two",
        "Parameters": {"Stage": {"Type": "String", "Default": "prod"}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "production"]}},
        "Resources": {"Q": _queue("S/Q/Resource")},
        "Outputs": {"QueueUrl": {"Value": {"Ref": "Q"}, "Export": {"Name": "url"}}},
    }
    assert diff_templates(old, new) == [
        "Description changed; Parameters: 1 changed; Conditions: 1 changed; Outputs: 1 changed, 1 removed",
        '[~] Description: "one" -> "two"',
        "Parameters",
        "[~] Parameter Stage",
        ' └─ [~] Default: "dev" -> "prod"',
        "Conditions",
        "[~] Condition IsProd",
        ' └─ [~] Fn::Equals[1]: "prod" -> "production"',
        "Outputs",
        '[-] Output Old: {"Value": "x"}',
        "[~] Output QueueUrl",
        ' └─ [+] Export: {"Name": "url"}',
    ]


def test_diff_of_lists_shows_an_inserted_element_once_and_changed_ones_in_place() -> None:
    statement = lambda sid: {"Sid": sid, "Effect": "Allow"}  # noqa: E731
    old = {"Resources": {"P": {"Type": "AWS::IAM::Policy", "Properties": {"Statement": [statement("A"), statement("B")]}}}}
    new = {
        "Resources": {
            "P": {
                "Type": "AWS::IAM::Policy",
                "Properties": {"Statement": [statement("A"), statement("New"), {"Sid": "B", "Effect": "Deny"}]},
            }
        }
    }
    assert diff_templates(old, new)[2:] == [
        "[~] AWS::IAM::Policy P",
        ' ├─ [~] Properties.Statement[1].Sid: "B" -> "New"',
        ' └─ [+] Properties.Statement[2]: {"Effect": "Deny", "Sid": "B"}',
    ] or diff_templates(old, new)[2:] == [
        "[~] AWS::IAM::Policy P",
        ' ├─ [+] Properties.Statement[1]: {"Effect": "Allow", "Sid": "New"}',
        ' └─ [~] Properties.Statement[2].Effect: "Allow" -> "Deny"',
    ]
    inserted = {"Resources": {"P": {"Type": "AWS::IAM::Policy", "Properties": {"Statement": [statement("A"), statement("X"), statement("B")]}}}}
    assert diff_templates(old, inserted)[2:] == [
        "[~] AWS::IAM::Policy P",
        ' └─ [+] Properties.Statement[1]: {"Effect": "Allow", "Sid": "X"}',
    ]


def test_diff_tells_a_string_from_a_number_and_true_from_one() -> None:
    old = {"Resources": {"Q": _queue("S/Q/Resource", DelaySeconds="5", FifoQueue=1)}}
    new = {"Resources": {"Q": _queue("S/Q/Resource", DelaySeconds=5, FifoQueue=True)}}
    assert diff_templates(old, new)[3:] == [
        ' ├─ [~] Properties.DelaySeconds: "5" -> 5',
        " └─ [~] Properties.FifoQueue: 1 -> true",
    ]
    assert diff_templates(new, new) == ["no difference"]


def test_diff_takes_construct_paths_from_the_stack_when_the_template_has_none() -> None:
    old = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 0}}}}
    new = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 1}}}}
    assert diff_templates(old, new)[2] == "[~] AWS::SQS::Queue Q"
    assert diff_templates(old, new, construct_paths={"Q": "S/Q/Resource"})[2] == "[~] AWS::SQS::Queue Q (S/Q/Resource)"


def test_diff_of_a_deep_change_in_a_sample_stack_is_one_resource_and_one_line() -> None:
    """The sample app's Monitoring stack (its committed snapshot, 23 resources): one condition value deep
    in the alarm topic key's policy changes, and the diff is exactly that, however big the template."""
    template = json.loads((ROOT / "tests/patterns/__snapshots__/test_snapshots/test_sample_stack[Monitoring].json").read_text())
    assert len(template["Resources"]) > 20
    changed = copy.deepcopy(template)
    key_id, key = next((k, r) for k, r in changed["Resources"].items() if r["Type"] == "AWS::KMS::Key")
    index, statement = next((i, s) for i, s in enumerate(key["Properties"]["KeyPolicy"]["Statement"]) if "Condition" in s)
    statement["Condition"]["StringEquals"]["aws:SourceAccount"] = "111111111111"
    assert diff_templates(template, changed, construct_paths={key_id: "ConstructsSqsMonitoring/OrdersAlarms/TopicKey/Resource"}) == [
        "Resources: 1 changed",
        "Resources",
        f"[~] AWS::KMS::Key {key_id} (ConstructsSqsMonitoring/OrdersAlarms/TopicKey/Resource)",
        f' └─ [~] Properties.KeyPolicy.Statement[{index}].Condition.StringEquals.aws:SourceAccount: '
        '{"Ref": "AWS::AccountId"} -> "111111111111"',
    ]


BIG_STACK_MODULE = """
import os
import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from constructs_sqs import EncryptedQueue, FifoQueueWithDlq, LambdaTriggeredQueue, QueueAlarms

def make_stack():
    # Eight queue pairs, two consumers, alarms and one dashboard: a stack of well over 100 resources.
    stack = cdk.Stack(cdk.App(), "Shop")
    first = None
    for index in range(8):
        name = f"Queue{index}"
        if index == 3:  # the one a user edits: its retention and receive count come from the test
            queue = EncryptedQueue(
                stack, name,
                retention_period=Duration.days(int(os.environ.get("RETENTION_DAYS", "4"))),
                max_receive_count=int(os.environ.get("MAX_RECEIVES", "5")),
            )
        else:
            queue = FifoQueueWithDlq(stack, name) if index % 2 else EncryptedQueue(stack, name)
        if index in (3, 4):
            queue = LambdaTriggeredQueue(
                stack, f"Consumer{index}", queue=queue, code=lambda_.Code.from_inline("x"), handler="index.handler"
            )
        alarms = QueueAlarms(
            stack, f"Alarms{index}", queue=queue,
            topic=first.topic if first else None, dashboard=first.dashboard if first else None,
        )
        first = first or alarms
    return stack
"""

BIG_TEST_MODULE = """
from big_stack import make_stack

def test_shop(cdk_snapshot):
    stack = make_stack()
    assert len(stack.node.find_all()) > 100
    assert stack == cdk_snapshot
"""


def test_one_property_change_deep_in_a_large_stack_shows_all_of_it_without_verbosity(pytester, monkeypatch) -> None:
    """Two edits of one queue among eight, in a stack of well over 100 constructs, each run at pytest's
    default verbosity. The diff is complete (no "...", no "use -vv"): a changed receive count is one
    resource and one line; a changed retention (the case of the issue) names the queue's
    MessageRetentionPeriod and every value the library derived from it, such as the age alarm's threshold."""
    pytester.makepyfile(big_stack=BIG_STACK_MODULE, test_big=BIG_TEST_MODULE)
    pytester.runpytest_inprocess("--snapshot-update", "-p", "no:cacheprovider").assert_outcomes(passed=1)

    monkeypatch.setenv("MAX_RECEIVES", "6")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       AssertionError: the template differs from snapshot 'test_shop'",
            "E       Resources: 1 changed",
            "E       Resources",
            "E       [[]~] AWS::SQS::Queue Queue3*Resource/Resource)",  # [[] is fnmatch for a literal [
            "E        └─ [~] Properties.RedrivePolicy.maxReceiveCount: 5 -> 6",
            "E       If the change is intended, run pytest --snapshot-update to accept it.",
            "",
        ],
        consecutive=True,
    )
    assert "Full output truncated" not in result.stdout.str()

    monkeypatch.setenv("MAX_RECEIVES", "5")
    monkeypatch.setenv("RETENTION_DAYS", "2")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       Resources: * changed",  # the queue, its age alarm, ... (as many as derive from it)
            "E       Resources",
            "E       [[]~] AWS::CloudWatch::Alarm Alarms3AgeAlarm* (Shop/Alarms3/AgeAlarm/Resource)",
            "E        *[[]~] Properties.Threshold: 172800 -> 86400",
            "E       [[]~] AWS::SQS::Queue Queue3* (Shop/Queue3/Resource/Resource)",
            "E        └─ [~] Properties.MessageRetentionPeriod: 345600 -> 172800",
        ],
        consecutive=False,
    )
    diff = [line for line in result.stdout.lines if line.startswith("E   ")]
    assert not any(line.rstrip().endswith("...") for line in diff)


def test_a_missing_snapshot_says_how_to_create_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_new="def test_new(cdk_snapshot):\n    assert {'Resources': {}} == cdk_snapshot\n"
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       AssertionError: the template differs from snapshot 'test_new'",
            "E       Snapshot 'test_new' does not exist!",
            "E       If the change is intended, run pytest --snapshot-update to accept it.",
        ],
        consecutive=True,
    )


def test_without_syrupy_the_fixture_names_the_extra_and_other_tests_still_run(pytester, monkeypatch) -> None:
    import constructs_sqs.testing as plugin

    real_find_spec = plugin.importlib.util.find_spec
    monkeypatch.setattr(plugin.importlib.util, "find_spec", lambda name, *a: None if name == "syrupy" else real_find_spec(name, *a))
    pytester.makepyfile(
        test_user="""
        def test_uses_the_fixture(cdk_snapshot):
            assert {} == cdk_snapshot

        def test_does_not(cdk_snapshot_unrelated=None):
            assert 1 + 1 == 2
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:syrupy", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    errors = result.stdout.str().split("= ERRORS =", 1)[1].split("short test summary info", 1)[0]
    assert errors.splitlines()[1:3] == [
        "___________________ ERROR at setup of test_uses_the_fixture ____________________",
        "the cdk_snapshot fixture needs syrupy, which is not installed: pip install 'constructs-sqs[testing]'",
    ]
    assert "Traceback" not in errors and "During handling" not in errors


def test_with_syrupy_disabled_the_fixture_says_so(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="def test_uses_the_fixture(cdk_snapshot):\n    assert {} == cdk_snapshot\n")
    result = pytester.runpytest_inprocess("-p", "no:syrupy", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the cdk_snapshot fixture needs syrupy's pytest plugin, which is disabled*"])
