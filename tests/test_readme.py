"""The README tells the truth: its defaults table matches _defaults, and its examples run."""

from __future__ import annotations

import functools
import re

import aws_cdk
import pytest
from helpers import CDK_CONTEXT, ROOT

from constructs_sqs import _defaults
from constructs_sqs.testing import normalize_template, template_dict
from constructs_sqs._validation import format_duration

README = (ROOT / "README.md").read_text()


def _table_defaults() -> dict[str, str]:
    """`setting` -> default cell, from the README's "Default settings" table."""
    section = README.split("## Default settings", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)`(?: \([^)]*\))? \| ([^|]+) \|", section, flags=re.MULTILINE)
    return {name: cell.strip() for name, cell in rows}


def _duration(value: object) -> str:
    return format_duration(value.to_seconds())  # type: ignore[attr-defined]


EXPECTED = {
    "max_receive_count": str(_defaults.MAX_RECEIVE_COUNT),
    "retention_period": _duration(_defaults.RETENTION_PERIOD),
    "dead_letter_retention_period": _duration(_defaults.DEAD_LETTER_RETENTION_PERIOD),
    "dead_letter_removal_policy": f"`{_defaults.DEAD_LETTER_REMOVAL_POLICY.name}`",
    "removal_policy": f"`{_defaults.REMOVAL_POLICY.name}`",
    "encryption": f"`{_defaults.ENCRYPTION.name}`",
    "data_key_reuse": _duration(_defaults.DATA_KEY_REUSE),
    "visibility_timeout": _duration(_defaults.VISIBILITY_TIMEOUT),
    "receive_message_wait_time": _duration(_defaults.RECEIVE_MESSAGE_WAIT_TIME),
    "delivery_delay": _duration(_defaults.DELIVERY_DELAY),
    "max_message_size_bytes": f"{_defaults.MAX_MESSAGE_SIZE_BYTES:,}",
    "content_based_deduplication": f"`{_defaults.CONTENT_BASED_DEDUPLICATION}`",
    "high_throughput": f"`{_defaults.HIGH_THROUGHPUT}`",
}


@pytest.mark.parametrize("setting", sorted(EXPECTED))
def test_defaults_table_matches_the_code(setting: str) -> None:
    assert _table_defaults().get(setting) == EXPECTED[setting]


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```bash", 1)[1].split("```", 1)[0]
    assert [line.split()[1] for line in first_block.strip().splitlines()] == ["synth", "test"]


PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


class _RecordingSnapshot:
    """Stands in for the cdk_snapshot fixture: synthesizes what it is compared with."""

    def __init__(self) -> None:
        self.templates: list[dict] = []

    def __eq__(self, other: object) -> bool:
        self.templates.append(normalize_template(template_dict(other)))
        return True

    __hash__ = None  # type: ignore[assignment]


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_readme_python_examples_synthesize(index: int, tmp_path, monkeypatch) -> None:
    # The example's own `cdk.App()` gets the sample app's flags (default rules as errors) and a temp outdir.
    monkeypatch.setattr(aws_cdk, "App", functools.partial(aws_cdk.App, outdir=str(tmp_path), context=CDK_CONTEXT))
    namespace: dict = {}
    exec(compile(PYTHON_BLOCKS[index], f"README.md python block {index}", "exec"), namespace)  # noqa: S102
    tests = [f for name, f in namespace.items() if name.startswith("test_") and callable(f)]
    if tests:  # an example test: run it with a snapshot that synthesizes the stack it is given
        snapshot = _RecordingSnapshot()
        for test in tests:
            test(cdk_snapshot=snapshot)
        assert snapshot.templates and all(t["Resources"] for t in snapshot.templates)
    else:
        assert list(tmp_path.glob("*.template.json")), "the example must synthesize at least one stack"


def test_readme_has_python_examples() -> None:
    assert len(PYTHON_BLOCKS) >= 2
