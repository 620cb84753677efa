"""Worker services played locally: each deployed ECS service run as worker processes, scaled by its own policies.

:func:`discover_worker_services` reads what the stacks deployed into the emulator: each ECS service of the
deployment, its task definition's container (command, environment, stop timeout), its Application Auto Scaling
target and policies and the alarm of its step policy. :class:`WorkerServiceRunner` then plays each one: every
``period_seconds`` it reads the queue's counts from the emulator, evaluates the policies with
:class:`~constructs_sqs.local.autoscaler.Autoscaler`, writes the desired count to the emulator's ECS service (as
Application Auto Scaling does) and has a :class:`~constructs_sqs.local.supervisor.WorkerSupervisor` start or stop
worker processes to match, stopping only workers without scale-in protection.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .autoscaler import Autoscaler, Decision, Metric, ScalingPlan, plan_from_api
from .deploy import Deployment
from .emulator import Emulator
from .supervisor import DEFAULT_STOP_TIMEOUT_SECONDS, ContainerSpec, WorkerSupervisor
from .task_protection import TaskProtectionEndpoint

DEFAULT_PERIOD_SECONDS = 5.0
"""One local evaluation period: scale-out after 3 (15 s), scale-in after 15 (75 s) by default."""


@dataclass(frozen=True)
class WorkerService:
    """One deployed ECS service, as the runner plays it."""

    stack: str
    cluster: str
    service: str
    desired_count: int
    container: ContainerSpec
    plan: ScalingPlan | None
    notes: tuple[str, ...] = ()

    @property
    def resource_id(self) -> str:
        return f"service/{self.cluster}/{self.service}"

    def with_environment(self, **variables: str) -> WorkerService:
        """A copy whose container gets ``variables`` over its own (a test's ledger, another handler)."""
        container = replace(self.container, environment={**self.container.environment, **variables})
        return replace(self, container=container)

    @property
    def queue_name(self) -> str | None:
        return self.plan.queue_name if self.plan else None

    def describe(self) -> str:
        """One line for ``run``'s start: the service, its command and its scaling."""
        scaling = "a fixed desired count"
        if self.plan is not None:
            target = f"target {self.plan.target_value:g} visible messages per task" if self.plan.target_value else "no target tracking"
            wake = ", woken from 0 by its step policy" if self.plan.step else ""
            scaling = f"{self.plan.min_capacity}-{self.plan.max_capacity} tasks, {target}{wake}"
        return f"service {self.service} ({' '.join(self.container.command)}; {scaling})"


def _container(definition: Mapping[str, Any]) -> tuple[ContainerSpec, tuple[str, ...]]:
    containers = definition.get("containerDefinitions", [])
    essential = [c for c in containers if c.get("essential", True)] or containers
    chosen = essential[0]
    notes = []
    if len(containers) > 1:
        notes.append(f"only container {chosen['name']} runs locally; {len(containers) - 1} other containers (sidecars) do not")
    if chosen.get("secrets"):
        notes.append(f"secrets {', '.join(s['name'] for s in chosen['secrets'])} are not set locally (no Secrets Manager lookup)")
    command = tuple(chosen.get("entryPoint", [])) + tuple(chosen.get("command", []))
    environment = {e["name"]: e["value"] for e in chosen.get("environment", [])}
    stop = float(chosen.get("stopTimeout") or DEFAULT_STOP_TIMEOUT_SECONDS)
    return ContainerSpec(chosen["name"], command, environment, stop), tuple(notes)


def discover_worker_services(emulator: Emulator, deployment: Deployment) -> list[WorkerService]:
    """Every ECS service of the deployment, with its container and scaling as the emulator holds them."""
    ecs = emulator.client("ecs")
    scaling = emulator.client("application-autoscaling")
    alarms: list[dict[str, Any]] | None = None
    services = []
    for stack in deployment.stacks:
        for resource in stack.resources_of("AWS::ECS::Service"):
            if not resource.physical_id:
                continue
            # arn:aws:ecs:<region>:<account>:service/<cluster>/<service>
            _, cluster, name = resource.physical_id.rsplit(":", 1)[-1].split("/")
            found = ecs.describe_services(cluster=cluster, services=[name])["services"]
            if not found:
                continue
            definition = ecs.describe_task_definition(taskDefinition=found[0]["taskDefinition"])["taskDefinition"]
            container, notes = _container(definition)
            resource_id = f"service/{cluster}/{name}"
            targets = scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])["ScalableTargets"]
            plan = None
            if targets:
                policies = scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id)["ScalingPolicies"]
                if alarms is None:
                    alarms = emulator.client("cloudwatch").describe_alarms()["MetricAlarms"]
                plan = plan_from_api(targets[0], [p for p in policies if p["ResourceId"] == resource_id], alarms)
            services.append(WorkerService(stack.name, cluster, name, int(found[0].get("desiredCount") or 0), container, plan, notes))
    return services


