"""Checks that run when a pattern is constructed, before synth.

Every check adds a problem to a :class:`Problems` collector instead of raising, so a caller who got three
arguments wrong learns about all three at once. A problem names the argument, shows the bad value and
says what would be valid. Values that are unresolved tokens are skipped: they are known only at deploy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, Duration, Token, Validations
from aws_cdk import aws_sqs as sqs

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aws_cdk import aws_kms as kms
    from constructs import IConstruct

__all__ = [
    "ConfigurationError",
    "acknowledge",
    "Problems",
    "describe_duration",
    "format_duration",
    "is_aws_managed_key",
    "is_aws_managed_sqs_key",
    "retention_of",
    "seconds_of",
]

QUEUE_NAME_MAX_LENGTH = 80
FIFO_SUFFIX = ".fifo"
_QUEUE_NAME_CHARS = re.compile(r"[A-Za-z0-9_-]+")
AWS_MANAGED_SQS_KEY_ALIAS = "alias/aws/sqs"
SQS_DEFAULT_RETENTION_PERIOD = Duration.days(4)
"""What SQS keeps a message for when ``MessageRetentionPeriod`` is not set."""


class ConfigurationError(ValueError):
    """Raised at construction when a pattern's arguments are invalid.

    The message lists every problem found in the call, one per line; ``problems`` holds them as a list.
    """

    def __init__(self, where: str, problems: list[str]) -> None:
        self.where = where
        self.problems = list(problems)
        listed = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{where}: {count} configuration {noun}:\n{listed}")


def seconds_of(value: Duration) -> float | None:
    """The length of ``value`` in seconds, or None when it is an unresolved token."""
    if value.is_unresolved():
        return None
    return value.to_milliseconds() / 1000


def describe_duration(value: Duration) -> str:
    """``format_duration`` of ``value``, or CDK's rendering of it when it is an unresolved token."""
    seconds = seconds_of(value)
    return value.to_human_string() if seconds is None else format_duration(seconds)


def retention_of(queue: sqs.IQueue) -> Duration | None:
    """The retention period of a queue defined in this app (read from its CfnQueue), SQS's 4-day default
    when the template leaves it unset, or None when it is imported or a token."""
    cfn = queue.node.default_child
    if not isinstance(cfn, sqs.CfnQueue):
        return None
    seconds = cfn.message_retention_period
    if seconds is None:
        return SQS_DEFAULT_RETENTION_PERIOD
    return None if Token.is_unresolved(seconds) else Duration.seconds(seconds)


def format_duration(seconds: float) -> str:
    """Render a length in the largest whole unit: ``format_duration(345600)`` is ``'4 days'``."""
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    shown = int(seconds) if float(seconds).is_integer() else seconds
    return f"{shown} second{'' if shown == 1 else 's'}"


def is_aws_managed_key(key: kms.IKey | None, alias: str) -> bool:
    """True when ``key`` is the AWS-managed key named ``alias`` (e.g. ``alias/aws/sqs``), whose key
    policy no one can change, so no service principal can be let in."""
    if key is None:
        return False
    alias_name = getattr(key, "alias_name", None)
    if isinstance(alias_name, str) and alias_name == alias:
        return True
    # An imported alias or key ARN keeps the alias as the literal end of its (token-laden) ARN.
    key_arn = key.key_arn
    return isinstance(key_arn, str) and key_arn.endswith(f":{alias}")


def is_aws_managed_sqs_key(key: kms.IKey | None) -> bool:
    """True when ``key`` is the AWS-managed key ``alias/aws/sqs``."""
    return is_aws_managed_key(key, AWS_MANAGED_SQS_KEY_ALIAS)

