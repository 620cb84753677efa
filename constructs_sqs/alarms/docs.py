"""The docs of the alarms, written from the catalogue: the README's table and the list in ``QueueAlarms``' docstring.

``tests/alarms/test_catalogue.py`` checks that the Markdown page holding the table and the docstring say exactly
this.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast

from aws_cdk import aws_cloudwatch as cloudwatch

from .. import _defaults, _limits
from .._facts import QueueFacts
from .._validation import Problems, seconds_of
from .arguments import AlarmsArguments
from .catalogue import CATALOGUE
from .entry import AlarmEntry, wording
from .thresholds import Threshold
from .watched import WatchedQueue

if TYPE_CHECKING:
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_sqs as sqs

__all__ = ["TABLE_HEADER", "alarms_table", "docs_descriptions", "docstring_items", "fires_when"]

_OPERATORS = {
    cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD: ">",
    cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD: ">=",
    cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD: "<",
    cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD: "<=",
}
_MISSING_DATA = {
    cloudwatch.TreatMissingData.NOT_BREACHING: "notBreaching",
    cloudwatch.TreatMissingData.BREACHING: "**breaching**",
    cloudwatch.TreatMissingData.IGNORE: "ignore",
    cloudwatch.TreatMissingData.MISSING: "missing",
}
TABLE_HEADER = (
    "| suffix | metric (statistic) | fires when (default) | missing data | description |\n"
    "|---|---|---|---|---|\n"
)
"""The header of :func:`alarms_table`: what a test looks for in a Markdown page."""


def fires_when(entry: AlarmEntry) -> str:
    """The comparison, threshold and default, periods and condition of ``entry``, for the docs (Markdown)."""
    condition = entry.threshold.condition_doc() or (f" (only {entry.requires.docs})" if entry.requires else "")
    return (
        f"{_OPERATORS[entry.comparison]} {entry.threshold.doc()}"
        f"{entry.threshold.periods_doc(entry.evaluation_periods, entry.datapoints_to_alarm)}{condition}"
    )


def _docs_watched() -> WatchedQueue:
    """The queue the docs' examples describe: standard, the library's default retention periods, a DLQ and a
    consumer (the facts are not read by any derivation)."""
    return WatchedQueue(
        facts=cast(QueueFacts, None),
        dead_letter_queue=cast("sqs.IQueue", object()),
        consumer=cast("lambda_.IFunction", object()),
        retention=seconds_of(_defaults.RETENTION_PERIOD) or 0.0,
        retention_assumed=False,
        dead_letter_retention=seconds_of(_defaults.DEAD_LETTER_RETENTION_PERIOD) or 0.0,
        dead_letter_retention_assumed=False,
        in_flight_quota=_limits.IN_FLIGHT_QUOTA_STANDARD,
    )


def docs_descriptions() -> dict[str, str]:
    """Each alarm's description for the docs' example queue ``X`` (DLQ ``D``, consumer ``F``), by key, with the
    default thresholds (an opt-in alarm shows its ``docs_example``)."""
    watched = _docs_watched()
    problems = Problems("docs")
    thresholds: dict[str, Threshold] = {}
    found = {}
    for entry in CATALOGUE:
        threshold = thresholds[entry.key] = entry.threshold.derive(
            problems, watched, AlarmsArguments(queue=None), thresholds
        )
        shown = entry.threshold.show(threshold.value) if threshold.value is not None else entry.docs_example
        assert shown is not None, f"{entry.key}: an alarm without a default needs a docs_example"
        found[entry.key] = entry.description(
            wording(
                entry,
                threshold,
                shown,
                queue="X",
                dead_letter_queue="D",
                function="F",
                retention=watched.retention,
                dead_letter_retention=watched.dead_letter_retention,
                in_flight_quota=watched.in_flight_quota,
                fifo=False,
            )
        )
    assert not problems.items, problems.items
    return found


def alarms_table() -> str:
    """The README's alarm table (Markdown): one row per entry, suffix, metric, when it fires with the default,
    missing data, and the description for a queue ``X`` (DLQ ``D``, consumer ``F``)."""
    descriptions = docs_descriptions()
    rows = [
        f"| `{e.suffix}` | {e.metric_docs} | {fires_when(e)} | {_MISSING_DATA[e.treat_missing_data]} | "
        f"{descriptions[e.key]} |"
        for e in CATALOGUE
    ]
    return TABLE_HEADER + "\n".join(rows) + "\n"


def _rst(markdown: str) -> str:
    return re.sub(r"`([^`]+)`", r"``\1``", markdown)


def docstring_items() -> list[str]:
    """The list of alarms in ``QueueAlarms``' docstring (reStructuredText), one item per entry."""
    return [
        f"- ``{e.suffix}``: {_rst(e.metric_docs)} {_rst(fires_when(e))}; missing data "
        f"{_MISSING_DATA[e.treat_missing_data]}."
        for e in CATALOGUE
    ]

