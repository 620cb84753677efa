#!/usr/bin/env python3
"""The constructs-sqs sample app: `make synth` runs it through the pinned CDK CLI."""

import aws_cdk as cdk

from sample_app import build

app = cdk.App()
build(app)
app.synth()
