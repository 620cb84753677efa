"""The sample app synthesizes with CloudFormation's default rules as errors, and meets the defaults."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import ROOT, new_app

from sample_app import build

STACKS = {"Orders": "ConstructsSqsOrders", "Media": "ConstructsSqsMedia"}


@pytest.fixture(scope="module")
def assembly():
    app = new_app()
    assert app.node.try_get_context("@aws-cdk/core:validateAgainstDefaultRules") is True
    build(app)
    # With validateAgainstDefaultRules, a failed CloudFormation rule raises here instead of warning.
    return app.synth()


def test_every_sample_stack_is_synthesized(assembly) -> None:
    assert {s.stack_name for s in assembly.stacks} == set(STACKS.values())


def test_orders_is_a_high_throughput_fifo_pair(assembly) -> None:
    template = assembly.get_stack_by_name(STACKS["Orders"]).template
    queues = [r for r in template["Resources"].values() if r["Type"] == "AWS::SQS::Queue"]
    assert len(queues) == 2
    assert all(q["Properties"]["FifoQueue"] is True for q in queues)
    assert all(q["Properties"]["DeduplicationScope"] == "messageGroup" for q in queues)


def test_media_key_lets_both_producers_encrypt(assembly) -> None:
    template = assembly.get_stack_by_name(STACKS["Media"]).template
    keys = {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::KMS::Key"}
    queue_key = next(r for k, r in keys.items() if k.startswith("TranscodeKey"))
    scoped = {
        s["Principal"]["Service"]
        for s in queue_key["Properties"]["KeyPolicy"]["Statement"]
        if "Service" in s.get("Principal", {})
        and {"kms:GenerateDataKey*", "kms:Decrypt"} <= set(s["Action"])
        and "aws:SourceArn" in s.get("Condition", {}).get("ArnEquals", {})
    }
    assert scoped == {"sns.amazonaws.com", "events.amazonaws.com"}


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
