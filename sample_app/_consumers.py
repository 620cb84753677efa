"""The Lambda code of the sample app: every handler module in sample_app/handlers, one asset."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_

HANDLERS_DIR = Path(__file__).resolve().parent / "handlers"


def handlers_code() -> lambda_.Code:
    """The handlers directory as Lambda code (no dependencies to bundle: Powertools comes as a layer)."""
    return lambda_.Code.from_asset(str(HANDLERS_DIR), exclude=["__pycache__", "*.pyc"])
