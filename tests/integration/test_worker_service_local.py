"""A worker service deployed into the emulator and played by ``constructs_sqs.local``'s autoscaler with the
package's worker, ``python -m constructs_sqs_runtime.worker`` (issue 19).

2,000 messages on the service's queue; the local autoscaler evaluates the deployed policies (step scaling wakes
the service from zero, target tracking on backlog per task scales it out, then back to the minimum); worker
processes keep a ledger of what they handled. It proves: every message handled exactly once, more than one
worker at the peak, back to the minimum at the end, and at least one worker stopped by a scale-in while other
workers held messages (scale-in protection), with none lost or handled twice. Four jobs take 30 s, the last one
sent among them, so workers still hold messages after the queue is empty, when the scale-in comes and the idle
workers have released their protection; the others take 0.1 s.

The figures (drain time, worker count over time) are printed and written to ``bench/results/worker_local.json``.

Until ``QueueWorkerService`` lands, the stack is a hand-written one of the contract's shape
(``local_worker_app.py``); the handler (``ledger_handler.py``, written into the project) keeps the ledger.
"""

from __future__ import annotations

import collections
import json
import os
import time
from pathlib import Path

import pytest

from constructs_sqs.local.__main__ import deploy_verdict
from constructs_sqs.local.deploy import deploy_app
from constructs_sqs.local.inventory import check_resources, gaps_in
from constructs_sqs.local.workers import WorkerServiceRunner, discover_worker_services

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 2000
SLOW_EVERY = 500
SLOW_SECONDS = 30
SCALE_IN_PERIODS = 5
"""Scale-in after 5 low periods of 1 s instead of target tracking's 15: the same rule, in a test's time."""
RESULTS = ROOT / "bench" / "results" / "worker_local.json"

LEDGER_HANDLER = '''
"""The test's handler: a pause (longer for one job in LEDGER_SLOW_EVERY), then one ledger line per message."""
import os
import time


def handle(message):
    number = int(message.body.rsplit("-", 1)[-1])
    every = int(os.environ["LEDGER_SLOW_EVERY"])
    slow = every and number % every == every - 1
    time.sleep(float(os.environ["LEDGER_SLOW_SECONDS"] if slow else os.environ["LEDGER_JOB_SECONDS"]))
    descriptor = os.open(os.environ["LEDGER_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, f"{message.body} {os.getpid()}\\n".encode())
    finally:
        os.close(descriptor)
'''


@pytest.fixture(scope="module")
def worker_project(emulator, tmp_path_factory):
    project = tmp_path_factory.mktemp("worker-project")
    ledger = project / "ledger.txt"
    context = {
        "worker:min": "0",
        "worker:max": "6",
        "worker:target": "100",
        "worker:jobSeconds": "0.1",
        "worker:slowEvery": str(SLOW_EVERY),
        "worker:slowSeconds": str(SLOW_SECONDS),
        "worker:ledger": str(ledger),
    }
    (project / "cdk.json").write_text(json.dumps({"app": f"python3 {ROOT / 'tests' / 'integration' / 'local_worker_app.py'}", "context": context}))
    os.symlink(ROOT / "node_modules", project / "node_modules")
    (project / "ledger_handler.py").write_text(LEDGER_HANDLER)
    with (project / "cdk.log").open("w") as log:
        deployment = deploy_app(emulator, project_dir=project, reset=False, log=log)
    return project, ledger, deployment


def test_the_worker_service_deploys_with_every_resource_in_its_service(emulator, worker_project):
    _, _, deployment = worker_project
    checks = check_resources(emulator, deployment)
    status, verdict = deploy_verdict(deployment, checks, gaps_in(deployment))
    assert status == 0, verdict + "\n" + "\n".join(f"{key}: {problem}" for key, problem in checks.items() if problem)
    stack = deployment.stack("ConstructsSqsLocalWorker")
    assert stack.counts()["AWS::ApplicationAutoScaling::ScalingPolicy"] == 2
    (service,) = discover_worker_services(emulator, deployment)
    assert service.container.command == ("python", "-m", "constructs_sqs_runtime.worker")
    assert service.container.stop_timeout_seconds == 30
    assert service.plan is not None and service.plan.target_value == 100
    assert (service.plan.min_capacity, service.plan.max_capacity) == (0, 6)
    assert service.plan.step is not None and service.plan.step.adjustment_type == "ChangeInCapacity"
    assert [q.expression for q in service.plan.step.alarm_metrics if q.expression] == ["IF(FILL(m2, 0) < 1, m1, 0)"]
    assert service.queue_name and service.queue_name.startswith("ConstructsSqsLocalWorker-Jobs")


