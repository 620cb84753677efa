"""Environment-specific settings of the sample app, read from cdk.json context (or `-c key=value`).

Only the sample app reads context; the library's constructs take arguments. Every setting has a default,
so `make synth` works with none given.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from constructs import Construct

PREFIX = "constructs-sqs:"


@dataclass(frozen=True)
class SampleSettings:
    """What changes between environments: names, the on-call address, alarm thresholds."""

    stack_prefix: str = "ConstructsSqs"
    """Prefix of every stack name (a second environment in one account needs another)."""
    alarm_email: str | None = None
    """Where alarm notifications go; none subscribed when empty."""
    depth_threshold: int = 1_000
    """Visible messages that mean consumers are not keeping up (QueueAlarms' default)."""
    orders_age_slo_minutes: int = 15
    """How long an order may wait before fulfilment counts as late."""
    worker_image: str | None = None
    """An image (``repository:tag``) for the Transcoding workers instead of building ``transcoding.Dockerfile``:
    where no Docker builds images at deploy (the local emulator runs the worker's command as a process)."""

    @classmethod
    def from_context(cls, scope: Construct) -> SampleSettings:
        """The settings in ``scope``'s context, each falling back to its default."""
        defaults = cls()

        def get(key: str, default: object) -> object:
            value = scope.node.try_get_context(PREFIX + key)
            return default if value in (None, "") else value

        return cls(
            stack_prefix=str(get("stackPrefix", defaults.stack_prefix)),
            alarm_email=get("alarmEmail", None),  # type: ignore[arg-type]
            depth_threshold=int(get("depthThreshold", defaults.depth_threshold)),  # type: ignore[arg-type]
            orders_age_slo_minutes=int(get("ordersAgeSloMinutes", defaults.orders_age_slo_minutes)),  # type: ignore[arg-type]
            worker_image=get("workerImage", None),  # type: ignore[arg-type]
        )

    @property
    def orders_age_slo(self) -> Duration:
        return Duration.minutes(self.orders_age_slo_minutes)
