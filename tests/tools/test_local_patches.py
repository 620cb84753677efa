"""The emulator's patches: one module per concern, each saying why it exists, applied only on the moto they
were written for (a check that runs before anything is patched)."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from constructs_sqs.local import gaps
from constructs_sqs.local._patches import MOTO_VERSION, MotoVersionError, check_moto_version, patchset
from constructs_sqs.local._patches.conditions import policy_for_request

PATCHES = Path(importlib.import_module("constructs_sqs.local._patches").__file__).parent  # type: ignore[arg-type]


def test_the_pinned_moto_is_the_one_the_patches_need():
    assert MOTO_VERSION == "5.2.5"
    check_moto_version()  # the dev venv installs the local extra's pin: no error
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert f'"moto[server]=={MOTO_VERSION}"' in pyproject, "the local extra and the patches must pin the same moto"


@pytest.mark.parametrize(
    ("installed", "found"),
    [("5.2.4", "moto 5.2.4 is installed"), ("5.3.0", "moto 5.3.0 is installed"), (None, "no moto is installed")],
)
def test_another_moto_is_refused_naming_the_version_needed(monkeypatch, installed, found):
    monkeypatch.setattr("constructs_sqs.local._patches.version.installed_moto_version", lambda: installed)
    with pytest.raises(MotoVersionError, match=rf"written for moto 5\.2\.5, but {found}: pip install 'moto\[server\]==5\.2\.5'"):
        check_moto_version()


def test_the_server_refuses_another_moto_before_patching_anything():
    script = textwrap.dedent(
        """
        import sys
        from importlib import metadata
        real = metadata.version
        metadata.version = lambda name: "5.1.0" if name == "moto" else real(name)
        from moto.sqs.models import SQSBackend
        before = SQSBackend.receive_message
        from constructs_sqs.local import server
        try:
            server.main(["--port", "1"])
        except SystemExit as exit:
            print("exit", exit.code, "patched" if SQSBackend.receive_message is not before else "untouched")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120)
    assert done.stdout.strip() == "exit 1 untouched", done.stderr
    assert "written for moto 5.2.5, but moto 5.1.0 is installed" in done.stderr


def test_every_patch_module_says_why_it_exists_and_has_an_apply():
    for name in patchset.MODULES:
        tree = ast.parse((PATCHES / f"{name}.py").read_text())
        doc = ast.get_docstring(tree)
        assert doc and len(doc.split()) >= 25, f"{name}: the module docstring must say what moto does without it"
        functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert "apply" in functions, f"{name} has no apply()"
    on_disk = {file.stem for file in PATCHES.glob("*.py")} - {"__init__", "patchset", "version", "values", "conditions"}
    assert on_disk == set(patchset.MODULES), "a patch module is not in the patch set"


TLS_ONLY = {
    "Sid": "TlsOnly",
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


@pytest.mark.parametrize(
    ("condition", "applies"),
    [
        ({"Bool": {"aws:SecureTransport": "false"}}, False),  # the CDK's enforce_ssl statement
        ({"Bool": {"aws:SecureTransport": False}}, False),  # a template boolean, not a string
        ({"Bool": {"AWS:SecureTransport": ["false"]}}, False),  # keys are case-insensitive; a list is any-of
        ({"NumericLessThan": {"s3:TlsVersion": "1.2"}}, False),  # the CDK's minimum_tls_version statement
        ({"NumericLessThan": {"s3:TlsVersion": 1.3}}, False),
        ({"Bool": {"aws:SecureTransport": "true"}}, True),
        ({"NumericGreaterThanEquals": {"s3:TlsVersion": "1.2"}}, True),
    ],
)
def test_conditions_on_tls_are_evaluated_for_a_tls_request(condition, applies):
    policy = {"Version": "2012-10-17", "Statement": [{**TLS_ONLY, "Condition": condition}]}
    evaluated = policy_for_request(policy)
    if applies:
        assert evaluated["Statement"] == [{k: v for k, v in TLS_ONLY.items() if k != "Condition"}], "met: no condition left"
    else:
        assert evaluated["Statement"] == [], "not met: the statement does not apply to the request"
    assert evaluated["Version"] == "2012-10-17"


def test_conditions_on_other_keys_are_left_to_moto():
    other = {"StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"}}
    statement = {**TLS_ONLY, "Condition": {**other, "Bool": {"aws:SecureTransport": "true"}}}
    assert policy_for_request({"Statement": [statement]})["Statement"] == [{**TLS_ONLY, "Condition": other}]
    unconditional = {k: v for k, v in TLS_ONLY.items() if k != "Condition"}
    assert policy_for_request({"Statement": unconditional})["Statement"] == [unconditional], "a single statement, not a list"


def resource_types(module: str) -> tuple[str, ...]:
    """A patch module's RESOURCE_TYPES, read from its source (importing it would register moto models here)."""
    tree = ast.parse((PATCHES / f"{module}.py").read_text())
    (value,) = [node.value for node in tree.body if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "RESOURCE_TYPES"]
    return tuple(ast.literal_eval(value))


def test_the_custom_resources_the_emulator_performs_are_the_ones_the_patches_model():
    assert set(gaps.EMULATED_CUSTOM_TYPES) == {t for t in resource_types("s3") if t.startswith("Custom::")}
    assert gaps.gap_of("Custom::S3BucketNotifications") is None
    assert gaps.gap_of("Custom::Greeting") is gaps.GAPS[0]
    assert gaps.gap_of("AWS::SQS::Queue") is None


def test_every_gap_a_deploy_may_meet_is_listed_in_the_readme():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme.split("### Emulator gaps", 1)[1].split("\n## ", 1)[0]
    for gap in gaps.GAPS:
        rows = [line for line in table.splitlines() if line.startswith("|") and gap.readme in line]
        assert rows, f"the README's Emulator gaps table has no row naming {gap.readme!r} ({gap.pattern})"
