"""The SQS, Lambda and CloudWatch ranges the library checks, in one table.

Validation reads them (:meth:`Limit.check`), the messages print them (the range a ValueError names comes from
here), :func:`limits_table` renders them for the docs, and the tests read them instead of repeating numbers.
A limit that AWS changes is changed here only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Problems(Protocol):
    """The range checks of ``_validation.Problems`` that a :class:`Limit` calls (a protocol, so that this
    ground-floor module imports nothing of the package)."""

    def duration_between(self, argument: str, value: object, minimum: float, maximum: float) -> float | None: ...

    def int_between(self, argument: str, value: object, minimum: int, maximum: int, unit: str = "") -> int | None: ...

__all__ = ["LIMITS", "Limit", "limits_table"]


@dataclass(frozen=True)
class Limit:
    """One range an AWS service enforces.

    Parameters
    ----------
    service:
        ``SQS``, ``Lambda`` or ``CloudWatch``.
    what:
        What is limited, as the docs say it.
    minimum, maximum:
        The inclusive range.
    unit:
        ``seconds`` for a duration (checked as a ``Duration``), else the unit of a whole number
        (``""`` for a count).
    """

    service: str
    what: str
    minimum: int
    maximum: int
    unit: str = ""

    @property
    def is_duration(self) -> bool:
        """True for a range of seconds, given as a ``Duration``."""
        return self.unit == "seconds"

    def check(self, problems: Problems, argument: str, value: object) -> float | None:
        """``value`` checked against this range: its seconds (durations) or int, or None for None, tokens
        and invalid values (which add a problem to ``problems`` naming ``argument``).

        Parameters
        ----------
        problems:
            The collector of the call.
        argument:
            The argument's name in the message.
        value:
            The value given.

        Returns
        -------
        float or None
            The value in force when valid and known.
        """
        if not self.is_duration:
            return self.check_count(problems, argument, value)
        return problems.duration_between(argument, value, self.minimum, self.maximum)

    def check_count(self, problems: Problems, argument: str, value: object) -> int | None:
        """As :meth:`check`, for a whole number: the int, or None.

        Parameters
        ----------
        problems:
            The collector of the call.
        argument:
            The argument's name in the message.
        value:
            The value given.

        Returns
        -------
        int or None
            The value in force when valid and known.
        """
        return problems.int_between(argument, value, self.minimum, self.maximum, self.unit)


# --- SQS -------------------------------------------------------------------------------------------
VISIBILITY_TIMEOUT = Limit("SQS", "visibility timeout", 0, 43_200, "seconds")
RETENTION_PERIOD = Limit("SQS", "message retention period", 60, 1_209_600, "seconds")
DELIVERY_DELAY = Limit("SQS", "delivery delay", 0, 900, "seconds")
RECEIVE_WAIT_TIME = Limit("SQS", "receive message wait time (long polling)", 0, 20, "seconds")
MAX_MESSAGE_SIZE = Limit("SQS", "maximum message size", 1_024, 1_048_576, "bytes")
MAX_RECEIVE_COUNT = Limit("SQS", "maxReceiveCount of a redrive policy", 1, 1_000)
DATA_KEY_REUSE = Limit("SQS", "KMS data key reuse period", 60, 86_400, "seconds")
IN_FLIGHT_QUOTA_STANDARD = 120_000
"""SQS quota of in-flight messages (received, not yet deleted) of a standard queue."""
IN_FLIGHT_QUOTA_FIFO = 20_000
"""SQS quota of in-flight messages of a FIFO queue. The SQS developer guide of the aws partition now
gives 120,000; the aws-cn guide still gives 20,000. The lower value is kept: the alarm then fires
early rather than too late."""
QUEUE_NAME_MAX_LENGTH = 80

# --- Lambda ----------------------------------------------------------------------------------------
FUNCTION_TIMEOUT = Limit("Lambda", "function timeout", 1, 900, "seconds")
MEMORY_SIZE = Limit("Lambda", "function memory", 128, 10_240, "MB")
RESERVED_CONCURRENCY = Limit("Lambda", "reserved concurrent executions", 0, 1_000_000)
LAYER_VERSION = Limit("Lambda", "layer version", 1, 1_000_000)
BATCH_SIZE = Limit("Lambda", "SQS event source batch size", 1, 10_000)
FIFO_BATCH_SIZE = Limit("Lambda", "SQS event source batch size of a FIFO queue", 1, 10)
BATCH_SIZE_WITHOUT_WINDOW = 10
"""The largest batch of a standard queue's event source without a batching window of at least 1 second."""
MAX_BATCHING_WINDOW = Limit("Lambda", "SQS event source maximum batching window", 0, 300, "seconds")
MAX_CONCURRENCY = Limit("Lambda", "SQS event source maximum concurrency", 2, 1_000)
MINIMUM_POLLERS = Limit("Lambda", "provisioned mode minimum pollers", 2, 200)
MAXIMUM_POLLERS = Limit("Lambda", "provisioned mode maximum pollers", 2, 2_000)
LAYERS_PER_FUNCTION = 5
"""Layers one function may use."""
FUNCTION_NAME_MAX_LENGTH = 64
FUNCTION_DESCRIPTION_MAX_LENGTH = 256

