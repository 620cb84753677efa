"""``make deploy-local`` end to end (RELIABILITY E1, E4): the command the Makefile runs, twice, then
``stop`` by the recorded process id. It uses a state directory, port and cloud assembly of its own,
so a developer's running emulator is never touched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from constructs_sqs.local import find_free_port

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_STACKS = ["ConstructsSqsOrders", "ConstructsSqsMedia", "ConstructsSqsEvents", "ConstructsSqsMonitoring", "ConstructsSqsTranscoding"]


def _local(state: Path, *args: str, port: int, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOCAL_PORT": str(port), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    command = [sys.executable, "-m", "constructs_sqs.local", "--state-dir", str(state), *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _alive(pid: int) -> bool:
    """Alive and not a zombie (the emulator outlived the command that started it, so init reaps it)."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def test_the_makefile_targets_call_the_module_with_local_port():
    dry = subprocess.run(["make", "-n", "deploy-local", "run-local", "stop-local", "LOCAL_PORT=4999"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    for command in ("deploy", "run", "stop"):
        assert f"-m constructs_sqs.local --port 4999 {command}" in dry


def test_deploy_local_twice_then_stop(tmp_path):
    port = find_free_port()
    state = tmp_path / "state"
    deploy = ("deploy", "--output", str(tmp_path / "cdk.out"))
    try:
        first = _local(state, *deploy, port=port)
        assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
        for stack in SAMPLE_STACKS:
            assert f"[ok] {stack}: CREATE_COMPLETE" in first.stdout
        assert "25 x AWS::CloudWatch::Alarm - 25/25 found in the emulator" in first.stdout
        assert f"export AWS_ENDPOINT_URL=http://localhost:{port}" in first.stdout
        assert "account: 123456789012" in first.stdout
        pid = json.loads((state / "emulator.json").read_text())["pid"]

        second = _local(state, *deploy, port=port)
        assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-4000:]
        assert f"Emulator: pid {pid} on http://localhost:{port}" in second.stdout, "the second run reuses the emulator"
        assert second.stdout.count("CREATE_COMPLETE,") == len(SAMPLE_STACKS)
        assert _local(state, "status", port=port).returncode == 0
    finally:
        stopped = _local(state, "stop", port=port, timeout=60)
    assert stopped.stdout.strip() == "Emulator stopped."
    assert not _alive(pid)
    status = _local(state, "status", port=port, timeout=60)
    assert (status.returncode, status.stdout.strip()) == (1, "No emulator is running.")
