"""The cdk_snapshot pytest plugin: normalization, and the plugin run as a user would run it (pytester)."""

from __future__ import annotations

import textwrap

import pytest

from constructs_sqs.testing import ASSET_HASH, normalize_template

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
    result.stdout.fnmatch_lines(["*MemorySize*256*", "*MemorySize*512*"], consecutive=False)


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
