"""The user documentation tells the truth: README.md and the pages of docs/. Its defaults table matches
_defaults, its examples run in a user's project (the files its titled blocks define) and pass the compliance
gates or name what they leave, and its cdk.json carries the settings the patterns need."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import aws_cdk
import pytest
from docs_pages import FAILS_AT_SYNTH, Block, all_blocks, project_files, section
from helpers import CDK_CONTEXT

from constructs_sqs import _defaults, compliance
from constructs_sqs.testing import normalize_template, template_dict
from constructs_sqs._validation import format_duration

PATTERNS_PAGE = "docs/patterns/index.md"
GETTING_STARTED = "docs/getting-started.md"


def _table_defaults() -> dict[str, str]:
    """`setting` -> default cell, from the "Default settings" table of the patterns page."""
    rows = re.findall(r"^\| `([a-z_]+)`(?: \([^)]*\))? \| ([^|]+) \|", section(PATTERNS_PAGE, "## Default settings"), flags=re.MULTILINE)
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


# The python blocks: CDK apps (and tests of them) that run in a user's project.
PYTHON_BLOCKS: list[Block] = [b for b in all_blocks("python") if FAILS_AT_SYNTH not in b.code]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's project: the files the documentation's titled blocks define (handlers/orders.py, ...)."""
    root = tmp_path_factory.mktemp("user-project")
    for name, content in project_files().items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)
    return root


class _RecordingSnapshot:
    """Stands in for the cdk_snapshot fixture: synthesizes what it is compared with."""

    def __init__(self) -> None:
        self.templates: list[dict] = []

    def __eq__(self, other: object) -> bool:
        self.templates.append(normalize_template(template_dict(other)))
        return True

    __hash__ = None  # type: ignore[assignment]


@dataclass
class Example:
    """One python block of the documentation, run: the Apps it made (each into an outdir of its own) and
    the templates its example tests compared with a snapshot."""

    index: int
    apps: list[aws_cdk.App] = field(default_factory=list)
    snapshots: list[dict] = field(default_factory=list)
    tests: int = 0
    error: BaseException | None = None


def _run(index: int, root: Path, project: Path) -> Example:
    """Run block ``index`` in the user's project (its working directory): every ``cdk.App()`` it makes gets
    the sample app's flags (default rules as errors) and an outdir under ``root``; its test functions run
    with a recording snapshot."""
    example = Example(index)
    real_app = aws_cdk.App
    block = PYTHON_BLOCKS[index]

    def app(*args: object, **kwargs: object) -> aws_cdk.App:
        outdir = root / f"app{len(example.apps)}"
        made = real_app(*args, **{**kwargs, "outdir": str(outdir), "context": CDK_CONTEXT})
        example.apps.append(made)
        return made

    from aws_cdk import aws_ecs, aws_lambda

    real_from_asset = aws_lambda.Code.from_asset
    real_image_from_asset = aws_ecs.ContainerImage.from_asset

    def from_asset(path: str, **kwargs: object) -> aws_lambda.AssetCode:
        # jsii's node process keeps the test's working directory: a path of the user's project, absolute.
        return real_from_asset(str(project / path), **kwargs)

    def image_from_asset(directory: str, **kwargs: object) -> aws_ecs.AssetImage:
        return real_image_from_asset(str(project / directory), **kwargs)

    namespace: dict = {}
    cwd = os.getcwd()
    try:
        os.chdir(project)
        aws_cdk.App = app  # type: ignore[misc]
        aws_lambda.Code.from_asset = staticmethod(from_asset)  # type: ignore[method-assign]
        aws_ecs.ContainerImage.from_asset = staticmethod(image_from_asset)  # type: ignore[method-assign]
        exec(compile(block.code, block.name, "exec"), namespace)  # noqa: S102
        snapshot = _RecordingSnapshot()
        for name, test in namespace.items():
            if name.startswith("test_") and callable(test):
                test(cdk_snapshot=snapshot)
                example.tests += 1
        example.snapshots = snapshot.templates
    except (Exception, SystemExit) as error:  # reported by the test of this block (an example may exit)
        example.error = error
    finally:
        aws_cdk.App = real_app  # type: ignore[misc]
        aws_lambda.Code.from_asset = real_from_asset  # type: ignore[method-assign]
        aws_ecs.ContainerImage.from_asset = real_image_from_asset  # type: ignore[method-assign]
        os.chdir(cwd)
    return example


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory, project: Path) -> list[Example]:
    """Every python block, run once for all the tests of this module."""
    return [_run(index, tmp_path_factory.mktemp(f"example{index}"), project) for index in range(len(PYTHON_BLOCKS))]


def _example(examples: list[Example], index: int) -> Example:
    example = examples[index]
    if example.error is not None:
        raise example.error
    return example


