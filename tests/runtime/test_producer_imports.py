"""The runtime package imports lazily: the boto3 helpers need no Powertools, the batch helper no boto3, and a
missing dependency names the extra to install."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run_without(blocked: list[str], code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter where importing any of ``blocked`` fails as if not installed."""
    prelude = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in blocked)
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=60)


def test_the_boto3_helpers_import_without_powertools_and_load_neither_dependency() -> None:
    done = run_without(
        ["aws_lambda_powertools"],
        "from constructs_sqs_runtime import Consumer, consume, redrive, send_messages\n"
        "print(callable(redrive), 'boto3' in sys.modules, 'aws_cdk' in sys.modules)",
    )
    assert done.stdout.split() == ["True", "False", "False"], done.stderr


def test_the_batch_helper_imports_without_boto3() -> None:
    done = run_without(["boto3", "botocore"], "from constructs_sqs_runtime import sqs_batch_handler\nprint(sqs_batch_handler.__name__)")
    assert done.stdout.split() == ["sqs_batch_handler"], done.stderr


@pytest.mark.parametrize(
    ("blocked", "code", "expected"),
    [
        (["aws_lambda_powertools"], "from constructs_sqs_runtime import sqs_batch_handler", "constructs_sqs_runtime.sqs_batch_handler needs aws_lambda_powertools"),
        (["boto3"], "from constructs_sqs_runtime import send_messages\nsend_messages('https://sqs.eu-west-1.amazonaws.com/1/q', ['x'])", "the SQS helpers of constructs_sqs_runtime need boto3"),
    ],
)
def test_a_missing_dependency_names_the_extra(blocked: list[str], code: str, expected: str) -> None:
    done = run_without(blocked, code)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: ") and expected in last and "pip install 'constructs-sqs[runtime]'" in last
