"""One limits table (constructs_sqs/_limits.py): validation, messages and docs read it; no module repeats it."""

from __future__ import annotations

import pathlib
import re

import pytest
from aws_cdk import Duration

from constructs_sqs import _limits
from constructs_sqs._validation import Problems, format_duration

PACKAGE = pathlib.Path(_limits.__file__).parent


@pytest.mark.parametrize("name", sorted(_limits.LIMITS))
def test_each_limit_accepts_its_range_and_names_it_when_refusing(name: str) -> None:
    limit = _limits.LIMITS[name]
    as_value = (lambda n: Duration.seconds(n)) if limit.is_duration else (lambda n: n)
    ok = Problems("here")
    assert limit.check(ok, "arg", as_value(limit.minimum)) == limit.minimum
    assert limit.check(ok, "arg", as_value(limit.maximum)) == limit.maximum
    assert ok.items == []
    bad = Problems("here")
    assert limit.check(bad, "arg", as_value(limit.maximum + 1)) is None
    shown = format_duration(limit.maximum) if limit.is_duration else f"{limit.maximum:,}"
    assert len(bad.items) == 1 and bad.items[0].startswith("arg must be between") and shown in bad.items[0]


def test_no_module_repeats_a_range_of_the_table() -> None:
    """The numbers that were once written in several modules (visibility 0-43,200 s in three) live only here."""
    day = 86_400  # also a unit of time (format_duration), not only a limit
    spelled = {f"{limit.maximum:_}" for limit in _limits.LIMITS.values() if limit.maximum > 1_000 and limit.maximum != day}
    for path in PACKAGE.rglob("*.py"):
        if path.name == "_limits.py":
            continue
        text = path.read_text()
        for number in spelled:
            assert not re.search(rf"\b{number}\b", text), f"{path.relative_to(PACKAGE)} repeats {number}"


def test_the_docs_table_has_one_row_per_limit() -> None:
    table = _limits.limits_table().splitlines()
    assert len(table) == 2 + len(_limits.LIMITS)
    assert "| SQS | visibility timeout | 0 to 43,200 seconds |" in table
    assert "| Lambda | function timeout | 1 to 900 seconds |" in table


# --- The docs read it too: each documented range is the table's -------------------------------------------

DOCUMENTED = {
    # (class, parameter): the limits its docstring states
    ("FifoQueueWithDlq", "visibility_timeout"): ["VISIBILITY_TIMEOUT"],
    ("FifoQueueWithDlq", "retention_period"): ["RETENTION_PERIOD"],
    ("FifoQueueWithDlq", "max_receive_count"): ["MAX_RECEIVE_COUNT"],
    ("FifoQueueWithDlq", "delivery_delay"): ["DELIVERY_DELAY"],
    ("FifoQueueWithDlq", "receive_message_wait_time"): ["RECEIVE_WAIT_TIME"],
    ("FifoQueueWithDlq", "max_message_size_bytes"): ["MAX_MESSAGE_SIZE"],
    ("FifoQueueWithDlq", "data_key_reuse"): ["DATA_KEY_REUSE"],
    ("EncryptedQueue", "data_key_reuse"): ["DATA_KEY_REUSE"],
    ("LambdaTriggeredQueue", "timeout"): ["FUNCTION_TIMEOUT"],
    ("LambdaTriggeredQueue", "memory_size"): ["MEMORY_SIZE"],
    ("LambdaTriggeredQueue", "batch_size"): ["FIFO_BATCH_SIZE", "BATCH_SIZE"],
    ("LambdaTriggeredQueue", "max_batching_window"): ["MAX_BATCHING_WINDOW"],
    ("LambdaTriggeredQueue", "max_concurrency"): ["MAX_CONCURRENCY"],
    ("LambdaTriggeredQueue", "provisioned_poller_config"): ["MINIMUM_POLLERS", "MAXIMUM_POLLERS"],
    ("QueueWorkerService", "min_tasks"): ["TASKS_PER_SERVICE"],
    ("QueueWorkerService", "concurrency"): ["WORKER_CONCURRENCY"],
    ("QueueWorkerService", "job_max_duration"): ["JOB_MAX_DURATION"],
}


def _spellings(limit: _limits.Limit, value: int) -> set[str]:
    """How a docstring may write ``value`` of ``limit``: ``1,000``, ``900 s``, ``12 h``, ``14 days``, ``15 minutes``."""
    if not limit.is_duration:
        return {f"{value:,}"}
    found = {f"{value:,} s", format_duration(value)}
    if value and value % 3_600 == 0:
        found.add(f"{value // 3_600} h")
    return found


def _paragraph(doc: str, parameter: str) -> str:
    """The text documenting ``parameter`` in a numpydoc Parameters section, on one line."""
    import inspect

    lines = inspect.cleandoc(doc).split("Parameters\n----------\n", 1)[1].splitlines()
    for index, line in enumerate(lines):
        names = {name.strip() for name in line.rstrip(":").split(",")}
        if not line.startswith(" ") and parameter in names:
            body = []
            for following in lines[index + 1 :]:
                if following and not following.startswith(" "):
                    break
                body.append(following.strip())
            return " ".join(body)
    raise AssertionError(f"{parameter} is not documented")


@pytest.mark.parametrize(("where", "names"), list(DOCUMENTED.items()), ids=lambda v: ".".join(v) if isinstance(v, tuple) else "")
def test_each_documented_range_is_the_table_s(where: tuple[str, str], names: list[str]) -> None:
    import constructs_sqs

    cls, parameter = where
    text = _paragraph(getattr(constructs_sqs, cls).__doc__, parameter)
    for name in names:
        limit = _limits.LIMITS[name]
        lows = _spellings(limit, limit.minimum) | {f"{limit.minimum:,}"}
        phrases = {f"{low} to {high}" for low in lows for high in _spellings(limit, limit.maximum)}
        assert any(phrase in text for phrase in phrases), f"{cls}({parameter}=...) does not state {sorted(phrases)}: {text}"