# --- CloudWatch ------------------------------------------------------------------------------------
EVALUATION_RANGE = Limit("CloudWatch", "alarm period (period x evaluation periods at most a day)", 60, 86_400, "seconds")
EVALUATION_PERIODS = Limit("CloudWatch", "evaluation periods of a 1-minute alarm", 1, 1_440)
ALARM_NAME_MAX_LENGTH = 255
ALARM_DESCRIPTION_MAX_LENGTH = 1024


# --- ECS on Fargate --------------------------------------------------------------------------------
FARGATE_STOP_TIMEOUT = Limit("ECS", "container stop timeout on Fargate", 2, 120, "seconds")
TASKS_PER_SERVICE = Limit("ECS", "tasks per service", 0, 5_000)
TASK_PROTECTION = Limit("ECS", "task scale-in protection (ExpiresInMinutes)", 1, 2_880, "minutes")
JOB_MAX_DURATION = Limit("ECS", "job held under task scale-in protection", 1, 172_800, "seconds")
WORKER_CONCURRENCY = Limit("constructs-sqs", "handler threads of the worker entrypoint", 1, 1_000)
FARGATE_CPU_MEMORY: dict[int, tuple[int, int, int]] = {
    256: (512, 2_048, 512),
    512: (1_024, 4_096, 1_024),
    1_024: (2_048, 8_192, 1_024),
    2_048: (4_096, 16_384, 1_024),
    4_096: (8_192, 30_720, 1_024),
    8_192: (16_384, 61_440, 4_096),
    16_384: (32_768, 122_880, 8_192),
}
"""Fargate's task sizes (Linux): CPU units -> (lowest, highest, step) of memory in MiB. 256 CPU units take
512, 1,024 or 2,048 MiB only (ECS developer guide, "Task CPU and memory")."""


def fargate_memory_choices(cpu: int) -> list[int]:
    """The memory sizes (MiB) Fargate accepts with ``cpu`` units; empty for a CPU size it does not offer.

    Parameters
    ----------
    cpu:
        CPU units of the task.

    Returns
    -------
    list[int]
        Valid memory sizes, smallest first.
    """
    if cpu not in FARGATE_CPU_MEMORY:
        return []
    low, high, step = FARGATE_CPU_MEMORY[cpu]
    if cpu == 256:
        return [512, 1_024, 2_048]
    return list(range(low, high + 1, step))

LIMITS: dict[str, Limit] = {
    name: value for name, value in list(globals().items()) if isinstance(value, Limit)
}
"""Every range above, by its name in this module."""


def limits_table() -> str:
    """The ranges as a Markdown table (service, what, range), for the docs.

    Returns
    -------
    str
        One row per :class:`Limit`, in the order of this module.
    """
    rows = ["| Service | Limit | Range |", "| --- | --- | --- |"]
    for limit in LIMITS.values():
        unit = f" {limit.unit}" if limit.unit else ""
        rows.append(f"| {limit.service} | {limit.what} | {limit.minimum:,} to {limit.maximum:,}{unit} |")
    return "\n".join(rows) + "\n"