@dataclass
class ServiceStats:
    """What one service looks like now: the line ``run`` prints when it changes."""

    service: str
    desired: int = 0
    running: int = 0
    protected: int = 0
    stopping: int = 0
    visible: int = 0
    in_flight: int = 0
    started: int = 0
    stopped: int = 0
    killed: int = 0
    exited: int = 0
    """Workers that exited without being stopped (ECS replaces them: a new one starts at the next period)."""

    def line(self) -> str:
        killed = f", {self.killed} killed after the stop timeout" if self.killed else ""
        killed += f", {self.exited} exited on their own (see their logs)" if self.exited else ""
        return (
            f"{self.service}: {self.running} workers (desired {self.desired}, {self.protected} protected, "
            f"{self.stopping} stopping), {self.visible} visible, {self.in_flight} in flight "
            f"(started {self.started}, stopped {self.stopped}{killed})"
        )


@dataclass
class Sample:
    """One period of one service, for the figures (``run``'s history)."""

    at: float
    service: str
    visible: int
    in_flight: int
    desired: int
    running: int
    protected: int
    reason: str = ""


@dataclass
class _Played:
    service: WorkerService
    supervisor: WorkerSupervisor
    autoscaler: Autoscaler | None
    stats: ServiceStats
    desired: int
    queue_url: str | None = None
    history: list[Sample] = field(default_factory=list)


