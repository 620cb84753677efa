"""The import contract: the public names of the issues, re-exported lazily."""

from __future__ import annotations

import subprocess
import sys

import constructs_sqs

PUBLIC = {
    "AlarmsPlan",
    "ConfigurationError",
    "ConsumerPlan",
    "EncryptedQueue",
    "FifoQueueWithDlq",
    "ImportedQueueWithDlq",
    "LambdaTriggeredQueue",
    "QueueAlarms",
    "QueueMetricFactory",
    "QueueWithDlqBase",
}


def test_every_public_name_is_exported_and_importable() -> None:
    assert set(constructs_sqs.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(constructs_sqs, name).__name__ == name


def test_one_line_imports_of_the_issues_work() -> None:
    from constructs_sqs import EncryptedQueue, FifoQueueWithDlq, LambdaTriggeredQueue, QueueAlarms

    assert issubclass(FifoQueueWithDlq, constructs_sqs.QueueWithDlqBase)
    assert issubclass(EncryptedQueue, constructs_sqs.QueueWithDlqBase)
    assert callable(LambdaTriggeredQueue.add_alarms) and callable(QueueAlarms)
    assert issubclass(constructs_sqs.ConfigurationError, ValueError)


def test_loading_the_pytest_plugin_does_not_start_jsii() -> None:
    """Every pytest run of a user's project loads constructs_sqs.testing: it must stay light."""
    code = "import sys, constructs_sqs.testing; print('aws_cdk' in sys.modules, 'jsii' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_the_lambda_runtime_package_needs_no_cdk() -> None:
    code = "import sys, constructs_sqs_runtime; print('aws_cdk' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False"]
