"""The sample app's Transcoding worker service, deployed into the emulator and played by ``constructs_sqs.local``'s
autoscaler with the real worker (``python -m constructs_sqs_runtime.worker``) and the sample handler (issue 19).

2,000 upload messages on the service's queue; the local autoscaler evaluates the deployed policies (the step
policy's metric-math alarm wakes the service from zero, target tracking on backlog per task scales it out, then
back to the minimum); the sample handler writes its ledger (``TRANSCODING_LEDGER``). It proves: every message
handled exactly once, more than one worker at the peak, back to the minimum at the end, and at least one worker
stopped by a scale-in while other workers held messages (their scale-in protection), none lost or handled twice.
Four videos take 30 s, the last one sent among them (a wrapper around the sample handler,
``slow_transcode.py``), so workers still hold messages after the queue is empty, when the scale-in comes and
the idle workers have released their protection; the others take 0.1 s.

The figures (drain time, worker count over time) are printed and written to ``bench/results/worker_local.json``.
"""

from __future__ import annotations

import collections
import json
import time
from pathlib import Path

import pytest

from constructs_sqs.local.__main__ import deploy_verdict
from constructs_sqs.local.inventory import check_resources, gaps_in
from constructs_sqs.local.workers import WorkerServiceRunner, discover_worker_services

ROOT = Path(__file__).resolve().parents[2]
STACK = "ConstructsSqsTranscoding"
MESSAGES = 2000
SLOW_EVERY = 500
SLOW_SECONDS = 30
JOB_SECONDS = 0.1
SCALE_IN_PERIODS = 5
"""Scale-in after 5 low periods of 1 s instead of target tracking's 15: the same rule, in a test's time."""
RESULTS = ROOT / "bench" / "results" / "worker_local.json"

SLOW_TRANSCODE = f'''
"""The sample handler, with one video in {SLOW_EVERY} taking {SLOW_SECONDS} s: long jobs still held when the queue is empty."""
import json
import time

import transcoding_worker


def transcode(message):
    number = int(json.loads(message.body)["key"].rsplit("/", 1)[-1].split(".")[0])
    if number % {SLOW_EVERY} == {SLOW_EVERY} - 1:
        time.sleep({SLOW_SECONDS})
    transcoding_worker.transcode(message)
'''


@pytest.fixture(scope="module")
def transcoding(emulator, deployed_sample_app):
    services = [s for s in discover_worker_services(emulator, deployed_sample_app) if s.stack == STACK]
    assert len(services) == 1, f"the {STACK} stack should have one ECS service, found {services}"
    return services[0]


def test_the_transcoding_stack_deploys_with_every_resource_in_its_service(emulator, deployed_sample_app, transcoding):
    stack = deployed_sample_app.stack(STACK)
    partial = type(deployed_sample_app)((stack,), deployed_sample_app.assembly_dir, deployed_sample_app.endpoint_url,
                                        deployed_sample_app.region, deployed_sample_app.account_id)
    checks = check_resources(emulator, partial)
    status, verdict = deploy_verdict(partial, checks, gaps_in(partial))
    assert status == 0, verdict + "\n" + "\n".join(f"{key}: {problem}" for key, problem in checks.items() if problem)
    assert stack.counts()["AWS::ApplicationAutoScaling::ScalingPolicy"] == 2
    assert transcoding.container.command == ("python", "-m", "constructs_sqs_runtime.worker")
    assert transcoding.container.environment["CONSTRUCTS_SQS_HANDLER"] == "transcoding_worker:transcode"
    assert transcoding.container.environment["CONSTRUCTS_SQS_TASK_PROTECTION"] == "true"
    plan = transcoding.plan
    assert plan is not None and plan.target_value is not None and plan.target_value >= 1
    assert [q.expression for q in plan.metrics if q.expression] == ["m1 / IF(m2 < 1, 1, m2)"]
    assert plan.min_capacity == 0 and plan.max_capacity > 1
    assert plan.step is not None, "no step policy (with its alarm) wakes the service from zero"
    assert transcoding.queue_name and transcoding.queue_name.startswith(f"{STACK}-Jobs")