class WorkerServiceRunner:
    """Plays worker services against the emulator until stopped.

    Parameters
    ----------
    emulator:
        The emulator the queues live in.
    services:
        From :func:`discover_worker_services`.
    project_dir:
        The directory the workers run in (the project with the handler modules).
    period_seconds:
        One evaluation period (default 5 s; AWS's is a minute).
    log_dir:
        Where each worker's output goes (default ``.local-emulator/workers`` under the project directory).
    scale_out_periods, scale_in_periods:
        See :class:`~constructs_sqs.local.autoscaler.Autoscaler` (3 and 15).
    """

    def __init__(
        self,
        emulator: Emulator,
        services: Sequence[WorkerService],
        *,
        project_dir: str | Path = ".",
        period_seconds: float = DEFAULT_PERIOD_SECONDS,
        log_dir: str | Path | None = None,
        scale_out_periods: int = 3,
        scale_in_periods: int = 15,
    ) -> None:
        self.emulator = emulator
        self.project_dir = Path(project_dir).resolve()
        self.period_seconds = period_seconds
        self.endpoint = TaskProtectionEndpoint()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.started_at = time.monotonic()
        self.sqs = emulator.client("sqs")
        self.ecs = emulator.client("ecs")
        logs = Path(log_dir) if log_dir else self.project_dir / ".local-emulator" / "workers"
        base = emulator.environment()
        self.played: list[_Played] = []
        for service in services:
            supervisor = WorkerSupervisor(
                service.container,
                project_dir=self.project_dir,
                environment=base,
                endpoint=self.endpoint,
                log_dir=logs / service.service,
                task_arn_prefix=f"arn:aws:ecs:{emulator.region}:{emulator.account_id}:task/{service.cluster}",
            )
            autoscaler = None
            if service.plan is not None:
                autoscaler = Autoscaler(
                    service.plan,
                    period_seconds=period_seconds,
                    initial=service.desired_count,
                    scale_out_periods=scale_out_periods,
                    scale_in_periods=scale_in_periods,
                )
            queue_url = None
            if service.queue_name:
                queue_url = self.sqs.get_queue_url(QueueName=service.queue_name)["QueueUrl"]
            self.played.append(_Played(service, supervisor, autoscaler, ServiceStats(service.service), service.desired_count, queue_url))

    def _counts(self, played: _Played) -> tuple[int, int]:
        if played.queue_url is None:
            return 0, 0
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=played.queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def step(self) -> None:
        """One period for every service: read the queue, evaluate the policies, start or stop workers."""
        now = time.monotonic()
        for played in self.played:
            visible, in_flight = self._counts(played)
            supervisor = played.supervisor
            supervisor.reap()

            def source(
                metric: Metric, visible: int = visible, in_flight: int = in_flight, played: _Played = played
            ) -> float:
                supervisor = played.supervisor
                if metric.namespace == "AWS/SQS" and metric.name == "ApproximateNumberOfMessagesVisible":
                    return visible
                if metric.namespace == "AWS/SQS" and metric.name == "ApproximateNumberOfMessagesNotVisible":
                    return in_flight
                if metric.name in ("RunningTaskCount", "RunningCount"):
                    return len(supervisor.running())
                if metric.name in ("DesiredTaskCount", "DesiredCount"):
                    return played.desired
                raise ValueError(f"the local autoscaler cannot value metric {metric.namespace} {metric.name}")

            decision = played.autoscaler.evaluate(now, source) if played.autoscaler else Decision(played.desired)
            if decision.desired != played.desired:
                played.desired = decision.desired
                self._write_desired_count(played)
            supervisor.scale_to(played.desired, in_flight=in_flight)
            with self.lock:
                played.stats = replace(
                    played.stats,
                    desired=played.desired,
                    running=len(supervisor.running()),
                    protected=len(supervisor.protected()),
                    stopping=len(supervisor.stopping()),
                    visible=visible,
                    in_flight=in_flight,
                    started=supervisor.started,
                    stopped=len(supervisor.stops),
                    killed=sum(1 for w in supervisor.exited if w.killed),
                    exited=sum(1 for w in supervisor.exited if w.stop_sent_at is None),
                )
                played.history.append(
                    Sample(now - self.started_at, played.service.service, visible, in_flight, played.desired,
                           played.stats.running, played.stats.protected, decision.reason)
                )

    def _write_desired_count(self, played: _Played) -> None:
        try:
            self.ecs.update_service(cluster=played.service.cluster, service=played.service.service, desiredCount=played.desired)
        except Exception:  # noqa: BLE001, S110 - the emulator record is informative; the local run goes on without it
            pass

    def snapshot(self) -> dict[str, ServiceStats]:
        """A copy of each service's line, by service name."""
        with self.lock:
            return {p.service.service: replace(p.stats) for p in self.played}

    def history(self) -> list[Sample]:
        with self.lock:
            return [sample for p in self.played for sample in p.history]

    def supervisors(self) -> dict[str, WorkerSupervisor]:
        return {p.service.service: p.supervisor for p in self.played}

    def run(
        self,
        *,
        duration: float | None = None,
        until: Callable[[dict[str, ServiceStats]], bool] | None = None,
        status: Callable[[dict[str, ServiceStats]], None] | None = None,
    ) -> dict[str, ServiceStats]:
        """Play every service until ``duration`` seconds pass, ``until(stats)`` is true, :meth:`stop` or Ctrl-C;
        then stop every worker (SIGTERM, SIGKILL after its stop timeout)."""
        deadline = None if duration is None else time.monotonic() + duration
        try:
            while not self.stopping.is_set() and (deadline is None or time.monotonic() < deadline):
                self.step()
                current = self.snapshot()
                if status is not None:
                    status(current)
                if until is not None and until(current):
                    break
                self.stopping.wait(self.period_seconds)
        except KeyboardInterrupt:
            pass
        finally:
            self.close()
        return self.snapshot()

    def stop(self) -> None:
        """Ask :meth:`run` to end after the current period."""
        self.stopping.set()

    def close(self) -> None:
        """Stop every worker and the protection endpoint."""
        for played in self.played:
            played.supervisor.stop_all()
        self.endpoint.close()
