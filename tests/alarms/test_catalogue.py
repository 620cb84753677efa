"""The catalogue is the one source of the alarms: every entry is made as it says, wired to the constructor's
arguments, documented in the docstring and in the docs' table, and tested.

Adding an alarm is one entry in ``constructs_sqs/alarms/catalogue.py``; these tests then say what else is missing
(a keyword of ``QueueAlarms`` and ``add_alarms``, the annotated attribute, the docstring's line, the docs' row,
a test of its own).
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from helpers import ROOT, new_app

from constructs_sqs import EncryptedQueue, LambdaTriggeredQueue, QueueAlarms
from constructs_sqs._add_alarms import AlarmsMixin
from constructs_sqs.alarms import ALARM_NAME_SUFFIXES, CATALOGUE, AlarmsArguments, alarms_table
from constructs_sqs.alarms.catalogue import GRAPHS
from constructs_sqs.alarms.docs import TABLE_HEADER, docstring_items, fires_when

ALARM_TABLE_PAGES = [ROOT / "README.md", ROOT / "docs" / "alarms.md"]
"""The Markdown pages that may hold the alarm table (README.md's "### The alarms" today; docs/alarms.md once the
docs site has it). Every one of them that holds the table must hold it exactly as the catalogue writes it."""

OTHER_CONSTRUCT_IDS = ("Topic", "TopicKey", "EmailDeadLetterQueue", "Dashboard")
"""The ids of QueueAlarms' children that are not alarms."""

CODE = lambda_.Code.from_inline("def handler(event, context):\n    return {'batchItemFailures': []}\n")

# --- The entries are consistent ---------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["key", "suffix", "construct_id", "attribute"])
def test_keys_suffixes_construct_ids_and_attributes_are_unique(field: str) -> None:
    values = [getattr(entry, field) for entry in CATALOGUE]
    assert len(set(values)) == len(values), values


TEN = {
    "depth": "-depth",
    "age": "-age",
    "age-slo": "-age-slo",
    "dlq": "-dlq",
    "in-flight": "-in-flight",
    "consumer-errors": "-consumer-errors",
    "consumer-throttles": "-consumer-throttles",
    "dlq-age": "-dlq-age",
    "time-to-drain": "-time-to-drain",
    "silent-producer": "-silent-producer",
}


def test_the_public_names_of_the_ten_alarms_do_not_change() -> None:
    """Keys, suffixes and their order are public contract; a new alarm comes after them."""
    assert list(ALARM_NAME_SUFFIXES.items())[: len(TEN)] == list(TEN.items())


def test_every_widget_is_drawn_on_a_graph_of_the_dashboard() -> None:
    graphs = {graph.key for graph in GRAPHS}
    assert len(graphs) == len(GRAPHS)
    for entry in CATALOGUE:
        assert entry.widget.graph in graphs, entry.key
    for graph in GRAPHS:
        assert graph.only_with is None or graph.only_with in ALARM_NAME_SUFFIXES, graph.key


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.key)
def test_each_entry_s_arguments_are_keywords_of_queue_alarms_and_add_alarms(entry) -> None:
    own = inspect.signature(QueueAlarms.__init__).parameters
    spelled = inspect.signature(AlarmsMixin.add_alarms).parameters
    fields = {f.name for f in dataclasses.fields(AlarmsArguments)}
    for argument in entry.threshold.arguments:
        assert argument in own, f"QueueAlarms has no keyword {argument} for the {entry.key} alarm"
        assert argument in spelled, f"add_alarms has no keyword {argument} for the {entry.key} alarm"
        assert own[argument].default is None and spelled[argument].default is None, argument
        assert argument in fields, f"AlarmsArguments has no field {argument}"


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.key)
def test_each_entry_has_a_typed_attribute(entry) -> None:
    """Optional alarms (they need a DLQ or a consumer, or are turned on by an argument) may be None."""
    optional = entry.requires is not None or entry.threshold.default_text() == "only when given"
    expected = "cloudwatch.Alarm | None" if optional else "cloudwatch.Alarm"
    assert QueueAlarms.__annotations__.get(entry.attribute) == expected


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.key)
def test_each_entry_has_tests_of_its_own(entry) -> None:
    """A new entry comes with its tests: some test of tests/alarms beside this one names its key or suffix."""
    others = [p.read_text() for p in Path(__file__).parent.glob("test_*.py") if p.name != Path(__file__).name]
    assert any(f'"{entry.key}"' in text or f"{entry.suffix}\"" in text for text in others), entry.key


# --- The docs and the docstring are written from it ---------------------------------------------------------


def _tables_in(page: Path) -> list[str]:
    """The alarm tables of ``page``: its lines from the catalogue's header to the end of the table."""
    if not page.exists():
        return []
    text = page.read_text()
    found = []
    for start in [m.start() for m in re.finditer(re.escape(TABLE_HEADER), text)]:
        lines = []
        for line in text[start:].splitlines(keepends=True):
            if not line.startswith("|"):
                break
            lines.append(line)
        found.append("".join(lines))
    return found


def test_the_alarm_table_of_the_docs_is_the_catalogue_s() -> None:
    tables = {page: _tables_in(page) for page in ALARM_TABLE_PAGES}
    assert any(tables.values()), f"no page of {[str(p.relative_to(ROOT)) for p in ALARM_TABLE_PAGES]} has the table"
    expected = alarms_table()
    for page, found in tables.items():
        for table in found:
            assert table == expected, (
                f"{page.relative_to(ROOT)}'s alarm table differs from the catalogue's; write this one:\n{expected}"
            )