@dataclass
class Problems:
    """Collects the problems of one call; :meth:`raise_if_any` raises them together."""

    where: str
    items: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.items.append(message)

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigurationError(self.where, self.items)

    # --- Ranges ----------------------------------------------------------------------------------

    def duration_between(
        self, argument: str, value: Duration | None, minimum: Duration, maximum: Duration
    ) -> None:
        """``argument`` must lie in ``[minimum, maximum]`` and be a whole number of seconds."""
        if value is None:
            return
        seconds = seconds_of(value)
        if seconds is None:
            return
        low, high = seconds_of(minimum), seconds_of(maximum)
        assert low is not None and high is not None
        if not low <= seconds <= high:
            self.add(
                f"{argument} must be between {format_duration(low)} and {format_duration(high)}, "
                f"got {format_duration(seconds)}"
            )
        elif not float(seconds).is_integer():
            self.add(f"{argument} must be a whole number of seconds, got {format_duration(seconds)}")

    def int_between(
        self, argument: str, value: int | float | None, minimum: int, maximum: int, unit: str = ""
    ) -> None:
        """``argument`` must be a whole number in ``[minimum, maximum]``."""
        if value is None or Token.is_unresolved(value):
            return
        suffix = f" {unit}" if unit else ""
        if isinstance(value, bool) or not float(value).is_integer():
            self.add(f"{argument} must be a whole number, got {value!r}")
        elif not minimum <= value <= maximum:
            self.add(
                f"{argument} must be between {minimum:,} and {maximum:,}{suffix}, got {int(value):,}{suffix}"
            )

    # --- Names -----------------------------------------------------------------------------------

    def queue_name(self, argument: str, name: str | None, *, fifo: bool) -> None:
        """Q8: at most 80 characters with ``.fifo``, ``[A-Za-z0-9_-]``, ``.fifo`` if and only if FIFO."""
        if name is None or Token.is_unresolved(name):
            return
        kind = "a FIFO" if fifo else "a standard"
        if fifo and not name.endswith(FIFO_SUFFIX):
            self.add(f"{argument} must end with '{FIFO_SUFFIX}' for {kind} queue, got {name!r}")
        if not fifo and name.endswith(FIFO_SUFFIX):
            self.add(f"{argument} must not end with '{FIFO_SUFFIX}' for {kind} queue, got {name!r}")
        stem = name[: -len(FIFO_SUFFIX)] if name.endswith(FIFO_SUFFIX) else name
        if not _QUEUE_NAME_CHARS.fullmatch(stem):
            self.add(
                f"{argument} may contain only letters, digits, '-' and '_' (and a final '.fifo'), "
                f"got {name!r}"
            )
        if len(name) > QUEUE_NAME_MAX_LENGTH:
            self.add(
                f"{argument} must be at most {QUEUE_NAME_MAX_LENGTH} characters including "
                f"'{FIFO_SUFFIX}', got {len(name)} characters ({name!r})"
            )

    # --- Dead-letter queues ----------------------------------------------------------------------

    def dead_letter_type(self, dead_letter_queue: sqs.IQueue | None, *, fifo: bool) -> None:
        """Q5: a FIFO queue needs a FIFO DLQ and a standard queue a standard one."""
        if dead_letter_queue is None:
            return
        dlq_fifo = bool(dead_letter_queue.fifo)
        if dlq_fifo != fifo:
            want = "a FIFO" if fifo else "a standard"
            got = "a FIFO" if dlq_fifo else "a standard"
            self.add(
                f"dead_letter_queue must be {want} queue for {want} source queue "
                f"(SQS moves messages only between queues of one type), got {got} queue "
                f"({dead_letter_queue.node.path})"
            )

    def retention_order(
        self, retention: Duration, dead_letter_retention: Duration, *, argument: str = "dead_letter_retention_period"
    ) -> None:
        """Q6: the DLQ keeps messages longer than the source, or moved messages expire early."""
        source, dlq = seconds_of(retention), seconds_of(dead_letter_retention)
        if source is None or dlq is None:
            return
        if dlq <= source:
            self.add(
                f"{argument} must be longer than retention_period "
                f"({format_duration(source)}), got {format_duration(dlq)}: a moved message keeps its "
                f"original enqueue time and would expire from the DLQ early"
            )


def acknowledge(scope: IConstruct, acknowledgments: Sequence[tuple[str, str]]) -> None:
    """Acknowledge cdk-nag rules on ``scope`` and every resource under it, each with its reason.

    ``acknowledgments`` is one of the ``*_ACKNOWLEDGMENTS`` tuples of ``_defaults``: ``(rule id, reason)``
    with the id in CDK's ``Pack::Rule`` form, so the acknowledgment is recorded in validation-report.json.
    """
    for rule_id, reason in acknowledgments:
        Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))
