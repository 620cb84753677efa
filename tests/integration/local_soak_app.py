"""A test-only CDK app for the no-loss soak: one standard queue consumed through the library's pattern.

The sample app's queues hide a failed message for minutes (6 x the function timeout); this stack uses
the same pattern, ``LambdaTriggeredQueue`` with its defaults (max_receive_count 5, partial batch
responses), with a 1-second function timeout, so a failed message is visible again after 6 seconds and
the soak ends in a minute or two. It is deployed next to the sample app by the integration tests, with
the real CDK CLI (``cdk deploy --app "python tests/integration/local_soak_app.py"``); it changes
neither the constructs nor the sample app.
"""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from constructs_sqs import LambdaTriggeredQueue  # noqa: E402

STACK_NAME = "ConstructsSqsLocalSoak"

app = cdk.App()
stack = cdk.Stack(app, STACK_NAME)
LambdaTriggeredQueue(
    stack,
    "Soak",
    code=lambda_.Code.from_asset(str(ROOT / "sample_app" / "handlers"), exclude=["__pycache__", "*.pyc"]),
    handler="events_ingest.handler",
    timeout=Duration.seconds(1),
    batch_size=10,
)
app.synth()
