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
