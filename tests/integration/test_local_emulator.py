"""The emulator as a managed process (RELIABILITY E4) that consumes nothing behind the user's back (E2)."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import pytest

from constructs_sqs.local import Emulator, EmulatorError, find_free_port


def test_the_session_emulator_is_reachable_with_its_own_clients(emulator):
    assert emulator.endpoint_url == f"http://localhost:{emulator.port}"
    assert (emulator.region, emulator.account_id) == ("us-east-1", "123456789012")
    identity = emulator.client("sts").get_caller_identity()
    assert identity["Account"] == "123456789012"
    env = emulator.environment({"AWS_PROFILE": "prod", "PATH": "/bin"})
    assert "AWS_PROFILE" not in env
    assert env["AWS_ENDPOINT_URL"] == emulator.endpoint_url
    assert env["AWS_ACCESS_KEY_ID"] == "testing"


def test_start_reset_stop_by_recorded_process_id(tmp_path):
    emulator = Emulator(find_free_port(), state_dir=tmp_path, exit_with_parent=True)
    try:
        record = emulator.start()
        assert json.loads((tmp_path / "emulator.json").read_text())["pid"] == record.pid
        assert emulator.healthy()
        assert emulator.start().pid == record.pid, "a second start reuses the running server"
        sqs = emulator.client("sqs")
        sqs.create_queue(QueueName="smoke")
        assert [url.rsplit("/", 1)[-1] for url in sqs.list_queues()["QueueUrls"]] == ["smoke"]
        emulator.reset()
        assert sqs.list_queues().get("QueueUrls", []) == []
    finally:
        assert emulator.stop() is True
    assert not emulator.healthy()
    assert not (tmp_path / "emulator.json").exists()
    assert not Path(f"/proc/{record.pid}").exists()
    assert emulator.stop() is False, "stopping a stopped emulator is a no-op"
    assert "POST /moto-api/reset" in (tmp_path / "emulator.log").read_text()


def test_stop_never_signals_a_process_it_did_not_start(tmp_path):
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        port = find_free_port()
        (tmp_path / "emulator.json").write_text(
            json.dumps({"pid": bystander.pid, "port": port, "log_file": "x", "started_at": 0})
        )
        assert Emulator(port, state_dir=tmp_path).stop() is False
        time.sleep(0.2)
        assert bystander.poll() is None, "the process named by a stale record must survive"
    finally:
        bystander.kill()
        bystander.wait()


def test_a_port_taken_by_another_program_is_refused(tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(EmulatorError, match=rf"port {port} is in use by another program.*LOCAL_PORT"):
            Emulator(port, state_dir=tmp_path).start()


def test_a_server_that_exits_at_once_is_reported_with_its_log(tmp_path):
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\necho 'ModuleNotFoundError: No module named moto' >&2\nexit 3\n")
    fake_python.chmod(0o755)
    emulator = Emulator(find_free_port(), state_dir=tmp_path, python=str(fake_python))
    with pytest.raises(EmulatorError, match=r"exited with code 3(.|\n)*No module named moto"):
        emulator.start(timeout=10)
    assert not (tmp_path / "emulator.json").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"port": 0}, r"port must be a whole number between 1 and 65535, got 0"),
        ({"port": 70000}, r"port must be a whole number between 1 and 65535, got 70000"),
        ({"port": "4566"}, r"port must be a whole number between 1 and 65535, got '4566'"),
        ({"region": "Europe"}, r"region must be an AWS region name such as 'us-east-1', got 'Europe'"),
    ],
)
def test_bad_arguments_name_the_argument_and_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Emulator(**kwargs)


def _lambda_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


def test_event_source_mappings_never_consume_the_queue(emulator):
    """RELIABILITY E2: moto's own mapping used to receive a batch on every send and fail to invoke."""
    suffix = uuid.uuid4().hex[:8]
    sqs, lambda_, iam = emulator.client("sqs"), emulator.client("lambda"), emulator.client("iam")
    dlq = sqs.create_queue(QueueName=f"e2-dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName=f"e2-{suffix}",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})},
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    role = iam.create_role(RoleName=f"e2-{suffix}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    function = lambda_.create_function(
        FunctionName=f"e2-{suffix}", Runtime="python3.12", Role=role, Handler="handler.handler",
        Code={"ZipFile": _lambda_zip()},
    )["FunctionArn"]
    mapping = lambda_.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=function, BatchSize=10)
    assert mapping["State"] in ("Enabled", "Creating")

    for index in range(20):
        sqs.send_message(QueueUrl=queue, MessageBody=f"message {index}")
    time.sleep(1.5)

    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "20"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    dlq_attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
    assert dlq_attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in received["Messages"]} == {"1"}
    assert lambda_.list_event_source_mappings(FunctionName=function)["EventSourceMappings"][0]["UUID"] == mapping["UUID"]
