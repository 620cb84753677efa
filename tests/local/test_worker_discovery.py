"""What the runner reads of a task definition's container, and the docker stand-in a deploy gives the CDK CLI."""

from __future__ import annotations

import subprocess

from constructs_sqs.local.deploy import docker_stand_in
from constructs_sqs.local.supervisor import ContainerSpec
from constructs_sqs.local.workers import ServiceStats, WorkerService, _container


def test_the_first_essential_container_runs_with_entry_point_command_environment_and_stop_timeout():
    definition = {
        "containerDefinitions": [
            {"name": "LogRouter", "essential": False, "command": ["fluent-bit"]},
            {
                "name": "Worker",
                "essential": True,
                "entryPoint": ["python", "-m"],
                "command": ["constructs_sqs_runtime.worker"],
                "environment": [{"name": "CONSTRUCTS_SQS_QUEUE_URL", "value": "https://sqs/q"}],
                "secrets": [{"name": "API_KEY", "valueFrom": "arn:aws:secretsmanager:..."}],
                "stopTimeout": 70,
            },
        ]
    }
    container, notes = _container(definition)
    assert container.name == "Worker"
    assert container.command == ("python", "-m", "constructs_sqs_runtime.worker")
    assert container.environment == {"CONSTRUCTS_SQS_QUEUE_URL": "https://sqs/q"}
    assert container.stop_timeout_seconds == 70
    assert notes == (
        "only container Worker runs locally; 1 other containers (sidecars) do not",
        "secrets API_KEY are not set locally (no Secrets Manager lookup)",
    )


def test_without_a_stop_timeout_fargates_30_seconds_apply():
    container, notes = _container({"containerDefinitions": [{"name": "W", "command": ["python", "w.py"]}]})
    assert container.stop_timeout_seconds == 30
    assert notes == ()


def test_the_status_line_names_counts_and_what_went_wrong():
    line = ServiceStats("Svc", desired=2, running=3, protected=1, stopping=1, visible=40, in_flight=8, started=4, stopped=1, killed=1, exited=2).line()
    assert line == (
        "Svc: 3 workers (desired 2, 1 protected, 1 stopping), 40 visible, 8 in flight "
        "(started 4, stopped 1, 1 killed after the stop timeout, 2 exited on their own (see their logs))"
    )


def test_the_docker_stand_in_logs_every_call_and_builds_nothing(tmp_path):
    script = docker_stand_in(tmp_path)
    login = subprocess.run([str(script), "login", "--password-stdin", "registry"], input="secret", text=True, check=False)
    inspect = subprocess.run([str(script), "inspect", "cdkasset-1"], check=False)
    push = subprocess.run([str(script), "push", "registry/repo:tag"], check=False)
    assert (login.returncode, inspect.returncode, push.returncode) == (0, 1, 0)
    assert (tmp_path / "docker-stand-in.log").read_text().splitlines() == [
        "login --password-stdin registry",
        "inspect cdkasset-1",
        "push registry/repo:tag",
    ]


def test_with_environment_overrides_the_containers_variables_on_a_copy():
    service = WorkerService("Stack", "cluster", "svc", 0, ContainerSpec("W", ("python", "w.py"), {"A": "1", "B": "2"}), None)
    changed = service.with_environment(B="3", C="4")
    assert changed.container.environment == {"A": "1", "B": "3", "C": "4"}
    assert service.container.environment == {"A": "1", "B": "2"}
    assert changed.container.command == ("python", "w.py")
