"""What a queue consumer derives from its timeout, whatever runs it: plain inputs in, plain values out.

A consumer that may take ``timeout`` seconds per batch, gathering records for up to ``window`` seconds, needs
the queue to hide a received message for longer than that, or the message becomes visible again while it is
being processed and is processed twice (rule L1). The Lambda docs advise 6 x the function timeout + the
batching window, which also covers a batch retried while throttled.

:func:`derived_visibility_timeout` computes that value; :func:`plan_visibility` decides, for a queue created
for the consumer or one it is given, which visibility timeout is in force, whether the derived one must be
written on the given queue, and what is wrong or worth a warning. Both read nothing but their arguments (the
queue as :class:`~constructs_sqs._facts.QueueFacts`), so ``LambdaTriggeredQueue`` and any other engine (an ECS
worker service) share them; the write itself is :func:`~constructs_sqs._facts.write_derived_visibility`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import _defaults, _limits
from ._facts import QueueFacts
from ._validation import Problems, format_duration

__all__ = [
    "LAMBDA",
    "WARNING_VISIBILITY",
    "ConsumerWords",
    "VisibilityPlan",
    "derived_visibility_timeout",
    "plan_visibility",
]

WARNING_VISIBILITY = "constructs-sqs:visibility-timeout"


def derived_visibility_timeout(
    timeout: float, window: float = 0.0, *, per_timeout: float = _defaults.VISIBILITY_TIMEOUT_PER_FUNCTION_TIMEOUT
) -> float:
    """``per_timeout`` x ``timeout`` + ``window``, rounded up to a whole second (rule L1).

    Parameters
    ----------
    timeout:
        Seconds one batch may take (the function timeout).
    window:
        Seconds records are gathered before a batch starts (the maximum batching window).
    per_timeout:
        How many timeouts the queue hides a message for. Default: 6, as the Lambda docs advise.

    Returns
    -------
    float
        The visibility timeout, in whole seconds.
    """
    return float(math.ceil(per_timeout * timeout + window))


@dataclass(frozen=True)
class ConsumerWords:
    """How messages name a consumer's timeout and batching window, and what breaks below 1 x the timeout.

    Parameters
    ----------
    timeout:
        The timeout, in prose. Default: ``the function timeout``.
    timeout_argument:
        The argument that gives it, in formulas. Default: ``timeout``.
    window:
        The argument of the batching window. Default: ``max_batching_window``.
    below_timeout:
        What happens when the visibility timeout is shorter than the timeout.
        Default: ``Lambda refuses to create the event source mapping``.
    """

    timeout: str = "the function timeout"
    timeout_argument: str = "timeout"
    window: str = "max_batching_window"
    below_timeout: str = "Lambda refuses to create the event source mapping"


LAMBDA = ConsumerWords()
"""The words of a Lambda consumer (``LambdaTriggeredQueue``)."""


@dataclass(frozen=True)
class VisibilityPlan:
    """The visibility timeout a consumer needs and has.

    Parameters
    ----------
    derived:
        ``per_timeout`` x timeout + window; None when the timeout or the window is unknown.
    in_force:
        The queue's visibility timeout once the consumer is wired; None when unknown (an imported queue that
        was not described), or, for a queue to create, when nothing was derived nor given (the queue's default
        applies).
    set_on_queue:
        A derived value to write on the given queue (:func:`~constructs_sqs._facts.write_derived_visibility`):
        it kept a default, or a shorter value another consumer derived. None: write nothing.
    given:
        True when the caller passed the visibility timeout of a queue to create.
    warnings:
        ``(id, message)`` of each warning.
    notes:
        What was derived and why, one sentence each.
    """

    derived: float | None
    in_force: float | None = None
    set_on_queue: float | None = None
    given: bool = False
    warnings: tuple[tuple[str, str], ...] = field(default=())
    notes: tuple[str, ...] = field(default=())


def plan_visibility(
    problems: Problems,
    *,
    timeout: float | None,
    window: float | None,
    queue: QueueFacts | None,
    requested: object,
    words: ConsumerWords = LAMBDA,
    per_timeout: float = _defaults.VISIBILITY_TIMEOUT_PER_FUNCTION_TIMEOUT,
) -> VisibilityPlan:
    """Decide the visibility timeout of the queue a consumer reads (rule L1).

    Below 1 x the timeout is a problem (added to ``problems``); between 1 x and ``per_timeout`` x + window, a
    warning. A queue to create (``queue`` None) gets ``requested``, else the derived value. A given queue keeps a
    visibility timeout it was given (checked; ``requested`` may only repeat it); one left at a default, or at a
    shorter value another consumer derived, gets the derived value; an imported one is checked only when
    ``requested`` describes it.

    Parameters
    ----------
    problems:
        The collector of the call.
    timeout, window:
        Seconds per batch and of the batching window; None when unknown (a token, an invalid value).
    queue:
        The queue given, as read; None for a queue the consumer creates.
    requested:
        The ``visibility_timeout`` argument as passed (None: not passed).
    words:
        How messages name the consumer's timeout. Default: a Lambda function's.
    per_timeout:
        Default: 6.

    Returns
    -------
    VisibilityPlan
        What is in force and what to write.
    """
    derived = (
        derived_visibility_timeout(timeout, window, per_timeout=per_timeout)
        if timeout is not None and window is not None
        else None
    )
    decision = _Decision(timeout=timeout, window=window, derived=derived, words=words, per_timeout=per_timeout)
    given = _limits.VISIBILITY_TIMEOUT.check(problems, "visibility_timeout", requested)
    if queue is None:
        if requested is not None:
            decision.check(problems, "visibility_timeout", given)
            decision.in_force = given
        elif derived is not None:
            decision.in_force = derived
            decision.note_derived("the created queue")
    else:
        decision.given_queue(problems, queue, requested, given)
    return VisibilityPlan(
        derived=derived,
        in_force=decision.in_force,
        set_on_queue=decision.set_on_queue,
        given=queue is None and requested is not None,
        warnings=tuple(decision.warnings),
        notes=tuple(decision.notes),
    )


@dataclass
class _Decision:
    """The visibility timeout under decision: what the consumer asks for, what is in force."""

    timeout: float | None
    window: float | None
    derived: float | None
    words: ConsumerWords
    per_timeout: float
    warnings: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    in_force: float | None = None
    set_on_queue: float | None = None

    def check(self, problems: Problems, label: str, visibility: float | None) -> None:
        """Error below 1 x the timeout, warning below ``per_timeout`` x + window."""
        if visibility is None or self.timeout is None:
            return
        formula = f"{self.per_timeout:g} x {self.words.timeout_argument} + {self.words.window}"
        if visibility < self.timeout:
            derive = f" {format_duration(self.derived)}" if self.derived is not None else ""
            problems.add(
                f"{label} must be at least {self.words.timeout} ({format_duration(self.timeout)}), got "
                f"{format_duration(visibility)}: {self.words.below_timeout}; leave it unset to derive{derive} "
                f"({formula})"
            )
        elif self.derived is not None and visibility < self.derived:
            self.warnings.append((
                WARNING_VISIBILITY,
                f"{label} is {format_duration(visibility)}, below {self.per_timeout:g} x {self.words.timeout} + "
                f"{self.words.window} ({format_duration(self.derived)}): messages of a batch that is retried or slow "
                "can become visible again and be processed twice (constructs-sqs rule L1)",
            ))

    def note_derived(self, where: str) -> None:
        assert self.derived is not None
        self.notes.append(
            f"visibility timeout of {where}: {format_duration(self.derived)} = {self.per_timeout:g} x "
            f"{self.words.timeout} ({format_duration(self.timeout or 0)}) + {self.words.window} "
            f"({format_duration(self.window or 0)})"
        )

    def given_queue(self, problems: Problems, queue: QueueFacts, requested: object, given: float | None) -> None:
        known = queue.visibility_timeout
        if queue.imported:
            if requested is not None:
                self.in_force = given
                self.check(problems, "visibility_timeout", given)
            else:
                shown = format_duration(self.derived) if self.derived is not None else (
                    f"{self.words.timeout} x {self.per_timeout:g} + {self.words.window}"
                )
                self.warnings.append((
                    WARNING_VISIBILITY,
                    f"the visibility timeout of queue={queue.path} is unknown (imported), so it cannot be checked "
                    f"against {self.words.timeout}: it must be at least {shown}; pass visibility_timeout= to "
                    "describe it and have it checked",
                ))
            return
        if requested is not None:
            if given is not None and known is not None and given != known:
                problems.add(
                    f"visibility_timeout ({format_duration(given)}) cannot be applied to queue={queue.path}, which "
                    f"is already built with {format_duration(known)}: set visibility_timeout on that {queue.kind}, "
                    "or leave it unset here to have it derived"
                )
                return
        elif not queue.visibility_timeout_given:
            if self.derived is None:  # a token timeout, or a batching window already reported
                self.in_force = known
                return
            # A later consumer of the same queue keeps the longer of the derived values.
            earlier = known if queue.visibility_timeout_derived else None
            if earlier is None or earlier < self.derived:
                self.set_on_queue = self.derived
                self.in_force = self.derived
                self.note_derived(f"queue={queue.path}")
                return
        self.in_force = known
        self.check(problems, f"visibility_timeout of queue={queue.path}", known)