def _ids() -> list[str]:
    return [block.name for block in PYTHON_BLOCKS]


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)), ids=_ids())
def test_python_examples_synthesize(examples: list[Example], index: int) -> None:
    example = _example(examples, index)
    assert example.apps, "the example must make an App"
    if example.tests:  # an example test: it compared the stack it built with the snapshot
        assert example.snapshots and all(t["Resources"] for t in example.snapshots)
    else:
        assert all(list(Path(app.outdir).glob("*.template.json")) for app in example.apps), (
            "the example must synthesize at least one stack"
        )


def test_the_readme_and_every_pattern_page_have_python_examples() -> None:
    pages = {block.page for block in PYTHON_BLOCKS}
    assert {"README.md", GETTING_STARTED, "docs/patterns/fifo-queue-with-dlq.md", "docs/patterns/encrypted-queue.md",
            "docs/patterns/lambda-triggered-queue.md", "docs/alarms.md"} <= pages


def test_the_handler_tests_of_the_documentation_pass(project: Path) -> None:
    """The `tests/test_*.py` files of the user's project that test handlers: run as pytest would."""
    import importlib.util

    tests = [name for name in project_files() if name.startswith("tests/test_") and "handlers" not in name]
    handler_tests = [name for name in tests if "import orders" in project_files()[name]]
    assert handler_tests, "the documentation shows no unit test of a handler"
    sys.path.insert(0, str(project / "handlers"))
    try:
        for name in handler_tests:
            spec = importlib.util.spec_from_file_location(Path(name).stem, project / name)
            module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
            spec.loader.exec_module(module)  # type: ignore[union-attr]
            ran = [test() for attribute, test in vars(module).items() if attribute.startswith("test_")]
            assert ran, name
    finally:
        sys.path.remove(str(project / "handlers"))
        sys.modules.pop("orders", None)


# --- Every example passes the compliance gates, or says what it leaves ----------------------------

PACKS = {
    "AwsSolutions": "AwsSolutions",
    "Serverless": "Serverless",
    "HIPAA": "HIPAA.Security",
    "NIST": "NIST.800.53.R5",
    "PCI": "PCI.DSS.321",
}


def _compliance_note(index: int) -> str:
    """The paragraph starting with "Compliance:" between block ``index`` and the next code block, or ""."""
    for paragraph in PYTHON_BLOCKS[index].following_text().split("\n\n"):
        if paragraph.strip().startswith("Compliance:"):
            return " ".join(paragraph.split())
    return ""


def named_findings(note: str) -> set[str]:
    """The rules a "Compliance:" note names: `Rule` (HIPAA, NIST, ...) for cdk-nag, `CKV_...` for checkov."""
    named = set(re.findall(r"`(CKV2?_[A-Z]+_\d+)`", note))
    for rule, packs in re.findall(r"`([A-Za-z0-9]+)`\s*\(([A-Za-z, ]+)\)", note):
        abbreviations = [p.strip() for p in packs.split(",")]
        if all(p in PACKS for p in abbreviations):
            named |= {f"{PACKS[p]}-{rule}" for p in abbreviations}
    return named


def _rule(finding: compliance.Finding) -> str:
    """The rule without cdk-nag's finding detail (``AwsSolutions-IAM4[Policy::...]``)."""
    return finding.rule.split("[", 1)[0]


def test_a_compliance_note_is_read_rule_by_rule() -> None:
    note = "Compliance: `IAM4` (AwsSolutions) and `LambdaDLQ` (Serverless, HIPAA), checkov `CKV_AWS_117`; `vpc=` (see above)."
    assert named_findings(note) == {
        "AwsSolutions-IAM4",
        "Serverless-LambdaDLQ",
        "HIPAA.Security-LambdaDLQ",
        "CKV_AWS_117",
    }


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)), ids=_ids())
def test_examples_pass_cdk_nag_and_cfn_lint_or_name_what_they_leave(examples: list[Example], index: int) -> None:
    """Each App of the example, synthesized, through `python -m constructs_sqs.compliance`'s path (cdk-nag's
    six packs on the assembly, cfn-lint): no unacknowledged finding but those its note names."""
    example = _example(examples, index)
    found = set()
    for app in example.apps:
        app.synth()  # the example's own synth, or the first one for an App made inside an example test
        report = compliance.check_assembly(app.outdir, skip={"checkov"})
        found |= {_rule(f) for f in report.unacknowledged}
    named = {rule for rule in named_findings(_compliance_note(index)) if not rule.startswith("CKV")}
    assert found == named, f"{PYTHON_BLOCKS[index].name}: found {sorted(found)}, the page names {sorted(named)}"


