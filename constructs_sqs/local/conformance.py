"""The conformance gate: moto's own tests, in server mode, against plain moto and against the patched emulator.

The emulator's patches change moto for the whole server; this gate proves they regress nothing moto itself
tests. moto's source release on PyPI (the sdist of the pinned version) ships its test suite; its tests run
against any moto server when ``TEST_SERVER_MODE=true`` and ``TEST_SERVER_MODE_ENDPOINT`` point them at one.
The gate starts two servers on free ports, plain moto 5.2.5 (``python -m constructs_sqs.local.server
--plain``) and the emulator, runs the same selection of tests against both at once (two pytest processes
side by side: the 2-core CI machine runs them in the time of one), and fails on any test that passes on
plain moto and fails on the emulator. A test that does is run again, alone, against a fresh emulator; it
counts as a regression unless that rerun passes (it is then reported as flaky), so a timing-sensitive
moto test on a loaded machine does not fail the gate, and a real regression still does.

The selection (:data:`SELECTION`) is moto's SQS, SNS and CloudWatch suites whole, and the modules of the
other services whose behaviour a patch changes (CloudFormation stacks, imports and custom resources; S3
bucket policies, notifications and CloudFormation; KMS and Lambda CloudFormation, layers, event source
mappings). Tests that need Docker are skipped on both (``TESTS_SKIP_REQUIRES_DOCKER``), and
:data:`DESELECTED` names the few that need it without saying so.

    python -m constructs_sqs.local.conformance            # make conformance
    python -m constructs_sqs.local.conformance --cache .venv/tools/moto-tests --junit-dir build/conformance

Needs the ``local`` extra, pytest, and freezegun (which moto's tests import); this repository's dev extra
has all three. Exit status: 0 when nothing regressed, 1 when a test regressed or a run produced no results,
2 when moto's sdist could not be fetched.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ._patches.version import MOTO_VERSION
from .emulator import Emulator, find_free_port

SELECTION = (
    "tests/test_sqs",
    "tests/test_sns",
    "tests/test_cloudwatch",
    # What the patches change beyond those three services:
    "tests/test_cloudformation/test_cloudformation_stack_crud.py",  # change sets, outputs, exports
    "tests/test_cloudformation/test_cloudformation_stack_integration.py",  # resource models
    "tests/test_cloudformation/test_import_value.py",  # Fn::ImportValue
    "tests/test_cloudformation/test_cloudformation_custom_resources.py",  # Custom:: types routed to models
    "tests/test_s3/test_s3_bucket_policy.py",  # bucket policy evaluation
    "tests/test_s3/test_s3_notifications.py",  # notification configurations
    "tests/test_s3/test_s3_cloudformation.py",  # AWS::S3::Bucket with notifications
    "tests/test_kms/test_kms_cloudformation.py",  # key policies of stack-made keys
    "tests/test_awslambda/test_awslambda_cloudformation.py",  # layer version Ref
    "tests/test_awslambda/test_lambda_layers.py",
    "tests/test_awslambda/test_lambda_eventsourcemapping.py",  # mappings detached from queues
)
"""moto's test modules the gate runs, relative to the sdist's root."""

DESELECTED = (
    # Invokes a Lambda-backed custom resource and waits 90 s for its answer: needs Docker, but is not
    # marked requires_docker, so it would fail on both servers after the wait.
    "tests/test_cloudformation/test_cloudformation_custom_resources.py::test_create_custom_lambda_resource",
)
"""Tests of :data:`SELECTION` that cannot run here on either server, with the reason."""

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass(frozen=True)
class Run:
    """The outcome of every test of one run, by test id (``module::test[params]``)."""

    server: str
    outcomes: Mapping[str, str]
    seconds: float

    def counts(self, service: str | None = None) -> Counter[str]:
        """passed / failed / skipped, of one service (``sqs``: ``tests/test_sqs/...``) or of all."""
        return Counter(o for test, o in self.outcomes.items() if service is None or service_of(test) == service)


def service_of(test_id: str) -> str:
    """``sqs`` for ``tests/test_sqs/test_sqs.py::test_x``."""
    return test_id.split("/")[1].removeprefix("test_")


def fetch_tests(cache: Path, version: str = MOTO_VERSION) -> Path:
    """moto's source release ``version`` unpacked under ``cache`` (downloaded once, with pip); its root.

    Raises
    ------
    RuntimeError
        When pip cannot download it (no network to PyPI), with pip's output.
    """
    root = cache / f"moto-{version}"
    if (root / "tests" / "test_sqs").is_dir():
        return root
    cache.mkdir(parents=True, exist_ok=True)
    sdist = cache / f"moto-{version}.tar.gz"
    if not sdist.exists():
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             f"moto=={version}", "--dest", str(cache)],
            capture_output=True, text=True, check=False,
        )
        if done.returncode != 0 or not sdist.exists():
            raise RuntimeError(f"pip could not download moto=={version}'s sdist from PyPI:\n{done.stdout}{done.stderr}")
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(f"moto-{version}/tests/") or m.name in (
            f"moto-{version}/pyproject.toml", f"moto-{version}/setup.cfg")]
        if hasattr(tarfile, "data_filter"):  # Python 3.12, and 3.10.12 / 3.11.4 onwards
            archive.extractall(cache, members=members, filter="data")
        else:  # pragma: no cover - older Pythons; the members are moto's own test files
            archive.extractall(cache, members=members)  # noqa: S202
    return root


def _parse_junit(path: Path) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    if not path.exists():
        return outcomes
    for case in ElementTree.parse(path).iter("testcase"):
        module = case.get("classname", "")
        # pytest's classname: tests.test_sqs.test_sqs, or ...test_s3_bucket_policy.TestBucketPolicy for a class
        parts = module.split(".")
        file_parts = [p for p in parts if p == "tests" or p.startswith("test_")]
        test_id = "/".join(file_parts) + ".py::" + "::".join([*parts[len(file_parts):], case.get("name", "")])
        if case.find("failure") is not None or case.find("error") is not None:
            outcomes[test_id] = FAILED
        elif case.find("skipped") is not None:
            outcomes[test_id] = SKIPPED
        else:
            outcomes[test_id] = PASSED
    return outcomes


def _environment(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTEST_"))}
    env.update({
        "TEST_SERVER_MODE": "true",
        "TEST_SERVER_MODE_ENDPOINT": endpoint,
        "TESTS_SKIP_REQUIRES_DOCKER": "true",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    })
    return env


def _pytest(root: Path, tests: Sequence[str], endpoint: str, junit: Path, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "pytest", *tests, "-q", "-p", "no:cacheprovider", "-p", "no:constructs_sqs",
        "-o", "addopts=", "--color=no", f"--junitxml={junit}", *[f"--deselect={test}" for test in DESELECTED],
    ]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=root, env=_environment(endpoint), stdout=out, stderr=subprocess.STDOUT)


def run_both(root: Path, work: Path, tests: Sequence[str] = SELECTION) -> tuple[Run, Run]:
    """``tests`` against plain moto and against the emulator, side by side; each server stopped after."""
    servers = {
        "plain": Emulator(find_free_port(), state_dir=work / "plain", exit_with_parent=True, patched=False),
        "patched": Emulator(find_free_port(), state_dir=work / "patched", exit_with_parent=True),
    }
    started = time.monotonic()
    try:
        for server in servers.values():
            server.start()
        processes = {
            name: _pytest(root, tests, server.endpoint_url, work / f"{name}.xml", work / f"{name}.log")
            for name, server in servers.items()
        }
        finished: dict[str, float] = {}
        while len(finished) < len(processes):  # each run's own duration, whichever ends first
            for name, process in processes.items():
                if name not in finished and process.poll() is not None:
                    finished[name] = time.monotonic() - started
            time.sleep(0.5)
    finally:
        for server in servers.values():
            server.stop()
    plain, patched = (Run(name, _parse_junit(work / f"{name}.xml"), finished[name]) for name in ("plain", "patched"))
    return plain, patched


def rerun_alone(root: Path, work: Path, test_id: str) -> str:
    """``test_id`` once more, alone, against a fresh emulator: its outcome."""
    with Emulator(find_free_port(), state_dir=work / "rerun", exit_with_parent=True) as server:
        junit = work / "rerun.xml"
        junit.unlink(missing_ok=True)
        _pytest(root, [test_id], server.endpoint_url, junit, work / "rerun.log").wait()
    return _parse_junit(junit).get(test_id, FAILED)


def render(plain: Run, patched: Run) -> str:
    services = sorted({service_of(test) for test in {*plain.outcomes, *patched.outcomes}})
    lines = [f"{'service':<16} {'plain: passed':>14} {'failed':>7} {'skipped':>8}   {'patched: passed':>16} {'failed':>7} {'skipped':>8}"]
    for service in [*services, None]:
        p, q = plain.counts(service), patched.counts(service)
        lines.append(
            f"{service or 'total':<16} {p[PASSED]:>14} {p[FAILED]:>7} {p[SKIPPED]:>8}   {q[PASSED]:>16} {q[FAILED]:>7} {q[SKIPPED]:>8}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the gate; returns the exit status (0 nothing regressed, 1 a regression or no results, 2 no sdist)."""
    parser = argparse.ArgumentParser(prog="python -m constructs_sqs.local.conformance", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=Path(".venv/tools/moto-tests"), help="where moto's sdist is kept")
    parser.add_argument("--junit-dir", type=Path, default=None, help="keep both runs' JUnit XML and logs here")
    parser.add_argument("tests", nargs="*", help=f"moto test paths to run instead of the gate's selection ({len(SELECTION)} modules)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        root = fetch_tests(args.cache.resolve())
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="conformance-") as scratch:
        work = args.junit_dir.resolve() if args.junit_dir else Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        print(f"moto {MOTO_VERSION}'s own tests in server mode, plain moto and the patched emulator side by side ...", flush=True)
        plain, patched = run_both(root, work, args.tests or SELECTION)
        print(render(plain, patched))
        print(f"plain ran in {plain.seconds:.0f} s, patched in {patched.seconds:.0f} s")
        if not plain.outcomes or not patched.outcomes:
            empty = [run.server for run in (plain, patched) if not run.outcomes]
            print(f"FAILED: no test results from {', '.join(empty)}; see {work}/*.log", file=sys.stderr)
            return 1
        suspects = sorted(t for t, o in patched.outcomes.items() if o == FAILED and plain.outcomes.get(t) == PASSED)
        regressions: list[str] = []
        flaky: list[str] = []
        for test in suspects:
            (flaky if rerun_alone(root, work, test) == PASSED else regressions).append(test)
        fixed = sorted(t for t, o in patched.outcomes.items() if o == PASSED and plain.outcomes.get(t) == FAILED)
        for title, tests in (("passes patched, fails plain (the patches fix it)", fixed),
                             ("failed patched, passed when run again alone (flaky under load)", flaky)):
            if tests:
                print(f"{title}:\n" + "\n".join(f"    {t}" for t in tests))
        print(f"conformance gate: {len(regressions)} regressions, {time.monotonic() - started:.0f} s in all")
        if regressions:
            print("FAILED: these pass on plain moto and fail on the emulator:\n" + "\n".join(f"    {t}" for t in regressions), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