def test_2000_messages_drain_exactly_once_scaling_out_and_back_to_the_minimum(emulator, transcoding, tmp_path):
    plan = transcoding.plan
    assert plan is not None
    ledger = tmp_path / "ledger.tsv"
    (tmp_path / "slow_transcode.py").write_text(SLOW_TRANSCODE)
    service = transcoding.with_environment(
        TRANSCODING_LEDGER=str(ledger),
        TRANSCODING_SECONDS=str(JOB_SECONDS),
        CONSTRUCTS_SQS_HANDLER="slow_transcode:transcode",
        PYTHONPATH=f"{transcoding.container.environment.get('PYTHONPATH', '')}:{tmp_path}",
    )
    sqs = emulator.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=service.queue_name)["QueueUrl"]
    sqs.purge_queue(QueueUrl=queue_url)  # what other tests published on the Media uploads topic is not this test's
    keys = [f"local-test/{n}.mp4" for n in range(MESSAGES)]

    # The service starts with ECS's default of one task (the template sets no DesiredCount); with the queue empty,
    # target tracking scales it in to the minimum first. The messages go out once it is there, so the step
    # policy has to wake it from zero.
    runner = WorkerServiceRunner(emulator, [service], project_dir=ROOT, period_seconds=1.0, scale_in_periods=SCALE_IN_PERIODS,
                                 log_dir=tmp_path / "workers")
    sent: dict[str, float] = {}
    drained_at: list[float] = []

    def send_at_minimum(stats):
        line = stats[service.service]
        if sent or (line.desired, line.running, line.stopping) != (plan.min_capacity, plan.min_capacity, 0):
            return
        sent["at"] = time.monotonic()
        for first in range(0, MESSAGES, 10):
            response = sqs.send_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(n), "MessageBody": json.dumps({"bucket": "videos", "key": keys[n]})} for n in range(first, first + 10)],
            )
            assert not response.get("Failed"), response["Failed"]
        sent["in"] = time.monotonic() - sent["at"]

    def done(stats):
        line = stats[service.service]
        if sent and not drained_at and line.visible == 0 and line.in_flight == 0 and _handled(ledger) >= MESSAGES:
            drained_at.append(time.monotonic())
        return bool(drained_at) and line.running == plan.min_capacity and line.stopping == 0

    lines = []

    def status(stats):
        lines.append(stats[service.service].line())
        send_at_minimum(stats)

    runner.run(duration=360, until=done, status=status)
    assert sent, f"the service never reached its minimum before the messages: {lines[-1] if lines else None}"
    started, sent_in = sent["at"], sent["in"]
    finished = time.monotonic()
    supervisor = runner.supervisors()[service.service]
    offset = started - runner.started_at
    history = [s for s in runner.history() if s.at >= offset]
    for sample in history:
        sample.at -= offset  # seconds since the first message was sent

    entries = [line.split("\t") for line in ledger.read_text().splitlines()] if ledger.exists() else []
    counts = collections.Counter(key for _, key in entries)
    lost = sorted(set(keys) - set(counts))
    duplicated = sorted(key for key, count in counts.items() if count > 1)
    peak = max(sample.running for sample in history)
    stops_while_held = [stop for stop in supervisor.stops if stop.others_protected > 0 and stop.in_flight]
    figures = {
        "service": f"{STACK} (QueueWorkerService, python -m constructs_sqs_runtime.worker, sample handler)",
        "messages": MESSAGES,
        "send_seconds": round(sent_in, 1),
        "drain_seconds": round(drained_at[0] - started, 1) if drained_at else None,
        "back_to_minimum_seconds": round(finished - started, 1),
        "period_seconds": 1.0,
        "scale_in_periods": SCALE_IN_PERIODS,
        "job_seconds": JOB_SECONDS,
        "slow_jobs": f"{MESSAGES // SLOW_EVERY} of {SLOW_SECONDS} s, the last one sent among them",
        "handler_threads_per_worker": int(service.container.environment.get("CONSTRUCTS_SQS_CONCURRENCY", "1")),
        "target_backlog_per_task": plan.target_value,
        "min_tasks": plan.min_capacity,
        "max_tasks": plan.max_capacity,
        "peak_workers": peak,
        "workers_started": supervisor.started,
        "workers_stopped_by_scale_in": len(supervisor.stops),
        "scale_ins_while_others_held_messages": len(stops_while_held),
        "workers_killed_after_stop_timeout": sum(1 for w in supervisor.exited if w.killed),
        "workers_exited_on_their_own": sum(1 for w in supervisor.exited if w.stop_sent_at is None),
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
    changes = [f"{s.at:6.1f} s  desired {s.desired}  running {s.running}  protected {s.protected}  visible {s.visible:4}  in flight {s.in_flight:3}  {s.reason}"
               for i, s in enumerate(history) if i == 0 or (s.running, s.desired) != (history[i - 1].running, history[i - 1].desired)]
    print(f"\n{MESSAGES} messages sent in {sent_in:.1f} s; drained in {figures['drain_seconds']} s; back to {plan.min_capacity} "
          f"workers at {figures['back_to_minimum_seconds']} s; peak {peak} workers; {len(supervisor.stops)} stopped by scale-in, "
          f"{len(stops_while_held)} of them while other workers held messages; lost {len(lost)}, handled twice {len(duplicated)}")
    print("\n".join(changes))

    assert not lost, f"{len(lost)} messages never handled: {lost[:10]}; last status: {lines[-1] if lines else None}"
    assert not duplicated, f"{len(duplicated)} messages handled twice: {duplicated[:10]}"
    assert len(entries) == MESSAGES
    assert drained_at, f"not drained in time: {lines[-1] if lines else 'no status'}"
    assert peak > 1, "the autoscaler never scaled out above one worker"
    assert peak <= plan.max_capacity
    assert history[-1].running == plan.min_capacity, f"not back to the minimum: {lines[-1]}"
    assert stops_while_held, f"no scale-in happened while other workers held messages: {supervisor.stops}"
    assert figures["workers_killed_after_stop_timeout"] == 0, "a worker had to be killed: it did not drain within its stop timeout"
    assert figures["workers_exited_on_their_own"] == 0, f"a worker exited by itself: see {tmp_path / 'workers'}"
    assert any("step policy" in s.reason for s in history), "the service did not wake from zero through its step policy"


def _handled(ledger: Path) -> int:
    return len(ledger.read_text().splitlines()) if ledger.exists() else 0