@pytest.fixture(scope="module")
def checkov_by_example(examples: list[Example], tmp_path_factory: pytest.TempPathFactory) -> dict[int, set[str]]:
    """One checkov run over the templates of every example, copied under names that say whose they are
    (stack names repeat across examples); the unacknowledged rules of each example."""
    directory = tmp_path_factory.mktemp("readme-templates")
    for example in examples:
        for number, app in enumerate(example.apps):
            for template in compliance.templates_of(app.synth().directory):
                shutil.copy(template, directory / f"{example.index}-{number}-{template.name}")
    result = compliance.run_checkov(compliance.templates_of(directory))
    assert result.skipped is None, result.skipped
    found: dict[int, set[str]] = {example.index: set() for example in examples}
    for finding in result.unacknowledged:
        found[int(finding.where.split("-", 1)[0])].add(finding.rule)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)), ids=_ids())
def test_examples_pass_checkov_or_name_what_they_leave(checkov_by_example: dict[int, set[str]], index: int) -> None:
    named = {rule for rule in named_findings(_compliance_note(index)) if rule.startswith("CKV")}
    found = checkov_by_example[index]
    assert found == named, f"{PYTHON_BLOCKS[index].name}: found {sorted(found)}, the page names {sorted(named)}"


def test_every_compliance_note_follows_an_example_that_leaves_something() -> None:
    from docs_pages import page_text, user_pages

    notes = [_compliance_note(index) for index in range(len(PYTHON_BLOCKS))]
    assert all(named_findings(note) for note in notes if note), "a Compliance: note that names no rule"
    written = sum(len(re.findall(r"^Compliance:", page_text(page), flags=re.MULTILINE)) for page in user_pages())
    assert written == sum(1 for note in notes if note), "a Compliance: note that follows no python example"


# --- The cdk.json a user's app should carry ------------------------------------------------------

FLAG_SHOWN_BY = {
    # flag -> the configuration of the compliance matrix whose template it changes (Getting started's table says how)
    "@aws-cdk/aws-iam:minimizePolicies": "EncryptedGranted",
}
SCOPED_BY_THE_PATTERNS = {
    # flags whose unscoped statements the patterns scope themselves (K5): no template of theirs changes
    "@aws-cdk/aws-sns-subscriptions:restrictSqsDescryption": "EncryptedSnsProducer",
    "@aws-cdk/aws-events:eventsTargetQueueSameAccount": "EncryptedEventBridgeProducer",
}
VALIDATE = "@aws-cdk/core:validateAgainstDefaultRules"
WEAK_REFERENCES = "@aws-cdk/core:defaultCrossStackReferences"


def _readme_cdk_json() -> dict:
    """The cdk.json of Getting started (the one file a user's app must carry)."""
    (block,) = [b for b in all_blocks("json") if b.page == GETTING_STARTED and b.title == "cdk.json"]
    assert block.code.strip() in section(GETTING_STARTED, "## Your app's `cdk.json`")
    return json.loads(block.code)


def _templates(context: dict, configurations: list[str], root: Path, *, sample_app: bool = False) -> dict[str, dict]:
    from sample_app import build
    from test_compliance import MATRIX

    app = aws_cdk.App(outdir=str(root / f"out{len(list(root.iterdir()))}"), context=context)
    for name in configurations:
        MATRIX[name](aws_cdk.Stack(app, name))
    if sample_app:
        build(app)
    templates = {stack.stack_name: normalize_template(stack.template) for stack in app.synth().stacks}
    for template in templates.values():  # the sample app's buckets are aws-cdk-lib's, and follow S3's own flags
        template["Resources"] = {k: v for k, v in template["Resources"].items() if not v["Type"].startswith("AWS::S3::")}
    return templates


def test_the_readme_cdk_json_carries_this_repository_s_settings() -> None:
    context = _readme_cdk_json()["context"]
    assert set(context) == {VALIDATE, *FLAG_SHOWN_BY}
    assert context == {key: CDK_CONTEXT[key] for key in context}
    assert context[VALIDATE] is True


@pytest.mark.slow
def test_the_readme_flags_are_the_ones_that_change_the_patterns_templates(tmp_path) -> None:
    """With only Getting started's settings (and the sample app's weak references) every configuration of the
    compliance matrix and every sample stack synthesizes as with all the flags of cdk.json; without each
    of its flags, a template changes."""
    from test_compliance import MATRIX

    readme = {
        **{key: value for key, value in CDK_CONTEXT.items() if not key.startswith("@aws-cdk")},
        **_readme_cdk_json()["context"],
        WEAK_REFERENCES: CDK_CONTEXT[WEAK_REFERENCES],
    }
    everything = _templates(CDK_CONTEXT, list(MATRIX), tmp_path, sample_app=True)
    assert _templates(readme, list(MATRIX), tmp_path, sample_app=True) == everything
    for flag, configuration in FLAG_SHOWN_BY.items():
        without = {key: value for key, value in readme.items() if key != flag}
        assert _templates(without, [configuration], tmp_path) != {configuration: everything[configuration]}, flag
    for flag, configuration in SCOPED_BY_THE_PATTERNS.items():
        assert CDK_CONTEXT[flag] is True and flag not in readme
        assert _templates({**readme, flag: False}, [configuration], tmp_path) == {configuration: everything[configuration]}
