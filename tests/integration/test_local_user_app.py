"""A user's own app, deployed the way the README says (RELIABILITY E6): ``python -m constructs_sqs.local
deploy --project-dir .`` run in a directory of its own outside this repository, on an emulator of its own.

The app has what the issue found failing: a bucket with ``enforce_ssl=True`` notifying an
``EncryptedQueue``; and a Lambda-backed custom resource of its own, which no emulator without Docker can
run (a gap the README lists). The deploy exits 0, reports the gap as a gap, and its closing line names the
commands a user of the installed package runs; an object put into the bucket reaches the queue.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from constructs_sqs.local import find_free_port

ROOT = Path(__file__).resolve().parents[2]

APP = '''
import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n

from constructs_sqs import EncryptedQueue

app = cdk.App()
stack = cdk.Stack(app, "UserApp")
bucket = s3.Bucket(stack, "Inbox", enforce_ssl=True, removal_policy=cdk.RemovalPolicy.DESTROY)
orders = EncryptedQueue(stack, "Orders")
orders.allow_service_producer("s3.amazonaws.com", bucket.bucket_arn)
bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SqsDestination(orders.queue))

greeter = lambda_.Function(
    stack, "Greeter", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
    code=lambda_.Code.from_inline("def handler(event, context):\\n    return {}\\n"),
)
cdk.CustomResource(stack, "Greeting", service_token=greeter.function_arn, resource_type="Custom::Greeting")
cdk.CfnOutput(stack, "Bucket", value=bucket.bucket_name)
cdk.CfnOutput(stack, "Queue", value=orders.queue.queue_name)
app.synth()
'''


def _local(cwd: Path, state: Path, port: int, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LOCAL_PORT"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    command = [sys.executable, "-m", "constructs_sqs.local", "--port", str(port), "--state-dir", str(state), *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_a_users_app_deploys_with_exit_0_and_its_bucket_notifies_its_queue(tmp_path):
    project = tmp_path / "user-app"
    project.mkdir()
    (project / "app.py").write_text(textwrap.dedent(APP))
    (project / "cdk.json").write_text(json.dumps({"app": "python3 app.py", "context": {
        "@aws-cdk/aws-iam:minimizePolicies": True, "@aws-cdk/core:validateAgainstDefaultRules": True}}))
    (project / "node_modules").symlink_to(ROOT / "node_modules")  # the user's `npm install aws-cdk`
    port, state = find_free_port(), tmp_path / "state"
    try:
        deploy = _local(project, state, port, "deploy", "--project-dir", ".")
        out = deploy.stdout
        assert deploy.returncode == 0, out[-4000:] + deploy.stderr[-4000:]
        assert "[ok] UserApp: CREATE_COMPLETE" in out
        assert "1 x AWS::S3::BucketPolicy - 1/1 found in the emulator" in out
        assert "1 x Custom::S3BucketNotifications - 1/1 found in the emulator" in out
        assert "1 x Custom::Greeting - 0/1 found in the emulator, 1 a listed gap" in out
        assert "~ listed gap: a custom resource backed by a Lambda" in out
        assert "1 resources are gaps the README's \"Emulator gaps\" table lists" in out
        closing = out.strip().splitlines()[-1]
        assert f"python -m constructs_sqs.local --port {port} --state-dir {state} run plays the consumers" in closing
        assert f"python -m constructs_sqs.local --port {port} --state-dir {state} stop stops it" in closing
        assert "make " not in out, "a user's app has no make targets"

        import boto3

        clients = {"endpoint_url": f"http://localhost:{port}", "region_name": "us-east-1",
                   "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        stacks = boto3.client("cloudformation", **clients).describe_stacks(StackName="UserApp")["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0]["Outputs"]}
        boto3.client("s3", **clients).put_object(Bucket=outputs["Bucket"], Key="order-1.json", Body=b"{}")
        sqs = boto3.client("sqs", **clients)
        url = sqs.get_queue_url(QueueName=outputs["Queue"])["QueueUrl"]
        keys: list[str] = []
        deadline = time.monotonic() + 30
        while not keys and time.monotonic() < deadline:
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
                keys += [record["s3"]["object"]["key"] for record in json.loads(message["Body"]).get("Records", [])]
        assert keys == ["order-1.json"]
    finally:
        stopped = _local(project, state, port, "stop", timeout=60)
    assert stopped.stdout.strip() == "Emulator stopped."


def test_a_missing_resource_that_is_no_listed_gap_fails_the_deploy():
    from constructs_sqs.local.__main__ import deploy_verdict
    from constructs_sqs.local.deploy import DeployedResource, DeployedStack, Deployment
    from constructs_sqs.local.gaps import GAPS

    resources = (
        DeployedResource("App", "Queue", "AWS::SQS::Queue", "https://sqs/q", None),
        DeployedResource("App", "Scaling", "AWS::ApplicationAutoScaling::ScalableTarget", None, None),
        DeployedResource("App", "Greeting", "Custom::Greeting", "App-Greeting-1", None),
    )
    deployment = Deployment((DeployedStack("App", "CREATE_COMPLETE", {}, resources, {}),), Path("."), "http://x", "us-east-1", "1")
    gaps = {("App", "Greeting"): GAPS[0]}
    checks: dict[tuple[str, str], str | None] = {("App", "Queue"): None, ("App", "Scaling"): "not created", ("App", "Greeting"): None}
    assert deploy_verdict(deployment, checks, gaps) == (
        1, "Deployed 1 stack: 0 not complete (none), 1 resources missing (marked !), none of them a gap the README lists.")
    checks[("App", "Scaling")] = None
    assert deploy_verdict(deployment, checks, gaps)[0] == 0
    failed = Deployment((DeployedStack("App", "CREATE_FAILED", {}, resources[:1], {}),), Path("."), "http://x", "us-east-1", "1")
    assert deploy_verdict(failed, {("App", "Queue"): None}, {}) == (
        1, "Deployed 1 stack: 1 not complete (App), 0 resources missing (marked !), none of them a gap the README lists.")