def test_2000_messages_drain_exactly_once_scaling_out_and_back_to_the_minimum(emulator, worker_project):
    project, ledger, deployment = worker_project
    (service,) = discover_worker_services(emulator, deployment)
    assert service.plan is not None
    sqs = emulator.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=service.queue_name)["QueueUrl"]
    started = time.monotonic()
    for first in range(0, MESSAGES, 10):
        response = sqs.send_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": str(n), "MessageBody": f"job-{n}"} for n in range(first, first + 10)]
        )
        assert not response.get("Failed"), response["Failed"]
    sent_in = time.monotonic() - started

    runner = WorkerServiceRunner(emulator, [service], project_dir=project, period_seconds=1.0, scale_in_periods=SCALE_IN_PERIODS)
    drained_at: list[float] = []

    def done(stats):
        line = stats[service.service]
        if not drained_at and line.visible == 0 and line.in_flight == 0 and _handled(ledger) >= MESSAGES:
            drained_at.append(time.monotonic())
        return bool(drained_at) and line.running == service.plan.min_capacity and line.stopping == 0

    lines = []
    runner.run(duration=240, until=done, status=lambda stats: lines.append(stats[service.service].line()))
    finished = time.monotonic()
    supervisor = runner.supervisors()[service.service]
    history = runner.history()

    handled = [line.split()[0] for line in ledger.read_text().splitlines()]
    counts = collections.Counter(handled)
    expected = {f"job-{n}" for n in range(MESSAGES)}
    lost = sorted(expected - set(counts))
    duplicated = sorted(body for body, count in counts.items() if count > 1)
    peak = max(sample.running for sample in history)
    stops_while_held = [stop for stop in supervisor.stops if stop.others_protected > 0 and stop.in_flight]
    exited_alone = [w for w in supervisor.exited if w.stop_sent_at is None]
    stopped_workers = {stop.task_id for stop in supervisor.stops}
    by_pid = collections.Counter(line.split()[1] for line in ledger.read_text().splitlines())
    figures = {
        "messages": MESSAGES,
        "send_seconds": round(sent_in, 1),
        "drain_seconds": round(drained_at[0] - started, 1) if drained_at else None,
        "back_to_minimum_seconds": round(finished - started, 1),
        "period_seconds": 1.0,
        "scale_in_periods": SCALE_IN_PERIODS,
        "target_backlog_per_task": service.plan.target_value,
        "min_tasks": service.plan.min_capacity,
        "max_tasks": service.plan.max_capacity,
        "peak_workers": peak,
        "workers_started": supervisor.started,
        "workers_stopped_by_scale_in": len(supervisor.stops),
        "scale_ins_while_others_held_messages": len(stops_while_held),
        "workers_killed_after_stop_timeout": sum(1 for w in supervisor.exited if w.killed),
        "workers_exited_on_their_own": len(exited_alone),
        "handled_per_worker_process": sorted(by_pid.values(), reverse=True),
        "lost": len(lost),
        "handled_twice": len(duplicated),
        "worker_count_over_time": [
            {"t": round(s.at, 1), "visible": s.visible, "in_flight": s.in_flight, "desired": s.desired, "running": s.running,
             "protected": s.protected, **({"reason": s.reason} if s.reason else {})}
            for s in history
        ],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=1) + "\n")
    changes = [f"{s.at:6.1f} s  desired {s.desired}  running {s.running}  visible {s.visible:4}  in flight {s.in_flight:3}  {s.reason}"
               for i, s in enumerate(history) if i == 0 or (s.running, s.desired) != (history[i - 1].running, history[i - 1].desired)]
    print(f"\n{MESSAGES} messages sent in {sent_in:.1f} s; drained in {figures['drain_seconds']} s; back to {service.plan.min_capacity} "
          f"workers at {figures['back_to_minimum_seconds']} s; peak {peak} workers; {len(supervisor.stops)} stopped by scale-in, "
          f"{len(stops_while_held)} of them while other workers held messages; lost {len(lost)}, handled twice {len(duplicated)}")
    print("\n".join(changes))

    assert not lost, f"{len(lost)} messages never handled: {lost[:10]}"
    assert not duplicated, f"{len(duplicated)} messages handled twice: {duplicated[:10]}"
    assert len(handled) == MESSAGES
    assert drained_at, f"not drained in 240 s: {lines[-1] if lines else 'no status'}"
    assert peak > 1, "the autoscaler never scaled out above one worker"
    assert peak <= service.plan.max_capacity
    assert history[-1].running == service.plan.min_capacity, f"not back to the minimum: {lines[-1]}"
    assert stops_while_held, f"no scale-in happened while other workers held messages: {supervisor.stops}"
    assert figures["workers_killed_after_stop_timeout"] == 0, "a worker had to be killed: it did not drain within its stop timeout"
    assert stopped_workers <= {w.task_id for w in supervisor.exited}, "a stopped worker never exited"
    assert not exited_alone, f"a worker exited by itself: {[str(w.log_path) for w in exited_alone]}"
    assert any("step policy" in s.reason for s in history), "the service did not wake from zero through its step policy"


def _handled(ledger: Path) -> int:
    return len(ledger.read_text().splitlines()) if ledger.exists() else 0
