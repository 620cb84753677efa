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
    "QueueWorkerService",
    "WorkerPlan",
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


CONSTRUCTS = ("EncryptedQueue", "FifoQueueWithDlq", "ImportedQueueWithDlq", "LambdaTriggeredQueue", "QueueAlarms", "QueueWorkerService")


def test_help_shows_the_keyword_signature_and_the_docstring_of_each_construct() -> None:
    """jsii's metaclass makes every class ``(*args, **kwargs)``; _jsii.keyword_signature repairs it."""
    import inspect
    import pydoc

    for name in CONSTRUCTS:
        cls = getattr(constructs_sqs, name)
        signature = inspect.signature(cls)
        assert list(signature.parameters)[:2] == ["scope", "id"], name
        assert signature.parameters["id"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in list(signature.parameters.values())[2:]), name
        assert cls.__init__.__doc__ == cls.__doc__, name
        shown = pydoc.render_doc(cls)
        assert "(*args" not in shown and "Creates a new construct node" not in shown, name
    assert "queue_arn" in inspect.signature(constructs_sqs.ImportedQueueWithDlq).parameters


def test_typed_attributes_say_what_can_be_none() -> None:
    """A user's ``mypy --strict`` reads these: EncryptedQueue always has a key; only optional alarms are Optional."""
    from constructs_sqs import EncryptedQueue, QueueAlarms

    assert EncryptedQueue.__annotations__["encryption_key"] == "kms.IKey"
    alarms = QueueAlarms.__annotations__
    for always in ("depth_alarm", "age_alarm", "in_flight_alarm", "time_to_drain_alarm"):
        assert alarms[always] == "cloudwatch.Alarm", always
    for optional in ("age_slo_alarm", "dead_letter_alarm", "consumer_errors_alarm", "consumer_throttles_alarm",
                     "dead_letter_age_alarm", "silent_producer_alarm"):
        assert alarms[optional] == "cloudwatch.Alarm | None", optional


def test_encryption_key_is_the_key_of_both_queues() -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_kms as kms

    from constructs_sqs import EncryptedQueue

    stack = cdk.Stack(cdk.App(), "S")
    created = EncryptedQueue(stack, "Q")
    given = kms.Key(stack, "K")
    passed = EncryptedQueue(stack, "P", encryption_master_key=given)
    assert isinstance(created.encryption_key, kms.Key) and created.encryption_key.node.path == "S/Q/Key"
    assert passed.encryption_key is given
