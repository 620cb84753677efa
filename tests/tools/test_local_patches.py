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

from constructs_sqs.local._patches import MOTO_VERSION, MotoVersionError, check_moto_version, patchset

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
    on_disk = {file.stem for file in PATCHES.glob("*.py")} - {"__init__", "patchset", "version", "values"}
    assert on_disk == set(patchset.MODULES), "a patch module is not in the patch set"