def test_the_table_reader_finds_a_table_and_only_it(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(f"# Alarms\n\n{TABLE_HEADER}| `-x` | m | > 1 | notBreaching | d |\n\nAfter.\n")
    assert _tables_in(page) == [f"{TABLE_HEADER}| `-x` | m | > 1 | notBreaching | d |\n"]
    assert _tables_in(tmp_path / "missing.md") == []


def _docstring_list(doc: str) -> list[str]:
    """The items of the bullet list of alarms in a docstring, each on one line."""
    text = inspect.cleandoc(doc)
    items: list[str] = []
    for line in text.splitlines():
        if line.startswith("- ``-"):
            items.append(line)
        elif items and line.startswith("  ") and not items[-1].endswith("\n"):
            items[-1] += " " + line.strip()
        elif items:
            items[-1] += "\n"
    return [" ".join(item.split()) for item in items]


def test_the_docstring_lists_each_alarm_as_the_catalogue_says() -> None:
    assert _docstring_list(QueueAlarms.__doc__ or "") == docstring_items(), (
        "QueueAlarms' list of alarms differs from the catalogue; write:\n" + "\n".join(docstring_items())
    )


def test_the_docstring_names_every_construct_id_key_and_attribute() -> None:
    doc = " ".join((QueueAlarms.__doc__ or "").split())
    ids = re.search(r"The construct ids \((.*?)\) are public contract", doc)
    assert ids is not None
    assert re.findall(r"``(\w+)``", ids.group(1)) == [e.construct_id for e in CATALOGUE] + list(OTHER_CONSTRUCT_IDS)
    keys = re.search(r"Every alarm, by key: (.*?) \(the keys", doc)
    assert keys is not None and re.findall(r"``([\w-]+)``", keys.group(1)) == [e.key for e in CATALOGUE]
    attributes = doc.split("Attributes ---------- ", 1)[1]
    for entry in CATALOGUE:
        assert re.search(rf"\b{entry.attribute}\b", attributes), entry.attribute


def test_fires_when_reads_the_derivation_and_the_periods() -> None:
    by_key = {entry.key: entry for entry in CATALOGUE}
    assert fires_when(by_key["depth"]) == "> `depth_threshold` (1,000) for 3 periods in a row"
    assert fires_when(by_key["consumer-errors"]) == (
        ">= `consumer_errors_threshold` (1) in 2 of 3 periods (only with a consumer)"
    )
    assert fires_when(by_key["age"]) == "> `age_threshold` (half the retention period: 2 days of 4 days), 1 period"


# --- Each entry is made as it says --------------------------------------------------------------------------

_OPERATORS = {
    "GREATER_THAN_THRESHOLD": "GreaterThanThreshold",
    "GREATER_THAN_OR_EQUAL_TO_THRESHOLD": "GreaterThanOrEqualToThreshold",
    "LESS_THAN_THRESHOLD": "LessThanThreshold",
}
_MISSING = {"NOT_BREACHING": "notBreaching", "BREACHING": "breaching"}


@pytest.fixture(scope="module")
def everything() -> tuple[cdk.Stack, QueueAlarms, dict]:
    """A QueueAlarms that makes every alarm of the catalogue: a consumed queue with a DLQ, every opt-in on."""
    stack = cdk.Stack(new_app(), "Catalogue")
    consumer = LambdaTriggeredQueue(stack, "Consumer", queue=EncryptedQueue(stack, "Jobs"), code=CODE, handler="index.handler")
    alarms = QueueAlarms(
        stack, "Alarms", queue=consumer, age_slo=Duration.minutes(15), min_incoming_messages=10, create_dashboard=False
    )
    return stack, alarms, cdk.assertions.Template.from_stack(stack).to_json()["Resources"]


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.key)
def test_each_entry_is_made_as_the_catalogue_says(everything, entry) -> None:
    stack, alarms, resources = everything
    alarm = alarms.alarms[entry.key]
    assert getattr(alarms, entry.attribute) is alarm
    assert alarm.node.id == entry.construct_id and alarm.node.scope is alarms
    properties = resources[stack.resolve(alarm.node.default_child.logical_id)]["Properties"]
    assert properties["AlarmName"] == alarms.alarm_name_prefix + entry.suffix
    assert properties["ComparisonOperator"] == _OPERATORS[entry.comparison.name]
    assert properties["TreatMissingData"] == _MISSING[entry.treat_missing_data.name]
    assert properties["EvaluationPeriods"] == entry.evaluation_periods
    assert properties.get("DatapointsToAlarm") == entry.datapoints_to_alarm
    assert properties["Threshold"] == entry.threshold.number(alarms.plan.thresholds[entry.key].value)
    names = [properties["MetricName"]] if "MetricName" in properties else [
        m["MetricStat"]["Metric"]["MetricName"] for m in properties["Metrics"] if "MetricStat" in m
    ]
    assert names and all(f"`{name}`" in entry.metric_docs for name in names), (names, entry.metric_docs)
    assert properties["ActionsEnabled"] is True and properties["AlarmActions"] and properties["OKActions"]


def test_an_alarm_whose_requirement_is_missing_is_not_made(stack: cdk.Stack) -> None:
    from aws_cdk import aws_sqs as sqs

    alarms = QueueAlarms(stack, "Alarms", queue=sqs.Queue(stack, "Plain"), create_dashboard=False)
    for entry in CATALOGUE:
        made = entry.key in alarms.alarms
        needs = entry.requires is not None or entry.threshold.default_text() == "only when given"
        assert made is not needs, entry.key
        assert (getattr(alarms, entry.attribute) is None) is needs, entry.attribute
